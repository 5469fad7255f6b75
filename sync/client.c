/* libcurl's multi interface on the libuv loop, in the shape of curl's
 * docs/examples/multi-uv.c: libcurl says which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and when to time out (CURLMOPT_TIMERFUNCTION);
 * we watch with one uv_poll_t per socket and one uv_timer_t, and call
 * curl_multi_socket_action() from the loop's callbacks. The timer function
 * that libcurl calls only (re)arms the uv timer, so libcurl is never called
 * from inside its own callbacks, and a 0 ms timeout runs on the next loop
 * iteration. Handles are freed in their close callbacks only. */
#include "sync.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define BODY_MAX (64u << 20)

struct call;

struct sync_client {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    char *base, *ca_pem;
    const struct key *room;
    const struct key *center;
    uint8_t center_id[32];
    long connect_timeout, low_speed_timeout;
    int64_t clock_offset;
    struct call *calls; /* in flight, for close */
    int open_handles;   /* the timer and polls whose close callback has not run */
    int jobs;           /* sync_client_work() jobs not yet done */
    int closing;
    void (*close_cb)(void *);
    void *close_arg;
};

/* One socket libcurl asked us to watch. */
struct sock {
    uv_poll_t poll;
    curl_socket_t fd;
    struct sync_client *c;
};

/* One request in flight. */
struct call {
    struct sync_client *c;
    struct call *next, **prev;
    CURL *easy;
    struct curl_slist *headers;
    uint8_t *sent;
    size_t sent_len;
    struct dynbuf body; /* the answer kept in memory, up to BODY_MAX */
    int fd, to_fd;      /* to_fd: decided at the first body byte */
    int write_failed;   /* 0, or why the body could not be written */
    int ranged, started;
    int sign;           /* the request was signed: its answers are checked */
    const char *answer; /* the context of a 2xx answer (static), or NULL */
    void (*progress)(void *, uint64_t);
    struct sync_response resp;
    sync_cb cb;
    void *arg;
    char errbuf[CURL_ERROR_SIZE];
};

/* ---- closing ---- */

static void finish_close(struct sync_client *c)
{
    void (*cb)(void *) = c->close_cb;
    void *arg = c->close_arg;

    if (!c->closing || c->open_handles > 0 || c->jobs > 0)
        return;
    free(c->base);
    free(c->ca_pem);
    free(c);
    if (cb != NULL)
        cb(arg);
}

static void on_sock_closed(uv_handle_t *h)
{
    struct sock *s = h->data;
    struct sync_client *c = s->c;

    free(s);
    c->open_handles--;
    finish_close(c);
}

static void on_timer_closed(uv_handle_t *h)
{
    struct sync_client *c = h->data;

    c->open_handles--;
    finish_close(c);
}

/* ---- the multi handle on the loop ---- */

static void settle(struct call *call, CURLcode res);

/* Hands every finished transfer to its callback. */
static void check_done(struct sync_client *c)
{
    CURLMsg *msg;
    int pending;

    while ((msg = curl_multi_info_read(c->multi, &pending)) != NULL) {
        struct call *call;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
        settle(call, msg->data.result);
    }
}

static void on_timeout(uv_timer_t *t)
{
    struct sync_client *c = t->data;
    int running;

    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct sock *s = p->data;
    struct sync_client *c = s->c;
    int flags = 0, running;

    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(c->multi, s->fd, flags, &running);
    check_done(c);
}

