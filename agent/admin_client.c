/* The proctor commands' side of the local admin channel: one call to the
 * running daemon over loopback, with the token serve keeps in the data
 * directory (0600). */
#include "agent.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reply {
    char *body;
    size_t len;
};

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    struct reply *r = arg;
    char *b = realloc(r->body, r->len + size * n + 1);

    if (b == NULL)
        return 0;
    r->body = b;
    memcpy(r->body + r->len, p, size * n);
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

static int read_line(const struct room *r, const char *name, char *out, size_t outsz)
{
    char path[ROOM_PATH_MAX];
    FILE *f;

    if (room_path(r, name, path) < 0 || (f = fopen(path, "r")) == NULL)
        return ER_DAEMON_DOWN;
    if (fgets(out, (int)outsz, f) == NULL) {
        fclose(f);
        return ER_DAEMON_DOWN;
    }
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

/* A refusal: the room's message; the advice to retry only where a retry
 * can go otherwise (the room busy or its disk failing, not yet the time);
 * not where it cannot (no such candidate, done already, wrong input: the
 * message says what to do instead). */
int room_admin_outcome(const struct cli_ctx *ctx, int rc, long status, json_t *doc)
{
    const char *m = json_string_value(json_object_get(doc, "message"));

    if (rc == 0 && status != 200 &&
        (status >= 500 || status == 423 || status == 429 || m == NULL)) {
        rc = cli_fail_detail(ctx, ER_PAIR_REFUSED, "%s", m ? m : "");
    } else if (rc == 0 && status != 200) {
        fprintf(stderr, "%s: %s\n", ctx->program, m);
        rc = 1;
    } else if (rc < 0) {
        rc = cli_fail(ctx, rc);
    }
    json_decref(doc);
    return rc;
}

int room_http(const char *url, const char *method, const char *bearer, const char *body,
              long timeout_s, long *status, json_t **doc)
{
    char auth[200];
    struct reply rep = {0};
    struct curl_slist *h = NULL;
    CURL *c = curl_easy_init();
    CURLcode res;

    *doc = NULL;
    *status = 0;
    if (c == NULL)
        return ER_NOMEM;
    if (bearer != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
        h = curl_slist_append(h, auth);
    }
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* also called from the thread pool */
    if (body != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &rep);
    res = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (res == CURLE_OK)
        *doc = json_loads(rep.body ? rep.body : "", 0, NULL);
    free(rep.body);
    return res == CURLE_OK ? 0 : -1;
}

int room_admin_call(const struct room *r, const char *method, const char *path, const char *body,
                    long *status, json_t **doc)
{
    char token[80], addr[64], url[256];
    int rc = read_line(r, "admin-token", token, sizeof(token));

    if (rc == 0)
        rc = read_line(r, "admin-address", addr, sizeof(addr));
    if (rc < 0)
        return rc;
    snprintf(url, sizeof(url), "http://%s%s", addr, path);
    rc = room_http(url, method, token, body, 30, status, doc);
    if (rc == ER_NOMEM)
        return rc;
    if (rc < 0)
        return ER_DAEMON_DOWN;
    return *doc != NULL ? 0 : ER_SYNC_PROTOCOL;
}
