/* Fuzzes the room's HTTP API (PRODUCT.md §4 and the proctor's admin calls)
 * through the daemon's own request handlers: agent/http.c and everything
 * behind it, over libmicrohttpd on the libuv loop as `examroom serve` runs
 * them, on a real room.
 *
 * The room, made at the first call (fuzz_http_room.c): initialised by
 * cmd_init, registered, its package built from tests/fixtures/sample-plan
 * (room R01; session S1 started 40 minutes ago and unlocked with
 * cmd_unlock, S2 starts in 20 minutes and is locked) and installed by
 * cmd_fetch --from; terminals, sign-ins and an answer with the known tokens
 * of fuzz_http.h, which the seeds use.
 *
 * An input is what a client sends on one connection: one request or several
 * pipelined, from 127.0.0.1, or from the LAN when the input starts with '!'
 * (not sent). The harness hands libmicrohttpd its end of a socket pair
 * (MHD_add_connection), runs the loop until every answer is out (requests
 * that wait for the store's group commit are suspended meanwhile), closes
 * its end and runs the loop until the daemon has closed the connection.
 * Properties: every suspended request is answered; the connection is
 * closed; what comes back is HTTP; the store still answers. An input that
 * wrote to the store is followed by a fresh copy of the room's store, so
 * that every input meets the same room. */
#define _GNU_SOURCE
#include "fuzz_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS  10    /* longest a turn of the loop blocks for the store */
#define LIMIT_MS 10000 /* this long without progress is a finding (a hang) */

static struct daemon *d;
static struct fuzz_room room;
static uv_timer_t guard;
static int epoll_fd;

static void on_guard(uv_timer_t *t)
{
    (void)t;
}

/* libmicrohttpd with serve.c's options (start_http()), without a listening
 * socket: the harness adds each connection itself. */
static void start_http(void)
{
    const union MHD_DaemonInfo *info;

    d->mhd = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL,
        http_request, d, MHD_OPTION_UNESCAPE_CALLBACK, http_unescape, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)1024, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024), MHD_OPTION_END);
    FUZZ_CHECK(d->mhd != NULL);
    info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    FUZZ_CHECK(info != NULL);
    epoll_fd = info->epoll_fd;
    /* daemon_kick() arms it, as serve.c's loop does. */
    uv_timer_init(&d->r.loop, &d->mhd_timer);
    d->mhd_timer.data = d;
    uv_timer_init(&d->r.loop, &guard);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Something is on its way to the store that an answer waits for. */
static int store_waiting(void)
{
    return d->suspended > 0 || d->result_busy || d->results != NULL;
}

/* libmicrohttpd has work now: a connection in its ready list, or events. */
static int mhd_busy(void)
{
    MHD_UNSIGNED_LONG_LONG timeout;
    struct pollfd p = {.fd = epoll_fd, .events = POLLIN};

    if (MHD_get_timeout(d->mhd, &timeout) == MHD_YES && timeout == 0)
        return 1;
    return poll(&p, 1, 0) > 0;
}

static unsigned connections(void)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

    return info != NULL ? info->num_connections : 0;
}

/* One turn: the loop's callbacks (store acknowledgements resume requests),
 * waiting a little for the thread pool when a request waits for it, then
 * libmicrohttpd. */
static void turn(void)
{
    if (store_waiting()) {
        uv_timer_start(&guard, on_guard, WAIT_MS, 0);
        uv_run(&d->r.loop, UV_RUN_ONCE);
        uv_timer_stop(&guard);
    } else {
        uv_run(&d->r.loop, UV_RUN_NOWAIT);
    }
    daemon_kick(d);
}

/* Reads what the daemon sent; checks that it starts as HTTP. 0 at EOF.
 * With FUZZ_HTTP_ECHO set, it goes to stderr too (to look at a seed or a
 * finding). */
static int drain(int fd, size_t *got)
{
    static int echo = -1;
    char buf[16384];
    ssize_t n;

    if (echo < 0)
        echo = getenv("FUZZ_HTTP_ECHO") != NULL;
    while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
        if (*got == 0)
            FUZZ_CHECK(n >= 7 && memcmp(buf, "HTTP/1.", 7) == 0);
        *got += (size_t)n;
        if (echo)
            fwrite(buf, 1, (size_t)n, stderr);
    }
    return n == 0 ? 0 : 1;
}

/* Sends the input and runs until every answer is out: nothing waits for the
 * store and libmicrohttpd has nothing left to do. Requests answered one
 * after the other may take a while (a pipeline of slow ones), so the limit
 * is on a stretch without progress: nothing sent, nothing received. */
static void exchange(int fd, const uint8_t *data, size_t size)
{
    int64_t limit = now_ms() + LIMIT_MS;
    size_t sent = 0, got = 0, before;
    int connected = 1;

    while (now_ms() < limit) {
        before = sent + got;
        if (sent < size && connected) {
            ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);

            if (n > 0)
                sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                sent = size; /* the daemon closed the connection */
        }
        turn();
        connected = drain(fd, &got) && connected;
        if ((sent == size || !connected) && !store_waiting() && !mhd_busy())
            break;
        if (sent + got != before)
            limit = now_ms() + LIMIT_MS;
    }
    /* Every request that waited for the store has had its answer. */
    FUZZ_CHECK(d->suspended == 0);
    FUZZ_CHECK(!store_waiting());
}

/* The client goes: libmicrohttpd sees it and closes the connection. */
static void hang_up(int fd)
{
    int64_t limit = now_ms() + LIMIT_MS;

    close(fd);
    while (connections() > 0 && now_ms() < limit)
        turn();
    FUZZ_CHECK(connections() == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(50000)};
    int sv[2];

    if (d == NULL) {
        d = fuzz_room_make(&room);
        start_http();
        fuzz_room_settle(&room, d); /* as every input after it meets the daemon */
    }
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (size > 0 && data[0] == '!') {
        peer.sin_addr.s_addr = htonl(0xc0a80a15); /* 192.168.10.21: a terminal */
        data++;
        size--;
    }
    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    FUZZ_CHECK(MHD_add_connection(d->mhd, sv[1], (struct sockaddr *)&peer, sizeof(peer)) ==
               MHD_YES);
    exchange(sv[0], data, size);
    hang_up(sv[0]);
    fuzz_room_settle(&room, d);
    return 0;
}
