/* examroom status [--json]: what a proctor needs to know at a glance:
 * registration, packages, sessions, candidates per state, the incidents
 * (the latest few in the text, all in JSON), what has not reached the
 * center yet, the clock offset to the center, and (asked of the running
 * daemon) the ID card readers at the door. */
#include "agent.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define STATUS_INCIDENTS 5 /* the latest incidents the text shows */

/* What the proctor reads (zh-CN, in one place; the states' words are
 * store_*_state_zh()'s). */
#define MSG_INCIDENTS    "情况记录: %zu 条"
#define MSG_INCIDENTS_ON "（最近 %d 条；全部见 examroom roster --incidents）"
#define MSG_READER       "身份证阅读器 %s: %s\n"
#define MSG_READER_LAST  "  最近一次刷卡: %s\n"

struct collect {
    struct room *r;
    json_t *regs, *packages, *sessions, *counts;
    int64_t backlog;
};

static void on_package(const struct store_package *p, void *arg)
{
    struct collect *c = arg;

    json_array_append_new(c->packages,
                          json_pack("{s:s, s:I, s:s, s:s}", "plan", p->plan_id, "version",
                                    (json_int_t)p->version, "state", "verified", "path", p->path));
}

static void on_registration(const struct store_registration *reg, void *arg)
{
    struct collect *c = arg;

    json_array_append_new(c->regs, json_pack("{s:s, s:s, s:s?, s:I}", "plan", reg->plan_id, "room",
                                             reg->center_room, "site", reg->site, "registered_at",
                                             (json_int_t)reg->registered_at));
    store_latest_package(c->r->st, reg->plan_id, on_package, c);
}

static void on_candidate(const struct store_candidate *cand, void *arg)
{
    struct collect *c = arg;
    json_t *session;
    const char *state = store_cand_state_name(cand->state);

    if (json_object_get(c->sessions, cand->session_id) == NULL)
        return;
    session = json_object_get(json_object_get(c->sessions, cand->session_id), "candidates");
    json_object_set_new(session, state,
                        json_integer(json_integer_value(json_object_get(session, state)) + 1));
}

static void on_session(const struct store_session *s, void *arg)
{
    struct collect *c = arg;

    json_object_set_new(
        c->sessions, s->id,
        json_pack("{s:s, s:I, s:I, s:{}}", "state", store_session_state_name(s->state), "starts_at",
                  (json_int_t)s->starts_at, "ends_at", (json_int_t)s->ends_at, "candidates"));
}

static void on_candidate_session(const struct store_candidate *cand, void *arg)
{
    struct collect *c = arg;

    if (json_object_get(c->sessions, cand->session_id) == NULL)
        store_get_session(c->r->st, cand->session_id, on_session, c);
}

static void on_outbox(const struct store_outbox *o, void *arg)
{
    (void)o;
    ((struct collect *)arg)->backlog++;
}

/* The words a proctor reads for a session's or a candidate's state (JSON
 * keeps the English names). */
static const char *zh_session(const char *state)
{
    int i = store_session_state_from(state);

    return i >= 0 ? store_session_state_zh(i) : state;
}

static const char *zh_candidate(const char *state)
{
    int i = store_cand_state_from(state);

    return i >= 0 ? store_cand_state_zh(i) : state;
}

/* The door's readers as the running daemon sees them (GET /admin/v1/room):
 * an empty list when it is not running or has none. */
static json_t *id_readers(const struct room *r)
{
    json_t *doc = NULL, *list;
    long status = 0;
    int rc = room_admin_call(r, "GET", "/admin/v1/room", NULL, &status, &doc);

    list = rc == 0 && status == 200 ? json_incref(json_object_get(doc, "id_readers")) : NULL;
    json_decref(doc);
    return json_is_array(list) ? list : (json_decref(list), json_array());
}

static void print_readers(const json_t *list)
{
    const json_t *v;
    size_t i;

    json_array_foreach(list, i, v)
    {
        const char *last = json_string_value(json_object_get(json_object_get(v, "last"), "text"));

        printf(MSG_READER, json_string_value(json_object_get(v, "device")),
               json_string_value(json_object_get(v, "message")));
        if (last != NULL)
            printf(MSG_READER_LAST, last);
    }
}

