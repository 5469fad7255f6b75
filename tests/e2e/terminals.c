/* Simulated exam terminals for the crash test (tests/e2e/crash.sh): one
 * keep-alive connection per signed-in candidate, answering the candidate's
 * paper item after item as fast as the room acknowledges, through kills and
 * restarts of the daemon.
 *   terminals run URL TOKENS ACKLOG STOPFILE
 *     answers until STOPFILE exists; every 200 is appended to ACKLOG
 *     ("INDEX ITEM REV ANSWER") before the next request of that candidate,
 *     so ACKLOG holds exactly what the room promised to keep. A failed
 *     request (refused, reset, 503) is retried as a new rev after 50 ms; a
 *     409 takes the stored rev; a 423 ends that candidate (not running).
 *   terminals check URL TOKENS ACKLOG ROOM_DB
 *     counts every acknowledged answer the room does not have: each must be
 *     in the store's answer log (every accepted change, append-only; read
 *     from ROOM_DB, the room's SQLite file, read-only beside the daemon),
 *     and the latest of each item must be what GET /api/v1/exam gives back
 *     (or older than it). Exit 1 if any is missing.
 *   terminals score URL TOKENS PAPERS_DIR
 *     one line per candidate: "INDEX SCORE", the score of the answers the
 *     room holds now, computed here from the plan's papers (PAPERS_DIR/
 *     *.json, matched by title) and their keys: an answer scores its item's
 *     points when it equals the key.
 *   terminals state URL TOKENS
 *     one line per candidate: "INDEX STATE REMAINING_SECONDS LOCAL_MS",
 *     LOCAL_MS this process's wall clock when the answer came (the room's
 *     clock may be shifted under test; this one is not).
 * TOKENS has one candidate token per line; INDEX is the line's number from 0. */
#include "crypto.h"

#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CAND  256
#define MAX_ITEMS 200

struct item {
    char id[48];
    int kind; /* 0 single, 1 multiple, 2 judge */
    int options;
    long rev;
};

struct cand {
    CURL *easy;
    struct curl_slist *headers;
    char token[96];
    struct item items[MAX_ITEMS];
    size_t n_items, next;
    char body[128], answer[16], *reply;
    size_t reply_len;
    long sent_rev;
    struct item *sent;
    double wait_until;
    int done;
};

static struct cand cands[MAX_CAND];
static size_t n_cands;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    struct cand *c = arg;
    char *grown = realloc(c->reply, c->reply_len + size * n + 1);

    if (grown == NULL)
        return 0;
    c->reply = grown;
    memcpy(c->reply + c->reply_len, p, size * n);
    c->reply_len += size * n;
    c->reply[c->reply_len] = '\0';
    return size * n;
}

static void reset_reply(struct cand *c)
{
    free(c->reply);
    c->reply = NULL;
    c->reply_len = 0;
}

static int load_tokens(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256];

    if (f == NULL) {
        perror(path);
        return -1;
    }
    while (n_cands < MAX_CAND && fgets(line, sizeof(line), f) != NULL) {
        struct cand *c = &cands[n_cands];
        char auth[160];

        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || strlen(line) >= sizeof(c->token))
            continue;
        memcpy(c->token, line, strlen(line) + 1);
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
        c->headers = curl_slist_append(NULL, auth);
        c->headers = curl_slist_append(c->headers, "Content-Type: application/json");
        c->easy = curl_easy_init();
        curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
        curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
        curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
        curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, 10000L);
        n_cands++;
    }
    fclose(f);
    return n_cands > 0 ? 0 : -1;
}

/* GET /api/v1/exam for c, blocking: the parsed answer, or NULL. */
static json_t *get_exam(struct cand *c, const char *base, long *status)
{
    char url[256];
    json_t *doc;

    snprintf(url, sizeof(url), "%s/api/v1/exam", base);
    reset_reply(c);
    curl_easy_setopt(c->easy, CURLOPT_URL, url);
    curl_easy_setopt(c->easy, CURLOPT_HTTPGET, 1L);
    if (curl_easy_perform(c->easy) != CURLE_OK)
        return NULL;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, status);
    doc = json_loadb(c->reply ? c->reply : "", c->reply_len, 0, NULL);
    reset_reply(c);
    return doc;
}

