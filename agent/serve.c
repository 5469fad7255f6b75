/* examroom serve [--listen ADDR:PORT] [--id-reader DEVICE]... [--require-checkin]:
 * the room's daemon on one libuv loop.
 * libmicrohttpd runs in external-epoll mode: a uv_poll_t watches its epoll
 * descriptor and one uv_timer_t follows MHD_get_timeout(); MHD_run() is
 * called from those callbacks only. The upload engine and the session keys
 * run from the same loop (background.c). SIGTERM and SIGINT stop it cleanly:
 * HTTP first, then the center link, then the store, every handle closed in
 * its close callback. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ---- answers ---- */

/* The browser's rules for everything the daemon answers (SECURITY.md): only
 * the daemon's own scripts, styles and calls, never inside a frame, no
 * guessing of types, no Referer to anybody. No inline script either: the
 * pages load theirs from /static/. Images may be blob: URLs: the console
 * fetches a candidate's photo with its Bearer header (an <img> cannot send
 * one) and shows it from a blob. */
#define CSP                                                                                        \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "        \
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

void daemon_headers(struct MHD_Response *r, const char *cache_control)
{
    MHD_add_response_header(r, "Content-Security-Policy", CSP);
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache_control);
}

enum MHD_Result daemon_reply(struct MHD_Connection *conn, unsigned status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    struct MHD_Response *r;
    enum MHD_Result ok;

    json_decref(body);
    if (text == NULL)
        return MHD_NO;
    r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
    daemon_headers(r, "no-store"); /* every JSON answer carries exam data */
    ok = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

/* Error answers for terminals: a stable code, a sentence in Chinese. */
enum MHD_Result daemon_error(struct MHD_Connection *conn, unsigned status, const char *code,
                             const char *message)
{
    return daemon_reply(conn, status, json_pack("{s:s, s:s}", "error", code, "message", message));
}

/* Tests move the exam clock (sign-in windows, time left; not the center
 * link) with EXAMROOM_CLOCK_OFFSET, in seconds; it is read nowhere else. */
static int64_t clock_offset_ms;

static int64_t ms_of(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The exam clock: the wall clock read once, then carried on by
 * CLOCK_BOOTTIME (monotonic, and unlike CLOCK_MONOTONIC it counts while the
 * machine is suspended). Someone setting the system's time during a session
 * (or NTP stepping it) changes nobody's remaining time. The anchor (wall
 * time at a boot-clock reading) is kept in DATA/exam-clock with the kernel's
 * boot id, so a daemon restarted on the same boot (a crash, an upgrade)
 * while an exam is under way carries on the same clock even if the wall
 * clock moved while it was down; otherwise (between sessions, or after a
 * reboot, when the boot clock starts over) the wall clock is read afresh. */
static int64_t wall0, mono0;

int64_t daemon_now_ms(void)
{
    if (mono0 == 0) {
        wall0 = ms_of(CLOCK_REALTIME);
        mono0 = ms_of(CLOCK_BOOTTIME);
    }
    return wall0 + (ms_of(CLOCK_BOOTTIME) - mono0) + clock_offset_ms;
}

static void read_boot_id(char out[40])
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

    out[0] = '\0';
    if (f != NULL) {
        if (fscanf(f, "%39s", out) != 1)
            out[0] = '\0';
        fclose(f);
    }
}

struct under_way {
    struct room *r;
    int64_t now;
    int found;
};

static void latest_end(const struct store_candidate *c, void *arg)
{
    int64_t *extra = arg;

    if (c->extra_seconds > *extra)
        *extra = c->extra_seconds;
}

static void check_session(const struct store_session *x, void *arg)
{
    struct under_way *u = arg;
    int64_t extra = 0;

    if (u->found || u->now < x->starts_at - 30 * 60)
        return;
    if (u->now > x->ends_at)
        store_foreach_candidate(u->r->st, x->id, latest_end, &extra);
    if (u->now <= x->ends_at + extra)
        u->found = 1;
}

/* Is some session between the opening of its sign-in and its last
 * candidate's end at now (the anchored clock's seconds)? */
