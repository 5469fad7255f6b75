/* agent: the examroom program. One file per command (cmd_*.c), each with
 * one entry function declared here; main.c holds the command table; room.c
 * is what the commands share. */
#ifndef EXAMROOM_AGENT_H
#define EXAMROOM_AGENT_H

#include "sync.h"

#include <jansson.h>

#include <uv.h>

/* ---- the room (room.c) ---- */

#define ROOM_PATH_MAX 4096

struct room {
    const struct cli_ctx *ctx;
    uv_loop_t loop;
    int loop_ready, initialised;
    struct store *st;
    struct key *sign, *wrap; /* the room's keys (private) */
    struct key *center;      /* the center's signing key, pinned at init */
    char center_url[512], name[128];
    char *center_ca; /* PEM, or NULL */
};

/* Opens the store (and, when the room is initialised, its keys and center
 * settings). need_init: ER_ROOM_NOT_INIT when init has not run. */
int room_open(const struct cli_ctx *ctx, struct room *r, int need_init);
void room_close(struct room *r);

int room_path(const struct room *r, const char *name, char out[ROOM_PATH_MAX]);

/* Waiting on the loop for one store write. */
struct room_wait {
    int done, status;
    struct store_ack ack;
};
void room_done(int status, const struct store_ack *ack, void *arg); /* a store_done_cb */
int room_wait(struct room *r, struct room_wait *w);
/* rc is what the write function returned: an error, or wait for its callback. */
int room_write_wait(struct room *r, int rc, struct room_wait *w);

int room_sync_new(struct room *r, struct sync_client **out);
void room_sync_close(struct room *r, struct sync_client *c);

/* Sends req and runs the loop until its answer. 0 for a 2xx answer (the
 * clock offset and last contact noted), else the ER_* code of the failure;
 * either way *out holds the answer, whose body the caller frees. A 401
 * clock_skew is retried once with the center's time. */
int room_call(struct room *r, struct sync_client *c, const struct sync_request *req,
              struct sync_response *out);

/* When we last heard from the center, and its clock minus ours. */
struct room_contact {
    int64_t last_contact, clock_offset;
};
int room_read_contact(const struct room *r, struct room_contact *c);
/* Writes the contact file whole and durably (fsync'd, renamed, the directory
 * fsync'd): a command's call. The daemon writes it on the thread pool:
 * room_contact_file() gives the path and the line to write. */
void room_note_contact(const struct room *r, int64_t center_time);
int room_contact_file(const struct room *r, int64_t center_time, char path[ROOM_PATH_MAX],
                      char line[64]);

/* ---- packages (package.c) ---- */

/* What a package of this room must be: signed by the pinned center, for
 * this room's key, at least min_version, not expired (by the center's
 * clock, as far as we know our offset to it). */
void room_package_trust(struct room *r, int64_t min_version, struct pkg_trust *t);
/* Opens the package at path and verifies it completely (signature, room,
 * expiry against the center's clock, version >= min_version, every chunk). */
int room_open_package(struct room *r, const char *path, int64_t min_version,
                      struct pkg_reader **out);
/* Loads the package's roster (room.json) into the store. ER_PKG_NO_SECTION
 * when room.json, or its sessions, candidates or room.seats, is absent:
 * room_package_missing() then names it. */
int room_load_roster(struct room *r, struct pkg_reader *rd);
/* What the last ER_PKG_NO_SECTION of room_load_roster or room_read_section
 * was about, in words for a detail line ("考场名单（room.json）"); "" before. */
const char *room_package_missing(void);

/* The label a session's key is sealed under the room key with. */
void room_session_label(const char *session, char *out, size_t outsz);

/* An unlock with the code (cmd_unlock.c), for examroom unlock and the
 * console alike: the code as typed (ER_CODE_* for a typo, before anything
 * else), then the registration, the latest package and the session in the
 * store. 0 with t filled in, code decoded. */
struct unlock_target {
    char plan[PKG_MAX_NAME + 1], path[ROOM_PATH_MAX];
    int64_t version;
    int session_found;
    enum store_session_state state;
};
int unlock_check(struct store *st, const char *session, const char *typed,
                 uint8_t code[CODE_BYTES(CODE_UNLOCK_BITS)], struct unlock_target *t);
