/* faultproxy: a TCP proxy for tests that injects faults on a schedule
 * (issue 6). It sits between the room agent and the center on loopback and
 * passes bytes both ways; the rules on its command line (rules.c, with the
 * usage text) give each accepted connection at most one fault. It works
 * below TLS, so HTTPS passes through unchanged; only the 503 answer needs
 * plain HTTP.
 *
 * One libuv loop; one struct conn per accepted connection, owning two TCP
 * handles (client, upstream) and three timers. Every handle is freed in its
 * close callback and the connection when the last of them has closed, so a
 * stop on SIGTERM leaves nothing behind for ASan or valgrind. */
#include "common.h"
#include "faultproxy.h"

#include <uv.h>

#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

#define CHUNK_SIZE    65536
#define QUEUE_HIGH    (1024 * 1024) /* stop reading a side with this much unwritten */
#define QUEUE_LOW     (256 * 1024)
#define DRAIN_POLL_MS 2
#define DRAIN_MAX_MS  2000
#define LINGER_MS     1000 /* 503: how long to read what the client still sends */
#define TLS_HANDSHAKE 22
#define TLS_APP_DATA  23

struct dir;

/* What one read brought; written out from the same memory. */
struct chunk {
    uv_write_t req;
    struct dir *dir;
    struct chunk *next;
    uint64_t due_ns; /* delay: not written before (uv_hrtime) */
    size_t len;
    char data[CHUNK_SIZE];
};

/* One direction of a connection: what is read from src is written to dst. */
struct dir {
    struct conn *conn;
    uv_stream_t *src, *dst;
    uv_timer_t timer;          /* delay: the head of the queue falls due */
    struct chunk *head, *tail; /* delay: read, not yet written */
    size_t pending;            /* read and not yet written out, queued or in flight */
    int writes;                /* uv_write requests in flight */
    int paused, eof, shut;     /* shut: 1 requested, 2 done */
    uv_shutdown_t shutdown_req;
    uint64_t bytes; /* written to dst */
};

struct conn {
    struct proxy *px;
    struct conn *prev, *next;
    uint64_t id;
    struct fault fault;
    uv_tcp_t client, upstream;
    uv_connect_t connect_req;
    uv_write_t answer_req;
    uv_timer_t timer;    /* lost-ack quiet, reset drain, 503 linger */
    struct dir up, down; /* client to upstream; upstream to client */
    int handles;         /* initialised and not yet closed */
    int upstream_inited, closing, resetting;
    int swallow, answered;         /* lost-ack: answer bytes are dropped; some were */
    uint64_t drain_start, last_ns; /* last_ns: lost-ack, last byte either way */
    struct {
        int started, have;
        unsigned char hdr[5];
        size_t skip;
    } tls; /* lost-ack: where the client's TLS records are */
};

struct proxy {
    uv_loop_t loop;
    uv_tcp_t server;
    uv_signal_t sigterm, sigint;
    struct options opt;
    struct conn *conns;
    uint64_t rng, nconns, up_bytes, down_bytes, swallowed, upstream_errors;
    uint64_t session_next; /* down_bytes at which the next session reset falls */
    uint64_t faults[F_KINDS];
    int stopping;
};

static void conn_close(struct conn *c);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

/* ---- closing ---- */

static void on_handle_closed(uv_handle_t *h)
{
    struct conn *c = h->data;

    if (--c->handles > 0)
        return;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        c->px->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    free(c);
}

static void close_handle(void *h)
{
    if (!uv_is_closing(h))
        uv_close(h, on_handle_closed);
}

/* The peer reads what was delivered, then ECONNRESET. libuv refuses a reset
 * after uv_shutdown(); a plain close is the best left then. */
static void close_reset(uv_tcp_t *tcp)
{
    if (uv_is_closing((uv_handle_t *)tcp))
        return;
    if (uv_tcp_close_reset(tcp, on_handle_closed) < 0)
        uv_close((uv_handle_t *)tcp, on_handle_closed);
}