static int exam_under_way(struct room *r, int64_t now)
{
    struct under_way u = {r, now, 0};

    store_foreach_session(r->st, check_session, &u);
    return u.found;
}

/* At start-up, before the loop serves: the anchor of an earlier daemon on
 * this boot while an exam is under way by it (the proctor who sets the
 * system's time right between sessions and restarts gets the right time;
 * during a session nobody's remaining time moves), or a new one, written durably (a rename that a
 * power cut undoes is harmless: the boot id changes with the reboot anyway). Without a boot id (no
 * /proc) the wall clock is read afresh each start. */
static int anchor_exam_clock(struct room *r)
{
    char path[ROOM_PATH_MAX], boot[40], stored[40], line[128];
    long long w, m;
    FILE *f;
    int ok;

    read_boot_id(boot);
    if (boot[0] == '\0' || room_path(r, "exam-clock", path) < 0)
        return 0;
    f = fopen(path, "r");
    if (f != NULL) {
        ok = fscanf(f, "%39s %lld %lld", stored, &w, &m) == 3 && strcmp(stored, boot) == 0 &&
             m > 0 && m <= ms_of(CLOCK_BOOTTIME);
        fclose(f);
        if (ok && exam_under_way(r, (w + (ms_of(CLOCK_BOOTTIME) - m) + clock_offset_ms) / 1000)) {
            wall0 = w;
            mono0 = m;
            log_info("exam clock: carried on from this boot's anchor (an exam is under way)");
            return 0;
        }
    }
    wall0 = ms_of(CLOCK_REALTIME);
    mono0 = ms_of(CLOCK_BOOTTIME);
    snprintf(line, sizeof(line), "%s %lld %lld\n", boot, (long long)wall0, (long long)mono0);
    return fs_write_atomic(path, line, strlen(line), 0600);
}

/* The admin channel: a random token in DATA/admin-token (0600) and the
 * address to reach this daemon on loopback in DATA/admin-address. */
static int write_admin_files(struct daemon *d, unsigned port)
{
    char path[ROOM_PATH_MAX];
    uint8_t raw[32];
    FILE *f;
    int rc = crypto_random(raw, sizeof(raw));

    if (rc < 0)
        return rc;
    hex_encode(raw, sizeof(raw), d->admin_token);
    if (room_path(&d->r, "admin-token", path) < 0 || (f = fopen(path, "w")) == NULL)
        return ER_IO;
    fprintf(f, "%s\n", d->admin_token);
    if (fclose(f) != 0)
        return ER_IO;
    if (room_path(&d->r, "admin-address", path) < 0 || (f = fopen(path, "w")) == NULL)
        return ER_IO;
    fprintf(f, "127.0.0.1:%u\n", port);
    return fclose(f) == 0 ? 0 : ER_IO;
}

/* One daemon per data directory: a second would overwrite admin-token and
 * admin-address and take the proctor's commands away from the first. A
 * write lock on DATA/serve.lock (0600), held for the daemon's life (the
 * kernel drops it when the process ends, however it ends), with our PID in
 * the file for the proctor to read. *holder: the PID holding it, when
 * ER_DAEMON_RUNNING. */
static int lock_data_dir(struct daemon *d, long *holder)
{
    char path[ROOM_PATH_MAX], line[32];
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int fd;

    if (room_path(&d->r, "serve.lock", path) < 0)
        return ER_IO;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return ER_IO;
    if (fcntl(fd, F_SETLK, &fl) < 0) {
        int busy = errno == EACCES || errno == EAGAIN;

        fl = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET};
        *holder = busy && fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK ? (long)fl.l_pid : 0;
        close(fd);
        return busy ? ER_DAEMON_RUNNING : ER_IO;
    }
    snprintf(line, sizeof(line), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, line, strlen(line), 0) != (ssize_t)strlen(line)) {
        close(fd);
        return ER_IO;
    }
    d->lock_fd = fd;
    return 0;
}

/* ---- libmicrohttpd on the loop ---- */

static void run_mhd(struct daemon *d);

