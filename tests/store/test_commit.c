/* The group commit of store/: writes made while a commit is in flight share
 * the next transaction; callbacks run on the loop, in order, after COMMIT;
 * one failing write does not sink its batch; a full disk fails the batch
 * cleanly and writes succeed again once there is room; reads on the loop
 * never wait for a writer; closing lets queued writes finish; each write
 * moves the generation of what it changes (store_generation(), each
 * candidate's store_candidate_generation()) when queued and when done. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "internal.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N_CANDS 8

struct fx {
    uv_loop_t loop;
    struct store *st;
    char dir[64];
    char path[128];
    int64_t cand[N_CANDS];
};

struct done {
    int called;
    int status;
    int order;
    struct store_ack ack;
    pthread_t thread;
};

static int callbacks_run;

static void on_done(int status, const struct store_ack *ack, void *arg)
{
    struct done *d = arg;

    d->called++;
    d->status = status;
    d->ack = *ack;
    d->thread = pthread_self();
    d->order = ++callbacks_run;
}

static void run_until(struct fx *f, const int *flag)
{
    while (!*flag) {
        int active = uv_run(&f->loop, UV_RUN_ONCE);

        if (!*flag)
            assert_int_not_equal(active, 0);
    }
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];

    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        remove(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
}

static void keep_id(const struct store_candidate *c, void *arg)
{
    *(int64_t *)arg = c->id;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    static const struct store_session session = {
        .id = "S1", .plan_id = "P", .starts_at = 1000, .ends_at = 2000};
    struct store_candidate cands[N_CANDS];
    char tickets[N_CANDS][8];
    struct store_roster roster = {&session, 1, NULL, 0, cands, N_CANDS};
    struct done d = {0};

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/examroom-commit-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/room.db", f->dir);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(store_open(&f->loop, f->dir, "room", &f->st), 0);
    for (int i = 0; i < N_CANDS; i++) {
        snprintf(tickets[i], sizeof(tickets[i]), "T%03d", i);
        cands[i] = (struct store_candidate){.session_id = "S1",
                                            .ticket = tickets[i],
                                            .name = "考生",
                                            .id_number = "X",
                                            .occupation = "电工",
                                            .level = "四级",
                                            .paper_id = "P1"};
    }
    assert_int_equal(store_load_roster(f->st, &roster, on_done, &d), 0);
    run_until(f, &d.called);
    assert_int_equal(d.status, 0);
    for (int i = 0; i < N_CANDS; i++)
        assert_int_equal(store_find_candidate(f->st, "S1", tickets[i], keep_id, &f->cand[i]), 0);
    callbacks_run = 0;
    *state = f;
    return 0;
}

static void on_closed(void *arg)
{
    (*(int *)arg)++;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    int closed = 0;

    if (f->st != NULL) {
        store_close(f->st, on_closed, &closed);
        run_until(f, &closed);
    }
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    remove_dir(f->dir);
    free(f);
    return 0;
}

static sqlite3 *raw(struct fx *f)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static int64_t raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t v;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* ---- group commit ---- */

static void writes_in_flight_share_one_commit(void **state)
{
    struct fx *f = *state;
    static struct done d[100];
    struct store_stats stats;
    pthread_t loop_thread = pthread_self();
    char item[16];

    memset(d, 0, sizeof(d));
    /* The first write starts a transaction at once; the other 99 arrive while
     * it is in flight (the loop has not run yet) and must share the next. */
    for (int i = 0; i < 100; i++) {
        snprintf(item, sizeof(item), "q%d", i);
        assert_int_equal(
            store_put_answer(f->st, f->cand[i % N_CANDS], item, "A", 1, on_done, &d[i]), 0);
    }
    run_until(f, &d[99].called);
    store_get_stats(f->st, &stats);
    assert_int_equal(stats.commits, 1 + 1 + 1); /* the roster, then 1, then 99 */
    assert_int_equal(stats.max_batch, 99);
    assert_int_equal(stats.failed, 0);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(d[i].called, 1);
        assert_int_equal(d[i].status, 0);
        /* In the order written, on the loop's thread. */
        assert_int_equal(d[i].order, i + 1);
        assert_true(pthread_equal(d[i].thread, loop_thread));
    }
}

