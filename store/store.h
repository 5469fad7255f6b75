/* store: the room's SQLite store (one file per room) and its group commit.
 * Depends on common, crypto (OpenSSL for ids and hashes), SQLite and libuv.
 *
 * Durability contract: a write's callback runs on the libuv loop only after
 * the transaction that holds it is durable (WAL, synchronous=FULL, COMMIT
 * returned). Writes that arrive while a commit is in flight are batched into
 * the next transaction, so many concurrent writers share one fsync. The
 * transaction and its fsync run on the libuv thread pool, never on the loop.
 *
 * Reads are synchronous, on the loop, on their own connection: a WAL reader
 * sees the last committed state and never waits for the writer.
 *
 * Writes take a store_done_cb. A write function that returns an error never
 * calls its callback; one that returns 0 calls it exactly once, later, on the
 * loop. Within one transaction, an operation that fails on its own (a
 * conflict, a missing row, a stale rev) changes nothing and the others still
 * commit; a failure of the file (disk full, I/O error) fails every operation
 * of that transaction, leaves the file as it was before it, and the next
 * transaction tries again. Callbacks run in the order the writes were made.
 *
 * Strings are UTF-8 and NUL-terminated; times are Unix seconds (UTC) unless
 * a name says otherwise. Read functions that take a visitor call it with
 * pointers valid only during the call; a visitor must not call the store. */
#ifndef EXAMROOM_STORE_H
#define EXAMROOM_STORE_H

#include "common.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Latest schema version (PRAGMA user_version) this build writes. */
#define STORE_SCHEMA_VERSION 7

#define STORE_UID_LEN     16  /* ids of results, events and outbox rows */
#define STORE_HASH_LEN    32  /* SHA-256 */
#define STORE_ITEM_MAX    64  /* bytes of an item id */
#define STORE_ANSWER_MAX  256 /* bytes of an answer */
#define STORE_BATCH_LIMIT 1024

struct store;

/* What a write reports to its callback; each write says which fields it
 * fills, the others are zero. */
struct store_ack {
    int64_t id;                        /* the row id made (terminal, sign-in, receipt) */
    uint8_t uid[STORE_UID_LEN];        /* the id generated at creation (result, event) */
    int64_t rev;                       /* answers: the stored rev after the write */
    int64_t count;                     /* outbox rows newly marked acknowledged */
    char answer[STORE_ANSWER_MAX + 1]; /* answers: stored answer when the rev was stale */
};

/* status is 0 or a negative ER_* code; ack is never NULL. */
typedef void (*store_done_cb)(int status, const struct store_ack *ack, void *arg);
typedef void (*store_close_cb)(void *arg);

/* ---- open and close ------------------------------------------------------ */

/* Opens (creating when missing) the room store <data_dir>/<name>.db for use
 * on loop. name is 1-64 of [A-Za-z0-9_.-], not starting with '.'. data_dir is
 * created (0700) when missing and tightened to 0700, the file to 0600.
 * Synchronous: runs quick_check and the schema migrations before returning,
 * so call it at start-up, before the loop serves. Errors:
 *   ER_STORE_OPEN          the directory or file cannot be created or opened
 *   ER_STORE_DAMAGED       not a room store, or quick_check found damage
 *   ER_STORE_SCHEMA_NEWER  written by a newer examroom
 *   ER_STORE_BUSY          another process holds the write lock
 *   ER_STORE_FULL, ER_STORE_IO, ER_NOMEM, ER_USAGE */
int store_open(uv_loop_t *loop, const char *data_dir, const char *name, struct store **out);

/* Stops accepting writes (they return ER_STORE_CLOSED), lets the queued ones
 * commit and their callbacks run, closes the connections (the last close,
 * which checkpoints the WAL, on the thread pool), frees st and then calls cb
 * (when not NULL) on the loop. Call no other store function on st after it. */
void store_close(struct store *st, store_close_cb cb, void *arg);