/* Gives back a chunk that was written or dropped, and reads again once the
 * other side has caught up. */
static void chunk_done(struct dir *d, struct chunk *k)
{
    struct conn *c = d->conn;

    d->pending -= k->len;
    free(k);
    if (d->paused && d->pending < QUEUE_LOW && !c->closing && !c->resetting && !d->eof) {
        d->paused = 0;
        if (uv_read_start(d->src, on_alloc, on_read) < 0)
            conn_close(c);
    }
}

static void drop_queue(struct dir *d)
{
    struct chunk *k;

    uv_timer_stop(&d->timer);
    while (d->head != NULL) {
        k = d->head;
        d->head = k->next;
        chunk_done(d, k);
    }
    d->tail = NULL;
}

static void conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    drop_queue(&c->up);
    drop_queue(&c->down);
    close_handle(&c->client);
    if (c->upstream_inited)
        close_handle(&c->upstream);
    close_handle(&c->timer);
    close_handle(&c->up.timer);
    close_handle(&c->down.timer);
}

/* ---- resets ---- */

/* Bytes the kernel still holds for the client: unsent or not yet
 * acknowledged. A reset discards them, so it waits for none. */
static int unsent(struct conn *c)
{
    uv_os_fd_t fd;
    int n = 0;

    if (uv_fileno((uv_handle_t *)&c->client, &fd) < 0 || ioctl(fd, SIOCOUTQ, &n) < 0)
        return 0;
    return n;
}

static void drain_check(struct conn *c);

static void on_drain_timer(uv_timer_t *t)
{
    drain_check(t->data);
}

static void drain_check(struct conn *c)
{
    if (c->closing || c->down.writes > 0)
        return; /* the last write's callback calls again */
    if (unsent(c) > 0 && uv_now(&c->px->loop) - c->drain_start < DRAIN_MAX_MS) {
        uv_timer_start(&c->timer, on_drain_timer, DRAIN_POLL_MS, 0);
        return;
    }
    close_reset(&c->client);
    conn_close(c);
}

/* Stops the connection where it is: nothing more is read or forwarded, the
 * upstream is closed and the client reset once what was written to it has
 * reached it. */
static void begin_reset(struct conn *c, enum fault_kind kind)
{
    if (c->resetting || c->closing)
        return;
    c->resetting = 1;
    c->px->faults[kind]++;
    log_debug("conn %" PRIu64 ": %s after %" PRIu64 " bytes down", c->id, fault_names[kind],
              c->down.bytes);
    uv_read_stop((uv_stream_t *)&c->client);
    if (c->upstream_inited)
        close_handle(&c->upstream);
    drop_queue(&c->up);
    drop_queue(&c->down);
    c->drain_start = uv_now(&c->px->loop);
    drain_check(c);
}

/* The loop's clock may be the coarse one, a few ms behind; quiet is
 * measured with uv_hrtime so that it is never shorter than asked. */
static void on_lost_ack_quiet(uv_timer_t *t)
{
    struct conn *c = t->data;
    uint64_t quiet = uv_hrtime() - c->last_ns, want = c->fault.arg * 1000000;

    if (quiet < want)
        uv_timer_start(t, on_lost_ack_quiet, (want - quiet + 999999) / 1000000, 0);
    else
        begin_reset(c, F_LOST_ACK);
}

/* ---- forwarding ---- */

static void on_written(uv_write_t *req, int status)
{
    struct chunk *k = req->data;
    struct dir *d = k->dir;
    struct conn *c = d->conn;

    d->writes--;
    chunk_done(d, k);
    if (c->closing)
        return;
    if (c->resetting)
        drain_check(c);
    else if (status < 0)
        conn_close(c);
}

/* How many more bytes may go to the client before a reset, and which. */
static uint64_t down_limit(struct conn *c, enum fault_kind *kind)
{
    struct proxy *px = c->px;
    uint64_t limit = UINT64_MAX;

    *kind = F_NONE;
    if (c->fault.kind == F_RESET) {
        limit = c->fault.arg - c->down.bytes;
        *kind = F_RESET;
    }
    if (px->opt.session_reset > 0 && px->session_next - px->down_bytes < limit) {
        limit = px->session_next - px->down_bytes;
        *kind = F_SESSION_RESET;
    }
    return limit;
}

