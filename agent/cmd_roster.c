/* examroom roster [--session S] [--format table|csv|json] [--incidents]:
 * the candidates with their seat, state (auto-submitted told from
 * submitted), extra time, incidents (how many, the latest) and score (null
 * until there is a result), read from the store (the daemon may be running:
 * a reader does not stop it). --incidents lists the incidents instead. */
#include "agent.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* What the proctor reads (zh-CN, in one place; the states' words are
 * store_cand_state_zh()'s). */
/* New columns go before the last two: scripts read the state and score as
 * the last ones. */
#define CSV_HEADER      "准考证号,姓名,职业,等级,场次,座位号,结果,延时（分钟）,情况数,最新情况,状态,成绩"
#define CSV_INCIDENTS   "时间,场次,准考证号,座位号,情况"
#define MSG_AUTO        "自动交卷"
#define MSG_EXTRA       "延时 %d 分钟"
#define MSG_CHECKED_IN  "已核验 %s" /* the ID card read at the door, at HH:MM */
#define MSG_INCIDENT    "情况 %d 条：%s"
#define MSG_NO_INCIDENT "本考场没有记录任何情况。"
#define MSG_FORMAT      "--format 只能是 table、csv 或 json。"
#define MSG_NONE        "场次“%s”没有考生。请检查场次编号，或先用 examroom fetch 下载试卷包。"

struct rows {
    struct room *r;
    json_t *list;
    json_t *incidents; /* candidate id -> {count, last} */
};

/* The result's status as sealed: "submitted", "auto_submitted", "absent". */
static void take_result(const struct store_result *res, void *arg)
{
    json_t *doc = json_loadb((const char *)res->sealed, res->sealed_len, 0, NULL);
    json_t *out = arg;

    json_object_set_new(out, "score",
                        res->score >= 0 && json_is_integer(json_object_get(doc, "score"))
                            ? json_integer(res->score)
                            : json_null());
    json_object_set(out, "result",
                    json_object_get(doc, "status") ? json_object_get(doc, "status") : json_null());
    json_decref(doc);
}

static void take_incident(const struct store_event *e, void *arg)
{
    json_t *body = json_loads(e->body, 0, NULL), *row;
    json_t *cand = NULL;
    struct rows *w = arg;

    if (e->candidate_id > 0) {
        char id[24];

        snprintf(id, sizeof(id), "%lld", (long long)e->candidate_id);
        cand = json_object_get(json_object_get(w->incidents, "by_candidate"), id);
        if (cand == NULL) {
            cand = json_pack("{s:i, s:n}", "count", 0, "last");
            json_object_set_new(json_object_get(w->incidents, "by_candidate"), id, cand);
        }
        json_object_set_new(cand, "count",
                            json_integer(json_integer_value(json_object_get(cand, "count")) + 1));
        json_object_set(cand, "last", json_object_get(body, "text"));
    }
    row = json_pack("{s:I, s:I, s:O?, s:O?, s:O?, s:O?}", "at", (json_int_t)e->at, "candidate_id",
                    (json_int_t)e->candidate_id, "session", json_object_get(body, "session"),
                    "ticket", json_object_get(body, "ticket"), "seat",
                    json_object_get(body, "seat"), "text", json_object_get(body, "text"));
    json_array_append_new(json_object_get(w->incidents, "list"), row);
    json_decref(body);
}

static void take_ticket(const struct store_candidate *c, void *arg)
{
    json_t *row = arg;

    if (json_integer_value(json_object_get(row, "candidate_id")) == c->id) {
        json_object_set_new(row, "session", json_string(c->session_id));
        json_object_set_new(row, "ticket", json_string(c->ticket));
    }
}

json_t *room_incidents(struct room *r)
{
    struct rows w = {r, NULL, json_pack("{s:[], s:{}}", "list", "by_candidate")};
    json_t *list, *row;
    size_t i;

    store_foreach_event(r->st, STORE_EVENT_INCIDENT, take_incident, &w);
    list = json_incref(json_object_get(w.incidents, "list"));
    json_decref(w.incidents);
    /* A sign-in incident names its candidate by id only. */
    json_array_foreach(list, i, row)
    {
        if (json_is_null(json_object_get(row, "ticket")) &&
            json_integer_value(json_object_get(row, "candidate_id")) > 0)
            store_foreach_candidate(r->st, NULL, take_ticket, row);
    }
    return list;
}