/* Largest number of writes put in one transaction (1..STORE_BATCH_LIMIT,
 * default STORE_BATCH_LIMIT). 1 gives one transaction per write: the
 * benchmark's baseline. */
int store_set_batch_max(struct store *st, unsigned n);

struct store_stats {
    uint64_t commits;   /* transactions committed */
    uint64_t failed;    /* transactions rolled back by a file error */
    uint64_t writes;    /* writes that went through a transaction */
    uint64_t max_batch; /* most writes in one transaction */
};
void store_get_stats(const struct store *st, struct store_stats *out);

/* Diagnostics, for the benchmarks (serve's EXAMROOM_COMMIT_LOG): from now
 * on each transaction of the group commit writes one line to path (created
 * or appended to) once it is done: when its BEGIN started, in seconds on
 * CLOCK_MONOTONIC (the clock perf and bench/loadgen's LOADGEN_DUMP stamp
 * theirs with), how long it took to COMMIT's return (ms, the WAL's fsync and
 * any checkpoint SQLite ran inside it included), and its writes. On the
 * loop, while no write is in flight. 0, ER_USAGE (called twice, or a write
 * in flight) or ER_IO. A line costs the writer a write() of about 40 bytes. */
int store_log_commits(struct store *st, const char *path);

/* Reads that belong together (one request's) in one read transaction: one
 * snapshot, and the reader's locks taken once rather than per statement.
 * On the loop; nests (only the outermost pair counts); every begin needs
 * its end before the loop goes on. */
/* Gives back the page caches that start-up filled (the quick_check reads
 * the whole file): they fill again as the day's reads and writes need. */
void store_release_memory(struct store *st);

/* What the loop keeps in memory of the store's rows is good only while
 * these have not changed. Each write changes one of them when it is queued
 * and again when it is committed or rolled back:
 *  - store_candidate_generation(), the candidate's: the writes of one
 *    candidate's own rows, their candidate row and their sign-ins
 *    (store_update_candidate, store_add_time, store_check_in,
 *    store_mark_running, store_move_candidate, store_add_signin,
 *    store_add_result). Candidates may share a number (a write of one makes
 *    the others read again: never stale);
 *  - store_generation(), everything's: every other write (terminals,
 *    sessions, the roster, packages, the room), except those that change
 *    none of these rows (store_put_answer, store_add_event,
 *    store_ack_outbox), which change neither.
 * So what was read of a candidate (by ticket, by token) holds while both
 * numbers are as they were at the read; what was read of terminals,
 * sessions or the roster as a whole, while store_generation() is. A
 * commit of another process on the file (the CLI's offline unlock) moves
 * the global one too: store_generation() looks (PRAGMA data_version, on
 * the loop) while no transaction of the store's is in flight, and each
 * transaction looks when it begins, so it is seen by the first call after
 * it, or at most once the transaction in flight then is done. The global
 * one is never 0. */
uint64_t store_generation(struct store *st);
uint64_t store_candidate_generation(const struct store *st, int64_t candidate_id);
void store_read_begin(struct store *st);
void store_read_end(struct store *st);

/* ---- the room and its registrations -------------------------------------- */

struct store_room {
    const char *name;       /* may be NULL */
    const char *center_url; /* required */
    const uint8_t *center_key;
    size_t center_key_len; /* required: the pinned center signing key */
    const char *center_ca; /* PEM, may be NULL */
    const uint8_t *room_pubkey;
    size_t room_pubkey_len; /* may be 0 */
    int64_t created_at;     /* reads only */
};

/* Sets the room's one row (identity and center settings); created_at is kept
 * from the first call. */
int store_set_room(struct store *st, const struct store_room *room, store_done_cb cb, void *arg);
/* ER_STORE_NOT_FOUND before the first store_set_room. */
int store_get_room(struct store *st, void (*fn)(const struct store_room *, void *), void *arg);

