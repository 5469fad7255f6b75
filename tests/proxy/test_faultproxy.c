/* faultproxy (tests/proxy/faultproxy.c), run as a child process between
 * plain sockets and a small upstream in this process: every fault happens
 * as its usage text says, clean connections pass bytes unchanged both ways,
 * rules pick the connections they name, and SIGTERM stops it with exit 0
 * (under ASan, with no leak) and a summary on stderr.
 *
 *   test_faultproxy PATH-TO-FAULTPROXY */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "upstream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BIG      (1024 * 1024)
#define MAX_RESP (BIG + 4096)

static const char *proxy_path;
static pid_t live_pid; /* the proxy a test started and has not stopped */
static char live_errpath[64];

static int upstream_port;

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    return up_start(&upstream_port);
}

static int group_teardown(void **state)
{
    (void)state;
    up_stop();
    return 0;
}

/* ---- the proxy as a child process ---- */

struct proxy {
    pid_t pid;
    int port, out;
    char errpath[64];
    char summary[1024]; /* its stderr, after proxy_stop */
};

static void proxy_spawn(struct proxy *p, const char *const *argv, int out_fd, int err_fd)
{
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
}

/* Starts faultproxy with rules (NULL-terminated, or NULL) and reads the port
 * it prints. */
static void proxy_start(struct proxy *p, const char *const *rules)
{
    const char *argv[32] = {proxy_path, "--listen", "127.0.0.1:0", "--upstream"};
    char upstream[32], line[128];
    struct pollfd pfd;
    size_t len = 0;
    int pipefd[2], errfd, argc = 5;

    memset(p, 0, sizeof(*p));
    snprintf(upstream, sizeof(upstream), "127.0.0.1:%d", upstream_port);
    argv[4] = upstream;
    for (int i = 0; rules != NULL && rules[i] != NULL; i++)
        argv[argc++] = rules[i];
    argv[argc] = NULL;
    snprintf(p->errpath, sizeof(p->errpath), "/tmp/faultproxy-err-XXXXXX");
    errfd = mkstemp(p->errpath);
    assert_true(errfd >= 0);
    assert_int_equal(pipe(pipefd), 0);
    proxy_spawn(p, argv, pipefd[1], errfd);
    live_pid = p->pid;
    memcpy(live_errpath, p->errpath, sizeof(live_errpath));
    close(pipefd[1]);
    close(errfd);
    p->out = pipefd[0];
    pfd = (struct pollfd){p->out, POLLIN, 0};
    while (len < sizeof(line) - 1 && memchr(line, '\n', len) == NULL) {
        ssize_t n;

        assert_int_equal(poll(&pfd, 1, 5000), 1);
        n = read(p->out, line + len, sizeof(line) - 1 - len);
        assert_true(n > 0);
        len += (size_t)n;
    }
    line[len] = '\0';
    assert_int_equal(sscanf(line, "listening on 127.0.0.1:%d", &p->port), 1);
}

/* SIGTERM: the proxy must exit 0 within 5 s; keeps its stderr in summary. */
static void proxy_stop(struct proxy *p)
{
    const struct timespec tick = {0, 10 * 1000 * 1000};
    int status = 0, fd;
    pid_t done = 0;
    ssize_t n;

    live_pid = 0;
    assert_int_equal(kill(p->pid, SIGTERM), 0);
    for (int i = 0; i < 500 && done == 0; i++) {
        done = waitpid(p->pid, &status, WNOHANG);
        if (done == 0)
            nanosleep(&tick, NULL);
    }
    if (done != p->pid) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, &status, 0);
        fail_msg("faultproxy did not stop on SIGTERM");
    }
    close(p->out);
    fd = open(p->errpath, O_RDONLY);
    n = fd >= 0 ? read(fd, p->summary, sizeof(p->summary) - 1) : -1;
    p->summary[n > 0 ? n : 0] = '\0';
    if (fd >= 0)
        close(fd);
    unlink(p->errpath);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("faultproxy exit status %d; stderr:\n%s", status, p->summary);
}

/* A failed assertion leaves its test early: the proxy it started must not
 * outlive it. */
static int test_teardown(void **state)
{
    (void)state;
    if (live_pid > 0) {
        kill(live_pid, SIGKILL);
        waitpid(live_pid, NULL, 0);
        unlink(live_errpath);
        live_pid = 0;
    }
    return 0;
}

