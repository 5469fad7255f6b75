/* The room's HTTP API: the terminal calls (PRODUCT.md §4) and the proctor's
 * admin calls. A request's body is collected (16 KiB at most); a call that
 * writes to the store suspends its connection and is resumed, with its
 * answer, once the write is durable. Admin calls are answered only on
 * loopback with the admin token that serve writes (0600) into the data
 * directory, or with a proctor token from a login with the proctor password
 * (login.c), so a terminal on the LAN can never reach them. */
#include "api.h"
#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- the proctor's words for terminals' errors (zh-CN, in one place) ---- */

#define MSG_BAD_JSON   "请求内容无效。请刷新页面后重试。"
#define MSG_TOO_LARGE  "请求内容过大。"
#define MSG_STOPPING   "考场服务正在重启，请稍候几秒再试。"
#define MSG_FRAMING    "请求格式不正确（正文长度不明确），已拒绝。"
#define MSG_NOT_FOUND  "没有这个页面或接口。"
#define MSG_METHOD     "请求方式不对。"
#define MSG_NO_CODE    "没有这个配对码。请刷新页面重新申请配对。"
#define MSG_PAIR_GONE  "该终端的配对凭证已领取或已失效。请让监考老师撤销后重新配对。"
#define MSG_STORE      "考场服务器暂时无法保存，请稍后重试；如持续出现，请告知监考老师。"
#define MSG_ADMIN_ONLY "只有监考人员可以执行此操作。"
#define MSG_SEAT_TAKEN "该座位已有配对的终端。请先撤销（examroom pair revoke 座位号）或换一个座位。"
#define MSG_NOT_PENDING                                                                            \
    "没有待批准的这个配对码（可能已批准、已撤销，或座位号不存在）。请核对后重试。"
#define MSG_NO_SEAT     "座位号无效。"
#define MSG_REJECTED    "监考老师没有批准这次配对。请举手向监考老师说明，然后点击“重新申请配对码”。"
#define MSG_PAIR_RATE   "这台电脑申请配对过于频繁，请一分钟后再试。"
#define MSG_POLL_RATE   "这台电脑查询配对结果过于频繁，请一分钟后再试。"
#define MSG_NO_TERMINAL "该座位没有已配对的终端。"
#define MSG_NO_READER   "该座位没有已配对的阅读器。"
#define MSG_DEVICE      "请求内容无效：device 只能是 terminal 或 reader。请检查后重试。"
#define MSG_READER_SEAT                                                                                                    \
    "阅读器必须指定座位号：请填写它所在电脑的座位号后再批准（examroom pair approve 配对码 " \
    "--seat 座位号）。"
#define MSG_READER_TAKEN                                                                           \
    "该座位已有配对的阅读器。请先撤销（examroom pair revoke 座位号 --reader）或换一个座位。"

/* ---- plumbing ---- */

static void free_req(struct http_req *q)
{
    json_decref(q->answer);
    json_decref(q->ready);
    if (q->response != NULL)
        MHD_destroy_response(q->response);
    OPENSSL_cleanse(q->token, sizeof(q->token));
    free(q->body);
    free(q);
}

void answer_later(struct http_req *q, unsigned status, json_t *body)
{
    /* The connection went while its write was on the way (the daemon is
     * stopping): nobody to answer; the request is ours to free. */
    if (q->orphaned) {
        json_decref(body);
        free_req(q);
        return;
    }
    q->status = status;
    q->answer = body;
    q->answered = 1;
    if (q->suspended) {
        struct daemon *d = q->d;

        q->suspended = 0;
        d->suspended--;
        MHD_resume_connection(q->conn);
        daemon_kick_soon(d); /* libmicrohttpd sends it, with the batch's others */
        /* The daemon was asked to stop while this write was on its way. */
        if (d->stopping && d->suspended == 0)
            daemon_stop(d);
    }
}

void http_step_done(int status, const struct store_ack *ack, void *arg)
{
    struct http_req *q = arg;
    json_t *a = q->ready;

    (void)ack;
    if (status < 0 && q->failed == 0)
        q->failed = status;
    if (--q->waiting > 0)
        return;
    q->ready = NULL;
    if (q->failed == 0) {
        answer_later(q, MHD_HTTP_OK, a);
        return;
    }
    json_decref(a);
    if (q->failed == ER_STORE_CONFLICT && q->conflict_message != NULL)
        answer_later(
            q, MHD_HTTP_CONFLICT,
            json_pack("{s:s, s:s}", "error", q->conflict_code, "message", q->conflict_message));
    else
        answer_later(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                     json_pack("{s:s, s:s}", "error", "store", "message",
                               q->fail_message ? q->fail_message : MSG_STORE));
}