void daemon_kick(struct daemon *d)
{
    run_mhd(d);
}

static void on_mhd_timer(uv_timer_t *t)
{
    run_mhd(t->data);
}

void daemon_kick_soon(struct daemon *d)
{
    if (d->http_ready)
        uv_timer_start(&d->mhd_timer, on_mhd_timer, 0, 0);
    else
        run_mhd(d);
}

static void on_mhd_poll(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    run_mhd(p->data);
}

/* Lets libmicrohttpd work, then arms the timer for its next deadline. */
static void run_mhd(struct daemon *d)
{
    MHD_UNSIGNED_LONG_LONG timeout;

    if (d->mhd == NULL)
        return;
    MHD_run(d->mhd);
    if (MHD_get_timeout(d->mhd, &timeout) == MHD_YES)
        uv_timer_start(&d->mhd_timer, on_mhd_timer, (uint64_t)timeout, 0);
    else
        uv_timer_stop(&d->mhd_timer);
}

/* ---- connections ---- */

/* One PC misbehaving must not take the room down (SECURITY.md "The LAN").
 * A room has at most ~100 terminals, each holding 1 or 2 keep-alive
 * connections; a kiosk browser may open ~6 to one host. So:
 * - CONN_PER_ADDRESS per LAN address: the browser's 6, with room for
 *   connections of a reload still closing; a flood from one PC gets these
 *   and no more (the others are closed as soon as they are accepted);
 * - CONN_LAN_MAX for the whole LAN: 100 terminals at 6 each is 600;
 * - CONN_SERVER_RESERVE more for the server itself (127.0.0.1, ::1: the
 *   proctor's commands and admin channel), which has no per-address limit;
 * - HEADER_DEADLINE_S to send a request's headers in full on a new
 *   connection (a browser does it in one packet; slowloris, a byte every
 *   few seconds, never finishes and is cut here); once a request has come,
 *   the idle timeout is IDLE_TIMEOUT_S, reset by every byte, so a terminal
 *   keeps its connection as long as it uses it.
 * What remains: many addresses at once (a /24 is 254 of them) can still
 * fill CONN_LAN_MAX; the server itself keeps its reserve. */
#define CONN_PER_ADDRESS    16
#define CONN_LAN_MAX        2048
#define CONN_SERVER_RESERVE 64
#define HEADER_DEADLINE_S   10
#define IDLE_TIMEOUT_S      120

static struct conn_count *count_of(struct daemon *d, const struct ratelimit_key *addr, int make)
{
    struct conn_count *free_slot = NULL;

    for (size_t i = 0; i < DAEMON_CONN_ADDRS; i++) {
        struct conn_count *c = &d->conn_counts[i];

        if (c->n > 0 && c->addr.len == addr->len &&
            memcmp(c->addr.bytes, addr->bytes, addr->len) == 0)
            return c;
        if (c->n == 0 && free_slot == NULL)
            free_slot = c;
    }
    if (make && free_slot != NULL)
        free_slot->addr = *addr;
    return make ? free_slot : NULL;
}

_Static_assert(DAEMON_CONN_ADDRS >= CONN_LAN_MAX, "a slot for every LAN connection");

/* Before libmicrohttpd takes a connection on: refused (closed at once)
 * past its address's share or the LAN's, and when it could not be counted
 * (never let in uncounted: that would be a way past both limits). */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *sa, socklen_t len)
{
    struct daemon *d = cls;
    struct ratelimit_key addr;
    const struct conn_count *c;
    int who = http_address_key(sa, &addr);

    (void)len;
    if (who == 1)
        return MHD_YES;
    if (who < 0 || d->lan_conns >= d->lan_max)
        return MHD_NO;
    c = count_of(d, &addr, 1);
    return c != NULL && c->n < CONN_PER_ADDRESS ? MHD_YES : MHD_NO;
}