static void one_transaction_per_write_when_batch_max_is_1(void **state)
{
    struct fx *f = *state;
    static struct done d[20];
    struct store_stats before, after;
    char item[16];

    memset(d, 0, sizeof(d));
    assert_int_equal(store_set_batch_max(f->st, 0), ER_USAGE);
    assert_int_equal(store_set_batch_max(f->st, STORE_BATCH_LIMIT + 1), ER_USAGE);
    assert_int_equal(store_set_batch_max(f->st, 1), 0);
    store_get_stats(f->st, &before);
    for (int i = 0; i < 20; i++) {
        snprintf(item, sizeof(item), "q%d", i);
        assert_int_equal(store_put_answer(f->st, f->cand[0], item, "A", 1, on_done, &d[i]), 0);
    }
    run_until(f, &d[19].called);
    store_get_stats(f->st, &after);
    assert_int_equal(after.commits - before.commits, 20);
    assert_int_equal(after.max_batch, 1);
}

static void a_failing_write_does_not_sink_its_batch(void **state)
{
    struct fx *f = *state;
    static struct done d[6];
    struct store_stats stats;
    char answer[STORE_ANSWER_MAX + 1];
    int64_t rev;

    memset(d, 0, sizeof(d));
    assert_int_equal(store_put_answer(f->st, f->cand[0], "q1", "A", 5, on_done, &d[0]), 0);
    /* These five share one transaction: an unknown candidate, a stale rev,
     * a result with a wrong chain position, and two good answers. */
    assert_int_equal(store_put_answer(f->st, f->cand[1], "q1", "B", 1, on_done, &d[1]), 0);
    assert_int_equal(store_put_answer(f->st, 999, "q1", "B", 1, on_done, &d[2]), 0);
    assert_int_equal(store_put_answer(f->st, f->cand[0], "q1", "C", 2, on_done, &d[3]), 0);
    {
        struct store_result r = {.candidate_id = f->cand[2],
                                 .chain_pos = 5,
                                 .sealed = (const uint8_t *)"x",
                                 .sealed_len = 1};

        assert_int_equal(store_add_result(f->st, &r, on_done, &d[4]), 0);
    }
    assert_int_equal(store_put_answer(f->st, f->cand[3], "q1", "D", 1, on_done, &d[5]), 0);
    run_until(f, &d[5].called);
    store_get_stats(f->st, &stats);
    assert_int_equal(stats.max_batch, 5);
    assert_int_equal(d[0].status, 0);
    assert_int_equal(d[1].status, 0);
    assert_int_equal(d[2].status, ER_STORE_NOT_FOUND);
    /* The stale write saw the first one, committed just before. */
    assert_int_equal(d[3].status, ER_STORE_STALE_REV);
    assert_int_equal(d[3].ack.rev, 5);
    assert_int_equal(d[4].status, ER_STORE_CHAIN);
    assert_int_equal(d[5].status, 0);
    assert_int_equal(store_get_answer(f->st, f->cand[1], "q1", answer, &rev), 0);
    assert_string_equal(answer, "B");
    assert_int_equal(store_get_answer(f->st, f->cand[3], "q1", answer, &rev), 0);
    assert_string_equal(answer, "D");
    assert_int_equal(store_get_answer(f->st, f->cand[0], "q1", answer, &rev), 0);
    assert_string_equal(answer, "A");
    assert_int_equal(rev, 5);
}

/* ---- reads ---- */