struct store_registration {
    const char *plan_id;     /* one registration per plan */
    const char *center_room; /* the center's id of this room */
    const char *site;        /* may be NULL */
    const uint8_t *credential;
    size_t credential_len; /* the center's answer, kept as received */
    int64_t registered_at; /* reads only */
};

/* ER_STORE_CONFLICT (to cb) when the plan is already registered. */
int store_add_registration(struct store *st, const struct store_registration *reg, store_done_cb cb,
                           void *arg);
int store_get_registration(struct store *st, const char *plan_id,
                           void (*fn)(const struct store_registration *, void *), void *arg);

/* Every registration, oldest first. Returns how many. */
int store_foreach_registration(struct store *st,
                               void (*fn)(const struct store_registration *, void *), void *arg);

/* ---- packages ------------------------------------------------------------ */

enum store_pkg_state { STORE_PKG_DOWNLOADING, STORE_PKG_VERIFIED, STORE_PKG_REJECTED };

struct store_package {
    const char *plan_id;
    int64_t version; /* >= 1, monotonic per room and plan */
    uint8_t header_hash[STORE_HASH_LEN];
    const char *path;
    enum store_pkg_state state;
    int64_t updated_at; /* reads only */
};

/* Records a package or its new state. To cb: ER_PKG_OLD_VERSION when a
 * higher version of the plan is already verified (rollback); ER_STORE_CONFLICT
 * when this version is verified with another header hash (a version known
 * only as downloading or rejected takes the new hash: the center replaced
 * it; to replace a verified one, mark it rejected first). */
int store_put_package(struct store *st, const struct store_package *pkg, store_done_cb cb,
                      void *arg);
/* The highest verified version of the plan, or ER_STORE_NOT_FOUND. */
int store_latest_package(struct store *st, const char *plan_id,
                         void (*fn)(const struct store_package *, void *), void *arg);

/* ---- the roster (from the package) ---------------------------------------- */

/* The states of sessions and candidates, in one list each: the enum value,
 * the text the store keeps (and JSON shows), the word a proctor reads
 * (zh-CN). store_*_name() and store_*_zh() give the texts. */
#define STORE_SESSION_STATES(X)                                                                    \
    X(STORE_SESSION_LOCKED, "locked", "未解锁")                                                    \
    X(STORE_SESSION_UNLOCKED, "unlocked", "已解锁")                                                \
    X(STORE_SESSION_RUNNING, "running", "进行中")                                                  \
    X(STORE_SESSION_ENDED, "ended", "已结束")

#define STORE_CAND_STATES(X)                                                                       \
    X(STORE_CAND_REGISTERED, "registered", "未签到")                                               \
    X(STORE_CAND_SIGNED_IN, "signed_in", "已签到")                                                 \
    X(STORE_CAND_RUNNING, "running", "考试中")                                                     \
    X(STORE_CAND_SUBMITTED, "submitted", "已交卷")                                                 \
    X(STORE_CAND_ABSENT, "absent", "缺考")

#define STORE_STATE_ENUM(value, name, zh) value,
enum store_session_state { STORE_SESSION_STATES(STORE_STATE_ENUM) STORE_SESSION_STATE_COUNT };
enum store_cand_state { STORE_CAND_STATES(STORE_STATE_ENUM) STORE_CAND_STATE_COUNT };
#undef STORE_STATE_ENUM

/* "locked", ...; "未解锁", ... (never NULL: an out-of-range value gets "?"). */
const char *store_session_state_name(enum store_session_state s);
const char *store_session_state_zh(enum store_session_state s);
/* "registered", ...; "未签到", ... */
const char *store_cand_state_name(enum store_cand_state s);
const char *store_cand_state_zh(enum store_cand_state s);
/* The state named name ("running"), or -1. */
int store_cand_state_from(const char *name);
int store_session_state_from(const char *name);

