/* examroom roster [--session S] [--format table|csv|json]: the candidates
 * with their seat, state and score (null until there is a result), read
 * from the store (the daemon may be running: a reader does not stop it). */
#include "agent.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *const states[] = {"registered", "signed_in", "running", "submitted", "absent"};
/* What the proctor reads (zh-CN, in one place). */
static const char *const states_zh[] = {"未签到", "已签到", "考试中", "已交卷", "缺考"};
#define CSV_HEADER "准考证号,姓名,职业,等级,场次,座位号,状态,成绩"
#define MSG_FORMAT "--format 只能是 table、csv 或 json。"
#define MSG_NONE   "场次“%s”没有考生。请检查场次编号，或先用 examroom fetch 下载试卷包。"

struct rows {
    struct room *r;
    json_t *list;
};

static void take_score(const struct store_result *res, void *arg)
{
    *(int *)arg = res->score;
}

static void take_candidate(const struct store_candidate *c, void *arg)
{
    struct rows *w = arg;
    int score = -1;

    store_get_result(w->r->st, c->id, take_score, &score);
    json_array_append_new(
        w->list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:o}", "ticket", c->ticket, "name",
                           c->name, "occupation", c->occupation, "level", c->level, "session",
                           c->session_id, "seat", c->seat, "state", states[c->state % 5], "score",
                           score >= 0 ? json_integer(score) : json_null()));
}

static const char *zh_state(const char *state)
{
    for (size_t i = 0; i < 5; i++)
        if (strcmp(states[i], state) == 0)
            return states_zh[i];
    return state;
}

/* A CSV field: quoted when it holds a comma, a quote or a line break. */
static void csv_field(const char *s, int last)
{
    if (strpbrk(s, ",\"\r\n") != NULL) {
        putchar('"');
        for (; *s; s++) {
            if (*s == '"')
                putchar('"');
            putchar(*s);
        }
        putchar('"');
    } else {
        fputs(s, stdout);
    }
    putchar(last ? '\n' : ',');
}

/* s, padded with spaces to cols terminal columns (a Chinese character
 * takes two), then a space. */
static void cell(const char *s, int cols)
{
    int w = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            w += *p >= 0x80 ? 2 : 1;
    fputs(s, stdout);
    for (; w < cols; w++)
        putchar(' ');
    putchar(' ');
}

static void print(const json_t *list, int csv)
{
    size_t i;
    json_t *v;

    if (csv)
        printf("\xEF\xBB\xBF" CSV_HEADER "\n"); /* the BOM: Excel reads it as UTF-8 */
    else {
        static const char *const head[] = {"准考证号", "姓名", "职业", "等级",
                                           "场次",     "座位", "状态"};
        static const int cols[] = {18, 10, 14, 6, 8, 4, 8};

        for (size_t k = 0; k < 7; k++)
            cell(head[k], cols[k]);
        printf("成绩\n");
    }
    json_array_foreach(list, i, v)
    {
        char seat[16], score[16] = "";
        const json_t *sc = json_object_get(v, "score");
        const char *state = zh_state(json_string_value(json_object_get(v, "state")));

        snprintf(seat, sizeof(seat), "%d", (int)json_integer_value(json_object_get(v, "seat")));
        if (json_is_integer(sc))
            snprintf(score, sizeof(score), "%d", (int)json_integer_value(sc));
        if (csv) {
            static const char *const f[] = {"ticket", "name", "occupation", "level", "session"};

            for (size_t k = 0; k < 5; k++)
                csv_field(json_string_value(json_object_get(v, f[k])), 0);
            csv_field(seat, 0);
            csv_field(state, 0);
            csv_field(score, 1);
        } else {
            cell(json_string_value(json_object_get(v, "ticket")), 18);
            cell(json_string_value(json_object_get(v, "name")), 10);
            cell(json_string_value(json_object_get(v, "occupation")), 14);
            cell(json_string_value(json_object_get(v, "level")), 6);
            cell(json_string_value(json_object_get(v, "session")), 8);
            cell(seat, 4);
            cell(state, 8);
            printf("%s\n", score[0] ? score : "-");
        }
    }
}

int cmd_roster(struct cli_ctx *ctx, int argc, char **argv)
{
    static const char *const names[] = {"--session", "--format", NULL};
    int bad = 0, rc;
    const char *session = cli_option(argc, argv, "--session", &bad);
    const char *format = cli_option(argc, argv, "--format", &bad);
    struct room r;
    struct rows w;

    if (bad || cli_check_options(argc, argv, 1, names) < 0)
        return cli_fail(ctx, ER_USAGE);
    if (format == NULL)
        format = ctx->json ? "json" : "table";
    if (strcmp(format, "table") != 0 && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0)
        return cli_fail_detail(ctx, ER_USAGE, "%s", MSG_FORMAT);
    rc = room_open(ctx, &r, 1);
    if (rc < 0) {
        room_close(&r);
        return cli_fail(ctx, rc);
    }
    w = (struct rows){&r, json_array()};
    store_foreach_candidate(r.st, session, take_candidate, &w);
    room_close(&r);
    if (json_array_size(w.list) == 0 && session != NULL) {
        json_decref(w.list);
        return cli_fail_detail(ctx, ER_SESSION_NOT_FOUND, MSG_NONE, session);
    }
    if (strcmp(format, "json") == 0) {
        json_dumpf(w.list, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("\n");
    } else {
        print(w.list, strcmp(format, "csv") == 0);
    }
    json_decref(w.list);
    return 0;
}