enum MHD_Result http_suspend(struct http_req *q)
{
    q->suspended = 1;
    q->d->suspended++;
    MHD_suspend_connection(q->conn);
    return MHD_YES;
}

/* An IP address's bytes (4 or 16), or NULL if it is neither. */
static const uint8_t *ip_of(const struct sockaddr *sa, size_t *n)
{
    if (sa != NULL && sa->sa_family == AF_INET) {
        *n = 4;
        return (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    }
    if (sa != NULL && sa->sa_family == AF_INET6) {
        *n = 16;
        return (const uint8_t *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    }
    *n = 0;
    return NULL;
}

/* The client's IP address: its bytes (4 or 16), or NULL if unknown. */
static const uint8_t *client_ip(struct MHD_Connection *conn, size_t *n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    return ip_of(ci != NULL ? ci->client_addr : NULL, n);
}

static const struct in6_addr loopback6 = IN6ADDR_LOOPBACK_INIT;

/* 127.0.0.0/8 or ::1. */
static int is_loopback(struct MHD_Connection *conn)
{
    size_t n;
    const uint8_t *ip = client_ip(conn, &n);

    return (n == 4 && ip[0] == 127) || (n == 16 && memcmp(ip, &loopback6, 16) == 0);
}

int http_address_key(const struct sockaddr *sa, struct ratelimit_key *key)
{
    static const uint8_t loopback4[4] = {127, 0, 0, 1};
    size_t n;
    const uint8_t *ip = ip_of(sa, &n);

    if (ip == NULL || ratelimit_key_of(key, ip, n) < 0)
        return -1;
    if ((n == 4 && memcmp(ip, loopback4, 4) == 0) || (n == 16 && memcmp(ip, &loopback6, 16) == 0))
        return 1; /* the server itself */
    return 0;
}

int http_client_key(struct MHD_Connection *conn, struct ratelimit_key *key)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    return http_address_key(ci != NULL ? ci->client_addr : NULL, key);
}

const char *http_bearer(struct MHD_Connection *conn)
{
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");

    return h != NULL && strncmp(h, "Bearer ", 7) == 0 ? h + 7 : NULL;
}

/* Loopback, and the admin token, compared in constant time. */
static int is_admin(struct http_req *q)
{
    const char *t = http_bearer(q->conn);

    return is_loopback(q->conn) && t != NULL && strlen(t) == strlen(q->d->admin_token) &&
           CRYPTO_memcmp(t, q->d->admin_token, strlen(t)) == 0;
}

/* ---- pairing: terminals ---- */

static void on_terminal_added(int status, const struct store_ack *ack, void *arg)
{
    struct http_req *q = arg;

    (void)ack;
    if (status == 0)
        answer_later(q, MHD_HTTP_CREATED,
                     json_pack("{s:s, s:s}", "pairing_code", q->code, "pairing_secret", q->token));
    else
        answer_later(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                     json_pack("{s:s, s:s}", "error", "store", "message", MSG_STORE));
    OPENSSL_cleanse(q->token, sizeof(q->token));
}

/* Pairing requests need no token: each address (but the server's own) may
 * ask PAIR_PER_MINUTE times a minute, so a device on the LAN cannot fill
 * the store and the proctor's list with codes; and poll for its pickup
 * POLL_PER_MINUTE times (a terminal polls every 1 or 2 s; a kiosk browser
 * reloading, or two tabs, stay well below). */
static const struct ratelimit_rule pair_rule = {.max = 10, .window_s = 60};
static const struct ratelimit_rule poll_rule = {.max = 120, .window_s = 60};

static int rate_allowed(struct http_req *q, struct ratelimit *rl, const struct ratelimit_rule *rule)
{
    struct ratelimit_key key;
    int who = http_client_key(q->conn, &key), rc;

    if (who == 1)
        return 1;
    if (who < 0)
        return 0;
    rc = ratelimit_count(rl, rule, &key, daemon_now_ms() / 1000);
    if (rc == RATELIMIT_UNTRACKED)
        log_warn("rate limit: every entry holds an address off; one let through uncounted");
    return rc != RATELIMIT_HELD;
}

/* The device a pairing call is about: an empty body, or {"device":
 * "terminal" | "reader"}. -1 for anything else. */
static int device_of(const struct http_req *q)
{
    json_t *doc, *v;
    int kind = -1;

    if (q->len == 0)
        return STORE_TERM_TERMINAL;
    doc = json_loadb(q->body, q->len, JSON_REJECT_DUPLICATES, NULL);
    v = json_object_get(doc, "device");
    if (json_is_object(doc) && v == NULL)
        kind = STORE_TERM_TERMINAL;
    else if (json_is_string(v))
        for (int k = 0; k < 2; k++)
            if (strcmp(json_string_value(v), store_term_kinds[k]) == 0)
                kind = k;
    json_decref(doc);
    return kind;
}

static enum MHD_Result ask_to_pair(struct http_req *q)
{
    uint8_t raw[CODE_BYTES(PAIR_CODE_BITS)], secret[32], hash[STORE_HASH_LEN];
    int rc, kind = device_of(q);

    if (!rate_allowed(q, &q->d->pair_asks, &pair_rule))
        return daemon_error(q->conn, MHD_HTTP_TOO_MANY_REQUESTS, "too_many", MSG_PAIR_RATE);
    if (kind < 0)
        return daemon_error(q->conn, MHD_HTTP_BAD_REQUEST, "bad_device", MSG_DEVICE);
    rc = code_random(PAIR_CODE_BITS, raw);

    if (rc == 0)
        rc = code_encode(raw, PAIR_CODE_BITS, 4, q->code, sizeof(q->code));
    /* The pairing secret: only the terminal that asked can pick the token
     * up (its hash is kept; the secret is answered once, here). */
    if (rc == 0)
        rc = crypto_random(secret, sizeof(secret));
    if (rc == 0) {
        hex_encode(secret, sizeof(secret), q->token);
        sha256(q->token, strlen(q->token), hash);
        rc = store_add_terminal(q->d->r.st, q->code, hash, (enum store_term_kind)kind,
                                on_terminal_added, q);
    }
    OPENSSL_cleanse(secret, sizeof(secret));
    if (rc < 0) {
        OPENSSL_cleanse(q->token, sizeof(q->token));
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store", MSG_STORE);
    }
    return http_suspend(q);
}

struct find_code {
    const char *code;
    const uint8_t *secret_hash; /* of the secret the poll shows, or NULL */
    int found, seat, has_token;
    enum store_term_state state;
    int64_t id;
};

static void match_code(const struct store_terminal *t, void *arg)
{
    struct find_code *f = arg;

    /* Without its secret a code is as good as unknown. */
    if (strcmp(t->pairing_code, f->code) == 0 && f->secret_hash != NULL && t->secret_hash != NULL &&
        CRYPTO_memcmp(t->secret_hash, f->secret_hash, 32) == 0) {
        f->found = 1;
        f->state = t->state;
        f->seat = t->seat;
        f->id = t->id;
        f->has_token = t->token_hash != NULL;
    }
}

static void on_issued(int status, const struct store_ack *ack, void *arg)
{
    struct http_req *q = arg;

    (void)ack;
    if (status == 0)
        answer_later(q, MHD_HTTP_OK,
                     json_pack("{s:s, s:i}", "terminal_token", q->token, "seat", q->seat));
    else if (status == ER_STORE_NOT_FOUND) /* picked up, or revoked, meanwhile */
        answer_later(q, MHD_HTTP_GONE,
                     json_pack("{s:s, s:s}", "error", "pairing_gone", "message", MSG_PAIR_GONE));
    else
        answer_later(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                     json_pack("{s:s, s:s}", "error", "store", "message", MSG_STORE));
    OPENSSL_cleanse(q->token, sizeof(q->token));
}

/* The terminal polls with its code and, as "Authorization: Bearer", the
 * pairing secret it was answered: 202 while pending; once approved, its
 * token, made now and answered once its hash is durable (so a restart
 * between the approval and the pickup changes nothing); 410 after. Without
 * the right secret, the same 404 as an unknown code: another PC learns
 * nothing of which codes exist. */
static enum MHD_Result pairing_state(struct http_req *q, const char *code)
{
    struct find_code f = {.code = code};
    uint8_t raw[32], hash[STORE_HASH_LEN], shown[STORE_HASH_LEN];
    const char *secret = http_bearer(q->conn);
    int rc;

    if (!rate_allowed(q, &q->d->pair_polls, &poll_rule))
        return daemon_error(q->conn, MHD_HTTP_TOO_MANY_REQUESTS, "too_many", MSG_POLL_RATE);
    if (secret != NULL) {
        sha256(secret, strlen(secret), shown);
        f.secret_hash = shown;
    }
    store_foreach_terminal(q->d->r.st, match_code, &f);
    if (!f.found)
        return daemon_error(q->conn, MHD_HTTP_NOT_FOUND, "no_such_code", MSG_NO_CODE);
    if (f.state == STORE_TERM_PENDING)
        return daemon_reply(q->conn, MHD_HTTP_ACCEPTED, json_pack("{s:s}", "state", "pending"));
    /* Revoked before it was ever approved: the proctor rejected it. */
    if (f.state == STORE_TERM_REVOKED && f.seat <= 0 && !f.has_token)
        return daemon_error(q->conn, MHD_HTTP_GONE, "pairing_rejected", MSG_REJECTED);
    if (f.state != STORE_TERM_APPROVED || f.has_token)
        return daemon_error(q->conn, MHD_HTTP_GONE, "pairing_gone", MSG_PAIR_GONE);
    rc = crypto_random(raw, sizeof(raw));
    if (rc == 0) {
        hex_encode(raw, sizeof(raw), q->token);
        sha256(q->token, strlen(q->token), hash);
        q->seat = f.seat;
        rc = store_issue_terminal_token(q->d->r.st, f.id, hash, on_issued, q);
    }
    OPENSSL_cleanse(raw, sizeof(raw));
    if (rc < 0) {
        OPENSSL_cleanse(q->token, sizeof(q->token));
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store", MSG_STORE);
    }
    return http_suspend(q);
}

/* ---- pairing: the proctor ---- */

static void list_one(const struct store_terminal *t, void *arg)
{
    static const char *const states[] = {"pending", "approved", "revoked"};

    json_array_append_new(arg, json_pack("{s:s, s:s, s:i, s:I, s:s}", "pairing_code",
                                         t->pairing_code, "state", states[t->state % 3], "seat",
                                         t->seat, "created_at", (json_int_t)t->created_at, "device",
                                         store_term_kinds[t->kind % 2]));
}

static void on_approved(int status, const struct store_ack *ack, void *arg)
{
    struct http_req *q = arg;

    (void)ack;
    if (status == 0)
        answer_later(q, MHD_HTTP_OK,
                     json_pack("{s:s, s:i, s:s}", "pairing_code", q->code, "seat", q->seat,
                               "device", store_term_kinds[q->kind % 2]));
    else if (status == ER_STORE_NOT_FOUND)
        answer_later(q, MHD_HTTP_NOT_FOUND,
                     json_pack("{s:s, s:s}", "error", "not_pending", "message", MSG_NOT_PENDING));
    else if (status == ER_STORE_CONFLICT)
        answer_later(q, MHD_HTTP_CONFLICT,
                     json_pack("{s:s, s:s}", "error", "seat_taken", "message",
                               q->kind == STORE_TERM_READER ? MSG_READER_TAKEN : MSG_SEAT_TAKEN));
    else
        answer_later(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                     json_pack("{s:s, s:s}", "error", "store", "message", MSG_STORE));
}

struct free_seat {
    struct daemon *d;
    int taken[10000], found;
};

static void mark_taken(const struct store_terminal *t, void *arg)
{
    struct free_seat *f = arg;

    if (t->state == STORE_TERM_APPROVED && t->kind == STORE_TERM_TERMINAL && t->seat > 0 &&
        t->seat < 10000)
        f->taken[t->seat] = 1;
}

static void first_free(const struct store_seat *s, void *arg)
{
    struct free_seat *f = arg;

    if (f->found == 0 && s->seat > 0 && s->seat < 10000 && !f->taken[s->seat])
        f->found = s->seat;
}

/* Without a seat from the proctor: the lowest seat with no terminal. */
static int lowest_free_seat(struct daemon *d)
{
    struct free_seat *f = calloc(1, sizeof(*f));
    int seat;

    if (f == NULL)
        return 0;
    f->d = d;
    store_foreach_terminal(d->r.st, mark_taken, f);
    store_foreach_seat(d->r.st, first_free, f);
    seat = f->found;
    free(f);
    return seat;
}

struct code_kind {
    const char *code;
    int kind;
};

static void match_kind(const struct store_terminal *t, void *arg)
{
    struct code_kind *c = arg;

    if (t->state == STORE_TERM_PENDING && strcmp(t->pairing_code, c->code) == 0)
        c->kind = (int)t->kind;
}

/* The kind of the pending request with this code (a terminal if none). */
static int kind_of_code(struct daemon *d, const char *code)
{
    struct code_kind c = {code, STORE_TERM_TERMINAL};

    store_foreach_terminal(d->r.st, match_kind, &c);
    return c.kind;
}

static enum MHD_Result approve(struct http_req *q, const char *code)
{
    json_t *doc = json_loadb(q->body ? q->body : "", q->len, JSON_REJECT_DUPLICATES, NULL);
    json_t *seat = json_object_get(doc, "seat");

    if ((q->len > 0 && !json_is_object(doc)) ||
        (seat != NULL && (!json_is_integer(seat) || json_integer_value(seat) < 1 ||
                          json_integer_value(seat) > 9999)) ||
        strlen(code) >= sizeof(q->code)) {
        json_decref(doc);
        return daemon_error(q->conn, MHD_HTTP_BAD_REQUEST, "bad_seat", MSG_NO_SEAT);
    }
    /* A reader is where its PC is: the proctor says which seat that is. */
    q->kind = kind_of_code(q->d, code);
    if (seat == NULL && q->kind == STORE_TERM_READER) {
        json_decref(doc);
        return daemon_error(q->conn, MHD_HTTP_BAD_REQUEST, "reader_needs_seat", MSG_READER_SEAT);
    }
    q->seat = seat != NULL ? (int)json_integer_value(seat) : lowest_free_seat(q->d);
    if (q->seat <= 0) {
        json_decref(doc);
        return daemon_error(q->conn, MHD_HTTP_CONFLICT, "no_free_seat", MSG_NO_SEAT);
    }
    json_decref(doc);
    snprintf(q->code, sizeof(q->code), "%s", code);
    /* The token is made when the terminal picks it up (pairing_state). */
    if (store_approve_terminal(q->d->r.st, q->code, NULL, q->seat, on_approved, q) < 0)
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store", MSG_STORE);
    return http_suspend(q);
}

static void on_rejected(int status, const struct store_ack *ack, void *arg)
{
    struct http_req *q = arg;

    (void)ack;
    if (status == 0)
        answer_later(q, MHD_HTTP_OK,
                     json_pack("{s:s, s:s}", "pairing_code", q->code, "state", "rejected"));
    else if (status == ER_STORE_NOT_FOUND)
        answer_later(q, MHD_HTTP_NOT_FOUND,
                     json_pack("{s:s, s:s}", "error", "not_pending", "message", MSG_NOT_PENDING));
    else
        answer_later(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                     json_pack("{s:s, s:s}", "error", "store", "message", MSG_STORE));
}

/* The proctor refuses a pending code: the terminal is told at its next poll
 * and may ask for a new one. */
static enum MHD_Result reject(struct http_req *q, const char *code)
{
    snprintf(q->code, sizeof(q->code), "%s", code); /* the router let < 40 bytes through */
    if (store_reject_terminal(q->d->r.st, q->code, on_rejected, q) < 0)
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store", MSG_STORE);
    return http_suspend(q);
}

/* A seat number exactly: 1 to 9999 in decimal digits, no sign, no leading
 * zero, nothing after ("1abc" is no seat, not seat 1); else 0. */
static int seat_of(const char *text)
{
    size_t n = strspn(text, "0123456789");

    if (n == 0 || n > 4 || text[n] != '\0' || text[0] == '0')
        return 0;
    return atoi(text);
}

struct find_seat {
    int seat;
    int64_t id;
    int kind;
};

static void match_seat(const struct store_terminal *t, void *arg)
{
    struct find_seat *f = arg;

    if (t->state == STORE_TERM_APPROVED && t->seat == f->seat && (int)t->kind == f->kind)
        f->id = t->id;
}

static void on_revoked(int status, const struct store_ack *ack, void *arg)
{
    struct http_req *q = arg;

    (void)ack;
    if (status == 0 && q->kind == STORE_TERM_READER)
        seatcard_reader_gone(q->d, q->seat); /* its card is not to be used a moment longer */
    if (status == 0)
        answer_later(
            q, MHD_HTTP_OK,
            json_pack("{s:i, s:s}", "seat", q->seat, "device", store_term_kinds[q->kind % 2]));
    else
        answer_later(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                     json_pack("{s:s, s:s}", "error", "store", "message", MSG_STORE));
}

static enum MHD_Result revoke(struct http_req *q, const char *seat_text)
{
    int seat = seat_of(seat_text); /* the router let only a seat through */
    struct find_seat f = {seat, 0, device_of(q)};

    if (f.kind < 0)
        return daemon_error(q->conn, MHD_HTTP_BAD_REQUEST, "bad_device", MSG_DEVICE);
    q->kind = f.kind;
    store_foreach_terminal(q->d->r.st, match_seat, &f);
    if (f.id == 0)
        return daemon_error(q->conn, MHD_HTTP_NOT_FOUND, "no_terminal",
                            f.kind == STORE_TERM_READER ? MSG_NO_READER : MSG_NO_TERMINAL);
    q->seat = seat;
    if (store_revoke_terminal(q->d->r.st, f.id, on_revoked, q) < 0)
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store", MSG_STORE);
    return http_suspend(q);
}

/* ---- routing ---- */

/* libmicrohttpd's unescaping of the URL, but "%00" is left as it is: a NUL
 * would end the path early ("/api/v1/answers/1%00" read as item "1"), so
 * such a path matches nothing. In place, never longer. */
size_t http_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    char *out = s;

    (void)cls;
    (void)conn;
    for (const char *in = s; *in != '\0'; in++) {
        char hex[3] = {0};
        unsigned long v;

        if (in[0] == '%' && isxdigit((unsigned char)in[1]) && isxdigit((unsigned char)in[2])) {
            memcpy(hex, in + 1, 2);
            v = strtoul(hex, NULL, 16);
            if (v != 0) {
                *out++ = (char)v;
                in += 2;
                continue;
            }
        }
        *out++ = *in;
    }
    *out = '\0';
    return (size_t)(out - s);
}