struct store_session {
    const char *id;
    const char *plan_id;
    int64_t starts_at, ends_at;
    int late_admission_minutes, earliest_submit_minutes;
    enum store_session_state state; /* reads only: a loaded session starts locked */
    const uint8_t *sealed_key;
    size_t sealed_key_len; /* reads only */
};

struct store_seat {
    int seat; /* >= 1 */
    const char *label;
    int spare;
};

struct store_candidate {
    int64_t id; /* reads only: the store's id, used by answers and results */
    const char *session_id, *ticket, *name, *gender, *id_type, *id_number;
    const char *occupation, *level, *paper_id, *photo;
    int seat;                    /* 0: none */
    enum store_cand_state state; /* reads only */
    int extra_seconds;           /* reads only */
    int64_t checked_in_at;       /* reads only: ID card read at the door (0: not yet) */
};

struct store_roster {
    const struct store_session *sessions;
    size_t n_sessions;
    const struct store_seat *seats;
    size_t n_seats;
    const struct store_candidate *candidates;
    size_t n_candidates;
};

/* Loads (or refreshes, from a newer package) sessions, seats and candidates
 * in one transaction; rows are matched by session id, seat number and
 * (session, ticket), and what the exam day changed (states, extra time,
 * answers) is kept. To cb: ER_STORE_NOT_FOUND when a candidate names a
 * session or seat not in the roster; ER_STORE_CONFLICT for two candidates on
 * one seat of a session. */
int store_load_roster(struct store *st, const struct store_roster *roster, store_done_cb cb,
                      void *arg);
int store_set_session_state(struct store *st, const char *session_id,
                            enum store_session_state state, const uint8_t *sealed_key,
                            size_t sealed_key_len, store_done_cb cb, void *arg);
/* Changes a candidate: state, seat (0 keeps it) and extra time added
 * (seconds, may be 0). ER_STORE_NOT_FOUND, ER_STORE_CONFLICT (seat taken). */
int store_update_candidate(struct store *st, int64_t candidate_id, enum store_cand_state state,
                           int seat, int add_seconds, store_done_cb cb, void *arg);
/* Extra time for a candidate (seconds > 0), whatever their state is by the
 * time it commits (it never writes the state). ER_STORE_NOT_FOUND. */
int store_add_time(struct store *st, int64_t candidate_id, int add_seconds, store_done_cb cb,
                   void *arg);
/* The candidate's ID card was read at the door at `at` (入场核验). The
 * first check-in stands: a later one changes nothing and is not an error
 * (nor is an unknown candidate: nothing changes). ER_USAGE for at <= 0. */
int store_check_in(struct store *st, int64_t candidate_id, int64_t at, store_done_cb cb, void *arg);
/* A signed-in candidate has seen the paper: running. Changes nothing when
 * they are no longer signed in by the time it commits (a result sealed
 * meanwhile stays sealed); that is not an error. */
int store_mark_running(struct store *st, int64_t candidate_id, store_done_cb cb, void *arg);
/* The proctor moves a candidate to seat (>= 1): the seat changes and every
 * sign-in of theirs ends (their candidate tokens stop working), in one
 * transaction; answers and time stay theirs, and they sign in again at the
 * new seat. ER_STORE_NOT_FOUND, ER_STORE_CONFLICT (seat taken). */
int store_move_candidate(struct store *st, int64_t candidate_id, int seat, store_done_cb cb,
                         void *arg);

int store_get_session(struct store *st, const char *session_id,
                      void (*fn)(const struct store_session *, void *), void *arg);
/* Every session, by start. Returns how many. */
int store_foreach_session(struct store *st, void (*fn)(const struct store_session *, void *),
                          void *arg);
/* The candidate with ticket in session_id (0, or ER_STORE_NOT_FOUND); with
 * session_id NULL, every candidate with that ticket, whatever the session,
 * by session id (how many, or ER_STORE_NOT_FOUND for none). */
int store_find_candidate(struct store *st, const char *session_id, const char *ticket,
                         void (*fn)(const struct store_candidate *, void *), void *arg);