/* The proctor's words for an unlock's outcome rc (zh-CN, one sentence): done,
 * the code mistyped, or not unlocked; er_strerror(rc) says why. */
void unlock_words(const char *session, int rc, char *out, size_t outsz);

/* ---- the daemon (serve.c, background.c) ---- */

#include <microhttpd.h>

#define PAIR_CODE_BITS 30 /* 6 symbols and a check, shown as "K7M2-9QF" */

/* ---- rate limits (ratelimit.c) ---- */

/* A key, compared by all of its bytes: an IPv4 (4) or IPv6 (16) address, a
 * terminal id (8). */
#define RATELIMIT_KEY_MAX 16
struct ratelimit_key {
    uint8_t len;
    uint8_t bytes[RATELIMIT_KEY_MAX];
};
/* max events within window_s hold the key off for hold_s (0: until the
 * window ends). */
struct ratelimit_rule {
    int max;
    int64_t window_s, hold_s;
};
struct ratelimit_entry {
    struct ratelimit_key key;
    int n;
    int64_t since, held_until;
};
/* Keys remembered at once, per limiter. A room has about 100 terminals on
 * one IPv4 LAN (at most 254 addresses); the limits below need several
 * requests per held key (5 scrypt checks at ~10/s for a login, 10 store
 * writes for pairing), so more live holds than this cannot be made from a
 * LAN before the first ones end. Zeroed is empty (a calloc'd daemon). */
#define RATELIMIT_ENTRIES 1024
struct ratelimit {
    struct ratelimit_entry e[RATELIMIT_ENTRIES];
    size_t used;
};
enum {
    RATELIMIT_COUNTED = 0,  /* counted, below the limit */
    RATELIMIT_NOW_HELD = 1, /* counted: the last one allowed, held from now */
    RATELIMIT_HELD = 2,     /* held already: not counted */
    RATELIMIT_UNTRACKED = 3 /* every entry holds someone off: let through, not counted */
};
/* 0, or -1 when len is 0 or over RATELIMIT_KEY_MAX. */
int ratelimit_key_of(struct ratelimit_key *key, const void *bytes, size_t len);
/* Seconds the key is still held off at now (seconds), 0 if it is not. */
int64_t ratelimit_held(struct ratelimit *rl, const struct ratelimit_key *key, int64_t now);
/* Counts one event of key at now: one of RATELIMIT_*. */
int ratelimit_count(struct ratelimit *rl, const struct ratelimit_rule *rule,
                    const struct ratelimit_key *key, int64_t now);

/* ---- the daemon (serve.c, background.c), continued ---- */

struct result_job;

/* Answer writes of one candidate on their way to the store (answers.c). */
#define DAEMON_INFLIGHT 1024
struct inflight {
    int64_t candidate;
    int n;
};

/* A signed-in candidate as the requests with their token need them (exam.c). */
struct signed_in {
    int64_t id;
    int seat, extra_seconds;
    enum store_cand_state state;
    char session[PKG_MAX_NAME + 1], ticket[64], occupation[128], level[64];
    char photo[PKG_MAX_NAME + 1];
};
/* A candidate's session as the exam page needs it (exam.c). */
struct exam_session {
    int found;
    int64_t starts_at, ends_at;
    int earliest_submit_minutes, late_admission_minutes;
    enum store_session_state state;
    uint8_t sealed[KEY_SEALED_LEN(PKG_SESSION_KEY)];
    size_t sealed_len;
};
/* A candidate as a sign-in reads them (signin.c): as the token's candidate
 * is, and what sign-in alone checks. */
struct signin_cand {
    struct signed_in s;
    int found;
    int64_t checked_in_at; /* at the door (0: not yet) */
    char name[128], id_type[64], id_number[64];
};
/* An approved terminal (or reader) as its token's SHA-256 finds it. */
struct terminal_row {
    int64_t id;
    int seat;
    enum store_term_kind kind;
};

