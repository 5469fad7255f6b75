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

#include <uv.h>

struct sync_client;

struct sync_config {
    const char *center_url;   /* "https://center.example:8443", no trailing slash */
    const char *ca_pem;       /* the pinned CA (PEM text), or NULL: the system's CAs */
    const struct key *room;   /* the room's Ed25519 key: signs requests (borrowed) */
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
void sync_set_clock_offset(struct sync_client *c, int64_t offset);

struct sync_request {
    const char *method, *path; /* "POST", "/v1/register" */
    const void *body;          /* sent as is, or gzipped when gzip is set */
    size_t body_len;
    int gzip;
    int sign; /* sign with the room key (every call but /v1/time) */
    /* >= 0: a 2xx answer's body is written to fd (any other answer is kept
     * in memory). With range set and a 200 answer (the whole file, e.g. it
     * changed), fd is truncated to 0 first. */
    int fd;
    const char *range;    /* "bytes=N-", or NULL */
    const char *if_range; /* an ETag, or NULL */
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
    char detail[256]; /* libcurl's message, for the log */
};

/* Runs once, on the loop, with the response (freed after the call). */
typedef void (*sync_cb)(struct sync_response *r, void *arg);

/* Starts a request. Returns 0 (cb will run once) or an error (cb will not). */
int sync_start(struct sync_client *c, const struct sync_request *req, sync_cb cb, void *arg);

/* The "error" code of a JSON error answer, or "" (for the mapping to ER_*). */
const char *sync_error_code(const struct sync_response *r);

#endif