static void reads_do_not_wait_for_a_writer(void **state)
{
    struct fx *f = *state;
    char answer[STORE_ANSWER_MAX + 1];
    struct done d = {0};
    struct timespec t0, t1;
    int64_t rev = 0;
    sqlite3 *other;

    assert_int_equal(store_put_answer(f->st, f->cand[0], "q1", "A", 1, on_done, &d), 0);
    run_until(f, &d.called);
    /* Another writer holds the write lock with a change not yet committed. */
    other = raw(f);
    assert_int_equal(sqlite3_exec(other,
                                  "BEGIN IMMEDIATE; UPDATE answers SET answer = 'Z', rev = 2"
                                  " WHERE item = 'q1'",
                                  0, 0, 0),
                     SQLITE_OK);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(store_get_answer(f->st, f->cand[0], "q1", answer, &rev), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* The committed state, at once (the busy timeout is 5 s). */
    assert_string_equal(answer, "A");
    assert_int_equal(rev, 1);
    assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 1000);
    assert_int_equal(sqlite3_exec(other, "COMMIT", 0, 0, 0), SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(store_get_answer(f->st, f->cand[0], "q1", answer, &rev), 0);
    assert_string_equal(answer, "Z");
}

/* ---- close ---- */

static void close_lets_queued_writes_finish(void **state)
{
    struct fx *f = *state;
    static struct done d[10];
    struct done late = {0};
    int closed = 0;
    sqlite3 *db;
    char item[16];

    memset(d, 0, sizeof(d));
    for (int i = 0; i < 10; i++) {
        snprintf(item, sizeof(item), "q%d", i);
        assert_int_equal(store_put_answer(f->st, f->cand[0], item, "A", 1, on_done, &d[i]), 0);
    }
    store_close(f->st, on_closed, &closed);
    /* Refused, and its callback never runs. */
    assert_int_equal(store_put_answer(f->st, f->cand[0], "qx", "A", 1, on_done, &late),
                     ER_STORE_CLOSED);
    run_until(f, &closed);
    f->st = NULL;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(d[i].called, 1);
        assert_int_equal(d[i].status, 0);
        assert_true(d[i].order < callbacks_run + 1);
    }
    assert_int_equal(late.called, 0);
    db = raw(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM answers"), 10);
    sqlite3_close(db);
    /* The last close checkpointed and removed the WAL. */
    {
        char wal[160];

        snprintf(wal, sizeof(wal), "%s-wal", f->path);
        assert_int_not_equal(access(wal, F_OK), 0);
    }
}

/* A close asked for in a callback waits for the batch's other callbacks,
 * which may still read. */
struct closing_ctx {
    struct fx *f;
    int closed, reads_ok, calls;
};

static void on_write_then_close(int status, const struct store_ack *ack, void *arg)
{
    struct closing_ctx *c = arg;
    char answer[STORE_ANSWER_MAX + 1];
    int64_t rev;

    (void)ack;
    assert_int_equal(status, 0);
    if (c->calls++ == 1)
        store_close(c->f->st, on_closed, &c->closed);
    else if (c->calls > 2)
        c->reads_ok += store_get_answer(c->f->st, c->f->cand[0], "q1", answer, &rev) == 0;
}

static void close_from_a_callback_waits_for_the_batch(void **state)
{
    struct fx *f = *state;
    struct closing_ctx c = {f, 0, 0, 0};
    char item[16];

    for (int i = 0; i < 6; i++) {
        snprintf(item, sizeof(item), "q%d", i);
        assert_int_equal(store_put_answer(f->st, f->cand[0], item, "A", 1, on_write_then_close, &c),
                         0);
    }
    run_until(f, &c.closed);
    f->st = NULL;
    assert_int_equal(c.calls, 6);
    assert_int_equal(c.reads_ok, 4);
}

/* ---- a full disk (SQLite's max_page_count) ---- */

/* Saves one answer per item until a save fails; returns how many were
 * acknowledged, and the failure. */
static int fill(struct fx *f, int from, int rounds, int *failure, int *batch_failed)
{
    static struct done d[64];
    char item[16], answer[STORE_ANSWER_MAX + 1];
    int acked = 0;

    memset(answer, 'A', STORE_ANSWER_MAX);
    answer[STORE_ANSWER_MAX] = '\0';
    for (int round = 0; round < rounds; round++) {
        memset(d, 0, sizeof(d));
        for (int i = 0; i < 64; i++) {
            snprintf(item, sizeof(item), "f%d", from + round * 64 + i);
            assert_int_equal(
                store_put_answer(f->st, f->cand[i % N_CANDS], item, answer, 1, on_done, &d[i]), 0);
        }
        run_until(f, &d[63].called);
        for (int i = 0; i < 64; i++) {
            if (d[i].status != 0) {
                *failure = d[i].status;
                /* A batch fails whole: every write after the first failure
                 * in this round failed too (they shared its transaction). */
                *batch_failed = 1;
                for (int j = i; j < 64; j++)
                    *batch_failed &= d[j].status == d[i].status;
                return acked;
            }
            acked++;
        }
    }
    return acked;
}

static void a_full_disk_fails_cleanly_and_recovers(void **state)
{
    struct fx *f = *state;
    char answer[STORE_ANSWER_MAX + 1], item[16];
    struct store_stats stats;
    int failure = 0, whole = 0, acked;
    int64_t pages, rev;
    struct done d = {0};
    sqlite3 *db;

    pages = store_limit_pages(f->st, 0);
    assert_true(pages > 0);
    assert_int_equal(store_limit_pages(f->st, pages + 20), pages + 20);
    acked = fill(f, 0, 1000, &failure, &whole);
    assert_true(acked > 0);
    assert_int_equal(failure, ER_STORE_FULL);
    assert_true(whole);
    store_get_stats(f->st, &stats);
    assert_true(stats.failed >= 1);

    /* Every acknowledged save is there; the file is sound. */
    for (int i = 0; i < acked; i++) {
        snprintf(item, sizeof(item), "f%d", i);
        assert_int_equal(store_get_answer(f->st, f->cand[i % N_CANDS], item, answer, &rev), 0);
        assert_int_equal(rev, 1);
    }
    snprintf(item, sizeof(item), "f%d", acked);
    assert_int_equal(store_get_answer(f->st, f->cand[acked % N_CANDS], item, answer, &rev),
                     ER_STORE_NOT_FOUND);
    db = raw(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM answers"), acked);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM answer_log"), acked);
    {
        sqlite3_stmt *s = NULL;

        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL), 0);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
        sqlite3_finalize(s);
    }
    sqlite3_close(db);

    /* Still full: a small save fails too, and cleanly. */
    assert_int_equal(store_put_answer(f->st, f->cand[0], "x", "A", 1, on_done, &d), 0);
    run_until(f, &d.called);
    if (d.status != 0)
        assert_int_equal(d.status, ER_STORE_FULL);

    /* Room again: saves succeed, the failed ones can be made again. */
    assert_int_equal(store_limit_pages(f->st, 1 << 30), 1 << 30);
    failure = 0;
    assert_int_equal(fill(f, acked, 20, &failure, &whole), 64 * 20);
    assert_int_equal(failure, 0);
}

