/* The upstream of test_faultproxy, on threads of the test process.
 *
 * HTTP: "GET /bytes/N" (with "Range: bytes=A-") answers N pattern bytes (from
 * A, 206); anything else with a body answers "ok LEN"; every answer ends with
 * a close. A connection whose first byte is 22 (a TLS handshake record) gets
 * records back: 100 bytes for a handshake record, 1000 for application
 * data, and stays open as a keep-alive connection would. One thread a
 * connection; every wait has a 5 s limit, so a failing test still ends. */
#include "upstream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_WORKERS 1024
#define MAX_REQUEST (2 * 1024 * 1024)

static struct {
    int fd, port, wake[2];
    pthread_t thread;
    pthread_t workers[MAX_WORKERS];
    int nworkers;
    pthread_mutex_t lock;
    int accepted, requests; /* under lock, like the rest */
    unsigned char *last;    /* the last whole HTTP request, as received */
    size_t last_len, tls_app_bytes;
} up = {.lock = PTHREAD_MUTEX_INITIALIZER};

unsigned char up_pattern(size_t i)
{
    return (unsigned char)(i * 7 + i / 251);
}

int up_send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int up_recv_exact(int fd, void *buf, size_t len)
{
    char *p = buf;

    while (len > 0) {
        ssize_t n = recv(fd, p, len, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

const char *up_find(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; i + n <= len; i++)
        if (strncmp(hay + i, needle, n) == 0)
            return hay + i;
    return NULL;
}

static void answer_bytes(int fd, const char *req, size_t hlen)
{
    size_t total = strtoul(req + strlen("GET /bytes/"), NULL, 10), from = 0;
    const char *range = up_find(req, hlen, "\r\nRange: bytes=");
    char head[256];
    unsigned char *body;
    int n;

    if (range != NULL)
        from = strtoul(range + strlen("\r\nRange: bytes="), NULL, 10);
    if (from > total)
        from = total;
    if (range != NULL)
        n = snprintf(head, sizeof(head),
                     "HTTP/1.1 206 Partial Content\r\nContent-Length: %zu\r\n"
                     "Content-Range: bytes %zu-%zu/%zu\r\nConnection: close\r\n\r\n",
                     total - from, from, total - 1, total);
    else
        n = snprintf(head, sizeof(head),
                     "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", total);
    body = malloc(total - from + 1);
    for (size_t i = from; i < total; i++)
        body[i - from] = up_pattern(i);
    if (up_send_all(fd, head, (size_t)n) == 0)
        up_send_all(fd, body, total - from);
    free(body);
}

static void serve_http(int fd)
{
    size_t cap = MAX_REQUEST, len = 0, need = 0;
    char *req = malloc(cap), *end = NULL, out[128];
    const char *cl;
    ssize_t n;
    int k;

    while (len < cap && (end == NULL || len < need)) {
        n = recv(fd, req + len, cap - len, 0);
        if (n <= 0)
            goto out;
        len += (size_t)n;
        if (end != NULL)
            continue;
        end = (char *)up_find(req, len, "\r\n\r\n");
        if (end != NULL) {
            cl = up_find(req, (size_t)(end - req), "\r\nContent-Length: ");
            need = (size_t)(end + 4 - req) +
                   (cl != NULL ? strtoul(cl + strlen("\r\nContent-Length: "), NULL, 10) : 0);
        }
    }
    if (end == NULL)
        goto out; /* no end of headers within MAX_REQUEST */
    pthread_mutex_lock(&up.lock);
    up.requests++;
    free(up.last);
    up.last = malloc(len);
    memcpy(up.last, req, len);
    up.last_len = len;
    pthread_mutex_unlock(&up.lock);
    if (strncmp(req, "GET /bytes/", strlen("GET /bytes/")) == 0) {
        answer_bytes(fd, req, (size_t)(end - req));
    } else {
        k = snprintf(out, sizeof(out), "ok %zu\n", len - (size_t)(end + 4 - req));
        n = snprintf(out + k + 1, sizeof(out) - (size_t)k - 1,
                     "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", k);
        if (up_send_all(fd, out + k + 1, (size_t)n) == 0)
            up_send_all(fd, out, (size_t)k);
    }
    shutdown(fd, SHUT_WR);
    while (recv(fd, req, cap, 0) > 0)
        ;
out:
    free(req);
}

static void serve_tls(int fd)
{
    unsigned char hdr[5], body[65536], reply[5 + 1000];

    while (up_recv_exact(fd, hdr, 5) == 0) {
        size_t len = (size_t)hdr[3] << 8 | hdr[4], rlen = hdr[0] == 23 ? 1000 : 100;

        if (up_recv_exact(fd, body, len) < 0)
            return;
        if (hdr[0] == 23) {
            pthread_mutex_lock(&up.lock);
            up.tls_app_bytes += len;
            up.requests++;
            pthread_mutex_unlock(&up.lock);
        }
        reply[0] = hdr[0];
        reply[1] = 3;
        reply[2] = 3;
        reply[3] = (unsigned char)(rlen >> 8);
        reply[4] = (unsigned char)rlen;
        memset(reply + 5, 'r', rlen);
        if (up_send_all(fd, reply, 5 + rlen) < 0)
            return;
    }
}

static void *serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    struct timeval tv = {5, 0};
    unsigned char first;

    /* Nothing here may wait for ever: a test that fails must still end. */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (recv(fd, &first, 1, MSG_PEEK) == 1) {
        if (first == 22)
            serve_tls(fd);
        else
            serve_http(fd);
    }
    close(fd);
    return NULL;
}

static void *upstream_main(void *arg)
{
    struct pollfd pfd[2] = {{up.fd, POLLIN, 0}, {up.wake[0], POLLIN, 0}};

    (void)arg;
    while (poll(pfd, 2, -1) >= 0 && !(pfd[1].revents & POLLIN)) {
        int fd = accept(up.fd, NULL, NULL);

        if (fd < 0)
            continue;
        pthread_mutex_lock(&up.lock);
        up.accepted++;
        pthread_mutex_unlock(&up.lock);
        if (up.nworkers == MAX_WORKERS ||
            pthread_create(&up.workers[up.nworkers], NULL, serve, (void *)(intptr_t)fd) != 0) {
            close(fd);
            continue;
        }
        up.nworkers++;
    }
    return NULL;
}

static int listen_loopback(int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 128) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) < 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