/* Request smuggling's shapes: a body length said twice, or both ways, or a
 * transfer coding other than plain chunked. Refused before any body. */
struct framing {
    int lengths, codings, other_coding;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct framing *f = cls;

    (void)kind;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        f->lengths++;
    if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->codings++;
        if (value == NULL || strcasecmp(value, "chunked") != 0)
            f->other_coding = 1;
    }
    return MHD_YES;
}

static int ambiguous_framing(struct MHD_Connection *conn)
{
    struct framing f = {0};

    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
    return f.lengths > 1 || f.codings > 1 || (f.lengths && f.codings) || f.other_coding;
}

static int declared_too_large(struct MHD_Connection *conn)
{
    const char *v =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    size_t digits = v != NULL ? strspn(v, "0123456789") : 0;

    /* More digits than a size_t holds is too large too. */
    return digits > 0 && (digits > 9 || strtoull(v, NULL, 10) > BODY_MAX);
}

/* The few handlers of the table that need a word of their own. */
static enum MHD_Result get_time(struct http_req *q)
{
    return daemon_reply(q->conn, MHD_HTTP_OK,
                        json_pack("{s:I}", "server_time", (json_int_t)daemon_now_ms()));
}

static enum MHD_Result get_terminals(struct http_req *q)
{
    json_t *list = json_array();