static void dir_send(struct dir *d, struct chunk *k)
{
    struct conn *c = d->conn;
    struct proxy *px = c->px;
    enum fault_kind cut = F_NONE;
    uv_buf_t buf;

    if (d == &c->down) {
        uint64_t limit = down_limit(c, &cut);

        if (k->len < limit) {
            cut = F_NONE;
        } else {
            d->pending -= k->len - (size_t)limit;
            k->len = (size_t)limit;
        }
    }
    if (k->len == 0) {
        chunk_done(d, k);
    } else {
        buf = uv_buf_init(k->data, (unsigned)k->len);
        k->req.data = k;
        if (uv_write(&k->req, d->dst, &buf, 1, on_written) < 0) {
            chunk_done(d, k);
            conn_close(c);
            return;
        }
        d->writes++;
        d->bytes += buf.len;
        if (d == &c->down)
            px->down_bytes += buf.len;
        else
            px->up_bytes += buf.len;
    }
    if (cut == F_SESSION_RESET)
        px->session_next += px->opt.session_reset;
    if (cut != F_NONE)
        begin_reset(c, cut);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct dir *d = req->data;
    struct conn *c = d->conn;

    (void)status; /* a peer already gone has nothing left to be told */
    d->shut = 2;
    if (!c->closing && c->up.shut == 2 && c->down.shut == 2)
        conn_close(c);
}

/* Passes an end of stream on once everything before it has been. */
static void dir_maybe_shutdown(struct dir *d)
{
    if (!d->eof || d->head != NULL || d->shut)
        return;
    d->shut = 1;
    d->shutdown_req.data = d;
    if (uv_shutdown(&d->shutdown_req, d->dst, on_shutdown) < 0)
        conn_close(d->conn);
}

static void on_delay_due(uv_timer_t *t)
{
    struct conn *c = t->data;
    struct dir *d = t == &c->up.timer ? &c->up : &c->down;
    uint64_t now = uv_hrtime();
    struct chunk *k;

    while (d->head != NULL && d->head->due_ns <= now) {
        k = d->head;
        d->head = k->next;
        if (d->head == NULL)
            d->tail = NULL;
        dir_send(d, k);
        if (c->closing || c->resetting)
            return;
    }
    if (d->head != NULL)
        uv_timer_start(t, on_delay_due, (d->head->due_ns - now + 999999) / 1000000, 0);
    else
        dir_maybe_shutdown(d);
}

static void delay_chunk(struct dir *d, struct chunk *k)
{
    struct conn *c = d->conn;

    /* uv_hrtime, not the loop's millisecond clock, so no chunk is held a
     * fraction of a millisecond too little. */
    k->due_ns = uv_hrtime() + c->fault.arg * 1000000;
    k->next = NULL;
    if (d->tail != NULL)
        d->tail->next = k;
    else
        d->head = k;
    d->tail = k;
    if (!uv_is_active((uv_handle_t *)&d->timer))
        uv_timer_start(&d->timer, on_delay_due, c->fault.arg, 0);
}

/* Lost-ack lets a TLS handshake through and swallows only the answer to the
 * request, so it follows the client's TLS records: the request phase starts
 * with the client's first application-data record (in TLS 1.3 its encrypted
 * Finished, which goes out with the request and needs nothing more from the
 * server; in TLS 1.2 the request itself). A stream that does not open with
 * a handshake record is plain, and its first byte starts the request. */
