/* Unit tests of store/: answers (the rev never goes down, the log keeps
 * every accepted change), sealed results on their hash chain, events, the
 * outbox written with them, and receipts. Real SQLite files in a temporary
 * directory. */
#include "fixture.h"

#include <openssl/evp.h>

/* ---- answers ---- */

static void list_answer(const struct store_answer *a, void *arg)
{
    struct seen *s = arg;
    size_t len = strlen(s->text);

    snprintf(s->text + len, sizeof(s->text) - len, "%s=%s@%lld;", a->item, a->answer,
             (long long)a->rev);
    assert_true(a->at_ms > 1700000000000LL);
    s->n++;
}

static void answers_never_go_back(void **state)
{
    struct fx *f = *state;
    char answer[STORE_ANSWER_MAX + 1], long_item[STORE_ITEM_MAX + 2];
    struct seen s = {0};
    int64_t id, rev;
    struct done d;
    sqlite3 *db;

    open_store(f);
    load_roster(f);
    id = cand_id(f, "S1", "T001");
    assert_int_equal(store_get_answer(f->st, id, "q1", answer, &rev), ER_STORE_NOT_FOUND);
    assert_int_equal(put(f, id, "q1", "A", 1, &d), 0);
    assert_int_equal(d.ack.rev, 1);
    assert_int_equal(put(f, id, "q1", "AC", 3, &d), 0);
    /* Equal and lower revs change nothing and report what is stored. */
    assert_int_equal(put(f, id, "q1", "B", 3, &d), ER_STORE_STALE_REV);
    assert_int_equal(d.ack.rev, 3);
    assert_string_equal(d.ack.answer, "AC");
    assert_int_equal(put(f, id, "q1", "D", 2, &d), ER_STORE_STALE_REV);
    assert_int_equal(d.ack.rev, 3);
    assert_int_equal(store_get_answer(f->st, id, "q1", answer, &rev), 0);
    assert_string_equal(answer, "AC");
    assert_int_equal(rev, 3);
    /* "" clears; another item; an unknown candidate. */
    assert_int_equal(put(f, id, "q1", "", 4, &d), 0);
    assert_int_equal(put(f, id, "q2", "T", 1, &d), 0);
    assert_int_equal(put(f, 999, "q1", "A", 1, &d), ER_STORE_NOT_FOUND);
    assert_int_equal(store_foreach_answer(f->st, id, list_answer, &s), 2);
    assert_string_equal(s.text, "q1=@4;q2=T@1;");
    /* The log holds every accepted change and nothing else, in order. */
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_foreach_answer_log(f->st, id, list_answer, &s), 4);
    assert_string_equal(s.text, "q1=A@1;q1=AC@3;q1=@4;q2=T@1;");

    /* Refused on the caller's side; the callback never runs. */
    memset(&d, 0, sizeof(d));
    memset(long_item, 'x', sizeof(long_item) - 1);
    long_item[sizeof(long_item) - 1] = '\0';
    assert_int_equal(store_put_answer(f->st, id, "q1", "A", 0, on_done, &d), ER_USAGE);
    assert_int_equal(store_put_answer(f->st, id, long_item, "A", 9, on_done, &d), ER_USAGE);
    assert_int_equal(store_put_answer(f->st, id, "", "A", 9, on_done, &d), ER_USAGE);
    assert_int_equal(store_put_answer(f->st, id, "q1", NULL, 9, on_done, &d), ER_USAGE);
    assert_int_equal(store_put_answer(f->st, id, "q1", "A", 9, NULL, NULL), ER_USAGE);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(d.called, 0);

    /* The file itself refuses what the API never does. */
    db = raw(f);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE answers SET rev = rev - 1", 0, 0, 0), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM answers", 0, 0, 0), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE answer_log SET rev = 99", 0, 0, 0), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM answer_log", 0, 0, 0), SQLITE_OK);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM answer_log"), 4);
    sqlite3_close(db);
}

/* ---- results, events, outbox, receipts ---- */

static void copy_result(const struct store_result *r, void *arg)
{
    struct store_result *out = arg;

    *out = *r;
    assert_int_equal(r->sealed_len, 6);
    assert_memory_equal(r->sealed, "sealed", 6);
    out->sealed = NULL;
}

static int add_result(struct fx *f, int64_t cand, int64_t pos, const uint8_t *prev,
                      const char *sealed, struct done *d)
{
    struct store_result r = {.candidate_id = cand, .chain_pos = pos, .score = 87};

    memcpy(r.prev_hash, prev, STORE_HASH_LEN);
    r.sealed = (const uint8_t *)sealed;
    r.sealed_len = strlen(sealed);
    memset(d, 0, sizeof(*d));
    assert_int_equal(store_add_result(f->st, &r, on_done, d), 0);
    return wait_for(f, d);
}