    store_foreach_terminal(q->d->r.st, list_one, list);
    return daemon_reply(q->conn, MHD_HTTP_OK, json_pack("{s:o}", "terminals", list));
}

/* A page: the route's argument names its file. */
static enum MHD_Result get_page(struct http_req *q, const char *param, const char *file)
{
    (void)param;
    return http_static(q, file);
}

/* Who may call a route. The router checks ADMIN (403 admin_only): the
 * loopback admin token or a proctor login. A TERMINAL or CANDIDATE route's
 * handler checks the terminal's or the candidate's token itself and answers
 * 401 in its own words. */
enum access { PUBLIC, TERMINAL, CANDIDATE, ADMIN };

/* What a path's one parameter may be: a pairing code or an item (< 40
 * bytes), a ticket (API_TICKET_MAX), a seat (seat_of()), a file's name. */
enum param { NO_PARAM, P_CODE, P_TICKET, P_SEAT, P_NAME };

/* A route's handler is one of three shapes: (q), (q, param), or (q, param,
 * arg) with the route's own argument (a page's file, a proctor's action). */
struct route {
    const char *method;
    const char *path; /* exact; a '*' segment is the parameter */
    enum param param;
    enum access access;
    enum MHD_Result (*call)(struct http_req *q);
    enum MHD_Result (*call_param)(struct http_req *q, const char *param);
    enum MHD_Result (*call_arg)(struct http_req *q, const char *param, const char *arg);
    const char *arg;
};

