/* sync: the room's client of the center protocol (docs/protocol.md), on the
 * libuv loop. libcurl's multi interface is driven by the loop: one uv_timer_t
 * for the multi handle, one uv_poll_t per socket, freed in its close
 * callback; libcurl is never called from inside its own callbacks. TLS
 * verification is always on; the center's CA may be pinned (PEM).
 * Depends on store, crypto, common, libcurl, zlib, libuv. */
#ifndef EXAMROOM_SYNC_H
#define EXAMROOM_SYNC_H

#include "store.h"
#include "crypto.h"

#include <jansson.h>
#include <uv.h>

struct sync_client;

struct sync_config {
    const char *center_url;   /* "https://center.example:8443", no trailing slash */
    const char *ca_pem;       /* the pinned CA (PEM text), or NULL: the system's CAs */
    const struct key *room;   /* the room's Ed25519 key: signs requests (borrowed) */
    const struct key *center; /* the pinned center key: requests name it, answers verify
                                 with it (borrowed) */
    long connect_timeout_s;   /* 0: 10 */
    long low_speed_timeout_s; /* a transfer slower than 1 byte/s this long fails; 0: 30 */
};

int sync_client_new(uv_loop_t *loop, const struct sync_config *cfg, struct sync_client **out);

/* Cancels what is in flight (their callbacks run with ER_SYNC_CANCELLED),
 * closes every handle and frees c; cb (may be NULL) runs when all is closed. */
void sync_client_close(struct sync_client *c, void (*cb)(void *arg), void *arg);

/* The center's clock minus ours, in seconds, as last measured from an answer
 * (0 before the first). Requests are signed with our clock plus this. */
int64_t sync_clock_offset(const struct sync_client *c);
/* work(arg) on the thread pool on c's behalf, then done(status, arg) on the
 * loop: status 0, or ER_SYNC_CANCELLED when c was closed meanwhile (c is
 * freed only after every job's done). 0, or an error (done will not run). */
int sync_client_work(struct sync_client *c, void (*work)(void *), void (*done)(int, void *),
                     void *arg);
/* in[n] as gzip (level 6): 0 with *out (the caller frees it), ER_NOMEM or
 * ER_INTERNAL. Uses no state: any thread may call it. */
int sync_gzip(const void *in, size_t n, uint8_t **out, size_t *out_len);
void sync_set_clock_offset(struct sync_client *c, int64_t offset);

struct sync_request {
    const char *method, *path; /* "POST", "/v1/register" */
    const void *body;          /* sent as is */
    size_t body_len;
    /* body is gzip (made with sync_gzip(), off the loop: compressing a
     * batch is no work for the loop): sent with Content-Encoding: gzip */
    int gzip;
    int sign; /* sign with the room key (every call but /v1/time) */
    /* >= 0: a 2xx answer's body is written to fd (any other answer is kept
     * in memory). With range set and a 200 answer (the whole file, e.g. it
     * changed), fd is truncated to 0 first. */
    int fd;
    const char *range;    /* "bytes=N-", or NULL */
    const char *if_range; /* an ETag, or NULL */
    /* The context the center signs a 2xx JSON answer under (PROTO_CTX_*), or
     * NULL when a 2xx answer is not JSON (a package). Error answers to a
     * signed request are always checked under PROTO_CTX_ERROR. */
    const char *answer;
    /* Bytes of the answer's body so far; called from the loop (libcurl's
     * progress callback), so it must not call libcurl. May be NULL. */
    void (*progress)(void *arg, uint64_t received);
};

struct sync_response {
    int error;     /* 0 when an HTTP answer came; else ER_SYNC_* (network) */
    long status;   /* HTTP status */
    uint8_t *body; /* the answer (NUL-terminated), unless written to fd */
    size_t len;
    uint64_t written; /* bytes written to fd */
    char center_sig[96], etag[96], content_range[128];
    char detail[256];             /* libcurl's message, for the log */
    char room_key[65], nonce[33]; /* what the request was signed with */
    /* sync_verify_answer() of the answer: 0 when it is signed by the center
     * and names this request; else why not (ER_SYNC_BADSIG, ER_SYNC_UNBOUND,
     * ER_SYNC_PROTOCOL). Nothing in an answer whose check is not 0 is
     * acted on but its error code. */
    int answer;
    int answer_expected; /* a 2xx answer must verify (the request named a context) */
    int64_t center_time; /* center_time of a verified answer, else 0 */
};

/* Runs once, on the loop, with the response (freed after the call). */
typedef void (*sync_cb)(struct sync_response *r, void *arg);

/* Starts a request. Returns 0 (cb will run once) or an error (cb will not). */
int sync_start(struct sync_client *c, const struct sync_request *req, sync_cb cb, void *arg);

/* The one check of a center's answer (docs/protocol.md "Signed answers"):
 * its X-Examroom-Center-Signature verifies with center under context, its
 * body is a JSON object, and its "request" names the room key and the nonce
 * of the request r answers. 0 with *doc (may be NULL: not wanted) the body,
 * or ER_SYNC_BADSIG, ER_SYNC_PROTOCOL, ER_SYNC_UNBOUND. The client runs it on
 * every answer to a signed request (r->answer); callers read r->answer. */