/* Every candidate whose ID number is id_number (as the roster has it:
 * canonical for a resident ID card), by session id: how many, or
 * ER_STORE_NOT_FOUND for none. */
int store_find_candidates_by_id(struct store *st, const char *id_number,
                                void (*fn)(const struct store_candidate *, void *), void *arg);
/* Every candidate (of session_id, or of all sessions when NULL), by session
 * then seat then ticket. Returns how many were visited. */
int store_foreach_candidate(struct store *st, const char *session_id,
                            void (*fn)(const struct store_candidate *, void *), void *arg);
int store_foreach_seat(struct store *st, void (*fn)(const struct store_seat *, void *), void *arg);

/* ---- terminals and sign-ins ----------------------------------------------- */

enum store_term_state { STORE_TERM_PENDING, STORE_TERM_APPROVED, STORE_TERM_REVOKED };
/* What a paired device is: a room PC (the kiosk browser), or an ID card
 * reader beside one (examroom card-reader). A seat has at most one approved
 * device of each kind. */
enum store_term_kind { STORE_TERM_TERMINAL, STORE_TERM_READER };
extern const char *const store_term_kinds[2];

struct store_terminal {
    int64_t id;
    const char *pairing_code;
    const uint8_t *token_hash; /* NULL until the terminal picks its token up */
    int seat;                  /* 0 until approved */
    enum store_term_state state;
    int64_t created_at;
    const uint8_t *secret_hash; /* of its pairing secret; NULL if it asked before schema 4 */
    enum store_term_kind kind;
};

/* A terminal (or a reader: kind) asks to pair, with the hash of the secret
 * it is answered (which its pickup must show; NULL: none): ack->id is its
 * id. ER_STORE_CONFLICT: code taken. */
int store_add_terminal(struct store *st, const char *pairing_code,
                       const uint8_t secret_hash[STORE_HASH_LEN], enum store_term_kind kind,
                       store_done_cb cb, void *arg);
/* The proctor approves: the terminal gets a seat, and the hash of its token
 * now or (token_hash NULL) once it picks the token up. The token itself is
 * never stored. ER_STORE_NOT_FOUND unless pending. */
int store_approve_terminal(struct store *st, const char *pairing_code,
                           const uint8_t token_hash[STORE_HASH_LEN], int seat, store_done_cb cb,
                           void *arg);
/* The approved terminal picks its token up: its hash is kept, once.
 * ER_STORE_NOT_FOUND unless approved and without a token yet. */
int store_issue_terminal_token(struct store *st, int64_t terminal_id,
                               const uint8_t token_hash[STORE_HASH_LEN], store_done_cb cb,
                               void *arg);
/* Refuses a pending pairing request (the proctor's reject): the code is
 * revoked before any token. ER_STORE_NOT_FOUND unless pending. */
int store_reject_terminal(struct store *st, const char *pairing_code, store_done_cb cb, void *arg);
/* Revokes the terminal and ends every sign-in made at it (those candidate
 * tokens stop working; answers stay), in one transaction.
 * ER_STORE_NOT_FOUND unless approved. */
int store_revoke_terminal(struct store *st, int64_t terminal_id, store_done_cb cb, void *arg);
/* Every terminal: pending and approved by seat, revoked last. Returns how
 * many were visited. */
int store_foreach_terminal(struct store *st, void (*fn)(const struct store_terminal *, void *),
                           void *arg);
/* The approved terminal holding this token, or ER_STORE_NOT_FOUND. */
int store_find_terminal(struct store *st, const uint8_t token_hash[STORE_HASH_LEN],
                        void (*fn)(const struct store_terminal *, void *), void *arg);

struct store_event;

struct store_signin {
    int64_t id, candidate_id, terminal_id;
    int seat;
    const uint8_t *token_hash; /* hash of the candidate token */
    int64_t at;
    /* reads only: when a move or a revoke ended it (0: not ended); the
     * candidate's seat now; is it the candidate's latest sign-in? */
    int64_t ended_at;
    int candidate_seat, latest;
};

