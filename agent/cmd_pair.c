/* examroom pair list | approve CODE [--seat N] | revoke SEAT: the proctor
 * pairs the room's computers, through the running daemon's local admin
 * channel (loopback, and the token serve keeps in the data directory). */
#include "agent.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* One admin call; *status the HTTP status, *doc the JSON answer. */
static int admin_call(const struct room *r, const char *method, const char *path, const char *body,
                      long *status, json_t **doc)
{
    char token[80], addr[64], url[256], auth[128];
    struct reply rep = {0};
    struct curl_slist *h = NULL;
    CURL *c;
    CURLcode res;
    int rc = read_line(r, "admin-token", token, sizeof(token));

    if (rc == 0)
        rc = read_line(r, "admin-address", addr, sizeof(addr));
    if (rc < 0)
        return rc;
    snprintf(url, sizeof(url), "http://%s%s", addr, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    c = curl_easy_init();
    if (c == NULL)
        return ER_NOMEM;
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (body != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &rep);
    res = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (res != CURLE_OK) {
        free(rep.body);
        return ER_DAEMON_DOWN;
    }
    *doc = json_loads(rep.body ? rep.body : "", 0, NULL);
    free(rep.body);
    return *doc != NULL ? 0 : ER_SYNC_PROTOCOL;
}

static int list(const struct room *r)
{
    static const char *const words[][2] = {
        {"pending", "待批准"}, {"approved", "已配对"}, {"revoked", "已撤销"}};
    long status = 0;
    json_t *doc = NULL, *t;
    size_t i;
    int rc = admin_call(r, "GET", "/admin/v1/terminals", NULL, &status, &doc);

    if (rc == 0 && status != 200)
        rc = ER_SYNC_PROTOCOL;
    if (rc == 0) {
        printf("%-10s %-8s %s\n", "配对码", "状态", "座位");
        json_array_foreach(json_object_get(doc, "terminals"), i, t)
        {
            const char *state = json_string_value(json_object_get(t, "state"));
            int seat = (int)json_integer_value(json_object_get(t, "seat"));

            for (size_t k = 0; k < 3; k++)
                if (state != NULL && strcmp(state, words[k][0]) == 0)
                    state = words[k][1];
            printf("%-10s %-8s %s%.0d\n", json_string_value(json_object_get(t, "pairing_code")),
                   state ? state : "", seat > 0 ? "" : "-", seat);
        }
    }
    json_decref(doc);
    return rc;
}

int cmd_pair(struct cli_ctx *ctx, int argc, char **argv)
{
    static const char *const names[] = {"--seat", NULL};
    struct room r;
    long status = 0;
    json_t *doc = NULL;
    char path[128], body[64] = "{}", shown[16];
    int rc, bad = 0;

    if (argc < 2)
        return cli_fail(ctx, ER_USAGE);
    if (strcmp(argv[1], "list") == 0 && argc == 2) {
        rc = room_open(ctx, &r, 1);
        if (rc == 0)
            rc = list(&r);
        room_close(&r);
        return rc < 0 ? cli_fail(ctx, rc) : 0;
    }
    if (strcmp(argv[1], "approve") == 0 && argc >= 3) {
        uint8_t raw[CODE_BYTES(PAIR_CODE_BITS)];
        const char *seat = cli_option(argc - 1, argv + 1, "--seat", &bad);

        if (bad || cli_check_options(argc - 1, argv + 1, 2, names) < 0)
            return cli_fail(ctx, ER_USAGE);
        /* The code as read from the terminal's screen: a typo stops here. */
        rc = code_decode(argv[2], PAIR_CODE_BITS, raw);
        if (rc < 0)
            return cli_fail_detail(ctx, rc, "配对码“%s”无效。", argv[2]);
        code_encode(raw, PAIR_CODE_BITS, 4, shown, sizeof(shown));
        snprintf(path, sizeof(path), "/admin/v1/terminals/%s/approve", shown);
        if (seat != NULL)
            snprintf(body, sizeof(body), "{\"seat\":%d}", atoi(seat));
    } else if (strcmp(argv[1], "revoke") == 0 && argc == 3 && atoi(argv[2]) > 0) {
        snprintf(path, sizeof(path), "/admin/v1/seats/%d/revoke", atoi(argv[2]));
    } else {
        return cli_fail(ctx, ER_USAGE);
    }
    rc = room_open(ctx, &r, 1);
    if (rc == 0)
        rc = admin_call(&r, "POST", path, body, &status, &doc);
    room_close(&r);
    if (rc == 0 && status == 200) {
        printf(strcmp(argv[1], "approve") == 0 ? "已批准配对码 %s，终端为 %lld 号座位。\n"
                                               : "已撤销%s %lld 号座位的终端。\n",
               strcmp(argv[1], "approve") == 0 ? shown : "",
               (long long)json_integer_value(json_object_get(doc, "seat")));
        json_decref(doc);
        return 0;
    }
    if (rc == 0) {
        const char *m = json_string_value(json_object_get(doc, "message"));

        rc = cli_fail_detail(ctx, ER_PAIR_REFUSED, "%s", m ? m : "");
        json_decref(doc);
        return rc;
    }
    return cli_fail(ctx, rc);
}