static void scan_client(struct conn *c, const unsigned char *p, size_t n)
{
    size_t i = 0, take;

    if (c->swallow || n == 0)
        return;
    if (!c->tls.started) {
        c->tls.started = 1;
        if (p[0] != TLS_HANDSHAKE) {
            c->swallow = 1;
            return;
        }
    }
    while (i < n) {
        if (c->tls.skip > 0) {
            take = c->tls.skip < n - i ? c->tls.skip : n - i;
            c->tls.skip -= take;
            i += take;
            continue;
        }
        c->tls.hdr[c->tls.have++] = p[i++];
        if (c->tls.have < 5)
            continue;
        c->tls.have = 0;
        c->tls.skip = (size_t)c->tls.hdr[3] << 8 | c->tls.hdr[4];
        /* Application data, or not TLS after all (types are 20..24). */
        if (c->tls.hdr[0] == TLS_APP_DATA || c->tls.hdr[0] < 20 || c->tls.hdr[0] > 24) {
            c->swallow = 1;
            return;
        }
    }
}

static void lost_ack_read(struct conn *c, struct dir *d, struct chunk *k)
{
    if (d == &c->up)
        scan_client(c, (const unsigned char *)k->data, k->len);
    if (d == &c->down && c->swallow) {
        c->answered = 1;
        c->px->swallowed += k->len;
        chunk_done(d, k);
    } else {
        dir_send(d, k);
    }
    if (!c->answered)
        return;
    c->last_ns = uv_hrtime();
    if (!uv_is_active((uv_handle_t *)&c->timer))
        uv_timer_start(&c->timer, on_lost_ack_quiet, c->fault.arg, 0);
}

/* One side ended: an end of stream is passed on in order; an error (the
 * side reset us) is passed on as a reset of the other side. */
static void on_src_end(struct conn *c, struct dir *d, int status)
{
    if (c->closing || c->resetting)
        return;
    if (status == UV_EOF) {
        if (c->fault.kind == F_LOST_ACK && d == &c->down && c->swallow) {
            begin_reset(c, F_LOST_ACK);
            return;
        }
        d->eof = 1;
        dir_maybe_shutdown(d);
        return;
    }
    log_debug("conn %" PRIu64 ": %s: %s", c->id, d == &c->up ? "client" : "upstream",
              uv_strerror(status));
    if (d == &c->down)
        close_reset(&c->client);
    else
        close_reset(&c->upstream);
    conn_close(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct chunk *k = malloc(sizeof(*k));

    (void)h;
    (void)suggested;
    /* A zero-length buffer makes libuv report UV_ENOBUFS to on_read. */
    *buf = uv_buf_init(k != NULL ? k->data : NULL, k != NULL ? sizeof(k->data) : 0);
}

static struct chunk *chunk_of(const uv_buf_t *buf)
{
    return buf->base != NULL ? (struct chunk *)(buf->base - offsetof(struct chunk, data)) : NULL;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = stream->data;
    struct dir *d = stream == (uv_stream_t *)&c->client ? &c->up : &c->down;
    struct chunk *k = chunk_of(buf);

    if (nread <= 0 || c->closing || c->resetting) {
        free(k);
        if (nread < 0)
            on_src_end(c, d, (int)nread);
        return;
    }
    k->dir = d;
    k->len = (size_t)nread;
    d->pending += k->len;
    if (d->pending > QUEUE_HIGH && !d->paused) {
        uv_read_stop(stream);
        d->paused = 1;
    }
    if (c->fault.kind == F_LOST_ACK)
        lost_ack_read(c, d, k);
    else if (c->fault.kind == F_DELAY)
        delay_chunk(d, k);
    else
        dir_send(d, k);
}

/* ---- the connection ---- */

static void on_connect(uv_connect_t *req, int status)
{
    struct conn *c = req->data;

    if (c->closing)
        return;
    if (status < 0) {
        c->px->upstream_errors++;
        log_warn("conn %" PRIu64 ": upstream: %s", c->id, uv_strerror(status));
        close_reset(&c->client);
        conn_close(c);
        return;
    }
    /* Small writes go out at once, so a delay is the one configured. */
    uv_tcp_nodelay(&c->client, 1);
    uv_tcp_nodelay(&c->upstream, 1);
    if (uv_read_start(c->up.src, on_alloc, on_read) < 0 ||
        uv_read_start(c->down.src, on_alloc, on_read) < 0)
        conn_close(c);
}

static void on_linger_done(uv_timer_t *t)
{
    conn_close(t->data);
}

static void on_answer_written(uv_write_t *req, int status)
{
    (void)req;
    (void)status; /* closed either way, once the client has had its say */
}

/* 503 and stall: what the client sends is read and dropped; a 503 answers
 * its first bytes and then closes gently (FIN, then reading until the client
 * closes or LINGER_MS), so the answer is not lost to a reset. */
static void on_sink_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    static char answer[] = "HTTP/1.1 503 Service Unavailable\r\n"
                           "Content-Type: text/plain\r\n"
                           "Content-Length: 20\r\n"
                           "Retry-After: 1\r\n"
                           "Connection: close\r\n"
                           "\r\n"
                           "Service Unavailable\n";
    struct conn *c = stream->data;
    uv_buf_t out = uv_buf_init(answer, sizeof(answer) - 1);

    free(chunk_of(buf));
    if (c->closing)
        return;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    if (nread == 0 || c->fault.kind != F_503 || c->answered)
        return;
    c->answered = 1;
    c->up.shutdown_req.data = &c->up;
    c->up.shut = 1;
    if (uv_write(&c->answer_req, stream, &out, 1, on_answer_written) < 0 ||
        uv_shutdown(&c->up.shutdown_req, stream, on_shutdown) < 0) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_linger_done, LINGER_MS, 0);
}