static void notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
    struct daemon *d = cls;
    struct conn_track *t = *socket_context;
    struct conn_count *c;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        t = calloc(1, sizeof(*t));
        if (t == NULL)
            return; /* untracked: only the idle timeout applies */
        t->conn = conn;
        t->started_ms = daemon_now_ms();
        t->server = http_client_key(conn, &t->addr) == 1;
        c = t->server ? NULL : count_of(d, &t->addr, 1);
        if (c != NULL) {
            c->n++;
            d->lan_conns++;
            t->counted = c;
        }
        t->next = d->conns;
        if (d->conns != NULL)
            d->conns->prev = t;
        d->conns = t;
        *socket_context = t;
        return;
    }
    if (t == NULL)
        return;
    /* Exactly the count it was added to, if any. */
    if (t->counted != NULL) {
        t->counted->n--;
        d->lan_conns--;
    }
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        d->conns = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    free(t);
    *socket_context = NULL;
}

void daemon_headers_done(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn_track *t = ci != NULL ? ci->socket_context : NULL;

    if (t != NULL)
        t->headers_done = 1;
}

/* Every second: a connection still without its first request's headers
 * after HEADER_DEADLINE_S is shut down; libmicrohttpd sees it end and
 * closes it (it has no call to close one from outside). */
static void on_conn_sweep(uv_timer_t *timer)
{
    struct daemon *d = timer->data;
    int64_t now = daemon_now_ms();
    int cut = 0;

    for (struct conn_track *t = d->conns; t != NULL; t = t->next) {
        const union MHD_ConnectionInfo *ci;

        if (t->headers_done || now - t->started_ms < HEADER_DEADLINE_S * 1000)
            continue;
        ci = MHD_get_connection_info(t->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci != NULL)
            shutdown(ci->connect_fd, SHUT_RDWR);
        t->headers_done = 1; /* once */
        cut++;
    }
    if (cut > 0) {
        log_info("%d connections without a request after %d s closed", cut, HEADER_DEADLINE_S);
        run_mhd(d);
    }
}

/* As many descriptors as the connections need, up to the hard limit. */
static unsigned raise_fd_limit(void) /* > CONN_SERVER_RESERVE */
{
    const rlim_t want = CONN_LAN_MAX + CONN_SERVER_RESERVE + 256;
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return CONN_LAN_MAX + CONN_SERVER_RESERVE;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < want) {
        log_warn("only %llu file descriptors: fewer connections than planned",
                 (unsigned long long)rl.rlim_cur);
        return rl.rlim_cur > 512 ? (unsigned)(rl.rlim_cur - 256) : 256;
    }
    return CONN_LAN_MAX + CONN_SERVER_RESERVE;
}

static int parse_listen(const char *text, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    char *end;
    long port;

    if (colon == NULL || (size_t)(colon - text) >= sizeof(host))
        return -1;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    port = strtol(colon + 1, &end, 10);
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (*end != '\0' || port < 0 || port > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return -1;
    return 0;
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    log_vmsg(LOG_LEVEL_WARN, fmt, ap);
}

static int start_http(struct daemon *d, const char *listen)
{
    struct sockaddr_in sa;
    const union MHD_DaemonInfo *info;
    unsigned total = raise_fd_limit();

    if (parse_listen(listen, &sa) < 0)
        return ER_USAGE;
    /* The LAN never gets the server's reserve, whatever the fd limit. */
    d->lan_max =
        total > CONN_SERVER_RESERVE + CONN_LAN_MAX ? CONN_LAN_MAX : total - CONN_SERVER_RESERVE;
    d->mhd = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, accept_policy, d,
        http_request, d, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_NOTIFY_CONNECTION,
        notify_connection, d, MHD_OPTION_UNESCAPE_CALLBACK, http_unescape, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT, total, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(8 * 1024),
        MHD_OPTION_END);
    if (d->mhd == NULL)
        return ER_DAEMON_LISTEN;
    info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (info == NULL || uv_poll_init(&d->r.loop, &d->mhd_poll, info->epoll_fd) != 0)
        return ER_INTERNAL;
    d->mhd_poll.data = d;
    uv_timer_init(&d->r.loop, &d->mhd_timer);
    d->mhd_timer.data = d;
    uv_timer_init(&d->r.loop, &d->conn_sweep);
    d->conn_sweep.data = d;
    uv_timer_start(&d->conn_sweep, on_conn_sweep, 1000, 1000);
    d->open_handles += 3;
    d->http_ready = 1;
    uv_poll_start(&d->mhd_poll, UV_READABLE, on_mhd_poll);
    info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(d->ready, sizeof(d->ready), "listening on http://%s:%u", inet_ntoa(sa.sin_addr),
             info != NULL ? info->port : 0);
    return write_admin_files(d, info != NULL ? info->port : 0);
}