/* What the candidates' and the terminals' requests read of the store, kept
 * while the store says the rows have not changed since (cache.c): each
 * token's candidate by the token's SHA-256 and each ticket's candidates
 * (while store_generation() and each candidate's
 * store_candidate_generation() are the ones they were read at), each
 * approved terminal by its token's SHA-256 and each session's row (while
 * store_generation() is). A few ways per slot. */
#define DAEMON_TOKEN_CACHE    1024
#define DAEMON_TOKEN_WAYS     4
#define DAEMON_TERMINAL_CACHE 256
#define DAEMON_TICKET_CACHE   512
#define DAEMON_TICKET_SAME    2 /* candidates of a ticket kept; a ticket of more is read each time */
struct token_cached {
    uint64_t generation; /* 0: empty */
    uint64_t cand_generation;
    uint8_t hash[32];
    struct signed_in k;
};
struct session_cached {
    uint64_t generation;
    struct exam_session x;
};
struct terminal_cached {
    uint64_t generation; /* 0: empty */
    uint8_t hash[32];
    struct terminal_row t;
};
struct ticket_cached {
    uint64_t generation; /* 0: empty */
    char ticket[64];
    size_t n;
    uint64_t cand_generation[DAEMON_TICKET_SAME];
    struct signin_cand c[DAEMON_TICKET_SAME];
};
/* How often each cache answered (hits) and how often the store was read
 * for it instead (reads): GET /admin/v1/room's "cache" (cache_json()). */
struct cache_counts {
    uint64_t token_hits, token_reads, ticket_hits, ticket_reads;
    uint64_t terminal_hits, terminal_reads, session_hits, session_reads;
};
struct daemon;
json_t *cache_json(const struct daemon *d);
/* The approved terminal whose token has this SHA-256, as read from the
 * store since its last change (0), or ER_STORE_NOT_FOUND; _keep() keeps t,
 * just read, for it. */
int cache_terminal(struct daemon *d, const uint8_t hash[32], struct terminal_row *t);
void cache_terminal_keep(struct daemon *d, const uint8_t hash[32], const struct terminal_row *t);
/* The candidates holding ticket (n of them, at most DAEMON_TICKET_SAME) as
 * read from the store since any of them changed (0), or ER_STORE_NOT_FOUND;
 * _keep() keeps those just read (a ticket of more is not kept). */
int cache_ticket(struct daemon *d, const char *ticket, struct signin_cand *c, size_t *n);
void cache_ticket_keep(struct daemon *d, const char *ticket, const struct signin_cand *c, size_t n);
/* A session's row (PKG_MAX_SESSIONS of them), from the session cache or the
 * store (exam.c). */
int exam_session_of(struct daemon *d, const char *session, struct exam_session *x);
/* A proctor logged in over the LAN: the SHA-256 of their token, and when
 * it stops working (exam clock, seconds). */
#define DAEMON_PROCTOR_TOKENS 8
struct proctor_login {
    uint8_t hash[32];
    int64_t expires_at;
};

/* One TCP connection (serve.c): from where, since when, and whether a
 * request's headers have come in full on it yet. */
struct conn_track {
    struct conn_track *prev, *next;
    struct MHD_Connection *conn;
    struct ratelimit_key addr;
    int server;                 /* the server itself (127.0.0.1, ::1): no per-address limit */
    struct conn_count *counted; /* its address's count, which it is one of */
    int headers_done;
    int64_t started_ms;
};
/* Open connections of one LAN address. */
struct conn_count {
    struct ratelimit_key addr;
    int n;
};
/* One per LAN connection at most (CONN_LAN_MAX in serve.c), so a new address
 * always finds a slot while the LAN is below its limit. */
#define DAEMON_CONN_ADDRS 2048