/* ---- generations: what the loop keeps of the store, and when it goes ---- */

/* The generations now: the global one and each candidate's. */
struct gens {
    uint64_t all, cand[N_CANDS];
};

static struct gens gens_now(struct fx *f)
{
    struct gens g = {.all = store_generation(f->st)};

    for (int i = 0; i < N_CANDS; i++)
        g.cand[i] = store_candidate_generation(f->st, f->cand[i]);
    return g;
}

/* Each generation moved by as much as expected: all by `all`, candidate
 * `who` by `mine` (who < 0: none), every other candidate by 0. */
static void moved(struct fx *f, const struct gens *before, uint64_t all, int who, uint64_t mine)
{
    struct gens now = gens_now(f);

    assert_int_equal(now.all - before->all, all);
    for (int i = 0; i < N_CANDS; i++)
        assert_int_equal(now.cand[i] - before->cand[i], i == who ? mine : 0);
}

/* A write's callback, which also notes the generations it ran at. */
struct seen {
    struct done d;
    struct fx *f;
    struct gens at;
};

static void on_seen(int status, const struct store_ack *ack, void *arg)
{
    struct seen *s = arg;

    s->at = gens_now(s->f);
    on_done(status, ack, &s->d);
}

/* Seats 1 to 4 for the terminals (a roster of seats only). */
static int load_seats(struct fx *f, store_done_cb cb, void *arg)
{
    static const struct store_seat seats[] = {{1, "1", 0}, {2, "2", 0}, {3, "3", 0}, {4, "4", 0}};
    struct store_roster roster = {NULL, 0, seats, 4, NULL, 0};

    return store_load_roster(f->st, &roster, cb, arg);
}

static int make_terminal(struct fx *f, int seat, const uint8_t token_hash[STORE_HASH_LEN])
{
    struct done d = {0};
    char code[16];

    assert_int_equal(load_seats(f, on_done, &d), 0);
    run_until(f, &d.called);
    assert_int_equal(d.status, 0);
    memset(&d, 0, sizeof(d));

    snprintf(code, sizeof(code), "C%d", seat);
    assert_int_equal(store_add_terminal(f->st, code, NULL, STORE_TERM_TERMINAL, on_done, &d), 0);
    run_until(f, &d.called);
    assert_int_equal(d.status, 0);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_approve_terminal(f->st, code, token_hash, seat, on_done, &d), 0);
    run_until(f, &d.called);
    assert_int_equal(d.status, 0);
    return 0;
}

/* Each write of one candidate's rows moves that candidate's generation
 * once when queued and once more before its callback runs (whether it
 * succeeded or was refused), and no other. */