/* The number after " KEY=" in the summary line. */
static long summary_get(const struct proxy *p, const char *key)
{
    char pat[64];
    const char *at;

    snprintf(pat, sizeof(pat), " %s=", key);
    at = strstr(p->summary, pat);
    if (at == NULL)
        fail_msg("no %s in summary: %s", key, p->summary);
    return strtol(at + strlen(pat), NULL, 10);
}

/* ---- the client side ---- */

static int dial(int port, int timeout_ms)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

/* Reads until EOF (*err = 0) or an error (*err = errno), at most cap bytes. */
static size_t recv_all(int fd, unsigned char *buf, size_t cap, int *err)
{
    size_t len = 0;

    *err = 0;
    while (len < cap) {
        ssize_t n = recv(fd, buf + len, cap - len, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *err = n < 0 ? errno : 0;
            break;
        }
        len += (size_t)n;
    }
    return len;
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* "POST /upload" with a body of len pattern bytes; returns its length. */
static size_t make_post(unsigned char *buf, size_t len)
{
    int n = sprintf((char *)buf,
                    "POST /upload HTTP/1.1\r\nHost: center\r\nContent-Length: %zu\r\n\r\n", len);

    for (size_t i = 0; i < len; i++)
        buf[(size_t)n + i] = up_pattern(i);
    return (size_t)n + len;
}

static void send_get(int fd, size_t size, size_t from)
{
    char req[128];
    int n = snprintf(req, sizeof(req), "GET /bytes/%zu HTTP/1.1\r\nRange: bytes=%zu-\r\n\r\n", size,
                     from);

    if (from == 0)
        n = snprintf(req, sizeof(req), "GET /bytes/%zu HTTP/1.1\r\n\r\n", size);
    assert_int_equal(up_send_all(fd, req, (size_t)n), 0);
}

/* ---- the tests ---- */

/* No rule: a request and a 1 MiB answer cross byte for byte, and the ends
 * of stream too. */
static void test_passthrough(void **state)
{
    unsigned char *req = malloc(BIG), *resp = malloc(MAX_RESP);
    size_t rlen = make_post(req, 300 * 1024), n;
    const char *body;
    struct proxy p;
    int fd, err;

    (void)state;
    proxy_start(&p, NULL);
    fd = dial(p.port, 3000);
    assert_int_equal(up_send_all(fd, req, rlen), 0);
    n = recv_all(fd, resp, MAX_RESP, &err);
    close(fd);
    assert_int_equal(err, 0);
    assert_non_null(up_find((char *)resp, n, "\r\n\r\nok 307200\n"));
    assert_true(up_last_is(req, rlen));

    fd = dial(p.port, 3000);
    send_get(fd, BIG, 0);
    n = recv_all(fd, resp, MAX_RESP, &err);
    close(fd);
    assert_int_equal(err, 0);
    body = up_find((char *)resp, n, "\r\n\r\n");
    assert_non_null(body);
    body += 4;
    assert_int_equal(n - (size_t)(body - (char *)resp), BIG);
    for (size_t i = 0; i < BIG; i++)
        if ((unsigned char)body[i] != up_pattern(i))
            fail_msg("byte %zu differs", i);
    proxy_stop(&p);
    assert_int_equal(summary_get(&p, "connections"), 2);
    assert_int_equal(summary_get(&p, "up"),
                     (long)rlen + (long)strlen("GET /bytes/1048576 HTTP/1.1\r\n\r\n"));
    assert_int_equal(summary_get(&p, "reset"), 0);
    free(req);
    free(resp);
}

/* reset:N: the client reads exactly N bytes, then ECONNRESET; each
 * connection gets its own N. */
static void test_reset_after_bytes(void **state)
{
    const char *rules[] = {"--reset-after-bytes", "100000", NULL};
    unsigned char *resp = malloc(MAX_RESP);
    struct proxy p;
    int fd, err;

    (void)state;
    proxy_start(&p, rules);
    for (int i = 0; i < 2; i++) {
        fd = dial(p.port, 3000);
        send_get(fd, BIG, 0);
        assert_int_equal(recv_all(fd, resp, MAX_RESP, &err), 100000);
        assert_int_equal(err, ECONNRESET);
        assert_memory_equal(resp, "HTTP/1.1 200 OK\r\n", 17);
        close(fd);
    }
    proxy_stop(&p);
    assert_int_equal(summary_get(&p, "reset"), 2);
    assert_int_equal(summary_get(&p, "down"), 200000);
    free(resp);
}

/* Downloads /bytes/BIG, resuming with Range on a new connection after each
 * reset, as the room does; returns the number of connections. */
static int download(int port, unsigned char *file)
{
    unsigned char *resp = malloc(MAX_RESP);
    size_t have = 0, n;
    const char *body;
    int conns = 0, fd, err;

    while (have < BIG && conns < 100) {
        conns++;
        fd = dial(port, 3000);
        send_get(fd, BIG, have);
        n = recv_all(fd, resp, MAX_RESP, &err);
        close(fd);
        body = up_find((char *)resp, n, "\r\n\r\n");
        if (body == NULL)
            continue;
        body += 4;
        assert_true(have == 0 ? strncmp((char *)resp, "HTTP/1.1 200", 12) == 0
                              : strncmp((char *)resp, "HTTP/1.1 206", 12) == 0);
        n -= (size_t)(body - (char *)resp);
        memcpy(file + have, body, n);
        have += n;
        assert_int_equal(err, have < BIG ? ECONNRESET : 0);
    }
    assert_int_equal(have, BIG);
    for (size_t i = 0; i < BIG; i++)
        if (file[i] != up_pattern(i))
            fail_msg("byte %zu differs", i);
    free(resp);
    return conns;
}

/* "A package download reset every 10% completes": per connection, and
 * counted over the whole session. */
static void test_download_resumes(void **state)
{
    const char *per_conn[] = {"--reset-after-bytes", "110000", NULL};
    const char *session[] = {"--session-reset-every", "104858", NULL};
    unsigned char *file = malloc(BIG);
    struct proxy p;
    int conns;

    (void)state;
    proxy_start(&p, per_conn);
    conns = download(p.port, file);
    proxy_stop(&p);
    assert_in_range(conns, 10, 11);
    assert_int_equal(summary_get(&p, "reset"), conns - 1);

    proxy_start(&p, session);
    conns = download(p.port, file);
    proxy_stop(&p);
    assert_in_range(conns, 10, 12);
    assert_int_equal(summary_get(&p, "session-reset"), conns - 1);
    free(file);
}

/* delay:D holds each chunk D ms both ways: the first byte of the answer
 * comes no sooner than 2D after the request, and the bytes are intact. */
static void test_delay(void **state)
{
    const char *rules[] = {"--every", "1:delay:150", NULL};
    unsigned char resp[4096];
    struct proxy p;
    double t0, first;
    size_t n;
    int fd, err;

    (void)state;
    proxy_start(&p, rules);
    fd = dial(p.port, 3000);
    t0 = now_ms();
    send_get(fd, 1000, 0);
    assert_int_equal(recv(fd, resp, 1, 0), 1);
    first = now_ms() - t0;
    n = 1 + recv_all(fd, resp + 1, sizeof(resp) - 1, &err);
    close(fd);
    assert_true(first >= 300);
    assert_int_equal(err, 0);
    assert_int_equal(
        n, strlen("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n") + 1000);
    assert_int_equal(resp[n - 1], up_pattern(999));
    proxy_stop(&p);
    assert_int_equal(summary_get(&p, "delay"), 1);
    print_message("delay 150 ms each way: first byte after %.0f ms\n", first);
}

/* lost-ack: the upstream gets the whole request and answers; the client
 * gets nothing but a reset. */
static void test_lost_ack(void **state)
{
    const char *rules[] = {"--every", "1:lost-ack:100", NULL};
    unsigned char *req = malloc(BIG), resp[4096];
    size_t rlen = make_post(req, 100 * 1024);
    int before = up_requests(), fd, err;
    struct proxy p;

    (void)state;
    proxy_start(&p, rules);
    fd = dial(p.port, 3000);
    assert_int_equal(up_send_all(fd, req, rlen), 0);
    assert_int_equal(recv_all(fd, resp, sizeof(resp), &err), 0);
    assert_int_equal(err, ECONNRESET);
    close(fd);
    assert_int_equal(up_requests(), before + 1);
    assert_true(up_last_is(req, rlen));
    proxy_stop(&p);
    assert_int_equal(summary_get(&p, "lost-ack"), 1);
    assert_true(summary_get(&p, "swallowed") > 0);
    free(req);
}

/* lost-ack over TLS records: the handshake passes both ways; the answer to
 * the first application-data record is swallowed, and with the upstream
 * keeping the connection open, the client is reset after the quiet time. */
static void test_lost_ack_tls(void **state)
{
    const char *rules[] = {"--every", "1:lost-ack:100", NULL};
    unsigned char rec[5 + 2000] = {22, 3, 1, 0, 40}, resp[2048];
    size_t app_before;
    struct proxy p;
    double t0;
    int fd, err;

    (void)state;
    app_before = up_tls_app_bytes();
    proxy_start(&p, rules);
    fd = dial(p.port, 3000);
    assert_int_equal(up_send_all(fd, rec, 5 + 40), 0);
    assert_int_equal(up_recv_exact(fd, resp, 5 + 100), 0);
    assert_int_equal(resp[0], 22);
    rec[0] = 23;
    rec[3] = 2000 >> 8;
    rec[4] = 2000 & 0xff;
    t0 = now_ms();
    assert_int_equal(up_send_all(fd, rec, 5 + 2000), 0);
    assert_int_equal(recv_all(fd, resp, sizeof(resp), &err), 0);
    assert_int_equal(err, ECONNRESET);
    assert_true(now_ms() - t0 >= 100);
    close(fd);
    assert_int_equal(up_tls_app_bytes(), app_before + 2000);
    proxy_stop(&p);
    assert_int_equal(summary_get(&p, "lost-ack"), 1);
    assert_int_equal(summary_get(&p, "swallowed"), 5 + 1000);
}

/* 503: the status line, then an orderly close; the upstream never hears of
 * the connection. */
static void test_503(void **state)
{
    const char *rules[] = {"--every", "1:503", NULL};
    int before = up_accepted(), fd, err;
    unsigned char resp[1024];
    struct proxy p;
    size_t n;

    (void)state;
    proxy_start(&p, rules);
    fd = dial(p.port, 3000);
    send_get(fd, 1000, 0);
    n = recv_all(fd, resp, sizeof(resp), &err);
    close(fd);
    assert_int_equal(err, 0);
    assert_true(n > 34);
    assert_memory_equal(resp, "HTTP/1.1 503 Service Unavailable\r\n", 34);
    proxy_stop(&p);
    assert_int_equal(up_accepted(), before);
    assert_int_equal(summary_get(&p, "503"), 1);
}

/* stall: no byte comes back, the connection stays open and writable, the
 * upstream is never contacted; SIGTERM still stops the proxy cleanly. */
static void test_stall(void **state)
{
    const char *rules[] = {"--every", "1:stall", NULL};
    int before = up_accepted(), fd, soerr = -1;
    socklen_t len = sizeof(soerr);
    struct pollfd pfd;
    struct proxy p;
    char c;

    (void)state;
    proxy_start(&p, rules);
    fd = dial(p.port, 3000);
    send_get(fd, 1000, 0);
    pfd = (struct pollfd){fd, POLLIN, 0};
    assert_int_equal(poll(&pfd, 1, 300), 0);
    assert_int_equal(up_send_all(fd, "more", 4), 0);
    assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len), 0);
    assert_int_equal(soerr, 0);
    assert_int_equal(up_accepted(), before);
    proxy_stop(&p);
    assert_true(recv(fd, &c, 1, 0) <= 0); /* the stop closed it */
    close(fd);
    assert_int_equal(summary_get(&p, "stall"), 1);
    assert_int_equal(summary_get(&p, "connections"), 1);
}