/* ---- readiness and stopping ---- */

/* systemd's notify protocol, without libsystemd: one datagram to the socket
 * named by NOTIFY_SOCKET (an abstract one starts with '@'). */
static void notify_systemd(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n;
    int fd;

    if (path == NULL || (n = strlen(path)) == 0 || n >= sizeof(sa.sun_path))
        return;
    memcpy(sa.sun_path, path, n);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0';
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (sendto(fd, state, strlen(state), 0, (struct sockaddr *)&sa,
               (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0)
        log_warn("systemd notify: %s", state);
    close(fd);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct daemon *d = h->data;

    d->open_handles--;
}

static void on_sync_closed(void *arg)
{
    struct daemon *d = arg;

    d->client = NULL;
}

/* Winds everything down on the loop: HTTP first, so no new work comes in,
 * then the center link (in-flight calls end as cancelled), then the timers
 * and signals. The store closes after the loop has run dry. */
static void stop(struct daemon *d)
{
    d->stopping = 1;
    /* libmicrohttpd cannot stop with a connection suspended: the last
     * answer_later() stops it once every pending write has answered (no
     * new work is taken meanwhile: http_request answers 503). */
    if (d->suspended > 0 && d->mhd != NULL) {
        log_notice("stopping once %d pending writes have answered", d->suspended);
        return;
    }
    if (d->http_ready) {
        uv_poll_stop(&d->mhd_poll);
        uv_close((uv_handle_t *)&d->mhd_poll, on_handle_closed);
        uv_timer_stop(&d->mhd_timer);
        uv_close((uv_handle_t *)&d->mhd_timer, on_handle_closed);
        uv_timer_stop(&d->conn_sweep);
        uv_close((uv_handle_t *)&d->conn_sweep, on_handle_closed);
        d->http_ready = 0;
    }
    /* The console's feeds: resumed to end (libmicrohttpd cannot stop with
     * a connection suspended), and once more through libmicrohttpd. */
    feed_stop(d);
    if (d->mhd != NULL) {
        MHD_run(d->mhd);
        MHD_stop_daemon(d->mhd);
    }
    d->mhd = NULL;
    if (d->client != NULL)
        sync_client_close(d->client, on_sync_closed, d);
    background_stop(d);
    results_stop(d);
    idreaders_stop(d);
    if (d->signals_ready) {
        uv_close((uv_handle_t *)&d->sigterm, on_handle_closed);
        uv_close((uv_handle_t *)&d->sigint, on_handle_closed);
        d->signals_ready = 0;
    }
}

void daemon_stop(struct daemon *d)
{
    stop(d);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct daemon *d = s->data;

    if (d->stopping)
        return;
    log_notice("signal %d: stopping", signum);
    notify_systemd("STOPPING=1");
    stop(d);
}

#define SERVE_READERS_MAX 8

/* The door's options, taken out of argv (the rest is left in order):
 * --id-reader DEVICE, repeatable or a comma-separated list (as the unit's
 * ID_READERS= gives it), and the flag --require-checkin. ER_USAGE for a
 * device missing or too many. */
static int door_options(int *argc, char **argv, char *paths[SERVE_READERS_MAX], size_t *n,
                        int *require)
{
    int out = 1;

    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--require-checkin") == 0) {
            *require = 1;
        } else if (strcmp(argv[i], "--id-reader") == 0) {
            char *list = i + 1 < *argc ? argv[++i] : NULL, *save = NULL;

            if (list == NULL || list[0] == '\0')
                return ER_USAGE;
            for (char *p = strtok_r(list, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
                if (*n >= SERVE_READERS_MAX)
                    return ER_USAGE;
                paths[(*n)++] = p;
            }
        } else {
            argv[out++] = argv[i];
        }
    }
    *argc = out;
    return 0;
}

int cmd_serve(struct cli_ctx *ctx, int argc, char **argv)
{
    static const char *const names[] = {"--listen", NULL};
    char *readers[SERVE_READERS_MAX];
    size_t n_readers = 0;
    int bad = 0, rc, status = 0, require = 0;
    long holder = 0;
    const char *listen;
    struct daemon *d;

    if (door_options(&argc, argv, readers, &n_readers, &require) < 0)
        return cli_fail(ctx, ER_USAGE);
    listen = cli_option(argc, argv, "--listen", &bad);
    if (bad || cli_check_options(argc, argv, 1, names) < 0)
        return cli_fail(ctx, ER_USAGE);
    if (listen == NULL)
        listen = "0.0.0.0:8080";
    if (getenv("EXAMROOM_CLOCK_OFFSET") != NULL) {
        char *end;
        long long s = strtoll(getenv("EXAMROOM_CLOCK_OFFSET"), &end, 10);

        if (*end != '\0' || s < -86400LL * 366 || s > 86400LL * 366)
            return cli_fail(ctx, ER_USAGE);
        clock_offset_ms = (int64_t)s * 1000;
    }
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return cli_fail(ctx, ER_NOMEM);
    /* A daemon: its log lines are wanted, unless EXAMROOM_LOG says otherwise. */
    if (getenv("EXAMROOM_LOG") == NULL && log_get_level() < LOG_LEVEL_INFO)
        log_set_level(LOG_LEVEL_INFO);
    d->lock_fd = -1;
    d->require_checkin = require;
    rc = room_open(ctx, &d->r, 1);
    if (rc == 0)
        rc = lock_data_dir(d, &holder);
    /* EXAMROOM_COMMIT_LOG=FILE: each transaction's start and time, for the
     * benchmarks (store_log_commits()). */
    if (rc == 0 && getenv("EXAMROOM_COMMIT_LOG") != NULL)
        rc = store_log_commits(d->r.st, getenv("EXAMROOM_COMMIT_LOG"));
    if (rc == ER_DAEMON_RUNNING) {
        status = cli_fail_detail(ctx, rc, "进程 %ld 正在使用数据目录 %s。", holder, ctx->data_dir);
        room_close(&d->r);
        free(d);
        return status;
    }
    if (rc == 0)
        rc = anchor_exam_clock(&d->r);
    if (rc == 0)
        rc = background_start(d);
    if (rc == 0)
        results_start(d);
    if (rc == 0)
        rc = start_http(d, listen);
    if (rc == 0)
        rc = idreaders_start(d, readers, n_readers);
    if (rc == 0)
        store_release_memory(d->r.st);
    if (rc == 0) {
        uv_signal_init(&d->r.loop, &d->sigterm);
        uv_signal_init(&d->r.loop, &d->sigint);
        d->sigterm.data = d->sigint.data = d;
        d->open_handles += 2;
        d->signals_ready = 1;
        uv_signal_start(&d->sigterm, on_signal, SIGTERM);
        uv_signal_start(&d->sigint, on_signal, SIGINT);
        printf("%s\n", d->ready);
        fflush(stdout);
        notify_systemd("READY=1");
    } else if (rc == ER_DAEMON_LISTEN) {
        status = cli_fail_detail(ctx, rc, "无法在 %s 上监听（地址被占用或无效）。", listen);
    } else {
        status = cli_fail(ctx, rc);
    }
    if (rc < 0)
        stop(d);
    uv_run(&d->r.loop, UV_RUN_DEFAULT);
    background_free(d);
    feed_free(d);
    idreaders_free(d);
    seatcard_free(d);
    room_close(&d->r); /* closes the store: queued writes finish first */
    if (d->lock_fd >= 0)
        close(d->lock_fd); /* the lock goes last: nothing of ours is left running */
    free(d);
    return status;
}