struct daemon {
    struct room r;
    char admin_token[65]; /* the proctor's local admin channel (admin-token, 0600) */
    struct proctor_login proctors[DAEMON_PROCTOR_TOKENS]; /* logins over the LAN (login.c) */
    struct ratelimit login_fails; /* wrong proctor passwords, per address (login.c) */
    int login_busy;
    struct ratelimit pair_asks;    /* pairing requests, per address (http.c) */
    struct ratelimit pair_polls;   /* pairing pickups, per address (http.c) */
    struct ratelimit signin_fails; /* failed sign-ins, per terminal (signin.c) */
    struct ratelimit unlock_fails; /* wrong unlock codes, per address (proctor.c) */
    struct ratelimit flag_presses; /* 信息有误 presses on their way, per candidate (signin.c) */
    int contact_busy;              /* the contact file being written (background.c) */
    int unlock_busy;               /* an unlock's KDF on the thread pool (proctor.c) */
    struct MHD_Daemon *mhd;
    uv_poll_t mhd_poll; /* on libmicrohttpd's epoll descriptor */
    uv_timer_t mhd_timer;
    /* Connections (serve.c): every open one, the LAN's per address, and the
     * sweep that ends those whose headers are late. */
    struct conn_track *conns;
    struct conn_count conn_counts[DAEMON_CONN_ADDRS];
    size_t lan_conns, lan_max; /* LAN connections open, and allowed (serve.c) */
    uv_timer_t conn_sweep;
    uv_signal_t sigterm, sigint;
    int open_handles, stopping, http_ready, signals_ready;
    int lock_fd;       /* DATA/serve.lock, locked for the daemon's life (serve.c) */
    int suspended;     /* requests waiting for the store (http.c) */
    struct feed *feed; /* the console's live feed and its clients (console.c) */
    /* Each seat's terminal: when it last made a call with its token or its
     * candidate's (daemon clock, ms; 0 not since serve started), and when
     * serve started. Memory only: the console's 失联 (console.c). */
    int64_t seat_seen_ms[10000], serve_started_ms;
    /* Past this, a paired PC is 失联 (console.c): 30 s, or the test knob
     * EXAMROOM_TEST_SILENT_SECONDS read once at the first snapshot; 0 not
     * read yet. */
    int64_t silent_ms;
    char ready[96]; /* "listening on http://ADDR:PORT" */
    /* The center link (background.c). */
    struct sync_client *client;
    struct sync_engine *engine;
    struct pkg_reader *pkg;            /* the verified package, for session keys */
    struct photos *photos;             /* where its photos are (photo.c) */
    int photos_state;                  /* 1 indexing, 0 ready, < 0 the package failed */
    json_t *papers[PKG_MAX_SESSIONS];  /* each session's papers, once unlocked (exam.c) */
    int paper_error[PKG_MAX_SESSIONS]; /* why a session's papers failed to open: not tried again */
    /* Results on their way to the store, one at a time (submit.c). */
    struct inflight inflight[DAEMON_INFLIGHT]; /* a result waits for these (submit.c) */
    size_t inflight_used;                      /* slots ever taken (answers.c) */
    struct result_job *results;
    struct token_cached token_cache[DAEMON_TOKEN_CACHE];          /* cache.c */
    struct session_cached session_cache[PKG_MAX_SESSIONS];        /* cache.c */
    struct terminal_cached terminal_cache[DAEMON_TERMINAL_CACHE]; /* cache.c */
    struct ticket_cached ticket_cache[DAEMON_TICKET_CACHE];       /* cache.c */
    struct cache_counts cache_counts;                             /* cache.c */
    int result_busy, scan_ready;
    int64_t result_current;                    /* the candidate whose result is being written */
    uv_timer_t scan_timer;                     /* auto-submit at each candidate's end */
    unsigned char scan_done[PKG_MAX_SESSIONS]; /* ended, nobody left to submit */
    uv_timer_t kick_timer;                     /* starts the next queued result from the loop */
    int kick_ready;
    char plan[PKG_MAX_NAME + 1], room_id[PKG_MAX_NAME + 1];
    char sessions[PKG_MAX_SESSIONS][PKG_MAX_NAME + 1];
    size_t n_sessions;
    uv_timer_t sync_timer;
    int timer_ready, busy;
    unsigned backoff_ms;
    int sync_status; /* the last upload pass's outcome: 0 or its ER_* (the console shows it) */
    int64_t key_not_before; /* center time */
    /* The door (idreader_serve.c): ID card readers, and whether sign-in
     * needs a check-in there first (serve --require-checkin). */
    struct idreaders *readers;
    int require_checkin;
    struct seat_cards *seat_cards; /* seats' card readers, made at the first call (seatcard.c) */
};