/* One connection through the proxy: 1 when it was answered 503. */
static int got_503(int port)
{
    unsigned char resp[4096];
    int fd = dial(port, 3000), err;
    size_t n;

    send_get(fd, 10, 0);
    n = recv_all(fd, resp, sizeof(resp), &err);
    close(fd);
    return n >= 12 && memcmp(resp, "HTTP/1.1 503", 12) == 0;
}

/* --conn and --every pick the connections they name, first match wins;
 * --random with a seed picks the same connections every run. */
static void test_selection(void **state)
{
    const char *named[] = {"--conn", "2:503", "--every", "3:503", "--every", "3:stall", NULL};
    const char *random[] = {"--seed", "42", "--random", "0.5:503", NULL};
    int want[] = {0, 1, 1, 0, 0, 1}, runs[2][16], hits = 0;
    struct proxy p;

    (void)state;
    proxy_start(&p, named);
    for (int i = 0; i < 6; i++)
        assert_int_equal(got_503(p.port), want[i]);
    proxy_stop(&p);
    assert_int_equal(summary_get(&p, "stall"), 0);
    for (int r = 0; r < 2; r++) {
        proxy_start(&p, random);
        for (int i = 0; i < 16; i++)
            runs[r][i] = got_503(p.port);
        proxy_stop(&p);
    }
    assert_memory_equal(runs[0], runs[1], sizeof(runs[0]));
    for (int i = 0; i < 16; i++)
        hits += runs[0][i];
    assert_in_range(hits, 1, 15);
}

