/* PERFORMANCE.md P1's client: N keep-alive connections (libcurl multi, one
 * easy handle each, one candidate token each) send requests back to back for
 * a while; prints requests/s and latency percentiles.
 *   loadgen URL_BASE TOKENS_FILE SECONDS save|noop
 * save: PUT /api/v1/answers/1 {"answer": "A"|"B", "rev": n++}, each
 * connection its own candidate; noop: GET /api/v1/time on the same
 * connections (the ceiling of the HTTP stack). Any answer but 200 counts as
 * an error. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CONN 1024

struct conn {
    CURL *easy;
    struct curl_slist *headers;
    char body[96];
    long rev;
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

static void arm(struct conn *c, const char *base, int save)
{
    char url[256];

    snprintf(url, sizeof(url), "%s%s", base, save ? "/api/v1/answers/1" : "/api/v1/time");
    curl_easy_setopt(c->easy, CURLOPT_URL, url);
    if (save) {
        c->rev++;
        snprintf(c->body, sizeof(c->body), "{\"answer\":\"%s\",\"rev\":%ld}",
                 c->rev % 2 ? "A" : "B", c->rev);
        curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
    }
}

int main(int argc, char **argv)
{
    static struct conn conns[MAX_CONN];
    static double lat[4000000];
    char line[256];
    size_t n = 0, done = 0, errors = 0;
    double start, end, seconds;
    CURLM *multi;
    FILE *f;
    int save, running;

    if (argc != 5 || (f = fopen(argv[2], "r")) == NULL) {
        fprintf(stderr, "usage: loadgen URL_BASE TOKENS_FILE SECONDS save|noop\n");
        return 2;
    }
    seconds = atof(argv[3]);
    save = strcmp(argv[4], "save") == 0;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)MAX_CONN);
    while (n < MAX_CONN && fgets(line, sizeof(line), f) != NULL) {
        struct conn *c = &conns[n];
        char auth[300];

        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            continue;
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", line);
        c->headers = curl_slist_append(NULL, auth);
        c->headers = curl_slist_append(c->headers, "Content-Type: application/json");
        c->easy = curl_easy_init();
        curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
        curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
        c->rev = (long)time(NULL) * 1000; /* above anything an earlier run stored */
        arm(c, argv[1], save);
        curl_multi_add_handle(multi, c->easy);
        n++;
    }
    fclose(f);
    start = now_s();
    end = start + seconds;
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
            if (m->data.result != CURLE_OK || status != 200)
                errors++;
            else if (done < sizeof(lat) / sizeof(lat[0]))
                lat[done++] = (double)t / 1000.0; /* ms */
            curl_multi_remove_handle(multi, c->easy);
            if (now_s() < end) {
                arm(c, argv[1], save);
                curl_multi_add_handle(multi, c->easy);
            }
        }
        if (running)
            curl_multi_poll(multi, NULL, 0, 100, NULL);
    } while (running || now_s() < end);
    seconds = now_s() - start;
    qsort(lat, done, sizeof(lat[0]), cmp);
    printf("%s %zu %.0f %.2f %.2f %zu\n", save ? "save" : "noop", n, (double)done / seconds,
           done ? lat[done / 2] : 0.0, done ? lat[done * 99 / 100] : 0.0, errors);
    for (size_t i = 0; i < n; i++) {
        curl_easy_cleanup(conns[i].easy);
        curl_slist_free_all(conns[i].headers);
    }
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return errors > done / 100 ? 1 : 0;
}