static void a_candidates_write_moves_only_their_generation(void **state)
{
    struct fx *f = *state;
    uint8_t term[STORE_HASH_LEN], tok[STORE_HASH_LEN];
    struct store_event ev = {.kind = STORE_EVENT_ATTENDANCE, .body = "{}"};
    struct store_result res = {.chain_pos = 1,
                               .sealed = (const uint8_t *)"x",
                               .sealed_len = 1,
                               .state = STORE_CAND_ABSENT};

    memset(term, 1, sizeof(term));
    memset(tok, 2, sizeof(tok));
    make_terminal(f, 3, term);
    for (int w = 0; w < 8; w++) {
        int who = w % N_CANDS;
        int64_t id = f->cand[who];
        struct gens before = gens_now(f);
        static struct seen s; /* a failed check leaves the write to teardown */
        int rc = -1;

        s = (struct seen){.f = f};

        res.candidate_id = id;
        ev.candidate_id = id;
        switch (w) {
        case 0:
            rc = store_update_candidate(f->st, id, STORE_CAND_REGISTERED, 0, 60, on_seen, &s);
            break;
        case 1:
            rc = store_add_time(f->st, id, 60, on_seen, &s);
            break;
        case 2:
            rc = store_check_in(f->st, id, 1000, on_seen, &s);
            break;
        case 3:
            rc = store_mark_running(f->st, id, on_seen, &s);
            break;
        case 4: /* no such seat: refused, and still moved */
            rc = store_move_candidate(f->st, id, 42, on_seen, &s);
            break;
        case 5: /* at seat 3's terminal, but not at seat 3: refused */
            rc = store_add_signin(f->st, id, 1, 3, tok, &ev, on_seen, &s);
            break;
        case 6:
            rc = store_add_result(f->st, &res, on_seen, &s);
            break;
        case 7:
            rc = store_update_candidate(f->st, id, STORE_CAND_SIGNED_IN, 0, 0, on_seen, &s);
            break;
        }
        assert_int_equal(rc, 0);
        moved(f, &before, 0, who, 1);
        run_until(f, &s.d.called);
        moved(f, &before, 0, who, 2);
        /* Already when the caller heard of it. */
        assert_int_equal(s.at.cand[who] - before.cand[who], 2);
    }
}

/* Answers, events and receipts change no row the loop keeps: nothing moves. */
static void answers_events_and_receipts_move_nothing(void **state)
{
    struct fx *f = *state;
    struct gens before = gens_now(f);
    static struct done d[3];
    struct store_event ev = {
        .kind = STORE_EVENT_INCIDENT, .candidate_id = f->cand[1], .body = "{}"};
    const uint8_t receipt[] = "r";

    memset(d, 0, sizeof(d));
    assert_int_equal(store_put_answer(f->st, f->cand[1], "q1", "A", 1, on_done, &d[0]), 0);
    assert_int_equal(store_add_event(f->st, &ev, on_done, &d[1]), 0);
    assert_int_equal(store_ack_outbox(f->st, receipt, 1, NULL, 0, on_done, &d[2]), 0);
    moved(f, &before, 0, -1, 0);
    run_until(f, &d[2].called);
    assert_int_equal(d[0].status, 0);
    assert_int_equal(d[1].status, 0);
    assert_int_equal(d[2].status, 0);
    moved(f, &before, 0, -1, 0);
}

/* Terminals, sessions, the roster, the room: the global generation, once
 * queued and once done, before the callback. */
static void other_writes_move_the_global_generation(void **state)
{
    struct fx *f = *state;
    uint8_t term[STORE_HASH_LEN];

    memset(term, 7, sizeof(term));
    for (int w = 0; w < 5; w++) {
        struct gens before = gens_now(f);
        static struct seen s; /* a failed check leaves the write to teardown */
        int rc = -1;

        s = (struct seen){.f = f};

        switch (w) {
        case 0:
            rc = store_set_session_state(f->st, "S1", STORE_SESSION_UNLOCKED, NULL, 0, on_seen, &s);
            break;
        case 1:
            rc = load_seats(f, on_seen, &s);
            break;
        case 2:
            rc = store_add_terminal(f->st, "P1", NULL, STORE_TERM_TERMINAL, on_seen, &s);
            break;
        case 3:
            rc = store_approve_terminal(f->st, "P1", term, 1, on_seen, &s);
            break;
        case 4: /* the first terminal's id */
            rc = store_revoke_terminal(f->st, 1, on_seen, &s);
            break;
        }
        assert_int_equal(rc, 0);
        moved(f, &before, 1, -1, 0);
        run_until(f, &s.d.called);
        assert_int_equal(s.d.status, 0);
        moved(f, &before, 2, -1, 0);
        assert_int_equal(s.at.all - before.all, 2);
    }
}