/* The paper's items and the stored revs, so new answers go above them. */
static int load_paper(struct cand *c, const char *base)
{
    long status = 0;
    json_t *doc = get_exam(c, base, &status), *items, *it, *answers;
    size_t i;

    items = json_object_get(json_object_get(doc, "paper"), "items");
    answers = json_object_get(doc, "answers");
    if (status != 200 || !json_is_array(items)) {
        json_decref(doc);
        return -1;
    }
    json_array_foreach(items, i, it)
    {
        struct item *m = &c->items[c->n_items];
        const char *type = json_string_value(json_object_get(it, "type"));
        const char *id = json_string_value(json_object_get(it, "id"));

        if (c->n_items == MAX_ITEMS || type == NULL || id == NULL || strlen(id) >= sizeof(m->id))
            break;
        snprintf(m->id, sizeof(m->id), "%s", id);
        m->kind = strcmp(type, "single") == 0 ? 0 : strcmp(type, "multiple") == 0 ? 1 : 2;
        m->options = (int)(json_is_object(json_object_get(it, "options"))
                               ? json_object_size(json_object_get(it, "options"))
                               : json_array_size(json_object_get(it, "options")));
        if (m->kind < 2 && m->options < 2)
            continue;
        m->rev = (long)json_integer_value(json_object_get(json_object_get(answers, m->id), "rev"));
        c->n_items++;
    }
    json_decref(doc);
    return c->n_items > 0 ? 0 : -1;
}

/* The next PUT of c: its next item, one rev up, an answer that fits. */
static void arm(struct cand *c, const char *base)
{
    struct item *m = &c->items[c->next++ % c->n_items];
    char url[256];
    int r = rand();

    if (m->kind == 2) {
        snprintf(c->answer, sizeof(c->answer), "%s", r % 2 ? "T" : "F");
    } else if (m->kind == 0) {
        c->answer[0] = (char)('A' + r % m->options);
        c->answer[1] = '\0';
    } else {
        size_t n = 0;
        int mask = 1 + r % ((1 << m->options) - 1); /* not empty */

        for (int o = 0; o < m->options && n + 1 < sizeof(c->answer); o++)
            if (mask & (1 << o))
                c->answer[n++] = (char)('A' + o);
        c->answer[n] = '\0';
    }
    c->sent = m;
    c->sent_rev = m->rev + 1;
    snprintf(url, sizeof(url), "%s/api/v1/answers/%s", base, m->id);
    snprintf(c->body, sizeof(c->body), "{\"answer\":\"%s\",\"rev\":%ld}", c->answer, c->sent_rev);
    reset_reply(c);
    curl_easy_setopt(c->easy, CURLOPT_URL, url);
    curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
}