int sync_verify_answer(const struct key *center, const char *context, const struct sync_response *r,
                       json_t **doc);

/* The "error" code of a JSON error answer, or "" (for the mapping to ER_*). */
const char *sync_error_code(const struct sync_response *r);

/* A too_early answer's opens_at, when the answer verified and names this
 * request (r->answer is 0); else 0: the room then retries with its own
 * backoff, and a made-up or replayed opens_at moves nothing. */
int64_t sync_too_early_until(const struct sync_response *r);

/* 0 for a 2xx answer (that verified, when it had to: r->answer), else the
 * ER_* code that says what went wrong (docs/protocol.md "Errors"). */
int sync_answer_error(const struct sync_response *r);

/* The ER_SYNC_* code for a transfer that failed with libcurl's CURLcode res
 * (a response's error when no answer came). */
int sync_transport_error(int res);

/* ---- sealing results (docs/protocol.md "Sealed records") ----
 *
 * A result's payload is compact JSON with sorted keys; its SHA-256 is its
 * link in the room's chain, and the room's Ed25519 signature over it
 * (deterministic: the same bytes always give the same signature) is made
 * again whenever it is uploaded. */

struct sync_result {
    const char *plan, *room, *session, *ticket;
    const char *status; /* "submitted", "auto_submitted", "absent" */
    int score;          /* < 0: none (absent) */
    int64_t submitted_at;
    const char *answers_json; /* {"item": {"answer": "B", "rev": 3}, ...}, or NULL */
    int seat;                 /* the seat used (absent: the planned one); 0: none (null) */
};

/* The result's id at the center: ROOM-SESSION-TICKET (one result per
 * candidate and session). */
int sync_result_id(const struct sync_result *r, char *out, size_t outsz);

/* The payload of r at chain position pos (>= 1) after prev (the hash of
 * pos - 1, zeros for 1), malloc'd, NUL-terminated. */
int sync_seal_result(const struct sync_result *r, int64_t pos, const uint8_t prev[32],
                     char **payload, size_t *len);

/* The room's signature (base64) over its chain head: pos and hash_hex (the
 * head result's hash, 64 hex digits), as an upload carries it. */
int sync_sign_head(const struct key *room, int64_t pos, const char *hash_hex, char sig[89]);

/* ---- the upload engine ----
 *
 * Sends what the outbox holds, in batches (results with the signed chain
 * head, then events), gzipped, and marks rows acknowledged only after the
 * center's receipt verified: signed by the pinned center key, for this room
 * and kind, listing every id of the batch. */

struct sync_engine;

struct sync_engine_config {
    struct sync_client *client; /* borrowed */
    struct store *store;        /* borrowed */
    const struct key *room;     /* signs records and the chain head */
    const struct key *center;   /* verifies receipts */
    const char *plan, *room_id; /* the registration: events name them */
    size_t batch_max;           /* 0: 500 */
};

int sync_engine_new(const struct sync_engine_config *cfg, struct sync_engine **out);
void sync_engine_free(struct sync_engine *e);

struct sync_outcome {
    int status;       /* 0, or the first error (ER_*) */
    int64_t uploaded; /* outbox rows acknowledged by this pass */
    int64_t pending;  /* rows still unacknowledged after it */
};

/* One pass over the outbox: uploads everything pending, batch after batch,
 * and stops at the first error. cb runs once, on the loop. */
int sync_engine_pass(struct sync_engine *e, void (*cb)(const struct sync_outcome *, void *),
                     void *arg);

/* ---- the USB fallback (docs/protocol.md "USB bundles") ----
 * An engine made without a client serves these only. */

/* The body of a USB bundle: every unacknowledged outbox row, its items
 * exactly as the uploads carry them, {"results": [...], "head": {...},
 * "events": [...]} (a part only when it has rows). *body is malloc'd; the
 * counts of results and events in it. Marks nothing. */
int sync_engine_export(struct sync_engine *e, char **body, int64_t *results, int64_t *events);

/* What a USB receipt names: the pending rows to mark acknowledged (uids,
 * malloc'd, acked of them), and the ids it names that were acknowledged
 * already or that the outbox does not hold. */
struct sync_receipt_match {
    uint8_t (*uids)[STORE_UID_LEN];
    int64_t acked, already, unknown;
};

/* Matches a USB receipt's body (its signature verified: receipt_read) to the
 * outbox, with the checks an online receipt gets: for this room key, room
 * and plan (ER_RECEIPT_OTHER_ROOM, ER_RECEIPT_OTHER_PLAN); its results
 * part's head a link of our chain and every payload hash it gives that of
 * our row (ER_RECEIPT_MISMATCH). The caller marks m->uids with
 * store_ack_outbox() and frees them. */
int sync_engine_match_receipt(struct sync_engine *e, const char *body, size_t len,
                              struct sync_receipt_match *m);

/* The errors worth retrying later (the network, the center busy). */
int sync_transient(int error);

#endif