/* A batch rolled back by a full disk moves the generations of its writes
 * all the same (the loop may have read while it was queued). */
static void a_rolled_back_write_moves_its_generation(void **state)
{
    struct fx *f = *state;
    static struct done d[65];
    static struct seen s;
    struct gens before;
    char item[16], answer[STORE_ANSWER_MAX + 1];
    int64_t pages = store_limit_pages(f->st, 0);

    memset(d, 0, sizeof(d));
    s = (struct seen){.f = f};
    memset(answer, 'A', STORE_ANSWER_MAX);
    answer[STORE_ANSWER_MAX] = '\0';
    assert_int_equal(store_limit_pages(f->st, pages), pages);
    /* In flight alone; what follows is the next batch, too big for the
     * file: it fails whole. */
    assert_int_equal(store_put_answer(f->st, f->cand[0], "first", "A", 1, on_done, &d[64]), 0);
    before = gens_now(f);
    assert_int_equal(store_add_time(f->st, f->cand[5], 60, on_seen, &s), 0);
    for (int i = 0; i < 64; i++) {
        snprintf(item, sizeof(item), "r%d", i);
        assert_int_equal(
            store_put_answer(f->st, f->cand[i % N_CANDS], item, answer, 1, on_done, &d[i]), 0);
    }
    moved(f, &before, 0, 5, 1);
    run_until(f, &d[63].called);
    assert_int_equal(s.d.status, ER_STORE_FULL);
    assert_int_equal(d[63].status, ER_STORE_FULL);
    moved(f, &before, 0, 5, 2);
    assert_int_equal(s.at.cand[5] - before.cand[5], 2);
    assert_int_equal(store_limit_pages(f->st, 1 << 30), 1 << 30);
}

/* Candidates share a generation only as their ids share a bucket: a write
 * of one moves the other's too (read again, never stale); a write of an id
 * that cannot be a candidate's moves everything. */
static void shared_and_unknown_ids_fall_back_safely(void **state)
{
    struct fx *f = *state;
    struct gens before = gens_now(f);
    static struct done d;

    memset(&d, 0, sizeof(d));
    /* No such candidate, in cand[2]'s bucket: refused, and cand[2] moves. */
    assert_int_equal(store_add_time(f->st, f->cand[2] + STORE_CAND_BUCKETS, 60, on_done, &d), 0);
    moved(f, &before, 0, 2, 1);
    run_until(f, &d.called);
    assert_int_equal(d.status, ER_STORE_NOT_FOUND);
    moved(f, &before, 0, 2, 2);
    assert_int_equal(store_candidate_generation(f->st, f->cand[2] + 3 * STORE_CAND_BUCKETS),
                     store_candidate_generation(f->st, f->cand[2]));

    before = gens_now(f);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_add_time(f->st, 0, 60, on_done, &d), 0);
    moved(f, &before, 1, -1, 0);
    run_until(f, &d.called);
    moved(f, &before, 2, -1, 0);
}

/* Another process's commit on the file (the CLI's offline unlock beside a
 * running daemon) moves the global generation: seen by the next look while
 * no batch is in flight, and by the next batch as it begins. */
