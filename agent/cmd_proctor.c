/* examroom extend TICKET MINUTES | move TICKET SEAT | absent TICKET |
 * incident TICKET TEXT | submit TICKET, each with [--session S]: the
 * proctor's actions on one candidate, through the running daemon's local
 * admin channel. Without --session the room picks the ticket's session by
 * the rule of candidate_resolve() (agent/signin.c); the message names the
 * session acted on. */
#include "agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *command;
    int args; /* after TICKET */
} actions[] = {{"extend", 1}, {"move", 1}, {"absent", 0}, {"incident", 1}, {"submit", 0}};

/* What the proctor reads when it is done (zh-CN, in one place): who, in
 * which session (as the room answered), and what was done. */
static void print_done(const char *command, const char *ticket, const char *session,
                       const char *arg)
{
    if (strcmp(command, "extend") == 0)
        printf("已为考生 %s（场次 %s）延长 %s 分钟。\n", ticket, session, arg);
    else if (strcmp(command, "move") == 0)
        printf("考生 %s（场次 %s）已换到 %s 号座位；原座位上的考试页面已停止，请考生在新座位重新"
               "签到，答案和剩余时间不变。\n",
               ticket, session, arg);
    else if (strcmp(command, "absent") == 0)
        printf("考生 %s（场次 %s）已记为缺考。\n", ticket, session);
    else if (strcmp(command, "incident") == 0)
        printf("已为考生 %s（场次 %s）记录情况：%s\n", ticket, session, arg);
    else
        printf("已为考生 %s（场次 %s）交卷。\n", ticket, session);
}

/* MINUTES or SEAT: digits only (the room says which values it takes);
 * else -1, bad usage. */
static int number(const char *s)
{
    char *end;
    long v;

    if (s[0] < '0' || s[0] > '9')
        return -1;
    v = strtol(s, &end, 10);
    return *end == '\0' && v <= 99999 ? (int)v : -1;
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
    const char *pos[3] = {NULL}, *session = NULL, *answered;
    struct room r;
    long status = 0;
    json_t *doc = NULL, *b;
    size_t i;
    int rc, n = 0, value = 0;

    for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (strcmp(argv[0], actions[i].command) == 0)
            break;
    /* TICKET [ARG], with --session S anywhere after the command. */
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--session") == 0 && a + 1 < argc && session == NULL)
            session = argv[++a];
        else if (n < 3)
            pos[n++] = argv[a];
        else
            n++;
    }
    if (i == sizeof(actions) / sizeof(actions[0]) || n != 1 + actions[i].args ||
        strlen(pos[0]) > 60 || strchr(pos[0], '/') != NULL || pos[0][0] == '\0' ||
        (session != NULL && (session[0] == '\0' || strlen(session) > 64)))
        return cli_fail(ctx, ER_USAGE);
    if (strcmp(argv[0], "extend") == 0 || strcmp(argv[0], "move") == 0) {
        value = number(pos[1]);
        if (value < 0)
            return cli_fail(ctx, ER_USAGE);
        b = json_pack("{s:i}", strcmp(argv[0], "extend") == 0 ? "minutes" : "seat", value);
    } else if (strcmp(argv[0], "incident") == 0) {
        b = json_pack("{s:s}", "text", pos[1]);
    } else {
        b = json_object();
    }
    if (b != NULL && session != NULL)
        json_object_set_new(b, "session", json_string(session));
    body = b != NULL ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    if (body == NULL)
        return cli_fail(ctx, ER_NOMEM);
    path_segment(pos[0], ticket);
    snprintf(path, sizeof(path), "/admin/v1/candidates/%s/%s", ticket, argv[0]);
    rc = room_open(ctx, &r, 1);
    if (rc == 0)
        rc = room_admin_call(&r, "POST", path, body, &status, &doc);
    room_close(&r);
    free(body);
    answered = json_string_value(json_object_get(doc, "session"));
    if (rc == 0 && status == 200)
        print_done(argv[0], pos[0], answered != NULL ? answered : "?",
                   actions[i].args ? pos[1] : "");
    return room_admin_outcome(ctx, rc, status, doc);
}
