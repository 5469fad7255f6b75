/* mkresults DATA_DIR N [ITEMS] [EVENTS]: seals results for the first N
 * candidates of a room (ITEMS answered items each, default 100) and EVENTS
 * incident events into its store, the way submit does: chained on the head,
 * each with its outbox row. For the upload tests and benchmarks, before the
 * exam-day agent exists to make them. */
#include "sync.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct cand {
    int64_t id;
    char session[64], ticket[64];
};

struct state {
    struct cand *c;
    size_t n, max, cap;
    char plan[PKG_MAX_NAME + 1], room[PKG_MAX_NAME + 1];
    int done, status;
    uint64_t payload_bytes;
};

static void take_candidate(const struct store_candidate *c, void *arg)
{
    struct state *s = arg;

    if (s->n == s->cap)
        return;
    s->c[s->n].id = c->id;
    snprintf(s->c[s->n].session, sizeof(s->c[s->n].session), "%s", c->session_id);
    snprintf(s->c[s->n].ticket, sizeof(s->c[s->n].ticket), "%s", c->ticket);
    s->n++;
}

static void no_result(const struct store_result *r, void *arg)
{
    (void)r;
    (void)arg;
}

static void take_registration(const struct store_registration *reg, void *arg)
{
    struct state *s = arg;

    snprintf(s->plan, sizeof(s->plan), "%s", reg->plan_id);
    snprintf(s->room, sizeof(s->room), "%s", reg->center_room);
}

static void done(int status, const struct store_ack *ack, void *arg)
{
    struct state *s = arg;

    (void)ack;
    s->status = status;
    s->done = 1;
}

static int wait_for(uv_loop_t *loop, struct state *s, int rc)
{
    if (rc < 0)
        return rc;
    while (!s->done && uv_run(loop, UV_RUN_ONCE) != 0)
        ;
    s->done = 0;
    return s->status;
}

static char *answers(int items, unsigned seed)
{
    static const char *const choices[] = {"A", "B", "C", "D", "AB", "ACD", "T", "F"};
    json_t *doc = json_object();
    char *text;

    for (int i = 1; i <= items; i++) {
        char id[16];

        snprintf(id, sizeof(id), "%d", i);
        json_object_set_new(doc, id,
                            json_pack("{s:s, s:i}", "answer", choices[(seed + (unsigned)i) % 8],
                                      "rev", 1 + (int)((seed + (unsigned)i) % 3)));
    }
    text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    return text;
}

static void on_closed(void *arg)
{
    *(int *)arg = 1;
}

int main(int argc, char **argv)
{
    uv_loop_t loop;
    struct store *st;
    struct state s = {0};
    int items = argc > 3 ? atoi(argv[3]) : 100, events = argc > 4 ? atoi(argv[4]) : 0, rc,
        closed = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: mkresults DATA_DIR N [ITEMS] [EVENTS]\n");
        return 2;
    }
    s.max = (size_t)atoi(argv[2]);
    s.cap = 100000;
    s.c = calloc(s.cap, sizeof(*s.c));
    uv_loop_init(&loop);
    rc = store_open(&loop, argv[1], "room", &st);
    if (rc == 0)
        store_foreach_registration(st, take_registration, &s);
    if (rc == 0)
        store_foreach_candidate(st, NULL, take_candidate, &s);
    /* Only candidates without a result yet (one result per candidate). */
    if (rc == 0) {
        size_t kept = 0;

        for (size_t i = 0; i < s.n && kept < s.max; i++)
            if (store_get_result(st, s.c[i].id, no_result, NULL) == ER_STORE_NOT_FOUND)
                s.c[kept++] = s.c[i];
        s.n = kept;
    }
    if (rc == 0 && (s.plan[0] == '\0' || s.n < s.max)) {
        fprintf(stderr, "mkresults: %zu candidates, %zu wanted, plan '%s'\n", s.n, s.max, s.plan);
        rc = ER_USAGE;
    }
    for (size_t i = 0; rc == 0 && i < s.n; i++) {
        const struct sync_result r = {.plan = s.plan,
                                      .room = s.room,
                                      .session = s.c[i].session,
                                      .ticket = s.c[i].ticket,
                                      .status = "submitted",
                                      .score = (int)(i * 37 % 101),
                                      .submitted_at = time(NULL)};
        struct store_result res = {.candidate_id = s.c[i].id, .score = r.score};
        char *json = answers(items, (unsigned)i), *payload = NULL;
        struct sync_result rr = r;
        size_t len = 0;

        rr.answers_json = json;
        rc = store_chain_head(st, &res.chain_pos, res.prev_hash);
        res.chain_pos++;
        if (rc == 0)
            rc = sync_seal_result(&rr, res.chain_pos, res.prev_hash, &payload, &len);
        res.sealed = (const uint8_t *)payload;
        res.sealed_len = len;
        s.payload_bytes += len;
        if (rc == 0)
            rc = wait_for(&loop, &s, store_add_result(st, &res, done, &s));
        free(payload);
        free(json);
    }
    for (int i = 0; rc == 0 && i < events && s.n > 0; i++) {
        char body[512];
        struct store_event ev = {
            .kind = STORE_EVENT_INCIDENT, .candidate_id = s.c[i % s.n].id, .body = body};

        snprintf(
            body, sizeof(body),
            "{\"kind\":\"incident\",\"session\":\"%s\",\"text\":\"考生 %s 举手：鼠标失灵，已更换\","
            "\"ticket\":\"%s\"}",
            s.c[i % s.n].session, s.c[i % s.n].ticket, s.c[i % s.n].ticket);
        rc = wait_for(&loop, &s, store_add_event(st, &ev, done, &s));
    }
    store_close(st, on_closed, &closed);
    while (!closed && uv_run(&loop, UV_RUN_ONCE) != 0)
        ;
    uv_loop_close(&loop);
    free(s.c);
    if (rc < 0) {
        fprintf(stderr, "mkresults: %s (%s)\n", er_strerror(rc), er_name(rc));
        return 1;
    }
    printf("%zu results, %d events, %llu bytes of result JSON\n", s.n, events,
           (unsigned long long)s.payload_bytes);
    return 0;
}