/* A row of each shape: R0 (q), R1 (q, param), R2 (q, param, arg). */
/* clang-format off */
#define R0(m, p, a, fn)       {.method = m, .path = p, .param = NO_PARAM, .access = a, .call = fn}
#define R1(m, p, k, a, fn)    {.method = m, .path = p, .param = k, .access = a, .call_param = fn}
#define R2(m, p, k, a, fn, x) {.method = m, .path = p, .param = k, .access = a, .call_arg = fn, .arg = x}
/* clang-format on */

static const struct route routes[] = {
    R2("GET", "/", NO_PARAM, PUBLIC, get_page, "index.html"),
    R2("HEAD", "/", NO_PARAM, PUBLIC, get_page, "index.html"),
    R2("GET", "/proctor", NO_PARAM, PUBLIC, get_page, "proctor.html"),
    R2("HEAD", "/proctor", NO_PARAM, PUBLIC, get_page, "proctor.html"),
    R1("GET", "/static/*", P_NAME, PUBLIC, http_static),
    R1("HEAD", "/static/*", P_NAME, PUBLIC, http_static),
    R0("GET", "/api/v1/time", PUBLIC, get_time),
    R0("POST", "/api/v1/terminals", PUBLIC, ask_to_pair),
    R1("GET", "/api/v1/terminals/*", P_CODE, PUBLIC, pairing_state),
    R0("POST", "/api/v1/signin", TERMINAL, http_signin),
    R0("GET", "/api/v1/photo", CANDIDATE, http_photo),
    R0("GET", "/api/v1/exam", CANDIDATE, http_exam),
    R0("POST", "/api/v1/submit", CANDIDATE, http_submit),
    R1("PUT", "/api/v1/answers/*", P_CODE, CANDIDATE, http_put_answer),
    R0("POST", "/api/v1/proctor/login", PUBLIC, http_proctor_login),
    R0("POST", "/api/v1/proctor/logout", PUBLIC, http_proctor_logout),
    R0("GET", "/admin/v1/terminals", ADMIN, get_terminals),
    R1("POST", "/admin/v1/terminals/*/approve", P_CODE, ADMIN, approve),
    R1("POST", "/admin/v1/seats/*/revoke", P_SEAT, ADMIN, revoke),
    R2("POST", "/admin/v1/candidates/*/submit", P_TICKET, ADMIN, http_proctor, "submit"),
    R2("POST", "/admin/v1/candidates/*/absent", P_TICKET, ADMIN, http_proctor, "absent"),
    R2("POST", "/admin/v1/candidates/*/extend", P_TICKET, ADMIN, http_proctor, "extend"),
    R2("POST", "/admin/v1/candidates/*/move", P_TICKET, ADMIN, http_proctor, "move"),
    R2("POST", "/admin/v1/candidates/*/incident", P_TICKET, ADMIN, http_proctor, "incident"),
    R0("GET", "/admin/v1/room", ADMIN, http_room),
    R0("GET", "/admin/v1/events", ADMIN, http_events),
    R1("GET", "/admin/v1/reports/*", P_NAME, ADMIN, http_report),
    R1("POST", "/admin/v1/terminals/*/reject", P_CODE, ADMIN, reject),
    R0("GET", "/api/v1/terminal", TERMINAL, http_terminal),
    R1("POST", "/admin/v1/sessions/*/unlock", P_NAME, ADMIN, http_unlock),
    R1("GET", "/admin/v1/candidates/*/photo", P_TICKET, ADMIN, http_admin_photo),
    R0("POST", "/api/v1/flag", CANDIDATE, http_flag),
    R0("GET", "/api/v1/terminal/card", TERMINAL, http_terminal_card),
    R0("POST", "/api/v1/reader/card", TERMINAL, http_reader_card),
};

