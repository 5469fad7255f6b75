/* The connection flood of SECURITY.md "The LAN", and a terminal saving
 * through it (tests/e2e/flood.sh). Plain sockets, each bound to a loopback
 * source address so that the daemon sees one PC per address.
 *
 *   flooder flood PORT SRC IDLE SLOW SECONDS
 *     holds IDLE connections that send nothing and SLOW that send a request's
 *     headers one byte every 2 s (slowloris), from SRC, for SECONDS; any the
 *     daemon closes is opened again 200 ms later. Prints what it saw.
 *   flooder save PORT SRC TOKEN SECONDS
 *     a signed-in candidate (TOKEN) at SRC: reads the paper, then saves an
 *     answer every 200 ms for SECONDS, each on a new connection, 3 s at most
 *     each. Prints "saves: OK/ALL answered 200, worst N ms" and exits 0 only
 *     if every save was answered 200 within 3 s.
 * Loopback only: SRC must be in 127.0.0.0/8, and the daemon is 127.0.0.1. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLOW_EVERY_MS 2000
#define REOPEN_MS     200 /* a connection the daemon closed is opened again after */
#define SAVE_EVERY_MS 200
#define SAVE_LIMIT_MS 3000

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct sockaddr_in server, source;

static int loopback_addresses(const char *port, const char *src)
{
    long p = strtol(port, NULL, 10);

    server = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    source = (struct sockaddr_in){.sin_family = AF_INET};
    if (p <= 0 || p > 65535 || inet_pton(AF_INET, src, &source.sin_addr) != 1 ||
        (ntohl(source.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "flooder: a port, and a source address in 127.0.0.0/8\n");
        return -1;
    }
    return 0;
}

/* A socket from the source address to the daemon, connecting. */
static int open_conn(int nonblock)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    int one = 1;

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&source, sizeof(source)) < 0 ||
        (connect(fd, (struct sockaddr *)&server, sizeof(server)) < 0 && errno != EINPROGRESS)) {
        close(fd);
        return -1;
    }
    return fd;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* ---- the flood ---- */

struct flood_conn {
    int fd, slow;
    size_t sent;
    int64_t next;
};

static const char slow_request[] =
    "PUT /api/v1/answers/1 HTTP/1.1\r\nHost: room\r\n"
    "X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";