static int run(const char *base, const char *acklog, const char *stopfile)
{
    CURLM *multi = curl_multi_init();
    int fd = open(acklog, O_WRONLY | O_CREAT | O_APPEND, 0644), running = 0, active = 0;
    size_t acks = 0, failures = 0, conflicts = 0;

    if (fd < 0) {
        perror(acklog);
        return 2;
    }
    for (size_t i = 0; i < n_cands; i++) {
        if (load_paper(&cands[i], base) < 0) {
            fprintf(stderr, "terminals: candidate %zu: no paper to answer\n", i);
            return 2;
        }
        cands[i].next = (size_t)rand();
        arm(&cands[i], base);
        curl_multi_add_handle(multi, cands[i].easy);
        active++;
    }
    while (active > 0) {
        int stopping = access(stopfile, F_OK) == 0, left;
        CURLMsg *m;

        curl_multi_perform(multi, &running);
        while ((m = curl_multi_info_read(multi, &left)) != NULL) {
            struct cand *c;
            long status = 0;

            if (m->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            curl_multi_remove_handle(multi, c->easy);
            if (m->data.result == CURLE_OK && status == 200) {
                char line[128];
                int n = snprintf(line, sizeof(line), "%zu %s %ld %s\n", (size_t)(c - cands),
                                 c->sent->id, c->sent_rev, c->answer);

                if (write(fd, line, (size_t)n) != n) {
                    perror(acklog);
                    return 2;
                }
                c->sent->rev = c->sent_rev;
                acks++;
            } else if (m->data.result == CURLE_OK && status == 409) {
                json_t *doc = json_loads(c->reply ? c->reply : "", 0, NULL);

                c->sent->rev = (long)json_integer_value(json_object_get(doc, "rev"));
                json_decref(doc);
                conflicts++;
            } else if (m->data.result == CURLE_OK && status == 423) {
                c->done = 1;
            } else {
                /* Unknown fate (the daemon died with it, or refused it): the
                 * next try goes one rev higher, after a pause. */
                c->sent->rev = c->sent_rev;
                c->wait_until = now_s() + 0.05;
                failures++;
            }
            if (stopping || c->done) {
                c->wait_until = 0;
                active--;
            } else if (c->wait_until == 0)
                arm(c, base), curl_multi_add_handle(multi, c->easy);
        }
        for (size_t i = 0; i < n_cands && !stopping; i++) {
            struct cand *c = &cands[i];

            if (c->wait_until != 0 && now_s() >= c->wait_until) {
                c->wait_until = 0;
                arm(c, base);
                curl_multi_add_handle(multi, c->easy);
            }
        }
        if (stopping)
            for (size_t i = 0; i < n_cands; i++)
                if (cands[i].wait_until != 0) {
                    cands[i].wait_until = 0;
                    active--;
                }
        curl_multi_poll(multi, NULL, 0, 20, NULL);
    }
    close(fd);
    curl_multi_cleanup(multi);
    printf("terminals: %zu candidates, %zu answers acknowledged, %zu failed (daemon down), "
           "%zu conflicts\n",
           n_cands, acks, failures, conflicts);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The store's answer log as sorted "CANDIDATE_ID ITEM REV ANSWER" lines,
 * and each token's candidate id (its sign-in, by the token's key: crypto.h). */
static char **read_log(const char *db_path, long long *ids, size_t *n_out)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char **rows = NULL;
    size_t n = 0, cap = 0;

    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "terminals: %s: %s\n", db_path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_prepare_v2(db, "SELECT candidate_id FROM signins WHERE token_hash = ?", -1, &st, NULL);
    for (size_t i = 0; i < n_cands; i++) {
        uint8_t key[32];

        crypto_token_key(cands[i].token, key);
        sqlite3_reset(st);
        sqlite3_bind_blob(st, 1, key, sizeof(key), SQLITE_STATIC);
        ids[i] = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    }
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db, "SELECT candidate_id, item, rev, answer FROM answer_log", -1, &st, NULL);
    while (sqlite3_step(st) == SQLITE_ROW) {
        char line[128];

        if (n == cap) {
            char **grown = realloc(rows, (cap = cap ? cap * 2 : 4096) * sizeof(*rows));

            if (grown == NULL)
                break;
            rows = grown;
        }
        snprintf(line, sizeof(line), "%lld %s %lld %s", (long long)sqlite3_column_int64(st, 0),
                 (const char *)sqlite3_column_text(st, 1), (long long)sqlite3_column_int64(st, 2),
                 (const char *)sqlite3_column_text(st, 3));
        rows[n++] = strdup(line);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    qsort(rows, n, sizeof(*rows), cmp_str);
    *n_out = n;
    return rows;
}

static int check(const char *base, const char *acklog, const char *db_path)
{
    long long *ids = calloc(n_cands, sizeof(*ids));
    size_t n_log = 0, not_logged = 0;
    char **log = ids != NULL ? read_log(db_path, ids, &n_log) : NULL;
    FILE *f = fopen(acklog, "r");
    json_t **answers = calloc(n_cands, sizeof(*answers));
    size_t acks = 0, lost = 0, i;
    char item[64], answer[32];
    long rev;

    if (f == NULL || answers == NULL) {
        perror(acklog);
        return 2;
    }
    for (i = 0; i < n_cands; i++) {
        long status = 0;
        json_t *doc = get_exam(&cands[i], base, &status);

        if (doc == NULL || status != 200) {
            fprintf(stderr, "terminals: candidate %zu: GET /api/v1/exam answered %ld\n", i, status);
            return 2;
        }
        answers[i] = json_incref(json_object_get(doc, "answers"));
        json_decref(doc);
    }
    if (log == NULL)
        return 2;
    while (fscanf(f, "%zu %63s %ld %31s", &i, item, &rev, answer) == 4) {
        json_t *got = i < n_cands ? json_object_get(answers[i], item) : NULL;
        char want[128], *key = want;

        snprintf(want, sizeof(want), "%lld %s %ld %s", i < n_cands ? ids[i] : -1, item, rev,
                 answer);
        if (bsearch(&key, log, n_log, sizeof(*log), cmp_str) == NULL && not_logged++ < 10)
            printf("NOT IN THE LOG: candidate %zu item %s rev %ld answer %s\n", i, item, rev,
                   answer);
        long stored = (long)json_integer_value(json_object_get(got, "rev"));
        const char *kept = json_string_value(json_object_get(got, "answer"));

        acks++;
        if (got == NULL || stored < rev || (stored == rev && strcmp(kept ? kept : "", answer))) {
            if (lost++ < 10)
                printf("LOST: candidate %zu item %s rev %ld answer %s (room has rev %ld %s)\n", i,
                       item, rev, answer, stored, kept ? kept : "nothing");
        }
    }
    fclose(f);
    for (i = 0; i < n_cands; i++)
        json_decref(answers[i]);
    free(answers);
    for (i = 0; i < n_log; i++)
        free(log[i]);
    free(log);
    free(ids);
    lost += not_logged;
    printf("terminals: %zu acknowledged answers checked against %zu logged changes, %zu not "
           "logged, %zu lost\n",
           acks, n_log, not_logged, lost);
    return lost == 0 && acks > 0 ? 0 : 1;
}