static void take_candidate(const struct store_candidate *c, void *arg)
{
    struct rows *w = arg;
    char id[24];
    json_t *row, *inc;

    snprintf(id, sizeof(id), "%lld", (long long)c->id);
    inc = json_object_get(w->incidents, id);
    row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:n, s:n, s:i, s:I, s:O?}", "ticket",
                    c->ticket, "name", c->name, "occupation", c->occupation, "level", c->level,
                    "session", c->session_id, "seat", c->seat, "state",
                    store_cand_state_name(c->state), "result", "score", "extra_minutes",
                    c->extra_seconds / 60, "incidents",
                    json_integer_value(json_object_get(inc, "count")), "last_incident",
                    json_object_get(inc, "last"));
    json_object_set_new(row, "checked_in_at",
                        c->checked_in_at > 0 ? json_integer(c->checked_in_at) : json_null());
    store_get_result(w->r->st, c->id, take_result, row);
    json_array_append_new(w->list, row);
}

/* The state as the proctor reads it. */
static const char *zh_state(const json_t *v)
{
    int s = store_cand_state_from(json_string_value(json_object_get(v, "state")));

    return s >= 0 ? store_cand_state_zh(s) : "?";
}

/* The result as sealed, in the proctor's words: auto-submitted told from
 * submitted; "" before there is one. */
