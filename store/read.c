/* The reads: synchronous, on the loop, on the reader connection. In WAL mode
 * a reader sees the last committed transaction and never waits for the
 * writer, so a read never stalls behind a commit in flight. */
#include "internal.h"

#include <limits.h>
#include <stdio.h>

#define TEXT(s, i) ((const char *)sqlite3_column_text((s), (i)))
#define INT(s, i)  sqlite3_column_int64((s), (i))

/* Binds text parameters (NULL-terminated list) to statement s. */
static sqlite3_stmt *with_text(struct store *st, int stmt, const char *a, const char *b)
{
    sqlite3_stmt *s = st->rs[stmt];

    if (a != NULL)
        sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
    if (b != NULL)
        sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
    return s;
}

/* Ends a read: the step's final code to an error, the statement reset. */
static int finish(struct store *st, sqlite3_stmt *s, int rc, int count, int want_one)
{
    int err = rc == SQLITE_DONE ? 0 : store_map_rc(rc);

    if (err != 0)
        log_error("store: read: %s", sqlite3_errmsg(st->r));
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (err != 0)
        return err;
    if (want_one && count == 0)
        return ER_STORE_NOT_FOUND;
    return want_one ? 0 : count;
}

static void blob(sqlite3_stmt *s, int i, uint8_t *out, size_t n)
{
    if ((size_t)sqlite3_column_bytes(s, i) == n)
        memcpy(out, sqlite3_column_blob(s, i), n);
    else
        memset(out, 0, n);
}

/* A read inside store_read_begin()/end(): the read transaction (a
 * deferred BEGIN, whose snapshot is taken at its first read anyway) is
 * begun here, at the first read, so a request that reads nothing (its
 * candidate from the daemon's cache) costs no BEGIN and no COMMIT. */
static int read_step(struct store *st, sqlite3_stmt *s)
{
    if (st->read_depth > 0 && !st->read_open) {
        sqlite3_stmt *b = st->rs[R_BEGIN];

        /* Another process's commit seen before the snapshot, never after:
         * what is kept from this snapshot then counts only what it shows. */
        store_look_outside(st);
        sqlite3_step(b);
        sqlite3_reset(b);
        st->read_open = 1;
    }
    return sqlite3_step(s);
}

int store_get_room(struct store *st, void (*fn)(const struct store_room *, void *), void *arg)
{
    sqlite3_stmt *s = st->rs[R_ROOM];
    int rc = read_step(st, s), n = 0;

    if (rc == SQLITE_ROW) {
        struct store_room r = {
            .name = TEXT(s, 0),
            .center_url = TEXT(s, 1),
            .center_key = sqlite3_column_blob(s, 2),
            .center_key_len = (size_t)sqlite3_column_bytes(s, 2),
            .center_ca = TEXT(s, 3),
            .room_pubkey = sqlite3_column_blob(s, 4),
            .room_pubkey_len = (size_t)sqlite3_column_bytes(s, 4),
            .created_at = INT(s, 5),
        };
        fn(&r, arg);
        n = 1;
        rc = SQLITE_DONE;
    }
    return finish(st, s, rc, n, 1);
}

/* A row of R_REG or R_REG_ALL. */
static void registration_row(sqlite3_stmt *s, struct store_registration *r)
{
    *r = (struct store_registration){
        .plan_id = TEXT(s, 0),
        .center_room = TEXT(s, 1),
        .site = TEXT(s, 2),
        .credential = sqlite3_column_blob(s, 3),
        .credential_len = (size_t)sqlite3_column_bytes(s, 3),
        .registered_at = INT(s, 4),
    };
}

int store_get_registration(struct store *st, const char *plan_id,
                           void (*fn)(const struct store_registration *, void *), void *arg)
{
    sqlite3_stmt *s = with_text(st, R_REG, plan_id, NULL);
    int rc = read_step(st, s), n = 0;

    if (rc == SQLITE_ROW) {
        struct store_registration r;

        registration_row(s, &r);
        fn(&r, arg);
        n = 1;
        rc = SQLITE_DONE;
    }
    return finish(st, s, rc, n, 1);
}