static int on_socket(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp)
{
    struct sync_client *c = userp;
    struct sock *s = socketp;
    int events = 0;

    (void)easy;
    if (action == CURL_POLL_REMOVE) {
        if (s != NULL) {
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, on_sock_closed);
            if (!c->closing)
                curl_multi_assign(c->multi, fd, NULL);
        }
        return 0;
    }
    if (s == NULL) {
        s = calloc(1, sizeof(*s));
        if (s == NULL || uv_poll_init_socket(c->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->fd = fd;
        s->c = c;
        s->poll.data = s;
        c->open_handles++;
        curl_multi_assign(c->multi, fd, s);
    }
    if (action & CURL_POLL_IN)
        events |= UV_READABLE;
    if (action & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

/* libcurl asks for a timeout: only arm the uv timer here. */
static int on_timer_set(CURLM *multi, long timeout_ms, void *userp)
{
    struct sync_client *c = userp;

    (void)multi;
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

int sync_client_new(uv_loop_t *loop, const struct sync_config *cfg, struct sync_client **out)
{
    static int curl_ready;
    struct sync_client *c;

    if (cfg->center_url == NULL || strncmp(cfg->center_url, "https://", 8) != 0 ||
        cfg->room == NULL || cfg->center == NULL)
        return ER_USAGE;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return ER_INTERNAL;
        curl_ready = 1;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return ER_NOMEM;
    c->loop = loop;
    c->room = cfg->room;
    c->center = cfg->center;
    key_id(cfg->center, c->center_id);
    c->connect_timeout = cfg->connect_timeout_s ? cfg->connect_timeout_s : 10;
    c->low_speed_timeout = cfg->low_speed_timeout_s ? cfg->low_speed_timeout_s : 30;
    c->base = strdup(cfg->center_url);
    c->ca_pem = cfg->ca_pem ? strdup(cfg->ca_pem) : NULL;
    c->multi = curl_multi_init();
    if (c->base == NULL || (cfg->ca_pem && c->ca_pem == NULL) || c->multi == NULL) {
        curl_multi_cleanup(c->multi);
        free(c->base);
        free(c->ca_pem);
        free(c);
        return ER_NOMEM;
    }
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->open_handles = 1;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    *out = c;
    return 0;
}

void sync_client_close(struct sync_client *c, void (*cb)(void *arg), void *arg)
{
    c->closing = 1;
    c->close_cb = cb;
    c->close_arg = arg;
    while (c->calls != NULL) {
        struct call *call = c->calls;

        curl_multi_remove_handle(c->multi, call->easy);
        call->resp.error = ER_SYNC_CANCELLED;
        settle(call, CURLE_OK);
    }
    /* Cleanup closes the cached connections; their sockets come back through
     * on_socket(REMOVE), which closes the polls. */
    curl_multi_cleanup(c->multi);
    c->multi = NULL;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

int64_t sync_clock_offset(const struct sync_client *c)
{
    return c->clock_offset;
}

struct job {
    uv_work_t req;
    struct sync_client *c;
    void (*work)(void *);
    void (*done)(int, void *);
    void *arg;
};

static void job_work(uv_work_t *req)
{
    struct job *j = req->data;

    j->work(j->arg);
}

static void job_done(uv_work_t *req, int status)
{
    struct job *j = req->data;
    struct sync_client *c = j->c;

    (void)status; /* never cancelled: uv_cancel is not called */
    c->jobs--;
    j->done(c->closing ? ER_SYNC_CANCELLED : 0, j->arg);
    free(j);
    finish_close(c);
}

int sync_client_work(struct sync_client *c, void (*work)(void *), void (*done)(int, void *),
                     void *arg)
{
    struct job *j;

    if (c->closing)
        return ER_SYNC_CANCELLED;
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        return ER_NOMEM;
    *j = (struct job){.c = c, .work = work, .done = done, .arg = arg};
    j->req.data = j;
    if (uv_queue_work(c->loop, &j->req, job_work, job_done) != 0) {
        free(j);
        return ER_INTERNAL;
    }
    c->jobs++;
    return 0;
}

void sync_set_clock_offset(struct sync_client *c, int64_t offset)
{
    c->clock_offset = offset;
}

/* ---- one request ---- */

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct call *call = arg;
    size_t len = size * n;

    if (!call->started) {
        long status = 0;

        /* The headers are in: only a 2xx body goes to the file, and a whole
         * file (200) where a range was asked for replaces what was there. */
        call->started = 1;
        curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &status);
        call->to_fd = call->fd >= 0 && status >= 200 && status < 300;
        if (call->to_fd && call->ranged && status == 200 &&
            (ftruncate(call->fd, 0) != 0 || lseek(call->fd, 0, SEEK_SET) != 0)) {
            call->write_failed = ER_IO;
            return 0;
        }
    }
    if (call->to_fd) {
        for (size_t done = 0; done < len;) {
            ssize_t w = write(call->fd, data + done, len - done);

            if (w < 0) {
                call->write_failed = errno == ENOSPC || errno == EDQUOT ? ER_DISK_FULL : ER_IO;
                return 0; /* libcurl stops with CURLE_WRITE_ERROR */
            }
            done += (size_t)w;
        }
        call->resp.written += len;
        return len;
    }
    if (dynbuf_add(&call->body, data, len) < 0)
        return 0; /* too large, or out of memory: libcurl stops */
    return len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct call *call = arg;

    (void)dltotal;
    (void)ultotal;
    (void)ulnow;
    call->progress(call->arg, (uint64_t)dlnow);
    return 0;
}

static void keep_header(const char *line, size_t n, const char *name, char *out, size_t outsz)
{
    size_t k = strlen(name), v;

    if (n <= k + 1 || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return;
    line += k + 1;
    n -= k + 1;
    while (n > 0 && *line == ' ') {
        line++;
        n--;
    }
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
        n--;
    v = n < outsz - 1 ? n : outsz - 1;
    memcpy(out, line, v);
    out[v] = '\0';
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    struct call *call = arg;
    size_t len = size * n;

    keep_header(data, len, PROTO_HDR_CENTER_SIG, call->resp.center_sig,
                sizeof(call->resp.center_sig));
    keep_header(data, len, "ETag", call->resp.etag, sizeof(call->resp.etag));
    keep_header(data, len, "Content-Range", call->resp.content_range,
                sizeof(call->resp.content_range));
    return len;
}

/* What a failed transfer means for the proctor. */
int sync_transport_error(int res)
{
    switch ((CURLcode)res) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return ER_SYNC_UNREACHABLE;
    /* The center's certificate is not what was pinned: never retried. A
     * handshake that merely breaks (CURLE_SSL_CONNECT_ERROR: a reset, or a
     * captive portal's plain-text answer) is the network, and is. */
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        return ER_SYNC_TLS;
    case CURLE_OPERATION_TIMEDOUT:
        return ER_SYNC_TIMEOUT;
    default:
        return ER_SYNC_NETWORK;
    }
}

int sync_verify_answer(const struct key *center, const char *context, const struct sync_response *r,
                       json_t **doc)
{
    json_t *d, *req;
    const char *room, *nonce;

    if (doc != NULL)
        *doc = NULL;
    if (r->body == NULL || r->center_sig[0] == '\0' ||
        proto_verify_body(center, context, r->body, r->len, r->center_sig) != 0)
        return ER_SYNC_BADSIG;
    d = json_loadb((const char *)r->body, r->len, 0, NULL);
    if (!json_is_object(d)) {
        json_decref(d);
        return ER_SYNC_PROTOCOL;
    }
    /* Signed, but for whom? An old answer, or another room's, is signed too. */
    req = json_object_get(d, PROTO_ANSWER_REQUEST);
    room = json_string_value(json_object_get(req, "room_key"));
    nonce = json_string_value(json_object_get(req, "nonce"));
    if (room == NULL || nonce == NULL || r->nonce[0] == '\0' || strcmp(room, r->room_key) != 0 ||
        strcmp(nonce, r->nonce) != 0) {
        json_decref(d);
        return ER_SYNC_UNBOUND;
    }
    if (doc != NULL)
        *doc = d;
    else
        json_decref(d);
    return 0;
}

/* Checks the answer of a signed request, and takes the center's time from
 * it only when it verified: the room's clock moves by nothing else. */
static void check_answer(struct call *call)
{
    struct sync_response *r = &call->resp;
    int ok2xx = r->status >= 200 && r->status < 300;
    const char *context = ok2xx ? call->answer : PROTO_CTX_ERROR;
    json_t *doc = NULL, *t;

    r->answer = ER_SYNC_BADSIG;
    r->answer_expected = ok2xx && call->answer != NULL;
    if (!call->sign || r->error != 0 || context == NULL || call->to_fd)
        return;
    r->answer = sync_verify_answer(call->c->center, context, r, &doc);
    t = json_object_get(doc, "center_time");
    if (r->answer == 0 && json_is_integer(t) && json_integer_value(t) > 0) {
        r->center_time = json_integer_value(t);
        call->c->clock_offset = r->center_time - (int64_t)time(NULL);
    }
    json_decref(doc);
}

/* The transfer is over: report it and free it. */
static void settle(struct call *call, CURLcode res)
{
    struct sync_client *c = call->c;

    if (call->resp.error == 0) {
        if (res == CURLE_OK) {
            curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &call->resp.status);
        } else {
            call->resp.error = call->write_failed ? call->write_failed : sync_transport_error(res);
            /* libcurl's own words, for the log: errbuf is the precise one. */
            snprintf(call->resp.detail, sizeof(call->resp.detail), "%.200s",
                     call->errbuf[0] ? call->errbuf : curl_easy_strerror(res));
        }
    }
    *call->prev = call->next;
    if (call->next != NULL)
        call->next->prev = call->prev;
    if (c->multi != NULL && !c->closing)
        curl_multi_remove_handle(c->multi, call->easy);
    call->resp.body = (uint8_t *)call->body.buf;
    call->resp.len = call->body.len;
    check_answer(call);
    call->cb(&call->resp, call->arg);
    curl_easy_cleanup(call->easy);
    curl_slist_free_all(call->headers);
    dynbuf_free(&call->body);
    free(call->sent);
    free(call);
}

int sync_gzip(const void *in, size_t n, uint8_t **out, size_t *out_len)
{
    z_stream z = {0};
    uLong cap = compressBound((uLong)n) + 64;
    uint8_t *buf = malloc(cap);
    int zr;

    if (buf == NULL ||
        deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(buf);
        return ER_NOMEM;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    zr = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(buf);
        return ER_INTERNAL;
    }
    *out = buf;
    return 0;
}

static int add_header(struct call *call, const char *name, const char *value)
{
    char line[512];
    struct curl_slist *h;

    snprintf(line, sizeof(line), "%s: %s", name, value);
    h = curl_slist_append(call->headers, line);
    if (h == NULL)
        return ER_NOMEM;
    call->headers = h;
    return 0;
}

static int prepare(struct sync_client *c, struct call *call, const struct sync_request *req)
{
    char url[1024];
    int rc = 0;

    if (snprintf(url, sizeof(url), "%s%s", c->base, req->path) >= (int)sizeof(url))
        return ER_USAGE;
    if (req->body_len > 0 && (call->sent = malloc(req->body_len)) != NULL)
        memcpy(call->sent, req->body, call->sent_len = req->body_len);
    else if (req->body_len > 0)
        rc = ER_NOMEM;
    if (rc == 0 && req->sign) {
        const char *q = strchr(req->path, '?');
        char path[1024];
        struct proto_auth a;
        struct proto_request rq = {.center = c->center_id,
                                   .method = req->method,
                                   .path = path,
                                   .query = q != NULL ? q + 1 : NULL,
                                   .encoding = req->body_len > 0 && req->gzip ? "gzip" : NULL,
                                   .range = req->range,
                                   .if_range = req->if_range,
                                   .body = call->sent,
                                   .body_len = call->sent_len};

        snprintf(path, sizeof(path), "%.*s",
                 q != NULL ? (int)(q - req->path) : (int)strlen(req->path), req->path);
        rc = proto_sign_request(c->room, &rq, time(NULL) + c->clock_offset, &a);
        if (rc == 0) {
            memcpy(call->resp.room_key, a.room, sizeof(a.room));
            memcpy(call->resp.nonce, a.nonce, sizeof(a.nonce));
        }
        if (rc == 0)
            rc = add_header(call, PROTO_HDR_ROOM, a.room);
        if (rc == 0)
            rc = add_header(call, PROTO_HDR_TIME, a.time);
        if (rc == 0)
            rc = add_header(call, PROTO_HDR_NONCE, a.nonce);
        if (rc == 0)
            rc = add_header(call, PROTO_HDR_SIGNATURE, a.sig);
    }
    if (rc == 0 && req->body_len > 0)
        rc = add_header(call, "Content-Type", "application/json");
    if (rc == 0 && req->body_len > 0 && req->gzip)
        rc = add_header(call, "Content-Encoding", "gzip");
    if (rc == 0 && req->range != NULL)
        rc = add_header(call, "Range", req->range);
    if (rc == 0 && req->if_range != NULL)
        rc = add_header(call, "If-Range", req->if_range);
    if (rc == 0)
        rc = add_header(call, "Expect", ""); /* no 100-continue round trip */
    if (rc < 0)
        return rc;
    curl_easy_setopt(call->easy, CURLOPT_URL, url);
    curl_easy_setopt(call->easy, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(call->easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(call->easy, CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->ca_pem != NULL) {
        struct curl_blob blob = {c->ca_pem, strlen(c->ca_pem), CURL_BLOB_COPY};

        /* A pin: this CA and no other. The blob alone would leave the
         * system's CA directory (Debian builds libcurl with one) trusted. */
        curl_easy_setopt(call->easy, CURLOPT_CAINFO_BLOB, &blob);
        curl_easy_setopt(call->easy, CURLOPT_CAINFO, NULL);
        curl_easy_setopt(call->easy, CURLOPT_CAPATH, NULL);
    }
    if (strcmp(req->method, "GET") == 0) {
        curl_easy_setopt(call->easy, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(call->easy, CURLOPT_POST, 1L);
        curl_easy_setopt(call->easy, CURLOPT_POSTFIELDS, call->sent ? (char *)call->sent : "");
        curl_easy_setopt(call->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->sent_len);
        if (strcmp(req->method, "POST") != 0)
            curl_easy_setopt(call->easy, CURLOPT_CUSTOMREQUEST, req->method);
    }
    curl_easy_setopt(call->easy, CURLOPT_HTTPHEADER, call->headers);
    curl_easy_setopt(call->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(call->easy, CURLOPT_CONNECTTIMEOUT, c->connect_timeout);
    curl_easy_setopt(call->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(call->easy, CURLOPT_LOW_SPEED_TIME, c->low_speed_timeout);
    curl_easy_setopt(call->easy, CURLOPT_PRIVATE, call);
    curl_easy_setopt(call->easy, CURLOPT_ERRORBUFFER, call->errbuf);
    curl_easy_setopt(call->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(call->easy, CURLOPT_WRITEDATA, call);
    curl_easy_setopt(call->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(call->easy, CURLOPT_HEADERDATA, call);
    if (req->progress != NULL) {
        call->progress = req->progress;
        curl_easy_setopt(call->easy, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(call->easy, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(call->easy, CURLOPT_XFERINFODATA, call);
    }
    return 0;
}

int sync_start(struct sync_client *c, const struct sync_request *req, sync_cb cb, void *arg)
{
    struct call *call;
    int rc;

    if (c->closing)
        return ER_SYNC_CANCELLED;
    call = calloc(1, sizeof(*call));
    if (call == NULL)
        return ER_NOMEM;
    call->c = c;
    dynbuf_init(&call->body, BODY_MAX - 1); /* with its NUL, BODY_MAX at most */
    call->fd = req->fd;
    call->ranged = req->range != NULL;
    call->sign = req->sign;
    call->answer = req->answer;
    call->cb = cb;
    call->arg = arg;
    call->easy = curl_easy_init();
    rc = call->easy == NULL ? ER_NOMEM : prepare(c, call, req);
    if (rc == 0 && curl_multi_add_handle(c->multi, call->easy) != CURLM_OK)
        rc = ER_INTERNAL;
    /* The sizes, for the log and for make bench (body as made, as sent). */
    if (rc == 0)
        log_debug("%s %s: body %zu bytes, sent %zu", req->method, req->path, req->body_len,
                  call->sent_len);
    if (rc < 0) {
        curl_easy_cleanup(call->easy);
        curl_slist_free_all(call->headers);
        free(call->sent);
        free(call);
        return rc;
    }
    call->next = c->calls;
    call->prev = &c->calls;
    if (c->calls != NULL)
        c->calls->prev = &call->next;
    c->calls = call;
    return 0;
}

const char *sync_error_code(const struct sync_response *r)
{
    static _Thread_local char code[64];
    json_t *doc = r->body ? json_loads((const char *)r->body, 0, NULL) : NULL;
    const char *v = json_string_value(json_object_get(doc, "error"));

    snprintf(code, sizeof(code), "%s", v ? v : "");
    json_decref(doc);
    return code;
}

/* The center's error codes (docs/protocol.md "Errors") the room tells apart,
 * each with its own code and so its own sentence; any other is a protocol
 * error (a 5xx, or replay, is retried). */
static const struct {
    const char *code;
    int er;
} center_errors[] = {
    {"clock_skew", ER_SYNC_CLOCK},
    {"unknown_room", ER_SYNC_UNREGISTERED},
    {"serial_used", ER_SYNC_SERIAL_USED},
    {"room_key_in_use", ER_SYNC_KEY_IN_USE},
    {"room_registered", ER_SYNC_ROOM_REGISTERED},
    {"room_key_retired", ER_SYNC_KEY_RETIRED},
    {"serial_unknown", ER_SYNC_SERIAL_UNKNOWN},
    {"serial_typo", ER_CODE_TYPO},
    {"conflict", ER_SYNC_CONFLICT},
};

int sync_answer_error(const struct sync_response *r)
{
    const char *code;

    if (r->error != 0)
        return r->error;
    if (r->status >= 200 && r->status < 300)
        return r->answer_expected ? r->answer : 0;
    code = sync_error_code(r);
    for (size_t i = 0; i < sizeof(center_errors) / sizeof(center_errors[0]); i++)
        if (strcmp(code, center_errors[i].code) == 0)
            return center_errors[i].er;
    if (strncmp(code, "chain_", 6) == 0)
        return ER_SYNC_CHAIN;
    if (strcmp(code, "replay") == 0 || r->status >= 500)
        return ER_SYNC_SERVER; /* worth another try */
    return ER_SYNC_PROTOCOL;
}

int64_t sync_too_early_until(const struct sync_response *r)
{
    json_t *doc = NULL;
    int64_t at = 0;

    if (r->error != 0 || r->status != 403 || strcmp(sync_error_code(r), "too_early") != 0 ||
        r->answer != 0 || (doc = json_loadb((const char *)r->body, r->len, 0, NULL)) == NULL)
        return 0;
    if (json_is_integer(json_object_get(doc, "opens_at")))
        at = json_integer_value(json_object_get(doc, "opens_at"));
    json_decref(doc);
    return at > 0 ? at : 0;
}