static void print_text(const struct room *r, json_t *doc)
{
    json_t *v, *s, *inc;
    const char *id;
    size_t i;

    printf("考场服务器: %s（%s）\n", r->name[0] ? r->name : "未命名",
           json_string_value(json_object_get(doc, "room_key")));
    printf("考试中心: %s\n", r->center_url);
    if (json_array_size(json_object_get(doc, "registrations")) == 0)
        printf("注册: 尚未注册（examroom register 注册码）\n");
    json_array_foreach(json_object_get(doc, "registrations"), i, v)
        printf("注册: 计划 %s，考场 %s\n", json_string_value(json_object_get(v, "plan")),
               json_string_value(json_object_get(v, "room")));
    if (json_array_size(json_object_get(doc, "packages")) == 0)
        printf("试卷包: 尚无（examroom fetch）\n");
    json_array_foreach(json_object_get(doc, "packages"), i, v)
        printf("试卷包: 第 %lld 版，已校验\n",
               (long long)json_integer_value(json_object_get(v, "version")));
    json_object_foreach(json_object_get(doc, "sessions"), id, s)
    {
        json_t *cs = json_object_get(s, "candidates");
        const char *state;
        json_t *n;

        printf("场次 %s: %s", id, zh_session(json_string_value(json_object_get(s, "state"))));
        json_object_foreach(cs, state, n)
            printf("，%s %lld 人", zh_candidate(state), (long long)json_integer_value(n));
        printf("\n");
    }
    inc = json_object_get(doc, "incidents");
    printf(MSG_INCIDENTS, json_array_size(inc));
    if (json_array_size(inc) > STATUS_INCIDENTS)
        printf(MSG_INCIDENTS_ON, STATUS_INCIDENTS);
    printf("\n");
    for (i = json_array_size(inc) > STATUS_INCIDENTS ? json_array_size(inc) - STATUS_INCIDENTS : 0;
         i < json_array_size(inc); i++) {
        const json_t *e = json_array_get(inc, i);
        const char *ticket = json_string_value(json_object_get(e, "ticket"));
        time_t t = (time_t)json_integer_value(json_object_get(e, "at"));
        struct tm tm;
        char at[16];

        localtime_r(&t, &tm);
        strftime(at, sizeof(at), "%H:%M:%S", &tm);
        printf("  %s %s%s%s\n", at, ticket ? ticket : "", ticket ? " " : "",
               json_string_value(json_object_get(e, "text")));
    }
    print_readers(json_object_get(doc, "id_readers"));
    printf("待上传: %lld 条\n", (long long)json_integer_value(json_object_get(doc, "backlog")));
    if (json_integer_value(json_object_get(doc, "last_contact")) > 0)
        printf("上次联系考试中心: %lld 秒前，时钟偏差 %+lld 秒\n",
               (long long)(time(NULL) - json_integer_value(json_object_get(doc, "last_contact"))),
               (long long)json_integer_value(json_object_get(doc, "clock_offset")));
    else
        printf("上次联系考试中心: 从未联系\n");
}

int cmd_status(struct cli_ctx *ctx, int argc, char **argv)
{
    struct collect c = {0};
    struct room_contact contact;
    char fp[KEY_FINGERPRINT_SIZE];
    struct room r;
    json_t *doc;
    int rc, json = ctx->json;

    if (argc == 2 && strcmp(argv[1], "--json") == 0)
        json = 1;
    else if (argc != 1)
        return cli_fail(ctx, ER_USAGE);
    rc = room_open(ctx, &r, 1);
    if (rc < 0) {
        room_close(&r);
        return cli_fail(ctx, rc);
    }
    c.r = &r;
    c.regs = json_array();
    c.packages = json_array();
    c.sessions = json_object();
    store_foreach_registration(r.st, on_registration, &c);
    store_foreach_candidate(r.st, NULL, on_candidate_session, &c);
    store_foreach_candidate(r.st, NULL, on_candidate, &c);
    store_foreach_outbox(r.st, 1, on_outbox, &c);
    room_read_contact(&r, &contact);
    key_fingerprint(r.sign, fp);
    doc = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:o}", "name", r.name,
                    "center", r.center_url, "room_key", fp, "registrations", c.regs, "packages",
                    c.packages, "sessions", c.sessions, "incidents", room_incidents(&r), "backlog",
                    (json_int_t)c.backlog, "last_contact", (json_int_t)contact.last_contact,
                    "clock_offset", (json_int_t)contact.clock_offset, "id_readers", id_readers(&r));
    if (json) {
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("\n");
    } else {
        print_text(&r, doc);
    }
    json_decref(doc);
    room_close(&r);
    return 0;
}