/* Section name of a verified package, decrypted into *out (malloc'd, one
 * NUL past *len). session_key: NULL for a room section. */
int room_read_section(struct pkg_reader *rd, const char *name, const uint8_t *session_key,
                      char **out, size_t *len);

/* The package's photos (photo.c): once serve is ready, a thread-pool job
 * opens the package again, verifies every chunk and indexes the photos
 * section (name, offset, size); a photo is then decrypted on request, from
 * d->pkg, and never kept. */
struct photos;
void photos_start(struct daemon *d, const char *path, int64_t version);
void photos_free(struct photos *p);

/* Auto-submit (submit.c): a timer looks for candidates past their end. */
void results_start(struct daemon *d);
void results_stop(struct daemon *d);

/* Starts the uploads and the session keys (nothing when not registered). */
int background_start(struct daemon *d);
/* Unlocks session with its code (decoded) as the center's key does: the
 * KDF on the thread pool, the session key sealed under the room key, the
 * session marked unlocked (a later state kept); then done(rc, arg) on the
 * loop: 0 once durable, ER_PKG_WRONG_CODE, ER_PKG_NO_SESSION, ... Returns
 * < 0 (done not called) when it cannot start. */
int background_unlock(struct daemon *d, const char *session,
                      const uint8_t code[CODE_BYTES(CODE_UNLOCK_BITS)],
                      void (*done)(int rc, void *arg), void *arg);
/* Stops the timer (its handle closes on the loop). */
void background_stop(struct daemon *d);
/* Frees the engine and the package, once the loop has stopped. */
void background_free(struct daemon *d);

/* The HTTP API (http.c): libmicrohttpd's access and completion callbacks. */
enum MHD_Result http_request(void *cls, struct MHD_Connection *conn, const char *url,
                             const char *method, const char *version, const char *upload_data,
                             size_t *upload_size, void **con_cls);
void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode toe);
/* A request's headers are in (serve.c): its connection is past the header
 * deadline's reach. */
void daemon_headers_done(struct MHD_Connection *conn);
/* MHD_OPTION_UNESCAPE_CALLBACK: %XX decoded, but never to a NUL. */
size_t http_unescape(void *cls, struct MHD_Connection *conn, char *s);

/* serve.c, for http.c */
void daemon_kick(struct daemon *d); /* run libmicrohttpd now: a resumed answer goes out */
/* The same once the loop's present callbacks are done: a group commit's
 * answers (answer_later) go out together, in one run of libmicrohttpd
 * instead of one run each. */
void daemon_kick_soon(struct daemon *d);
void daemon_stop(struct daemon *d); /* SIGTERM's stop; waits for suspended requests */
int64_t daemon_now_ms(void);

enum MHD_Result daemon_reply(struct MHD_Connection *conn, unsigned status, json_t *body);
enum MHD_Result daemon_error(struct MHD_Connection *conn, unsigned status, const char *code,
                             const char *message);

/* ---- reports (report.c) ---- */

/* The session's reports: 签到表, 成绩报表, 考勤表 (PRODUCT.md §1.8). */
enum report_kind { REPORT_SIGNIN, REPORT_SCORES, REPORT_ATTENDANCE };
enum report_format { REPORT_CSV, REPORT_HTML };
/* "signin", "scores", "attendance": its kind, or -1. */
int report_kind_of(const char *name);
/* "csv" (or NULL: the default) or "html": its format, or -1. */
int report_format_of(const char *name);
const char *report_kind_zh(enum report_kind kind);
/* An ID number with all but its first 4 and last 4 characters masked
 * ("4401**********123X"); one under 10 characters shows only its last half
 * (at most 4). */
void report_mask_id(const char *id, char *out, size_t outsz);
/* What the store knows of session (reads only; in one read snapshot in the
 * daemon): its candidates by seat, each with their sealed result (as its
 * bytes), sign-in and moves; the incidents.
 * ER_SESSION_NOT_FOUND. The caller frees *out. */