int up_start(int *port)
{
    up.fd = listen_loopback(&up.port);
    if (up.fd < 0 || pipe(up.wake) < 0)
        return -1;
    *port = up.port;
    return pthread_create(&up.thread, NULL, upstream_main, NULL) == 0 ? 0 : -1;
}

void up_stop(void)
{
    if (write(up.wake[1], "x", 1) == 1)
        pthread_join(up.thread, NULL);
    for (int i = 0; i < up.nworkers; i++)
        pthread_join(up.workers[i], NULL);
    close(up.fd);
    close(up.wake[0]);
    close(up.wake[1]);
    free(up.last);
    up.last = NULL;
}

static int get_int(const int *field)
{
    int v;

    pthread_mutex_lock(&up.lock);
    v = *field;
    pthread_mutex_unlock(&up.lock);
    return v;
}

int up_accepted(void)
{
    return get_int(&up.accepted);
}

int up_requests(void)
{
    return get_int(&up.requests);
}

/* Whether the last HTTP request the upstream received was exactly req. A
 * test asserts on the answer, never under the lock: a failing assertion
 * jumps out of the test and would leave it held. */
int up_last_is(const unsigned char *req, size_t len)
{
    int same;

    pthread_mutex_lock(&up.lock);
    same = up.last_len == len && memcmp(up.last, req, len) == 0;
    pthread_mutex_unlock(&up.lock);
    return same;
}

size_t up_tls_app_bytes(void)
{
    size_t v;

    pthread_mutex_lock(&up.lock);
    v = up.tls_app_bytes;
    pthread_mutex_unlock(&up.lock);
    return v;
}
