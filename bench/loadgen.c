/* PERFORMANCE.md P1's and P2's client: N keep-alive connections (libcurl
 * multi, one easy handle each, one line of TOKENS_FILE each) send requests
 * back to back for a while; prints requests/s and latency percentiles.
 *   loadgen URL_BASE TOKENS_FILE SECONDS save|noop|signin|signin-burst
 *   loadgen URL_BASE TOKENS_FILE SECONDS signin-rate RATE
 * save: PUT /api/v1/answers/1 {"answer": "A"|"B", "rev": n++}, each
 * connection its own candidate (a line is a candidate token); noop: GET
 * /api/v1/time on the same connections (the ceiling of the HTTP stack);
 * signin: POST /api/v1/signin {"ticket", "id_number"}, each connection a
 * paired terminal signing in again and again the candidate of its seat (a
 * line is "TERMINAL_TOKEN TICKET ID_NUMBER"; signing in again at the same
 * seat is allowed and gives a new candidate token); signin-burst: the same
 * requests, but all connections at once every 100 ms, each burst waiting for
 * the one before (a room whose terminals sign in together, not back to
 * back: its requests/s is the offered load, not a capacity); signin-rate:
 * open loop, the same requests offered at RATE a second (the i-th due at
 * start + i / RATE, whatever became of the ones before), each sent for
 * the terminal whose last sign-in ended the longest ago (the terminals take
 * turns, each every N / RATE s while answers are quick; libcurl's pool
 * gives it any idle connection), its latency counted from when it was due,
 * not from when it went out (so a slow answer that holds the next ones back
 * shows in theirs: no coordinated omission); the N connections are opened
 * before the clock starts, by a GET of the time each, as a kiosk's is by its
 * page. Any answer but 200 counts as an error. At most RATE_MAX_TERMINALS
 * in this mode: its wait is select()'s, whose sets end at FD_SETSIZE. */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#define MAX_CONN           1024
#define RATE_MAX_TERMINALS 512
#define BURST_PERIOD_S     0.1

enum mode { NOOP, SAVE, SIGNIN, BURST, RATE };

static const char *const mode_names[] = {"noop", "save", "signin", "signin-burst", "signin-rate"};

struct conn {
    CURL *easy;
    struct curl_slist *headers;
    char body[256];
    long rev;
    double due; /* signin-rate: when its request was due */
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void sleep_until(double t)
{
    double d = t - now_s();
    struct timespec ts;

    if (d <= 0)
        return;
    ts.tv_sec = (time_t)d;
    ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
}

static void arm(struct conn *c, const char *base, enum mode mode)
{
    static const char *const paths[] = {"/api/v1/time", "/api/v1/answers/1", "/api/v1/signin",
                                        "/api/v1/signin", "/api/v1/signin"};
    char url[256];

    snprintf(url, sizeof(url), "%s%s", base, paths[mode]);
    curl_easy_setopt(c->easy, CURLOPT_URL, url);
    if (mode == SAVE) {
        c->rev++;
        snprintf(c->body, sizeof(c->body), "{\"answer\":\"%s\",\"rev\":%ld}",
                 c->rev % 2 ? "A" : "B", c->rev);
        curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
    } else if (mode == SIGNIN || mode == BURST || mode == RATE) {
        /* The body was written once (setup); POSTFIELDS does not copy it. */
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
    }
}

/* One line of TOKENS_FILE into c's Authorization header (and, for
 * sign-in, its body). -1 when the line does not fit the mode. */
static int setup(struct conn *c, char *line, enum mode mode)
{
    char auth[300], token[160], ticket[64], id[64];

    if (mode == SIGNIN || mode == BURST || mode == RATE) {
        if (sscanf(line, "%159s %63s %63s", token, ticket, id) != 3)
            return -1;
        snprintf(c->body, sizeof(c->body), "{\"ticket\":\"%s\",\"id_number\":\"%s\"}", ticket, id);
    } else if (sscanf(line, "%159s", token) != 1) {
        return -1;
    }
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    c->headers = curl_slist_append(NULL, auth);
    c->headers = curl_slist_append(c->headers, "Content-Type: application/json");
    c->easy = curl_easy_init();
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
    /* No SIGPIPE handler set and reset around each run of libcurl (two
     * sigaction calls each time): SIGPIPE is ignored once, in main. */
    curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
    c->rev = (long)time(NULL) * 1000000; /* above anything an earlier run (or wrk) stored */
    return 0;
}

/* Until one of multi's sockets is ready or s seconds have passed, to the
 * microsecond: curl_multi_poll() counts in milliseconds, and sleeping to the
 * next due time instead would leave the answers that come meanwhile unread,
 * adding up to the interval between two sign-ins (0.5 ms at 2,000/s) to
 * their latency. */
static void wait_sockets(CURLM *multi, double s)
{
    fd_set r, w, e;
    int maxfd = -1;
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};

    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&e);
    if (curl_multi_fdset(multi, &r, &w, &e, &maxfd) != CURLM_OK || maxfd < 0)
        nanosleep(&ts, NULL);
    else
        pselect(maxfd + 1, &r, &w, &e, &ts, NULL);
}