#define PARAM_MAX 64 /* > API_TICKET_MAX and any code, item or name */
_Static_assert(API_TICKET_MAX < PARAM_MAX, "a ticket fits a parameter");

/* Does url match the route's path exactly? Its parameter, a whole segment
 * (non-empty, no '/'), is copied to out and must be of the route's kind:
 * "/admin/v1/seats/2abc/revoke" matches no route (nor "02", nor "+2"). */
static int path_match(const struct route *rt, const char *url, char out[PARAM_MAX])
{
    const char *star = strchr(rt->path, '*');
    size_t head, tail, n, len = strlen(url), max;

    out[0] = '\0';
    if (star == NULL)
        return strcmp(url, rt->path) == 0;
    head = (size_t)(star - rt->path);
    tail = strlen(star + 1);
    if (len <= head + tail || strncmp(url, rt->path, head) != 0 ||
        strcmp(url + len - tail, star + 1) != 0)
        return 0;
    n = len - head - tail;
    max = rt->param == P_TICKET ? API_TICKET_MAX : rt->param == P_NAME ? PARAM_MAX - 1 : 39;
    if (n > max || memchr(url + head, '/', n) != NULL)
        return 0;
    memcpy(out, url + head, n);
    out[n] = '\0';
    return rt->param != P_SEAT || seat_of(out) > 0;
}