static void results_form_a_chain(void **state)
{
    struct fx *f = *state;
    uint8_t zero[STORE_HASH_LEN] = {0}, head[STORE_HASH_LEN], want[STORE_HASH_LEN];
    struct store_result got;
    int64_t pos, t1, t2, t3;
    struct done d;
    sqlite3 *db;

    open_store(f);
    load_roster(f);
    t1 = cand_id(f, "S1", "T001");
    t2 = cand_id(f, "S1", "T002");
    t3 = cand_id(f, "S1", "T003");
    assert_int_equal(store_chain_head(f->st, &pos, head), 0);
    assert_int_equal(pos, 0);
    assert_memory_equal(head, zero, STORE_HASH_LEN);
    assert_int_equal(add_result(f, t1, 1, zero, "sealed", &d), 0);
    assert_int_equal(d.ack.id, 1);
    assert_int_equal(store_chain_head(f->st, &pos, head), 0);
    assert_int_equal(pos, 1);
    assert_int_equal(EVP_Digest("sealed", 6, want, NULL, EVP_sha256(), NULL), 1);
    assert_memory_equal(head, want, STORE_HASH_LEN);
    assert_int_equal(store_get_result(f->st, t1, copy_result, &got), 0);
    assert_memory_equal(got.id, d.ack.uid, STORE_UID_LEN);
    assert_memory_equal(got.hash, want, STORE_HASH_LEN);
    assert_int_equal(got.score, 87);
    /* Sealed on a stale head: wrong position, or right position wrong hash. */
    assert_int_equal(add_result(f, t2, 1, zero, "sealed", &d), ER_STORE_CHAIN);
    assert_int_equal(add_result(f, t2, 2, zero, "sealed", &d), ER_STORE_CHAIN);
    assert_int_equal(add_result(f, t2, 2, head, "sealed", &d), 0);
    /* One result per candidate. */
    assert_int_equal(store_chain_head(f->st, &pos, head), 0);
    assert_int_equal(add_result(f, t1, 3, head, "sealed", &d), ER_STORE_CONFLICT);
    assert_int_equal(add_result(f, 999, 3, head, "sealed", &d), ER_STORE_NOT_FOUND);
    assert_int_equal(add_result(f, t3, 3, head, "sealed", &d), 0);

    db = raw(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM results"), 3);
    /* With a state given, the candidate's state changes in the same
     * transaction; without one it stays. */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM candidates WHERE state = 'registered'"
                                 " AND session_id = 'S1'"),
                     3);
    {
        struct store_result r = {.candidate_id = cand_id(f, "S2", "T001"),
                                 .score = 5,
                                 .state = STORE_CAND_SUBMITTED,
                                 .sealed = (const uint8_t *)"sealed4",
                                 .sealed_len = 7};

        assert_int_equal(store_chain_head(f->st, &r.chain_pos, r.prev_hash), 0);
        r.chain_pos++;
        /* Submitted only from signed in or running: refused, nothing kept. */
        memset(&d, 0, sizeof(d));
        assert_int_equal(store_add_result(f->st, &r, on_done, &d), 0);
        assert_int_equal(wait_for(f, &d), ER_STORE_NOT_FOUND);
        memset(&d, 0, sizeof(d));
        assert_int_equal(
            store_update_candidate(f->st, r.candidate_id, STORE_CAND_RUNNING, 0, 0, on_done, &d),
            0);
        assert_int_equal(wait_for(f, &d), 0);
        memset(&d, 0, sizeof(d));
        assert_int_equal(store_add_result(f->st, &r, on_done, &d), 0);
        assert_int_equal(wait_for(f, &d), 0);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM candidates c JOIN results r"
                                     " ON r.candidate_id = c.id WHERE c.session_id = 'S2'"
                                     " AND c.state = 'submitted'"),
                         1);
    }
    assert_int_equal(raw_int(db, "SELECT count(*) FROM results"), 4);
    /* Each result has its outbox row, with the same id; failures left none. */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM outbox o JOIN results r ON r.id = o.id"
                                 " WHERE o.kind = 'result'"),
                     4);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM outbox"), 4);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE results SET score = 100", 0, 0, 0), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM results", 0, 0, 0), SQLITE_OK);
    sqlite3_close(db);
}

struct outbox_seen {
    int n;
    uint8_t ids[8][STORE_UID_LEN];
    char kinds[16];
    int64_t receipt[8];
};

static void list_outbox(const struct store_outbox *o, void *arg)
{
    struct outbox_seen *s = arg;

    assert_true(s->n < 8);
    memcpy(s->ids[s->n], o->id, STORE_UID_LEN);
    s->kinds[s->n] = o->kind == STORE_OUTBOX_RESULT ? 'r' : 'e';
    s->receipt[s->n] = o->receipt_id;
    assert_true(o->payload_len > 0);
    s->n++;
}