int store_foreach_registration(struct store *st,
                               void (*fn)(const struct store_registration *, void *), void *arg)
{
    sqlite3_stmt *s = st->rs[R_REG_ALL];
    int rc, n = 0;

    while ((rc = read_step(st, s)) == SQLITE_ROW) {
        struct store_registration r;

        registration_row(s, &r);
        fn(&r, arg);
        n++;
    }
    return finish(st, s, rc, n, 0);
}

int store_latest_package(struct store *st, const char *plan_id,
                         void (*fn)(const struct store_package *, void *), void *arg)
{
    sqlite3_stmt *s = with_text(st, R_PKG_LATEST, plan_id, NULL);
    int rc = read_step(st, s), n = 0;

    if (rc == SQLITE_ROW) {
        struct store_package p = {
            .plan_id = TEXT(s, 0),
            .version = INT(s, 1),
            .path = TEXT(s, 3),
            .state = store_state_index(store_pkg_states, 3, TEXT(s, 4)),
            .updated_at = INT(s, 5),
        };
        blob(s, 2, p.header_hash, STORE_HASH_LEN);
        fn(&p, arg);
        n = 1;
        rc = SQLITE_DONE;
    }
    return finish(st, s, rc, n, 1);
}

static void session_row(sqlite3_stmt *s, struct store_session *r)
{
    *r = (struct store_session){
        .id = TEXT(s, 0),
        .plan_id = TEXT(s, 1),
        .starts_at = INT(s, 2),
        .ends_at = INT(s, 3),
        .late_admission_minutes = (int)INT(s, 4),
        .earliest_submit_minutes = (int)INT(s, 5),
        .state = store_state_index(store_session_states, STORE_SESSION_STATE_COUNT, TEXT(s, 6)),
        .sealed_key = sqlite3_column_blob(s, 7),
        .sealed_key_len = (size_t)sqlite3_column_bytes(s, 7),
    };
}

int store_get_session(struct store *st, const char *session_id,
                      void (*fn)(const struct store_session *, void *), void *arg)
{
    sqlite3_stmt *s = with_text(st, R_SESSION, session_id, NULL);
    int rc = read_step(st, s), n = 0;

    if (rc == SQLITE_ROW) {
        struct store_session r;

        session_row(s, &r);
        fn(&r, arg);
        n = 1;
        rc = SQLITE_DONE;
    }
    return finish(st, s, rc, n, 1);
}

int store_foreach_session(struct store *st, void (*fn)(const struct store_session *, void *),
                          void *arg)
{
    sqlite3_stmt *s = st->rs[R_SESSIONS];
    int rc, n = 0;

    while ((rc = read_step(st, s)) == SQLITE_ROW) {
        struct store_session r;

        session_row(s, &r);
        fn(&r, arg);
        n++;
    }
    return finish(st, s, rc, n, 0);
}

static void candidate_row(sqlite3_stmt *s, struct store_candidate *c)
{
    *c = (struct store_candidate){
        .id = INT(s, 0),
        .session_id = TEXT(s, 1),
        .ticket = TEXT(s, 2),
        .name = TEXT(s, 3),
        .gender = TEXT(s, 4),
        .id_type = TEXT(s, 5),
        .id_number = TEXT(s, 6),
        .occupation = TEXT(s, 7),
        .level = TEXT(s, 8),
        .paper_id = TEXT(s, 9),
        .photo = TEXT(s, 10),
        .seat = (int)INT(s, 11),
        .state = store_state_index(store_cand_states, STORE_CAND_STATE_COUNT, TEXT(s, 12)),
        .extra_seconds = (int)INT(s, 13),
        .checked_in_at = INT(s, 14),
    };
}

static int candidates(struct store *st, sqlite3_stmt *s, int want_one,
                      void (*fn)(const struct store_candidate *, void *), void *arg)
{
    int rc, n = 0;

    while ((rc = read_step(st, s)) == SQLITE_ROW) {
        struct store_candidate c;

        candidate_row(s, &c);
        fn(&c, arg);
        n++;
    }
    return finish(st, s, rc, n, want_one);
}