static int admin_allowed(struct http_req *q)
{
    return is_admin(q) || http_is_proctor(q);
}

/* The route of url and method: 404 when no path matches, 405 when one does
 * with another method; every /admin/ path, known or not, is 403 to anyone
 * but the proctor. */
static enum MHD_Result route(struct http_req *q, const char *method, const char *url)
{
    char param[PARAM_MAX];
    int path_known = 0;

    if (strncmp(url, "/admin/", 7) == 0 && !admin_allowed(q))
        return daemon_error(q->conn, MHD_HTTP_FORBIDDEN, "admin_only", MSG_ADMIN_ONLY);
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *rt = &routes[i];

        if (!path_match(rt, url, param))
            continue;
        path_known = 1;
        if (strcmp(rt->method, method) != 0)
            continue;
        if (rt->access == ADMIN && !admin_allowed(q))
            return daemon_error(q->conn, MHD_HTTP_FORBIDDEN, "admin_only", MSG_ADMIN_ONLY);
        if (rt->call_arg != NULL)
            return rt->call_arg(q, rt->param == NO_PARAM ? NULL : param, rt->arg);
        return rt->call_param != NULL ? rt->call_param(q, param) : rt->call(q);
    }
    if (path_known)
        return daemon_error(q->conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method", MSG_METHOD);
    return http_not_found(q);
}