int report_gather(struct store *st, const char *session, json_t **out);
/* The room's latest verified package: ER_NOT_REGISTERED, ER_SYNC_NO_PACKAGE. */
int report_package(struct store *st, char path[ROOM_PATH_MAX], int64_t *version);
/* Completes data: the sealed results read (status, score, time) and the
 * counts; the package's plan and room (room.json), and with photos the
 * session's photos (data: URIs). Blocking: a command, or the thread
 * pool. */
int report_add_package(json_t *data, const char *path, const struct pkg_trust *trust, int photos);
/* Appends the report to b (CSV: BOM, CRLF; HTML: one page for A4). */
int report_render(const json_t *data, enum report_kind kind, enum report_format fmt,
                  struct dynbuf *b);

/* ---- commands ---- */

int cmd_init(struct cli_ctx *ctx, int argc, char **argv);
int cmd_register(struct cli_ctx *ctx, int argc, char **argv);
int cmd_fetch(struct cli_ctx *ctx, int argc, char **argv);
int cmd_verify(struct cli_ctx *ctx, int argc, char **argv);
int cmd_status(struct cli_ctx *ctx, int argc, char **argv);
int cmd_roster(struct cli_ctx *ctx, int argc, char **argv);
/* Every incident recorded in the room, oldest first (cmd_roster.c): an
 * array of {at, candidate_id, session, ticket, seat, text}; session and
 * ticket null for a terminal's own (a seat that kept failing sign-ins). */
json_t *room_incidents(struct room *r);
int cmd_proctor(struct cli_ctx *ctx, int argc,
                char **argv); /* extend, move, absent, incident, submit */

/* One HTTP call (admin_client.c; libcurl, blocking; no signals: safe on
 * the thread pool) with a bearer token (or NULL) and a JSON body (or NULL):
 * the status and the answer's JSON (NULL if it is none). 0; -1 when nothing
 * came back (the server unreachable, a timeout); ER_NOMEM. */
int room_http(const char *url, const char *method, const char *bearer, const char *body,
              long timeout_s, long *status, json_t **doc);
/* One call over the daemon's local admin channel (admin_client.c): *status
 * the HTTP status, *doc the JSON answer (the caller frees it).
 * ER_DAEMON_DOWN when serve is not running. */
int room_admin_call(const struct room *r, const char *method, const char *path, const char *body,
                    long *status, json_t **doc);
/* The command's exit status for a call's outcome: 0 for a 200; else the
 * daemon's message (or the call's error) printed. Frees doc. */
int room_admin_outcome(const struct cli_ctx *ctx, int rc, long status, json_t *doc);
int cmd_sync(struct cli_ctx *ctx, int argc, char **argv);

/* The USB fallback (cmd_export.c, cmd_receipt.c): the room, its
 * registration, the center's bundle key from the register answer (NULL when
 * it has none) and an engine without a client. room_usb_close() after
 * room_usb_open(), whatever it returned. */
struct room_usb {
    struct room r;
    char plan[PKG_MAX_NAME + 1], room[PKG_MAX_NAME + 1];
    struct key *bundle;
    struct sync_engine *engine;
};
int room_usb_open(const struct cli_ctx *ctx, struct room_usb *u);
void room_usb_close(struct room_usb *u);
int cmd_export(struct cli_ctx *ctx, int argc, char **argv);
int cmd_import_receipt(struct cli_ctx *ctx, int argc, char **argv);
int cmd_serve(struct cli_ctx *ctx, int argc, char **argv);
int cmd_pair(struct cli_ctx *ctx, int argc, char **argv);
int cmd_card_reader(struct cli_ctx *ctx, int argc, char **argv);
int cmd_unlock(struct cli_ctx *ctx, int argc, char **argv);
int cmd_report(struct cli_ctx *ctx, int argc, char **argv);

/* The score of answers ({"ITEM": {"answer": "AB", ...}}) on a paper's items
 * (score.c): the sum of the points of the items answered with their key. */
int score_of(const json_t *items, const json_t *answers);

#endif
