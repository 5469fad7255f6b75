/* examroom extend TICKET MINUTES | move TICKET SEAT | absent TICKET |
 * incident TICKET TEXT | submit TICKET: the proctor's actions on one
 * candidate, through the running daemon's local admin channel. */
#include "agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *command;
    int args; /* after TICKET */
} actions[] = {{"extend", 1}, {"move", 1}, {"absent", 0}, {"incident", 1}, {"submit", 0}};

/* What the proctor reads when it is done (zh-CN, in one place). */
static void print_done(const char *command, const char *ticket, const char *arg)
{
    if (strcmp(command, "extend") == 0)
        printf("已为考生 %s 延长 %s 分钟。\n", ticket, arg);
    else if (strcmp(command, "move") == 0)
        printf("考生 %s 已换到 %s 号座位；请考生在新座位重新签到，答案和剩余时间不变。\n", ticket,
               arg);
    else if (strcmp(command, "absent") == 0)
        printf("考生 %s 已记为缺考。\n", ticket);
    else if (strcmp(command, "incident") == 0)
        printf("已为考生 %s 记录情况：%s\n", ticket, arg);
    else
        printf("已为考生 %s 交卷。\n", ticket);
}

/* The ticket as one path segment: bytes other than RFC 3986's unreserved
 * ones percent-encoded (libmicrohttpd decodes them), so whatever was typed
 * reaches the lookup as typed, and a "?" or "#" cannot cut the path. */
static void path_segment(const char *in, char *out)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        if ((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            strchr("-._~", *p) != NULL) {
            *out++ = (char)*p;
        } else {
            *out++ = '%';
            *out++ = hex[*p >> 4];
            *out++ = hex[*p & 15];
        }
    }
    *out = '\0';
}

int cmd_proctor(struct cli_ctx *ctx, int argc, char **argv)
{
    char path[320], ticket[3 * 60 + 1], *body = NULL;
    struct room r;
    long status = 0;
    json_t *doc = NULL, *b;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (strcmp(argv[0], actions[i].command) == 0)
            break;
    if (i == sizeof(actions) / sizeof(actions[0]) || argc != 2 + actions[i].args ||
        strlen(argv[1]) > 60 || strchr(argv[1], '/') != NULL || argv[1][0] == '\0')
        return cli_fail(ctx, ER_USAGE);
    if (strcmp(argv[0], "extend") == 0)
        b = json_pack("{s:i}", "minutes", atoi(argv[2]));
    else if (strcmp(argv[0], "move") == 0)
        b = json_pack("{s:i}", "seat", atoi(argv[2]));
    else if (strcmp(argv[0], "incident") == 0)
        b = json_pack("{s:s}", "text", argv[2]);
    else
        b = json_object();
    body = b != NULL ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    if (body == NULL)
        return cli_fail(ctx, ER_NOMEM);
    path_segment(argv[1], ticket);
    snprintf(path, sizeof(path), "/admin/v1/candidates/%s/%s", ticket, argv[0]);
    rc = room_open(ctx, &r, 1);
    if (rc == 0)
        rc = room_admin_call(&r, "POST", path, body, &status, &doc);
    room_close(&r);
    free(body);
    if (rc == 0 && status == 200)
        print_done(argv[0], argv[1], actions[i].args ? argv[2] : "");
    return room_admin_outcome(ctx, rc, status, doc);
}
