/* center: the examcenter program, the reference exam center. Built as the
 * library exam_center (so tests can reach its parts) and the program
 * examcenter; one file per command (cmd_*.c), main.c holds the table. Uses
 * common and crypto, never agent. */
#ifndef EXAMROOM_CENTER_H
#define EXAMROOM_CENTER_H

#include "crypto.h"

#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <time.h>
#include <sqlite3.h>

/* ---- the center's database (db.c) ---- */

#define CENTER_DB_VERSION 2

/* Opens (creating, 0700 directory, 0600 file) DATA_DIR/center.db and brings
 * its schema to CENTER_DB_VERSION. ER_CENTER_DB, ER_CENTER_DB_NEWER. */
int center_db_open(const char *data_dir, sqlite3 **out);

/* ---- files in the data directory (cmd_init.c, tls.c) ---- */

#define CENTER_PATH_MAX 4096

/* DATA_DIR/name into out; ER_USAGE when too long. */
int center_path(const struct cli_ctx *ctx, const char *name, char out[CENTER_PATH_MAX]);

/* A test CA and a server certificate for localhost, 127.0.0.1 and ::1,
 * signed by it (ECDSA P-256), as four PEM files. */
int tls_make_ca_and_server(const char *ca_key_path, const char *ca_path,
                           const char *server_key_path, const char *server_path);

/* ---- shared steps of the commands (lookup.c) ---- */

/* The plan named given, or without one the plan imported last:
 * ER_PLAN_NOT_FOUND when there is none. */
int center_resolve_plan(sqlite3 *db, const char *given, char plan[PKG_MAX_NAME + 1]);

/* 1 when sql (binding a, and b unless NULL) returns a row, 0 when not. */
int center_exists(sqlite3 *db, const char *sql, const char *a, const char *b);

/* The center's clock: time(NULL), or EXAMCENTER_NOW when the tests set it. */
int center_now_override(int64_t *now);

/* A session's unlock code (12 bytes). */
int center_unlock_code(sqlite3 *db, const char *plan, const char *session,
                       uint8_t code[CODE_BYTES(CODE_UNLOCK_BITS)]);

/* A package stays valid this long after the last session of its room. */
#define CENTER_PACKAGE_GRACE (30 * 86400)

/* ---- the HTTP(S) API (serve.c, api.c; docs/protocol.md) ---- */

#define API_BODY_MAX     (64u << 20) /* request bodies, after gzip too */
#define API_REGISTER_MAX (16u << 10) /* a register body: a serial and two keys */
#define CENTER_KEY_LEAD  (15 * 60)   /* session keys are released this long before start */
#define API_BATCH_MAX    2000        /* records in one upload */

struct server {
    sqlite3 *db;
    struct key *center;    /* Ed25519: signs packages, manifests, receipts */
    struct key *bundle;    /* X25519: rooms encrypt USB bundles to it */
    uint8_t center_id[32]; /* key_id() of center: rooms sign requests to it */
    int64_t key_lead;
    struct MHD_Daemon *daemon;
};

struct api_room {
    uint8_t key_id[32];
    char plan[PKG_MAX_NAME + 1], room[PKG_MAX_NAME + 1];
    struct key *sign;   /* the room's Ed25519 public key */
    int64_t retired_at; /* 0 while the key is the room's; else when a
                           replacement serial took the room over */
};

/* One request, while it is answered. */
struct api {
    struct server *server;
    struct MHD_Connection *conn;
    const char *method, *url;
    const char *query;   /* the raw query (after "?"), or NULL: none */
    const uint8_t *body; /* as received: what the room signed */
    size_t raw_len;
    const uint8_t *data; /* after Content-Encoding */
    size_t len;
    int64_t now;
    struct api_room room; /* after api_authenticate() */
    char room_hex[65];    /* the room's key id in hex, after authentication */
    enum MHD_Result result;
    unsigned status;    /* of the answer queued, for the log */
    const char *source; /* "online" or "usb", as results and events record it */
};

enum MHD_Result api_dispatch(struct api *api);
enum MHD_Result api_reply_json(struct api *api, unsigned status, json_t *body,
                               const char *sign_context);
enum MHD_Result api_reply_error(struct api *api, unsigned status, const char *code, json_t *extra);
int api_gunzip(const uint8_t *in, size_t n, uint8_t **out, size_t *out_len);
int api_read_auth(struct api *api, struct proto_auth *auth);
int api_check_signed(struct api *api, const struct proto_auth *auth, const struct key *key,
                     const uint8_t key_id[32]);