static int score(const char *base, const char *papers_dir)
{
    DIR *dir = opendir(papers_dir);
    json_t *papers = json_object();
    struct dirent *e;

    if (dir == NULL) {
        perror(papers_dir);
        return 2;
    }
    while ((e = readdir(dir)) != NULL) {
        char path[512];
        json_t *p;
        size_t n = strlen(e->d_name);

        if (n < 5 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", papers_dir, e->d_name);
        p = json_load_file(path, 0, NULL);
        if (json_string_value(json_object_get(p, "title")) != NULL)
            json_object_set(papers, json_string_value(json_object_get(p, "title")), p);
        json_decref(p);
    }
    closedir(dir);
    for (size_t i = 0; i < n_cands; i++) {
        long status = 0, points = 0;
        json_t *doc = get_exam(&cands[i], base, &status), *it;
        json_t *paper = json_object_get(
            papers, json_string_value(json_object_get(json_object_get(doc, "paper"), "title")));
        json_t *answers = json_object_get(doc, "answers");
        size_t k;

        if (paper == NULL) {
            fprintf(stderr, "terminals: candidate %zu: no paper to score (%ld)\n", i, status);
            json_decref(doc);
            json_decref(papers);
            return 2;
        }
        json_array_foreach(json_object_get(paper, "items"), k, it)
        {
            const char *a = json_string_value(json_object_get(
                json_object_get(answers, json_string_value(json_object_get(it, "id"))), "answer"));
            const char *key = json_string_value(json_object_get(it, "key"));

            if (a != NULL && key != NULL && strcmp(a, key) == 0)
                points += (long)json_integer_value(json_object_get(it, "points"));
        }
        printf("%zu %ld\n", i, points);
        json_decref(doc);
    }
    json_decref(papers);
    return 0;
}

static int state(const char *base)
{
    for (size_t i = 0; i < n_cands; i++) {
        long status = 0;
        json_t *doc = get_exam(&cands[i], base, &status);
        const char *s = json_string_value(json_object_get(doc, "state"));

        printf("%zu %s %lld %lld\n", i, s ? s : "none",
               (long long)json_integer_value(json_object_get(doc, "remaining_seconds")), wall_ms());
        json_decref(doc);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 2;

    if (argc < 4) {
        fprintf(stderr,
                "usage: terminals run URL TOKENS ACKLOG STOPFILE | check URL TOKENS ACKLOG ROOM_DB"
                " | score URL TOKENS PAPERS_DIR | state URL TOKENS\n");
        return 2;
    }
    srand((unsigned)getpid());
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (load_tokens(argv[3]) == 0) {
        if (strcmp(argv[1], "run") == 0 && argc == 6)
            rc = run(argv[2], argv[4], argv[5]);
        else if (strcmp(argv[1], "check") == 0 && argc == 6)
            rc = check(argv[2], argv[4], argv[5]);
        else if (strcmp(argv[1], "score") == 0 && argc == 5)
            rc = score(argv[2], argv[4]);
        else if (strcmp(argv[1], "state") == 0 && argc == 4)
            rc = state(argv[2]);
    }
    for (size_t i = 0; i < n_cands; i++) {
        reset_reply(&cands[i]);
        curl_easy_cleanup(cands[i].easy);
        curl_slist_free_all(cands[i].headers);
    }
    curl_global_cleanup();
    return rc;
}