static void raw_write(struct fx *f, const char *sql)
{
    sqlite3 *db = raw(f);

    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void on_raw_generation(int status, const struct store_ack *ack, void *arg)
{
    struct seen *s = arg;

    s->at.all = s->f->st->generation; /* as after_batch left it, without a look */
    on_done(status, ack, &s->d);
}

static void another_process_commit_moves_the_global_generation(void **state)
{
    struct fx *f = *state;
    static struct seen s;
    uint64_t g = store_generation(f->st);

    assert_int_equal(store_generation(f->st), g); /* nothing new: it holds */
    raw_write(f, "UPDATE sessions SET state = 'unlocked'");
    assert_true(store_generation(f->st) > g);
    g = store_generation(f->st);
    assert_int_equal(store_generation(f->st), g);

    /* A batch in flight: its BEGIN sees it, and after_batch moves it before
     * the callback. */
    raw_write(f, "UPDATE sessions SET state = 'running'");
    s = (struct seen){.f = f};
    assert_int_equal(store_put_answer(f->st, f->cand[0], "q1", "A", 1, on_raw_generation, &s), 0);
    run_until(f, &s.d.called);
    assert_int_equal(s.d.status, 0);
    assert_int_equal(s.at.all, g + 1);
    assert_int_equal(store_generation(f->st), g + 1);
}

/* Rows read from a snapshot are kept under the generation of that
 * snapshot: another process's commit after the snapshot was taken is not
 * counted until the snapshot ends (else what was read before it would be
 * kept as current), and is counted at the next look after that. */
static void a_commit_after_the_snapshot_waits_for_its_end(void **state)
{
    struct fx *f = *state;
    uint64_t g = store_generation(f->st);
    int64_t n = 0;

    store_read_begin(f->st);
    assert_int_equal(store_count_outbox(f->st, &n), 0); /* the snapshot */
    raw_write(f, "UPDATE sessions SET state = 'unlocked'");
    assert_int_equal(store_generation(f->st), g);
    store_read_end(f->st);
    assert_true(store_generation(f->st) > g);

    /* Before the request's first read, a look is still taken. */
    g = store_generation(f->st);
    store_read_begin(f->st);
    raw_write(f, "UPDATE sessions SET state = 'running'");
    assert_true(store_generation(f->st) > g);
    store_read_end(f->st);
}

/* store_log_commits(): a line per transaction, once it is done, with when
 * it began on CLOCK_MONOTONIC, how long it took and its writes; a second
 * log, a path that cannot be opened or a write in flight is refused and
 * changes nothing. */
static void each_transaction_is_logged_once_done(void **state)
{
    struct fx *f = *state;
    static struct done d[5];
    char path[192], line[128];
    struct timespec ts;
    double before, after, at, ms;
    size_t writes, total = 0;
    int lines = 0;
    FILE *in;

    memset(d, 0, sizeof(d));
    snprintf(path, sizeof(path), "%s/commits.log", f->dir);
    assert_int_equal(store_log_commits(f->st, "/nonexistent/dir/commits.log"), ER_IO);
    /* Not while a write is in flight (the writer's thread would read it). */
    assert_int_equal(store_put_answer(f->st, f->cand[0], "q0", "A", 1, on_done, &d[4]), 0);
    assert_int_equal(store_log_commits(f->st, path), ER_USAGE);
    run_until(f, &d[4].called);
    assert_int_equal(store_log_commits(f->st, path), 0);
    assert_int_equal(store_log_commits(f->st, path), ER_USAGE);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    before = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    /* One transaction at once, then the three that queued behind it. */
    for (int i = 0; i < 4; i++)
        assert_int_equal(store_put_answer(f->st, f->cand[i], "q1", "A", 1, on_done, &d[i]), 0);
    run_until(f, &d[3].called);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    after = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    in = fopen(path, "r");
    assert_non_null(in);
    while (fgets(line, sizeof(line), in) != NULL) {
        assert_int_equal(sscanf(line, "%lf %lf %zu", &at, &ms, &writes), 3);
        assert_true(at >= before && at + ms / 1000 <= after);
        assert_true(ms > 0);
        total += writes;
        lines++;
    }
    fclose(in);
    assert_int_equal(lines, 2);
    assert_int_equal(total, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(writes_in_flight_share_one_commit),
        T(one_transaction_per_write_when_batch_max_is_1),
        T(a_failing_write_does_not_sink_its_batch),
        T(reads_do_not_wait_for_a_writer),
        T(close_lets_queued_writes_finish),
        T(close_from_a_callback_waits_for_the_batch),
        T(a_full_disk_fails_cleanly_and_recovers),
        T(a_candidates_write_moves_only_their_generation),
        T(answers_events_and_receipts_move_nothing),
        T(other_writes_move_the_global_generation),
        T(a_rolled_back_write_moves_its_generation),
        T(shared_and_unknown_ids_fall_back_safely),
        T(another_process_commit_moves_the_global_generation),
        T(a_commit_after_the_snapshot_waits_for_its_end),
        T(each_transaction_is_logged_once_done),
#undef T
    };

    /* The disk-full test logs its errors on purpose. */
    log_set_level(LOG_LEVEL_ERROR - 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