/* Every fault at once, seeded, as the sealed-results upload test will run
 * it: small uploads, each retried until answered 200, all get through and
 * every kind of fault was injected on the way. */
static void test_mixed(void **state)
{
    const char *rules[] = {"--seed",   "3",
                           "--random", "0.1:reset:40",
                           "--random", "0.1:delay:20",
                           "--random", "0.1:lost-ack:30",
                           "--random", "0.1:503",
                           "--random", "0.05:stall",
                           NULL};
    unsigned char req[512], resp[1024];
    int attempts = 0, before = up_requests(), fd, err;
    struct proxy p;
    size_t n;

    (void)state;
    proxy_start(&p, rules);
    for (int i = 0; i < 100; i++) {
        size_t rlen = make_post(req, 200 + (size_t)i);

        for (;;) {
            attempts++;
            fd = dial(p.port, 250); /* a stalled upload is given up after 250 ms */
            assert_int_equal(up_send_all(fd, req, rlen), 0);
            n = recv_all(fd, resp, sizeof(resp), &err);
            close(fd);
            if (err == 0 && n > 12 && memcmp(resp, "HTTP/1.1 200", 12) == 0)
                break;
            assert_true(attempts < 1000);
        }
    }
    proxy_stop(&p);
    print_message("100 uploads in %d attempts: %s", attempts, p.summary);
    assert_true(up_requests() - before >= 100 + summary_get(&p, "lost-ack"));
    assert_int_equal(summary_get(&p, "connections"), attempts);
    assert_true(summary_get(&p, "reset") > 0);
    assert_true(summary_get(&p, "delay") > 0);
    assert_true(summary_get(&p, "lost-ack") > 0);
    assert_true(summary_get(&p, "503") > 0);
    assert_true(summary_get(&p, "stall") > 0);
}