/* signin-rate's warm-up: the n requests added run to their end, not
 * counted; each connection stays open for the sign-ins. */
static void warm_up(CURLM *multi, size_t n)
{
    size_t left = n;

    while (left > 0) {
        CURLMsg *m;
        int running, queued;

        curl_multi_perform(multi, &running);
        while ((m = curl_multi_info_read(multi, &queued)) != NULL) {
            if (m->msg != CURLMSG_DONE)
                continue;
            curl_multi_remove_handle(multi, m->easy_handle);
            left--;
        }
        if (left > 0)
            curl_multi_poll(multi, NULL, 0, 100, NULL);
    }
}

int main(int argc, char **argv)
{
    static struct conn conns[MAX_CONN];
    static struct conn *idle[MAX_CONN]; /* signin-rate: a ring, the longest free first */
    static double lat[4000000];
    char line[256];
    size_t n = 0, done = 0, errors = 0, active = 0, n_idle = 0, idle_head = 0, sent = 0;
    double start, end, seconds, burst, rate = 0;
    FILE *dump = NULL;
    CURLM *multi;
    FILE *f;
    int running;
    long first_error = 0;
    enum mode mode = NOOP;

    while (argc >= 5 && mode <= RATE && strcmp(argv[4], mode_names[mode]) != 0)
        mode++;
    if (mode == RATE && argc == 6)
        rate = atof(argv[5]);
    if (argc != (mode == RATE ? 6 : 5) || mode > RATE || (mode == RATE && rate <= 0) ||
        (f = fopen(argv[2], "r")) == NULL) {
        fprintf(stderr, "usage: loadgen URL_BASE TOKENS_FILE SECONDS "
                        "save|noop|signin|signin-burst|signin-rate RATE\n");
        return 2;
    }
    seconds = atof(argv[3]);
    signal(SIGPIPE, SIG_IGN); /* a send on a closed connection is an error, not the end */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)MAX_CONN);
    while (n < MAX_CONN && fgets(line, sizeof(line), f) != NULL) {
        struct conn *c = &conns[n];

        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || setup(c, line, mode) < 0)
            continue;
        n++;
        /* signin-rate: a connection opened first by a GET of the time, as a
         * kiosk's is by its page, so that no sign-in's latency holds a TCP
         * handshake; the sign-ins are then sent when due. */
        arm(c, argv[1], mode == RATE ? NOOP : mode);
        curl_multi_add_handle(multi, c->easy);
    }
    fclose(f);
    if (mode == RATE && n > RATE_MAX_TERMINALS) {
        fprintf(stderr, "loadgen: signin-rate takes at most %d terminals\n", RATE_MAX_TERMINALS);
        return 2;
    }
    if (mode == RATE) {
        warm_up(multi, n);
        for (size_t i = 0; i < n; i++)
            idle[n_idle++] = &conns[i];
    }
    active = mode == RATE ? 0 : n;
    start = burst = now_s();
    end = start + seconds;
    /* LOADGEN_DUMP=FILE (signin-rate): each sign-in's due time (CLOCK_MONOTONIC,
     * seconds, as perf's -k CLOCK_MONOTONIC stamps its samples) and latency
     * (ms), to find what the daemon was doing during a stall. */
    dump = getenv("LOADGEN_DUMP") != NULL ? fopen(getenv("LOADGEN_DUMP"), "w") : NULL;
    do {
        CURLMsg *m;
        int left;

        curl_multi_perform(multi, &running);
        while ((m = curl_multi_info_read(multi, &left)) != NULL) {
            struct conn *c;
            long status = 0;
            curl_off_t t = 0;

            if (m->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            curl_easy_getinfo(m->easy_handle, CURLINFO_TOTAL_TIME_T, &t);
            if (m->data.result != CURLE_OK || status != 200) {
                if (errors++ == 0)
                    first_error = m->data.result != CURLE_OK ? -(long)m->data.result : status;
            } else if (done < sizeof(lat) / sizeof(lat[0])) {
                lat[done] = mode == RATE ? (now_s() - c->due) * 1000.0 : (double)t / 1000.0;
                if (dump != NULL && mode == RATE)
                    fprintf(dump, "%.6f %.3f\n", c->due, lat[done]);
                done++;
            }
            curl_multi_remove_handle(multi, c->easy);
            active--;
            if (mode == RATE) {
                idle[(idle_head + n_idle++) % MAX_CONN] = c;
            } else if (mode != BURST && now_s() < end) {
                arm(c, argv[1], mode);
                curl_multi_add_handle(multi, c->easy);
                active++;
            }
        }
        if (mode == BURST && active == 0 && n > 0) {
            burst += BURST_PERIOD_S;
            sleep_until(burst);
            for (size_t i = 0; i < n && now_s() < end; i++) {
                arm(&conns[i], argv[1], mode);
                curl_multi_add_handle(multi, conns[i].easy);
                active++;
            }
        }
        /* signin-rate: every request due by now, each on a free connection
         * (those due while none is free wait, their clock running). */
        while (mode == RATE && n_idle > 0 && start + (double)sent / rate <= now_s() &&
               start + (double)sent / rate < end) {
            struct conn *c = idle[idle_head];

            idle_head = (idle_head + 1) % MAX_CONN;
            n_idle--;

            c->due = start + (double)sent++ / rate;
            arm(c, argv[1], mode);
            curl_multi_add_handle(multi, c->easy);
            active++;
        }
        if (running || mode == RATE) {
            int wait_ms = 100;

            if (mode == RATE && n_idle > 0) { /* until the next is due */
                double next = start + (double)sent / rate - now_s();

                wait_ms = next <= 0 ? 0 : 100;
                if (next > 0 && next < 0.1) {
                    wait_sockets(multi, next);
                    continue;
                }
            }
            curl_multi_poll(multi, NULL, 0, wait_ms, NULL);
        }
    } while (running || active > 0 || now_s() < end);
    seconds = now_s() - start;
    if (dump != NULL)
        fclose(dump);
    qsort(lat, done, sizeof(lat[0]), cmp);
    printf("%s %zu %.0f %.2f %.2f %zu\n", mode_names[mode], n, (double)done / seconds,
           done ? lat[done / 2] : 0.0, done ? lat[done * 99 / 100] : 0.0, errors);
    if (errors > 0) /* what went wrong, for whoever reads the bench's output */
        fprintf(stderr, "loadgen: %zu errors, the first %s %ld\n", errors,
                first_error < 0 ? "curl error" : "HTTP status", labs(first_error));
    for (size_t i = 0; i < n; i++) {
        curl_easy_cleanup(conns[i].easy);
        curl_slist_free_all(conns[i].headers);
    }
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return errors > done / 100 ? 1 : 0;
}
