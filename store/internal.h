/* store: what the module's files share and the unit tests may reach. Not a
 * public header: nothing outside store/ and tests/ includes it. */
#ifndef EXAMROOM_STORE_INTERNAL_H
#define EXAMROOM_STORE_INTERNAL_H

#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

/* Statements of the writer connection, prepared once at open. */
enum wstmt {
    W_BEGIN,
    W_COMMIT,
    W_ROLLBACK,
    W_SAVEPOINT,
    W_RELEASE,
    W_ROLLBACK_TO,
    W_ROOM_UPSERT,
    W_REG_INSERT,
    W_PKG_MAX_VERIFIED,
    W_PKG_UPSERT,
    W_SESSION_UPSERT,
    W_SEAT_UPSERT,
    W_CAND_UPSERT,
    W_SESSION_STATE,
    W_CAND_UPDATE,
    W_CAND_MOVE,
    W_CAND_ADD_TIME,
    W_CAND_RUNNING,
    W_SIGNIN_END_CAND,
    W_SIGNIN_END_TERM,
    W_TERM_INSERT,
    W_TERM_APPROVE,
    W_TERM_REVOKE,
    W_TERM_REJECT,
    W_TERM_ISSUE,
    W_SIGNIN_INSERT,
    W_CAND_SIGNED_IN,
    W_CAND_RESULT_STATE,
    W_ANSWER_UPSERT,
    W_ANSWER_GET,
    W_CHAIN_HEAD,
    W_RESULT_INSERT,
    W_EVENT_INSERT,
    W_OUTBOX_INSERT,
    W_RECEIPT_INSERT,
    W_OUTBOX_ACK,
    W_CAND_CHECK_IN,
    W_DATA_VERSION,
    W_COUNT
};

/* Statements of the reader connection (the loop's). */
enum rstmt {
    R_ROOM,
    R_REG,
    R_REG_ALL,
    R_PKG_LATEST,
    R_SESSION,
    R_CAND_FIND,
    R_CAND_TICKET,
    R_CAND_ALL,
    R_CAND_IDNUM,
    R_CAND_SESSION,
    R_CAND_TOKEN,
    R_SEATS,
    R_TERM_FIND,
    R_TERM_ALL,
    R_SIGNIN_FIND,
    R_SIGNIN_LAST,
    R_ANSWER_GET,
    R_ANSWERS,
    R_ANSWER_LOG,
    R_CHAIN_HEAD,
    R_RESULT,
    R_EVENTS,
    R_OUTBOX_ALL,
    R_OUTBOX_PENDING,
    R_OUTBOX_FIRST,
    R_SESSIONS,
    R_OUTBOX_COUNT,
    R_OUTBOX_ANY,
    R_BEGIN,
    R_END,
    R_COUNT
};

extern const char *const store_wsql[W_COUNT];
extern const char *const store_rsql[R_COUNT];

/* The text stored for each enum value, indexed by it. */
extern const char *const store_pkg_states[3];
extern const char *const store_session_states[STORE_SESSION_STATE_COUNT];
extern const char *const store_cand_states[STORE_CAND_STATE_COUNT];
extern const char *const store_term_states[3];
extern const char *const store_event_kinds[3];
extern const char *const store_outbox_kinds[2];
/* The index of s in names (n of them), or 0 when absent. */
int store_state_index(const char *const *names, int n, const char *s);

/* ---- operations: what a write carries to the thread pool ---- */

enum param_type { PT_NULL, PT_INT, PT_TEXT, PT_BLOB };

struct param {
    enum param_type type;
    int64_t i;
    const void *p;
    size_t n;
};

#define PI(x)      ((struct param){PT_INT, (int64_t)(x), NULL, 0})
#define PT(s)      ((struct param){(s) != NULL ? PT_TEXT : PT_NULL, 0, (s), (s) != NULL ? strlen(s) : 0})
#define PB(b, len) ((struct param){(b) != NULL ? PT_BLOB : PT_NULL, 0, (b), (len)})
#define PN         ((struct param){PT_NULL, 0, NULL, 0})

#define STEP_MAX_PARAMS  12
#define STEP_NEED_CHANGE 1 /* no row changed: ER_STORE_NOT_FOUND */
#define STEP_ROWID       2 /* ack->id = the row inserted */