/* Exit status of faultproxy with these arguments, output discarded. */
static int run_status(const char *const *args)
{
    const char *argv[16] = {proxy_path};
    int devnull = open("/dev/null", O_WRONLY), status = -1, i;
    struct proxy p;

    for (i = 0; args[i] != NULL; i++)
        argv[i + 1] = args[i];
    argv[i + 1] = NULL;
    proxy_spawn(&p, argv, devnull, devnull);
    close(devnull);
    waitpid(p.pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_usage(void **state)
{
    const char *help[] = {"--help", NULL};
    const char *none[] = {NULL};
    const char *bad_fault[] = {"--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:1",
                               "--every",  "2:explode",   NULL};
    const char *over_one[] = {"--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--random",
                              "0.7:503",  "--random",    "0.5:stall",  NULL};
    const char *bad_addr[] = {"--listen", "localhost", "--upstream", "127.0.0.1:1", NULL};

    (void)state;
    assert_int_equal(run_status(help), 0);
    assert_int_equal(run_status(none), 2);
    assert_int_equal(run_status(bad_fault), 2);
    assert_int_equal(run_status(over_one), 2);
    assert_int_equal(run_status(bad_addr), 2);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_usage, test_teardown),
        cmocka_unit_test_teardown(test_passthrough, test_teardown),
        cmocka_unit_test_teardown(test_reset_after_bytes, test_teardown),
        cmocka_unit_test_teardown(test_download_resumes, test_teardown),
        cmocka_unit_test_teardown(test_delay, test_teardown),
        cmocka_unit_test_teardown(test_lost_ack, test_teardown),
        cmocka_unit_test_teardown(test_lost_ack_tls, test_teardown),
        cmocka_unit_test_teardown(test_503, test_teardown),
        cmocka_unit_test_teardown(test_stall, test_teardown),
        cmocka_unit_test_teardown(test_selection, test_teardown),
        cmocka_unit_test_teardown(test_mixed, test_teardown),
    };

    if (argc != 2) {
        fprintf(stderr, "usage: test_faultproxy PATH-TO-FAULTPROXY\n");
        return 2;
    }
    proxy_path = argv[1];
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