int api_authenticate(struct api *api);

/* The registration of the room whose key id is room->key_id: fills plan,
 * room, sign and retired_at (a retired key is found: the caller refuses it
 * with its own words). ER_ROOM_NOT_REGISTERED, ER_CENTER_DB. */
int center_find_room(sqlite3 *db, struct api_room *room);

/* Stores the results (or events) of an upload or a bundle, doc being its
 * JSON: NULL with *out the receipt body, or an error code (api_reply_error's)
 * with *out the extra fields of the error, if any. api needs server, room,
 * room_hex, now and source; no connection. */
const char *center_ingest(struct api *api, json_t *doc, int results, json_t **out);

/* The HTTP status of an error code of center_ingest(). */
unsigned center_error_status(const char *err);

/* ---- commands (cmd_*.c) ---- */

int cmd_init(struct cli_ctx *ctx, int argc, char **argv);
int cmd_serial(struct cli_ctx *ctx, int argc, char **argv);
int cmd_unlock_code(struct cli_ctx *ctx, int argc, char **argv);
int cmd_pack(struct cli_ctx *ctx, int argc, char **argv);
int cmd_serve(struct cli_ctx *ctx, int argc, char **argv);
int cmd_scores(struct cli_ctx *ctx, int argc, char **argv);
int cmd_import(struct cli_ctx *ctx, int argc, char **argv);

/* ---- exam plans (plan*.c) ---- */

/* One problem found in a plan directory: FILE relative to the directory
 * ("candidates.csv", "papers/x.json"), LINE 1-based (0 when the problem has
 * no line, as for a missing file), and the message for the center's staff
 * (zh-CN). */
struct plan_diag {
    char *file;
    int line;
    char *msg;
};

struct plan_diags {
    struct plan_diag *v;
    size_t n, cap;
    int nomem; /* a problem could not be recorded: report ER_NOMEM */
};

void plan_diags_free(struct plan_diags *d);

/* A plan read into memory (plan_internal.h has its fields). */
struct plan;

struct plan *plan_new(void);
void plan_free(struct plan *p);
size_t plan_candidate_count(const struct plan *p);

/* The readers of the plan's files, on their bytes. Every problem found goes
 * to d; each returns 0, ER_PLAN_INVALID when it found any, or ER_NOMEM.
 * plan_read_paper() takes the paper's path as plan.json names it. */
int plan_read_plan_json(struct plan *p, const char *buf, size_t len, struct plan_diags *d);
int plan_read_paper(struct plan *p, const char *path, const char *buf, size_t len,
                    struct plan_diags *d);
int plan_read_candidates(struct plan *p, const char *buf, size_t len, struct plan_diags *d);

struct plan_summary {
    char id[256];
    size_t rooms, sessions, papers, candidates, arranged;
};

/* Reads the plan directory dir (PRODUCT.md §5, docs/plan-format.md), checks
 * everything, arranges the candidates without a seat and writes the plan to
 * db in one transaction. When anything is wrong, every problem is in d, the
 * database is untouched and the result is ER_PLAN_INVALID. ER_PLAN_EXISTS
 * when the plan's id was imported before; ER_CENTER_DB, ER_RANDOM, ER_NOMEM.
 * sum may be NULL. */
int plan_import(sqlite3 *db, const char *dir, struct plan_diags *d, struct plan_summary *sum);

struct plan_sample_opts {
    unsigned candidates;       /* default 60 */
    unsigned rooms;            /* 0: as many 32-seat rooms as the candidates need */
    unsigned sessions;         /* 0: two; at most PKG_MAX_SESSIONS, each 90 minutes */
    unsigned start_in_minutes; /* the first session starts this long after now */
    uint64_t seed;             /* names, ID numbers, seats, answers */
    unsigned photo_kib;        /* 0: small photos; else each about this big (comment
                                  segments as padding), for big packages in benchmarks */
    int64_t now;               /* UTC seconds */
};

/* Writes a synthetic plan directory in the import format to dir (created;
 * must be empty or absent). Deterministic for the same options. ER_IO,
 * ER_USAGE (options that cannot make a plan), ER_NOMEM. */
int plan_sample_write(const char *dir, const struct plan_sample_opts *o);

/* examcenter plan import DIR | plan sample DIR [...] */
int cmd_plan(struct cli_ctx *ctx, int argc, char **argv);

#endif