int store_find_candidate(struct store *st, const char *session_id, const char *ticket,
                         void (*fn)(const struct store_candidate *, void *), void *arg)
{
    int n;

    if (ticket == NULL)
        return ER_USAGE;
    if (session_id != NULL)
        return candidates(st, with_text(st, R_CAND_FIND, session_id, ticket), 1, fn, arg);
    n = candidates(st, with_text(st, R_CAND_TICKET, ticket, NULL), 0, fn, arg);
    return n == 0 ? ER_STORE_NOT_FOUND : n;
}

int store_find_candidates_by_id(struct store *st, const char *id_number,
                                void (*fn)(const struct store_candidate *, void *), void *arg)
{
    int n;

    if (id_number == NULL)
        return ER_USAGE;
    n = candidates(st, with_text(st, R_CAND_IDNUM, id_number, NULL), 0, fn, arg);
    return n == 0 ? ER_STORE_NOT_FOUND : n;
}

int store_foreach_candidate(struct store *st, const char *session_id,
                            void (*fn)(const struct store_candidate *, void *), void *arg)
{
    if (session_id == NULL)
        return candidates(st, st->rs[R_CAND_ALL], 0, fn, arg);
    return candidates(st, with_text(st, R_CAND_SESSION, session_id, NULL), 0, fn, arg);
}

int store_candidate_by_token(struct store *st, const uint8_t token_hash[STORE_HASH_LEN],
                             void (*fn)(const struct store_candidate *, void *), void *arg)
{
    sqlite3_stmt *s = st->rs[R_CAND_TOKEN];

    sqlite3_bind_blob(s, 1, token_hash, STORE_HASH_LEN, SQLITE_STATIC);
    return candidates(st, s, 1, fn, arg);
}

int store_foreach_seat(struct store *st, void (*fn)(const struct store_seat *, void *), void *arg)
{
    sqlite3_stmt *s = st->rs[R_SEATS];
    int rc, n = 0;

    while ((rc = read_step(st, s)) == SQLITE_ROW) {
        struct store_seat seat = {(int)INT(s, 0), TEXT(s, 1), (int)INT(s, 2)};

        fn(&seat, arg);
        n++;
    }
    return finish(st, s, rc, n, 0);
}

/* A row of R_TERM_FIND or R_TERM_ALL. */
static void terminal_row(sqlite3_stmt *s, struct store_terminal *t)
{
    *t = (struct store_terminal){
        .id = INT(s, 0),
        .pairing_code = TEXT(s, 1),
        .token_hash = sqlite3_column_blob(s, 2),
        .seat = (int)INT(s, 3),
        .state = store_state_index(store_term_states, 3, TEXT(s, 4)),
        .created_at = INT(s, 5),
        .secret_hash =
            sqlite3_column_bytes(s, 6) == STORE_HASH_LEN ? sqlite3_column_blob(s, 6) : NULL,
        .kind = store_state_index(store_term_kinds, 2, TEXT(s, 7)),
    };
}

int store_find_terminal(struct store *st, const uint8_t token_hash[STORE_HASH_LEN],
                        void (*fn)(const struct store_terminal *, void *), void *arg)
{
    sqlite3_stmt *s = st->rs[R_TERM_FIND];
    int rc, n = 0;

    sqlite3_bind_blob(s, 1, token_hash, STORE_HASH_LEN, SQLITE_STATIC);
    rc = read_step(st, s);
    if (rc == SQLITE_ROW) {
        struct store_terminal t;

        terminal_row(s, &t);
        fn(&t, arg);
        n = 1;
        rc = SQLITE_DONE;
    }
    return finish(st, s, rc, n, 1);
}

int store_foreach_terminal(struct store *st, void (*fn)(const struct store_terminal *, void *),
                           void *arg)
{
    sqlite3_stmt *s = st->rs[R_TERM_ALL];
    int rc, n = 0;

    while ((rc = read_step(st, s)) == SQLITE_ROW) {
        struct store_terminal t;

        terminal_row(s, &t);
        fn(&t, arg);
        n++;
    }
    return finish(st, s, rc, n, 0);
}