/* A candidate signs in at seat (the candidate's, as the caller read it) at
 * the terminal: the sign-in, the candidate's state from registered to signed
 * in, and the event ev (with its outbox row; NULL: none), in one
 * transaction. ack->id is the sign-in's id, ack->uid the event's. The store
 * checks what the caller read, as committed when the transaction runs:
 * ER_STORE_NOT_FOUND (nothing written) when the candidate is unknown, no
 * longer at seat (a move came first) or recorded absent, or the terminal is
 * not approved (a revoke came first); ER_STORE_CONFLICT: token hash reused. */
int store_add_signin(struct store *st, int64_t candidate_id, int64_t terminal_id, int seat,
                     const uint8_t token_hash[STORE_HASH_LEN], const struct store_event *ev,
                     store_done_cb cb, void *arg);
/* The candidate whose latest sign-in holds this candidate token, or
 * ER_STORE_NOT_FOUND (also for a token a later sign-in replaced, or one a
 * move or a revoke ended). */
int store_candidate_by_token(struct store *st, const uint8_t token_hash[STORE_HASH_LEN],
                             void (*fn)(const struct store_candidate *, void *), void *arg);
/* The sign-in holding this candidate token, or ER_STORE_NOT_FOUND. */
int store_find_signin(struct store *st, const uint8_t token_hash[STORE_HASH_LEN],
                      void (*fn)(const struct store_signin *, void *), void *arg);
/* The candidate's latest sign-in, or ER_STORE_NOT_FOUND (never signed in). */
int store_last_signin(struct store *st, int64_t candidate_id,
                      void (*fn)(const struct store_signin *, void *), void *arg);

/* ---- answers ---------------------------------------------------------------- */

/* Saves a candidate's answer to item at rev (>= 1). The stored rev never
 * goes down: when rev is lower than or equal to the stored one, nothing
 * changes and cb gets ER_STORE_STALE_REV with ack->rev and ack->answer the
 * stored ones (the HTTP layer's 409). On success ack->rev is rev. Every
 * accepted change is also appended to the answer log, in the same statement.
 * ER_USAGE (returned) for rev < 1 or an item or answer too long;
 * ER_STORE_NOT_FOUND (to cb) for an unknown candidate. */
int store_put_answer(struct store *st, int64_t candidate_id, const char *item, const char *answer,
                     int64_t rev, store_done_cb cb, void *arg);

/* Copies the stored answer (NUL-terminated) to answer (STORE_ANSWER_MAX + 1
 * bytes) and its rev; ER_STORE_NOT_FOUND when none. */
int store_get_answer(struct store *st, int64_t candidate_id, const char *item,
                     char answer[STORE_ANSWER_MAX + 1], int64_t *rev);

struct store_answer {
    int64_t candidate_id;
    const char *item, *answer;
    int64_t rev;
    int64_t at_ms; /* when the store accepted it, Unix milliseconds */
};

/* The latest answers of a candidate, by item. Returns how many. */
int store_foreach_answer(struct store *st, int64_t candidate_id,
                         void (*fn)(const struct store_answer *, void *), void *arg);
/* Every accepted change of a candidate's answers, in acceptance order. */
int store_foreach_answer_log(struct store *st, int64_t candidate_id,
                             void (*fn)(const struct store_answer *, void *), void *arg);

/* ---- results, events, the outbox and receipts --------------------------------- */

struct store_result {
    uint8_t id[STORE_UID_LEN]; /* reads only: generated at creation */
    int64_t candidate_id;
    int64_t chain_pos;                 /* the head's position + 1 */
    uint8_t prev_hash[STORE_HASH_LEN]; /* the head's hash (zeros for the first) */
    uint8_t hash[STORE_HASH_LEN];      /* reads only: SHA-256 of sealed */
    int score;
    const uint8_t *sealed; /* the signed canonical bytes, which hold chain_pos and prev_hash */
    size_t sealed_len;
    int64_t created_at; /* reads only */
    /* writes only: the candidate's state from now (submitted, absent), in
     * the same transaction; STORE_CAND_REGISTERED leaves it as it is */
    enum store_cand_state state;
};

