/* bench_ui.sh's client for the console's live feed: N connections to
 * 127.0.0.1:PORT, each `GET /admin/v1/events` with the admin token, each
 * read until its first "event: room" has arrived (10 s at most). Then it
 * prints "connected N got M" (M: how many had their first event), keeps
 * them all open HOLD seconds, reading whatever comes, and closes them.
 *   feedclients PORT TOKEN N HOLD
 * Exits 1 unless every connection got its first event. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS  4096
#define FIRST_WAIT_S 10.0

struct client {
    int fd;
    int got;        /* its first event has arrived */
    char seen[512]; /* the start of what it read */
    size_t n;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_feed(int port, const char *token)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    char req[512];
    int fd = socket(AF_INET, SOCK_STREAM, 0), len;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = snprintf(req, sizeof(req),
                   "GET /admin/v1/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   "Authorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n",
                   port, token);
    if (fd < 0 || len <= 0 || (size_t)len >= sizeof(req) ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || write(fd, req, (size_t)len) != len) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Reads what c has; 0 at its end or on an error. */
static int drain(struct client *c)
{
    char buf[4096];
    ssize_t r = read(c->fd, buf, sizeof(buf));

    if (r <= 0)
        return 0;
    if (!c->got) {
        size_t k = (size_t)r < sizeof(c->seen) - 1 - c->n ? (size_t)r : sizeof(c->seen) - 1 - c->n;

        memcpy(c->seen + c->n, buf, k);
        c->n += k;
        c->seen[c->n] = '\0';
        c->got = strstr(c->seen, "\r\n\r\n") != NULL && strstr(c->seen, "event: room\n") != NULL &&
                 strncmp(c->seen, "HTTP/1.1 200", 12) == 0;
    }
    return 1;
}

/* Polls every open client for up to `until`, stopping early once all got
 * their first event if `first`. */
static void pump(struct client *cl, struct pollfd *pf, int n, double until, int first)
{
    for (;;) {
        int got = 0, open = 0, left = (int)((until - now_s()) * 1000);

        for (int i = 0; i < n; i++) {
            pf[i].fd = cl[i].fd;
            pf[i].events = POLLIN;
            got += cl[i].got;
            open += cl[i].fd >= 0;
        }
        if (left <= 0 || open == 0 || (first && got == n))
            return;
        if (poll(pf, (nfds_t)n, left > 200 ? 200 : left) < 0)
            return;
        for (int i = 0; i < n; i++)
            if (cl[i].fd >= 0 && (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) && !drain(&cl[i])) {
                close(cl[i].fd);
                cl[i].fd = -1;
            }
    }
}

int main(int argc, char **argv)
{
    int port, n, hold, got = 0;
    struct client *cl;
    struct pollfd *pf;

    if (argc != 5 || (port = atoi(argv[1])) <= 0 || (n = atoi(argv[3])) <= 0 || n > MAX_CLIENTS ||
        (hold = atoi(argv[4])) < 0) {
        fprintf(stderr, "usage: feedclients PORT TOKEN N HOLD_SECONDS\n");
        return 2;
    }
    cl = calloc((size_t)n, sizeof(*cl));
    pf = calloc((size_t)n, sizeof(*pf));
    if (cl == NULL || pf == NULL)
        return 2;
    for (int i = 0; i < n; i++)
        cl[i].fd = open_feed(port, argv[2]);
    pump(cl, pf, n, now_s() + FIRST_WAIT_S, 1);
    for (int i = 0; i < n; i++)
        got += cl[i].got;
    printf("connected %d got %d\n", n, got);
    fflush(stdout);
    pump(cl, pf, n, now_s() + hold, 0);
    for (int i = 0; i < n; i++)
        if (cl[i].fd >= 0)
            close(cl[i].fd);
    free(cl);
    free(pf);
    return got == n ? 0 : 1;
}