static int signin_rows(struct store *st, sqlite3_stmt *s,
                       void (*fn)(const struct store_signin *, void *), void *arg)
{
    int rc = read_step(st, s), n = 0;

    if (rc == SQLITE_ROW) {
        struct store_signin g = {
            .id = INT(s, 0),
            .candidate_id = INT(s, 1),
            .terminal_id = INT(s, 2),
            .seat = (int)INT(s, 3),
            .token_hash = sqlite3_column_blob(s, 4),
            .at = INT(s, 5),
            .ended_at = INT(s, 6),
            .candidate_seat = (int)INT(s, 7),
            .latest = (int)INT(s, 8),
        };
        fn(&g, arg);
        n = 1;
        rc = SQLITE_DONE;
    }
    return finish(st, s, rc, n, 1);
}

int store_find_signin(struct store *st, const uint8_t token_hash[STORE_HASH_LEN],
                      void (*fn)(const struct store_signin *, void *), void *arg)
{
    sqlite3_stmt *s = st->rs[R_SIGNIN_FIND];

    sqlite3_bind_blob(s, 1, token_hash, STORE_HASH_LEN, SQLITE_STATIC);
    return signin_rows(st, s, fn, arg);
}

int store_last_signin(struct store *st, int64_t candidate_id,
                      void (*fn)(const struct store_signin *, void *), void *arg)
{
    sqlite3_stmt *s = st->rs[R_SIGNIN_LAST];

    sqlite3_bind_int64(s, 1, candidate_id);
    return signin_rows(st, s, fn, arg);
}

int store_get_answer(struct store *st, int64_t candidate_id, const char *item,
                     char answer[STORE_ANSWER_MAX + 1], int64_t *rev)
{
    sqlite3_stmt *s = st->rs[R_ANSWER_GET];
    int rc, n = 0;

    if (item == NULL || answer == NULL || rev == NULL)
        return ER_USAGE;
    sqlite3_bind_int64(s, 1, candidate_id);
    sqlite3_bind_text(s, 2, item, -1, SQLITE_STATIC);
    rc = read_step(st, s);
    if (rc == SQLITE_ROW) {
        snprintf(answer, STORE_ANSWER_MAX + 1, "%s", TEXT(s, 0) != NULL ? TEXT(s, 0) : "");
        *rev = INT(s, 1);
        n = 1;
        rc = SQLITE_DONE;
    }
    return finish(st, s, rc, n, 1);
}

static int answers(struct store *st, int stmt, int64_t candidate_id,
                   void (*fn)(const struct store_answer *, void *), void *arg)
{
    sqlite3_stmt *s = st->rs[stmt];
    int rc, n = 0;

    sqlite3_bind_int64(s, 1, candidate_id);
    while ((rc = read_step(st, s)) == SQLITE_ROW) {
        struct store_answer a = {INT(s, 0), TEXT(s, 1), TEXT(s, 2), INT(s, 3), INT(s, 4)};

        fn(&a, arg);
        n++;
    }
    return finish(st, s, rc, n, 0);
}

int store_foreach_answer(struct store *st, int64_t candidate_id,
                         void (*fn)(const struct store_answer *, void *), void *arg)
{
    return answers(st, R_ANSWERS, candidate_id, fn, arg);
}

int store_foreach_answer_log(struct store *st, int64_t candidate_id,
                             void (*fn)(const struct store_answer *, void *), void *arg)
{
    return answers(st, R_ANSWER_LOG, candidate_id, fn, arg);
}

int store_chain_head(struct store *st, int64_t *pos, uint8_t hash[STORE_HASH_LEN])
{
    sqlite3_stmt *s = st->rs[R_CHAIN_HEAD];
    int rc = read_step(st, s);

    *pos = 0;
    memset(hash, 0, STORE_HASH_LEN);
    if (rc == SQLITE_ROW) {
        *pos = INT(s, 0);
        blob(s, 1, hash, STORE_HASH_LEN);
        rc = SQLITE_DONE;
    }
    return finish(st, s, rc, 0, 0);
}