static int flood(int n_idle, int n_slow, int seconds)
{
    int n = n_idle + n_slow;
    struct flood_conn *c = calloc((size_t)n, sizeof(*c));
    struct pollfd *p = calloc((size_t)n, sizeof(*p));
    int64_t end = now_ms() + (int64_t)seconds * 1000;
    long opened = 0, closed = 0, failed = 0, bytes = 0;
    char buf[4096];

    if (c == NULL || p == NULL)
        return 1;
    /* Idle and slow ones in turn (the rest of the larger kind last), so
     * that the daemon's share for this address holds some of each. */
    for (int i = 0, both = 2 * (n_idle < n_slow ? n_idle : n_slow); i < n; i++)
        c[i] = (struct flood_conn){.fd = -1, .slow = i < both ? i % 2 : n_slow > n_idle};
    while (now_ms() < end) {
        int64_t t = now_ms();

        for (int i = 0; i < n; i++) {
            if (c[i].fd < 0 && t >= c[i].next) {
                c[i].fd = open_conn(1);
                c[i].sent = 0;
                c[i].next = t + SLOW_EVERY_MS;
                if (c[i].fd < 0)
                    failed++;
                else
                    opened++;
            } else if (c[i].slow && t >= c[i].next) {
                /* One byte, then wait; the headers never end. */
                if (send(c[i].fd, slow_request + c[i].sent % (sizeof(slow_request) - 1), 1,
                         MSG_NOSIGNAL) == 1)
                    bytes++, c[i].sent++;
                c[i].next = t + SLOW_EVERY_MS;
            }
            p[i] = (struct pollfd){.fd = c[i].fd, .events = POLLIN};
        }
        if (poll(p, (nfds_t)n, 50) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            if (c[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (recv(c[i].fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
                continue; /* an answer (408, say): the close follows */
            close(c[i].fd);
            c[i].fd = -1;
            c[i].next = now_ms() + REOPEN_MS;
            closed++;
        }
    }
    printf("flood: %ld connections opened (%ld closed by the daemon, %ld failed), %ld slow bytes\n",
           opened, closed, failed, bytes);
    for (int i = 0; i < n; i++)
        if (c[i].fd >= 0)
            close(c[i].fd);
    free(c);
    free(p);
    return 0;
}

/* ---- the terminal ---- */

/* One request on a new connection; the whole answer in buf. The status, or
 * -1 (refused, reset, SAVE_LIMIT_MS over). */
static int request(const char *head, const char *body, char *buf, size_t bufsz)
{
    struct timeval tv = {SAVE_LIMIT_MS / 1000, 0};
    int fd = open_conn(0), status = -1;
    size_t got = 0;
    ssize_t r;

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (send(fd, head, strlen(head), MSG_NOSIGNAL) == (ssize_t)strlen(head) &&
        send(fd, body, strlen(body), MSG_NOSIGNAL) == (ssize_t)strlen(body)) {
        while (got + 1 < bufsz && (r = recv(fd, buf + got, bufsz - 1 - got, 0)) > 0)
            got += (size_t)r;
        buf[got] = '\0';
        if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
            status = -1;
    }
    close(fd);
    return status;
}

/* The first single-choice item of the candidate's paper, and its rev. */
static int first_item(const char *token, char *id, size_t idsz, long *rev)
{
    static char buf[1 << 20];
    char head[512];
    const char *body;
    json_t *doc, *it;
    size_t i;
    int found = -1;

    snprintf(head, sizeof(head),
             "GET /api/v1/exam HTTP/1.1\r\nHost: room\r\nAuthorization: Bearer %s\r\n"
             "Connection: close\r\n\r\n",
             token);
    if (request(head, "", buf, sizeof(buf)) != 200 || (body = strstr(buf, "\r\n\r\n")) == NULL)
        return -1;
    doc = json_loads(body + 4, 0, NULL);
    json_array_foreach(json_object_get(json_object_get(doc, "paper"), "items"), i, it)
    {
        if (found == 0 || strcmp(json_string_value(json_object_get(it, "type")), "single") != 0)
            continue;
        snprintf(id, idsz, "%s", json_string_value(json_object_get(it, "id")));
        *rev = (long)json_integer_value(
            json_object_get(json_object_get(json_object_get(doc, "answers"), id), "rev"));
        found = 0;
    }
    json_decref(doc);
    return found;
}

static int save(const char *token, int seconds)
{
    char id[64], head[512], body[64], buf[4096];
    long rev = 0, ok = 0, all = 0, worst = 0;
    int64_t end;

    if (first_item(token, id, sizeof(id), &rev) < 0) {
        fprintf(stderr, "flooder: the paper cannot be read\n");
        return 1;
    }
    end = now_ms() + (int64_t)seconds * 1000;
    while (now_ms() < end) {
        int64_t t0 = now_ms(), took;
        int status;

        snprintf(body, sizeof(body), "{\"answer\":\"%c\",\"rev\":%ld}", "AB"[rev % 2], rev + 1);
        snprintf(
            head, sizeof(head),
            "PUT /api/v1/answers/%s HTTP/1.1\r\nHost: room\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
            id, token, strlen(body));
        status = request(head, body, buf, sizeof(buf));
        took = now_ms() - t0;
        all++;
        if (status == 200 && took <= SAVE_LIMIT_MS) {
            ok++;
            rev++;
        } else {
            printf("save %ld: status %d after %lld ms\n", all, status, (long long)took);
        }
        if (took > worst)
            worst = took;
        if (took < SAVE_EVERY_MS)
            usleep((useconds_t)(SAVE_EVERY_MS - took) * 1000);
    }
    printf("saves: %ld/%ld answered 200, worst %ld ms\n", ok, all, worst);
    return ok == all && all > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    raise_fd_limit();
    if (argc == 7 && strcmp(argv[1], "flood") == 0 && loopback_addresses(argv[2], argv[3]) == 0)
        return flood(atoi(argv[4]), atoi(argv[5]), atoi(argv[6]));
    if (argc == 6 && strcmp(argv[1], "save") == 0 && loopback_addresses(argv[2], argv[3]) == 0)
        return save(argv[4], atoi(argv[5]));
    fprintf(stderr, "usage: flooder flood PORT SRC IDLE SLOW SECONDS\n"
                    "       flooder save PORT SRC TOKEN SECONDS\n");
    return 2;
}