static void conn_start(struct conn *c)
{
    struct proxy *px = c->px;
    int r;

    if (c->fault.kind != F_NONE)
        log_debug("conn %" PRIu64 ": %s %" PRIu64, c->id, fault_names[c->fault.kind], c->fault.arg);
    if (c->fault.kind == F_503 || c->fault.kind == F_STALL || c->fault.kind == F_DELAY)
        px->faults[c->fault.kind]++;
    if (c->fault.kind == F_503 || c->fault.kind == F_STALL) {
        if (uv_read_start((uv_stream_t *)&c->client, on_alloc, on_sink_read) < 0)
            conn_close(c);
        return;
    }
    /* Cannot fail: no socket is made until the connect. */
    uv_tcp_init(&px->loop, &c->upstream);
    c->upstream.data = c;
    c->upstream_inited = 1;
    c->handles++;
    c->up.src = c->down.dst = (uv_stream_t *)&c->client;
    c->up.dst = c->down.src = (uv_stream_t *)&c->upstream;
    c->connect_req.data = c;
    r = uv_tcp_connect(&c->connect_req, &c->upstream, (const struct sockaddr *)&px->opt.upstream,
                       on_connect);
    if (r < 0) {
        px->upstream_errors++;
        log_warn("conn %" PRIu64 ": upstream: %s", c->id, uv_strerror(r));
        close_reset(&c->client);
        conn_close(c);
    }
}

static void on_accept(uv_stream_t *server, int status)
{
    struct proxy *px = server->data;
    struct conn *c;

    if (status < 0) {
        log_warn("accept: %s", uv_strerror(status));
        return;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        log_error("accept: out of memory");
        return;
    }
    c->px = px;
    c->up.conn = c->down.conn = c;
    /* Cannot fail: no socket is made for a handle to accept into. */
    uv_tcp_init(&px->loop, &c->client);
    uv_timer_init(&px->loop, &c->timer);
    uv_timer_init(&px->loop, &c->up.timer);
    uv_timer_init(&px->loop, &c->down.timer);
    c->client.data = c->timer.data = c->up.timer.data = c->down.timer.data = c;
    c->handles = 4;
    c->next = px->conns;
    if (px->conns != NULL)
        px->conns->prev = c;
    px->conns = c;
    if (uv_accept(server, (uv_stream_t *)&c->client) < 0) {
        conn_close(c);
        return;
    }
    c->id = ++px->nconns;
    c->fault = options_choose(&px->opt, &px->rng, c->id);
    conn_start(c);
}