enum MHD_Result http_not_found(struct http_req *q)
{
    return daemon_error(q->conn, MHD_HTTP_NOT_FOUND, "not_found", MSG_NOT_FOUND);
}

enum MHD_Result http_request(void *cls, struct MHD_Connection *conn, const char *url,
                             const char *method, const char *version, const char *upload_data,
                             size_t *upload_size, void **con_cls)
{
    struct http_req *q = *con_cls;

    (void)version;
    if (q == NULL) {
        q = calloc(1, sizeof(*q));
        if (q == NULL)
            return MHD_NO;
        q->d = cls;
        q->conn = conn;
        *con_cls = q;
        daemon_headers_done(conn);
        if (ambiguous_framing(conn))
            return daemon_error(conn, MHD_HTTP_BAD_REQUEST, "framing", MSG_FRAMING);
        /* Too large by its own say: 413 now, before any body is read (and
         * so before "100 Continue" would invite one). */
        if (declared_too_large(conn))
            return daemon_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", MSG_TOO_LARGE);
        /* Stopping: nothing new is started (see stop() in serve.c). */
        if (q->d->stopping)
            return daemon_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "stopping", MSG_STOPPING);
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (q->len + *upload_size > BODY_MAX) {
            q->too_large = 1;
        } else {
            char *p = realloc(q->body, q->len + *upload_size + 1);

            if (p == NULL)
                return MHD_NO;
            q->body = p;
            memcpy(q->body + q->len, upload_data, *upload_size);
            q->len += *upload_size;
            q->body[q->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    /* Resumed with the answer of an asynchronous call (never run again,
     * even when that answer could not be made). */
    if (q->answered) {
        json_t *a = q->answer;

        q->answer = NULL;
        q->answered = 0;
        if (q->response != NULL) { /* made off the loop, headers and all */
            struct MHD_Response *r = q->response;
            enum MHD_Result ok = MHD_queue_response(conn, q->status, r);

            q->response = NULL;
            MHD_destroy_response(r);
            json_decref(a);
            return ok;
        }
        return daemon_reply(conn, q->status, a);
    }
    if (q->too_large)
        return daemon_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", MSG_TOO_LARGE);
    {
        /* The handler's reads: one snapshot, one read transaction. */
        struct store *st = q->d->r.st;
        enum MHD_Result r;

        store_read_begin(st);
        r = route(q, method, url);
        store_read_end(st);
        return r;
    }
}

void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    struct http_req *q = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    /* A request still waiting for the store is freed by the store's
     * callback, which will find it orphaned. */
    if (q != NULL && q->suspended)
        q->orphaned = 1;
    else if (q != NULL)
        free_req(q);
    *con_cls = NULL;
}