int store_get_result(struct store *st, int64_t candidate_id,
                     void (*fn)(const struct store_result *, void *), void *arg)
{
    sqlite3_stmt *s = st->rs[R_RESULT];
    int rc, n = 0;

    sqlite3_bind_int64(s, 1, candidate_id);
    rc = read_step(st, s);
    if (rc == SQLITE_ROW) {
        struct store_result r = {
            .candidate_id = INT(s, 1),
            .chain_pos = INT(s, 2),
            .score = (int)INT(s, 5),
            .sealed = sqlite3_column_blob(s, 6),
            .sealed_len = (size_t)sqlite3_column_bytes(s, 6),
            .created_at = INT(s, 7),
        };
        blob(s, 0, r.id, STORE_UID_LEN);
        blob(s, 3, r.prev_hash, STORE_HASH_LEN);
        blob(s, 4, r.hash, STORE_HASH_LEN);
        fn(&r, arg);
        n = 1;
        rc = SQLITE_DONE;
    }
    return finish(st, s, rc, n, 1);
}

int store_foreach_event(struct store *st, enum store_event_kind kind,
                        void (*fn)(const struct store_event *, void *), void *arg)
{
    sqlite3_stmt *s;
    int rc, n = 0;

    if ((unsigned)kind > STORE_EVENT_AUDIT)
        return ER_USAGE;
    s = with_text(st, R_EVENTS, store_event_kinds[kind], NULL);
    while ((rc = read_step(st, s)) == SQLITE_ROW) {
        struct store_event e = {
            .kind = kind,
            .candidate_id = INT(s, 2),
            .body = TEXT(s, 3),
            .at = INT(s, 4),
        };
        blob(s, 0, e.id, STORE_UID_LEN);
        fn(&e, arg);
        n++;
    }
    return finish(st, s, rc, n, 0);
}

static int outbox_rows(struct store *st, sqlite3_stmt *s,
                       void (*fn)(const struct store_outbox *, void *), void *arg)
{
    int rc, n = 0;

    while ((rc = read_step(st, s)) == SQLITE_ROW) {
        struct store_outbox o = {
            .kind = store_state_index(store_outbox_kinds, 2, TEXT(s, 1)),
            .payload = sqlite3_column_blob(s, 2),
            .payload_len = (size_t)sqlite3_column_bytes(s, 2),
            .created_at = INT(s, 3),
            .acked_at = INT(s, 4),
            .receipt_id = INT(s, 5),
        };
        blob(s, 0, o.id, STORE_UID_LEN);
        fn(&o, arg);
        n++;
    }
    return finish(st, s, rc, n, 0);
}

int store_foreach_outbox(struct store *st, int pending_only,
                         void (*fn)(const struct store_outbox *, void *), void *arg)
{
    return outbox_rows(st, st->rs[pending_only ? R_OUTBOX_PENDING : R_OUTBOX_ALL], fn, arg);
}

int store_pending_outbox(struct store *st, size_t limit,
                         void (*fn)(const struct store_outbox *, void *), void *arg)
{
    sqlite3_stmt *s = st->rs[R_OUTBOX_FIRST];

    if (limit == 0 || limit > INT_MAX)
        return ER_USAGE;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)limit);
    return outbox_rows(st, s, fn, arg);
}

int store_count_outbox(struct store *st, int64_t *pending)
{
    sqlite3_stmt *s = st->rs[R_OUTBOX_COUNT];
    int rc = read_step(st, s);

    *pending = rc == SQLITE_ROW ? INT(s, 0) : 0;
    rc = finish(st, s, rc == SQLITE_ROW ? SQLITE_DONE : rc, 1, 0);
    return rc < 0 ? rc : 0;
}

int store_outbox_waiting(struct store *st)
{
    sqlite3_stmt *s = st->rs[R_OUTBOX_ANY];
    int rc = read_step(st, s), any = rc == SQLITE_ROW;

    rc = finish(st, s, any ? SQLITE_DONE : rc, 1, 0);
    return rc < 0 ? rc : any;
}

void store_read_begin(struct store *st)
{
    st->read_depth++; /* the BEGIN comes with the first read (read_step) */
}

void store_read_end(struct store *st)
{
    if (st->read_depth > 0 && --st->read_depth == 0 && st->read_open) {
        sqlite3_stmt *s = st->rs[R_END];

        st->read_open = 0;
        sqlite3_step(s);
        sqlite3_reset(s);
    }
}

void store_release_memory(struct store *st)
{
    sqlite3_db_release_memory(st->r);
    if (!st->busy) /* the writer is the thread pool's while a batch runs */
        sqlite3_db_release_memory(st->w);
}