/* ---- the proxy ---- */

static void on_signal(uv_signal_t *s, int signum)
{
    struct proxy *px = s->data;

    if (px->stopping)
        return;
    px->stopping = 1;
    log_debug("stopping on signal %d", signum);
    uv_close((uv_handle_t *)&px->server, NULL);
    uv_close((uv_handle_t *)&px->sigterm, NULL);
    uv_close((uv_handle_t *)&px->sigint, NULL);
    for (struct conn *c = px->conns; c != NULL; c = c->next)
        conn_close(c);
}

static int print_listening(struct proxy *px)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    char host[64];

    if (uv_tcp_getsockname(&px->server, (struct sockaddr *)&ss, &len) < 0)
        return ER_IO;
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

        uv_ip6_name(a, host, sizeof(host));
        printf("listening on [%s]:%d\n", host, ntohs(a->sin6_port));
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;

        uv_ip4_name(a, host, sizeof(host));
        printf("listening on %s:%d\n", host, ntohs(a->sin_port));
    }
    return fflush(stdout) == 0 ? 0 : ER_IO;
}

/* The handles live in px; on failure the caller closes those made. */
static int proxy_open(struct proxy *px)
{
    int r;

    px->server.data = px->sigterm.data = px->sigint.data = px;
    uv_tcp_init(&px->loop, &px->server);
    uv_signal_init(&px->loop, &px->sigterm);
    uv_signal_init(&px->loop, &px->sigint);
    r = uv_tcp_bind(&px->server, (const struct sockaddr *)&px->opt.listen, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&px->server, 128, on_accept);
    if (r < 0) {
        log_error("listen: %s", uv_strerror(r));
        return ER_IO;
    }
    if (uv_signal_start(&px->sigterm, on_signal, SIGTERM) < 0 ||
        uv_signal_start(&px->sigint, on_signal, SIGINT) < 0)
        return ER_IO;
    return print_listening(px);
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static int proxy_run(struct proxy *px)
{
    int r;

    if (uv_loop_init(&px->loop) < 0)
        return ER_IO;
    px->rng = px->opt.seed;
    px->session_next = px->opt.session_reset;
    r = proxy_open(px);
    if (r < 0)
        uv_walk(&px->loop, close_any, NULL);
    uv_run(&px->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&px->loop) < 0 && r == 0) {
        log_error("handles left open at exit");
        r = ER_IO;
    }
    return r;
}

/* One line, KEY=VALUE. up, down: bytes forwarded each way; swallowed: answer
 * bytes lost-ack dropped. delay, 503 and stall count the connections given
 * them; reset, session-reset and lost-ack the resets actually made. */
static void print_summary(const struct proxy *px)
{
    const uint64_t *f = px->faults;

    fprintf(stderr,
            "faultproxy: connections=%" PRIu64 " up=%" PRIu64 " down=%" PRIu64 " swallowed=%" PRIu64
            " reset=%" PRIu64 " session-reset=%" PRIu64 " delay=%" PRIu64 " lost-ack=%" PRIu64
            " 503=%" PRIu64 " stall=%" PRIu64 " upstream-errors=%" PRIu64 " seed=%" PRIu64 "\n",
            px->nconns, px->up_bytes, px->down_bytes, px->swallowed, f[F_RESET], f[F_SESSION_RESET],
            f[F_DELAY], f[F_LOST_ACK], f[F_503], f[F_STALL], px->upstream_errors, px->opt.seed);
}

int main(int argc, char **argv)
{
    static struct proxy px; /* static: callbacks reach it through handle data */
    struct sigaction sa;
    int help = 0;

    log_init("faultproxy");
    if (options_parse(&px.opt, argc, argv, &help) < 0)
        return 2;
    if (help)
        return 0;
    /* A write to a peer that reset us must fail with EPIPE, not kill us. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    if (proxy_run(&px) < 0)
        return 1;
    print_summary(&px);
    return 0;
}