static const char *zh_result(const json_t *v)
{
    const char *result = json_string_value(json_object_get(v, "result"));

    if (result == NULL)
        return "";
    if (strcmp(result, "auto_submitted") == 0)
        return MSG_AUTO;
    return strcmp(result, "absent") == 0 ? store_cand_state_zh(STORE_CAND_ABSENT)
                                         : store_cand_state_zh(STORE_CAND_SUBMITTED);
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

/* Check-in at the door, extra time and incidents, in a few words. */
static void remarks(const json_t *v, char *out, size_t outsz)
{
    int extra = (int)json_integer_value(json_object_get(v, "extra_minutes"));
    int n = (int)json_integer_value(json_object_get(v, "incidents"));
    json_int_t checked_in = json_integer_value(json_object_get(v, "checked_in_at"));
    const char *last = json_string_value(json_object_get(v, "last_incident"));
    size_t len = 0;

    out[0] = '\0';
    if (checked_in > 0) {
        time_t t = (time_t)checked_in;
        struct tm tm;
        char at[16];

        localtime_r(&t, &tm);
        strftime(at, sizeof(at), "%H:%M", &tm);
        len = (size_t)snprintf(out, outsz, MSG_CHECKED_IN, at);
    }
    if (extra > 0 && len < outsz)
        len += (size_t)snprintf(out + len, outsz - len, "%s" MSG_EXTRA, len > 0 ? "；" : "", extra);
    if (n > 0 && len < outsz)
        snprintf(out + len, outsz - len, "%s" MSG_INCIDENT, len > 0 ? "；" : "", n,
                 last != NULL ? last : "");
}

static void print(const json_t *list, int csv)
{
    size_t i;
    json_t *v;

    if (csv)
        printf("\xEF\xBB\xBF" CSV_HEADER "\n"); /* the BOM: Excel reads it as UTF-8 */
    else {
        static const char *const head[] = {"准考证号", "姓名", "职业", "等级",
                                           "场次",     "座位", "状态", "成绩"};
        static const int cols[] = {18, 10, 14, 6, 8, 4, 8, 4};

        for (size_t k = 0; k < 8; k++)
            cell(head[k], cols[k]);
        printf("备注\n");
    }
    json_array_foreach(list, i, v)
    {
        char seat[16], score[16] = "", extra[16], count[16], note[1200];
        const json_t *sc = json_object_get(v, "score");
        const char *state = zh_state(v);
        const char *last = json_string_value(json_object_get(v, "last_incident"));

        snprintf(seat, sizeof(seat), "%d", (int)json_integer_value(json_object_get(v, "seat")));
        if (json_is_integer(sc))
            snprintf(score, sizeof(score), "%d", (int)json_integer_value(sc));
        if (csv) {
            static const char *const f[] = {"ticket", "name", "occupation", "level", "session"};

            for (size_t k = 0; k < 5; k++)
                csv_field(json_string_value(json_object_get(v, f[k])), 0);
            snprintf(extra, sizeof(extra), "%d",
                     (int)json_integer_value(json_object_get(v, "extra_minutes")));
            snprintf(count, sizeof(count), "%d",
                     (int)json_integer_value(json_object_get(v, "incidents")));
            csv_field(seat, 0);
            csv_field(zh_result(v), 0);
            csv_field(extra, 0);
            csv_field(count, 0);
            csv_field(last != NULL ? last : "", 0);
            csv_field(state, 0);
            csv_field(score, 1);
        } else {
            remarks(v, note, sizeof(note));
            cell(json_string_value(json_object_get(v, "ticket")), 18);
            cell(json_string_value(json_object_get(v, "name")), 10);
            cell(json_string_value(json_object_get(v, "occupation")), 14);
            cell(json_string_value(json_object_get(v, "level")), 6);
            cell(json_string_value(json_object_get(v, "session")), 8);
            cell(seat, 4);
            cell(zh_result(v)[0] != '\0' ? zh_result(v) : state, 8);
            cell(score[0] ? score : "-", 4);
            printf("%s\n", note);
        }
    }
}

/* roster --incidents: one line each, oldest first. */
static void print_incidents(const json_t *list, int csv)
{
    size_t i;
    json_t *v;

    if (csv)
        printf("\xEF\xBB\xBF" CSV_INCIDENTS "\n");
    else if (json_array_size(list) == 0)
        printf("%s\n", MSG_NO_INCIDENT);
    json_array_foreach(list, i, v)
    {
        char at[32], seat[16] = "";
        time_t t = (time_t)json_integer_value(json_object_get(v, "at"));
        struct tm tm;
        const char *session = json_string_value(json_object_get(v, "session"));
        const char *ticket = json_string_value(json_object_get(v, "ticket"));
        const char *text = json_string_value(json_object_get(v, "text"));

        localtime_r(&t, &tm);
        strftime(at, sizeof(at), "%Y-%m-%d %H:%M:%S", &tm);
        if (json_is_integer(json_object_get(v, "seat")))
            snprintf(seat, sizeof(seat), "%d", (int)json_integer_value(json_object_get(v, "seat")));
        if (csv) {
            csv_field(at, 0);
            csv_field(session ? session : "", 0);
            csv_field(ticket ? ticket : "", 0);
            csv_field(seat, 0);
            csv_field(text ? text : "", 1);
        } else {
            cell(at, 19);
            cell(session ? session : "-", 8);
            cell(ticket ? ticket : "-", 18);
            cell(seat[0] ? seat : "-", 4);
            printf("%s\n", text ? text : "");
        }
    }
}

int cmd_roster(struct cli_ctx *ctx, int argc, char **argv)
{
    static const char *const names[] = {"--session", "--format", NULL};
    int bad = 0, rc, incidents = 0, n = argc;
    const char *session, *format;
    struct room r;
    struct rows w;

    /* --incidents takes no value: set aside before the pairs are checked. */
    if (n > 1 && strcmp(argv[n - 1], "--incidents") == 0)
        incidents = 1, n--;
    session = cli_option(n, argv, "--session", &bad);
    format = cli_option(n, argv, "--format", &bad);
    if (bad || cli_check_options(n, argv, 1, names) < 0)
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
    if (incidents) {
        json_t *list = room_incidents(&r);

        room_close(&r);
        if (strcmp(format, "json") == 0) {
            json_dumpf(list, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            printf("\n");
        } else {
            print_incidents(list, strcmp(format, "csv") == 0);
        }
        json_decref(list);
        return 0;
    }
    w = (struct rows){&r, json_array(), json_pack("{s:[], s:{}}", "list", "by_candidate")};
    store_foreach_event(r.st, STORE_EVENT_INCIDENT, take_incident, &w);
    {
        json_t *by = json_incref(json_object_get(w.incidents, "by_candidate"));

        json_decref(w.incidents);
        w.incidents = by;
    }
    store_foreach_candidate(r.st, session, take_candidate, &w);
    room_close(&r);
    json_decref(w.incidents);
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