/* One statement with its parameters; text and blobs are copied into data. */
struct step {
    struct step *next;
    int stmt;
    int flags;
    int n;
    struct param p[STEP_MAX_PARAMS];
    unsigned char data[];
};

enum op_kind { OP_STEPS, OP_ANSWER, OP_PACKAGE, OP_RESULT, OP_ACK };

/* What a write changes of the rows the loop keeps in memory (store.h,
 * store_generation()): a candidate id (> 0), only that candidate's rows
 * (their candidate row, their sign-ins); OP_SCOPE_ALL anything (the default,
 * for whatever is not known to be narrower); OP_SCOPE_NONE none of them
 * (answers, events, the outbox, receipts). */
#define OP_SCOPE_ALL  (-1)
#define OP_SCOPE_NONE 0

/* The per-candidate generations: a counter per bucket of candidate ids
 * (id modulo this). Two candidates in one bucket share it, so a write of
 * one makes the other read again too: never stale, and never full. */
#define STORE_CAND_BUCKETS 16384

struct op {
    struct op *next;
    enum op_kind kind;
    int64_t scope; /* OP_SCOPE_ALL, OP_SCOPE_NONE or a candidate id */
    store_done_cb cb;
    void *arg;
    int status;
    struct step *steps, **tail;
    struct store_ack ack;
};

struct store {
    uv_loop_t *loop;
    sqlite3 *w; /* the writer: thread pool only while busy, else the loop */
    sqlite3 *r; /* the reader: the loop only */
    sqlite3_stmt *ws[W_COUNT];
    sqlite3_stmt *rs[R_COUNT];
    uv_work_t work;
    struct op *pending, **pending_tail;
    struct op *batch;  /* the transaction in flight */
    int batch_status;  /* its file error, set on the thread pool */
    size_t batch_size; /* its writes */
    int busy;
    int in_callbacks; /* after_batch() is running callbacks */
    int read_depth;   /* store_read_begin() without its end yet */
    int read_open;    /* its transaction begun, at its first read */
    int closing;
    unsigned batch_max;
    uint64_t generation; /* store_generation() */
    /* The writer's PRAGMA data_version when last looked at, and whether the
     * batch in flight found it changed: another process committed. */
    int64_t data_version;
    int foreign;
    uint64_t cand_generation[STORE_CAND_BUCKETS]; /* store_candidate_generation() */
    store_close_cb close_cb;
    void *close_arg;
    struct store_stats stats;
    FILE *commit_log; /* store_log_commits(): the writer's while busy */
};

/* store.c: a commit by another process since the last look moves the
 * global generation (on the loop, the writer idle). read.c calls it just
 * before a read snapshot is taken. */
void store_look_outside(struct store *st);

/* schema.c */
int store_map_rc(int rc);
/* Brings db from its user_version up to version `to` (each migration in its
 * own transaction). For store_open, and for the tests that build an old file. */
int store_migrate(sqlite3 *db, int to);
/* Refuses a damaged or foreign file: ER_STORE_DAMAGED or ER_STORE_SCHEMA_NEWER. */
int store_check_file(sqlite3 *db);
int store_exec(sqlite3 *db, const char *sql);

/* write.c */
struct op *store_op_new(enum op_kind kind, store_done_cb cb, void *arg);
void store_op_free(struct op *op);
int store_op_step(struct op *op, int stmt, int flags, int n, const struct param *ps);
/* Runs op inside the open transaction; returns its status. */
int store_op_exec(struct store *st, struct op *op);
/* A file error: the whole transaction is rolled back. */
int store_is_fatal(int status);

/* store.c */
/* Queues op (taking it); ER_STORE_CLOSED (op freed) after store_close.
 * The generations op->scope names change now and again once it is
 * committed or rolled back. */
int store_submit(struct store *st, struct op *op);

/* For the disk-full test: caps the file at max_pages pages of the writer
 * connection (PRAGMA max_page_count); 0 reads the current page count. Only
 * while no write is in flight (else ER_STORE_BUSY). Returns the page count
 * or the cap set. */
int64_t store_limit_pages(struct store *st, int64_t max_pages);

#endif