/* Appends a sealed result to the chain with its outbox row (and sets the
 * candidate's state, when res->state says one), in one transaction;
 * ack->uid is its id, ack->id its chain position. To cb:
 * ER_STORE_CHAIN when chain_pos or prev_hash is not the head's (another
 * result came first: seal again on the new head); ER_STORE_CONFLICT when the
 * candidate already has a result; ER_STORE_NOT_FOUND for an unknown candidate,
 * or when res->state does not follow from the candidate's committed state
 * (absent: no longer registered, a sign-in came first; submitted: neither
 * signed in nor running). Refused, nothing of it is written. */
int store_add_result(struct store *st, const struct store_result *res, store_done_cb cb, void *arg);
/* The chain's head: position (0 when empty) and hash (zeros when empty). */
int store_chain_head(struct store *st, int64_t *pos, uint8_t hash[STORE_HASH_LEN]);
int store_get_result(struct store *st, int64_t candidate_id,
                     void (*fn)(const struct store_result *, void *), void *arg);

enum store_event_kind { STORE_EVENT_ATTENDANCE, STORE_EVENT_INCIDENT, STORE_EVENT_AUDIT };

struct store_event {
    uint8_t id[STORE_UID_LEN]; /* reads only */
    enum store_event_kind kind;
    int64_t candidate_id; /* 0: none */
    const char *body;     /* JSON text */
    int64_t at;           /* reads only */
};

/* Records an event with its outbox row, in one transaction; ack->uid is its
 * id. ER_STORE_NOT_FOUND for an unknown candidate. */
int store_add_event(struct store *st, const struct store_event *ev, store_done_cb cb, void *arg);
/* Events of one kind, oldest first. Returns how many. */
int store_foreach_event(struct store *st, enum store_event_kind kind,
                        void (*fn)(const struct store_event *, void *), void *arg);

enum store_outbox_kind { STORE_OUTBOX_RESULT, STORE_OUTBOX_EVENT };

struct store_outbox {
    uint8_t id[STORE_UID_LEN];
    enum store_outbox_kind kind;
    const uint8_t *payload; /* the sealed result, or the event's JSON */
    size_t payload_len;
    int64_t created_at;
    int64_t acked_at;   /* 0 while unacknowledged */
    int64_t receipt_id; /* 0 while unacknowledged */
};

/* Outbox rows in creation order, only the unacknowledged ones when
 * pending_only. Returns how many. */
int store_foreach_outbox(struct store *st, int pending_only,
                         void (*fn)(const struct store_outbox *, void *), void *arg);
/* The first limit (>= 1) unacknowledged rows, in creation order: a
 * reader that works through them a part at a time. Returns how many. */
int store_pending_outbox(struct store *st, size_t limit,
                         void (*fn)(const struct store_outbox *, void *), void *arg);
/* How many rows wait for the center's receipt (counted on an index: a few
 * ms for 50,000 rows). */
int store_count_outbox(struct store *st, int64_t *pending);
/* Whether any row waits: 1, 0, or an error (one index entry read). */
int store_outbox_waiting(struct store *st);

/* Keeps a verified receipt (its bytes as received) and marks the outbox rows
 * it names as acknowledged, in one transaction; only call it after the
 * receipt's signature was verified. ack->id is the receipt's id, ack->count
 * the rows newly marked (ids already marked or unknown are not counted).
 * n may be 0; ER_USAGE (returned) for an empty receipt. */
int store_ack_outbox(struct store *st, const uint8_t *receipt, size_t receipt_len,
                     const uint8_t (*ids)[STORE_UID_LEN], size_t n, store_done_cb cb, void *arg);

#endif