static void list_event(const struct store_event *e, void *arg)
{
    struct seen *s = arg;
    size_t len = strlen(s->text);

    snprintf(s->text + len, sizeof(s->text) - len, "%s;", e->body);
    s->n++;
}

static void events_outbox_and_receipts(void **state)
{
    struct fx *f = *state;
    uint8_t zero[STORE_HASH_LEN] = {0}, ids[4][STORE_UID_LEN], unknown[STORE_UID_LEN];
    struct store_event ev = {.kind = STORE_EVENT_INCIDENT, .body = "{\"t\":\"屏幕黑屏\"}"};
    struct outbox_seen o = {0};
    struct seen s = {0};
    struct done d = {0};
    int64_t t1, pending = 0;

    open_store(f);
    load_roster(f);
    t1 = cand_id(f, "S1", "T001");
    ev.candidate_id = t1;
    assert_int_equal(store_add_event(f->st, &ev, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    memcpy(ids[0], d.ack.uid, STORE_UID_LEN);
    assert_int_equal(add_result(f, t1, 1, zero, "sealed", &d), 0);
    memcpy(ids[1], d.ack.uid, STORE_UID_LEN);
    ev.kind = STORE_EVENT_ATTENDANCE;
    ev.candidate_id = 0;
    ev.body = "{\"absent\":2}";
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_add_event(f->st, &ev, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    memcpy(ids[2], d.ack.uid, STORE_UID_LEN);
    /* An event naming an unknown candidate leaves neither event nor outbox row. */
    ev.candidate_id = 999;
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_add_event(f->st, &ev, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), ER_STORE_NOT_FOUND);

    assert_int_equal(store_foreach_event(f->st, STORE_EVENT_INCIDENT, list_event, &s), 1);
    assert_string_equal(s.text, "{\"t\":\"屏幕黑屏\"};");
    assert_int_equal(store_foreach_outbox(f->st, 1, list_outbox, &o), 3);
    assert_string_equal(o.kinds, "ere");
    for (int i = 0; i < 3; i++)
        assert_memory_equal(o.ids[i], ids[i], STORE_UID_LEN);
    assert_memory_not_equal(ids[0], ids[2], STORE_UID_LEN);
    /* Counted, and read a part at a time in the same order; ids made one
     * after another sort one after another (time first). */
    assert_int_equal(store_count_outbox(f->st, &pending), 0);
    assert_int_equal(pending, 3);
    memset(&o, 0, sizeof(o));
    assert_int_equal(store_pending_outbox(f->st, 2, list_outbox, &o), 2);
    assert_string_equal(o.kinds, "er");
    assert_memory_equal(o.ids[1], ids[1], STORE_UID_LEN);
    assert_int_equal(store_pending_outbox(f->st, 0, list_outbox, &o), ER_USAGE);
    assert_true(memcmp(ids[0], ids[1], 8) <= 0 && memcmp(ids[1], ids[2], 8) <= 0);

    /* A receipt for the first two and an id we never made. */
    memset(unknown, 0xab, sizeof(unknown));
    memcpy(ids[3], unknown, STORE_UID_LEN);
    memcpy(ids[2], ids[1], STORE_UID_LEN);
    memcpy(ids[1], ids[0], STORE_UID_LEN);
    memcpy(ids[0], unknown, STORE_UID_LEN);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_ack_outbox(f->st, (const uint8_t *)"receipt", 7,
                                      (const uint8_t(*)[STORE_UID_LEN])ids[1], 2, on_done, &d),
                     0);
    assert_int_equal(wait_for(f, &d), 0);
    assert_int_equal(d.ack.count, 2);
    assert_true(d.ack.id > 0);
    memset(&o, 0, sizeof(o));
    assert_int_equal(store_foreach_outbox(f->st, 1, list_outbox, &o), 1);
    assert_string_equal(o.kinds, "e");
    assert_int_equal(store_count_outbox(f->st, &pending), 0);
    assert_int_equal(pending, 1);
    memset(&o, 0, sizeof(o));
    assert_int_equal(store_foreach_outbox(f->st, 0, list_outbox, &o), 3);
    assert_int_equal(o.receipt[0], d.ack.id);
    assert_int_equal(o.receipt[2], 0);
    /* The same receipt again, with the unknown id: nothing newly marked. */
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_ack_outbox(f->st, (const uint8_t *)"receipt", 7,
                                      (const uint8_t(*)[STORE_UID_LEN])ids, 3, on_done, &d),
                     0);
    assert_int_equal(wait_for(f, &d), 0);
    assert_int_equal(d.ack.count, 0);
    assert_int_equal(store_ack_outbox(f->st, NULL, 0, NULL, 0, on_done, &d), ER_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(answers_never_go_back),
        T(results_form_a_chain),
        T(events_outbox_and_receipts),
#undef T
    };

    log_set_level(LOG_LEVEL_ERROR - 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
