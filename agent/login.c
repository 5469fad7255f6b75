/* The proctor's login over the LAN (SECURITY.md "The LAN": proctor
 * functions need the proctor credential set at init, or the local admin
 * channel). POST /api/v1/proctor/login {password} checks the password
 * against DATA/proctor-password (scrypt, on the thread pool: it takes about
 * 0.1 s) and answers a proctor token, good for PROCTOR_TOKEN_S on the admin
 * calls from any address; POST /api/v1/proctor/logout ends it. Tokens live
 * in memory only (their SHA-256): a restart logs everybody out. Failures
 * are counted per client address: LOGIN_FAIL_MAX within LOGIN_WINDOW_S hold
 * that address off for LOGIN_HOLD_S, logged for the proctor, so a terminal
 * guessing cannot lock the proctor's own computer out. One check runs at a
 * time for the whole room (429 "busy" meanwhile), so guesses cannot run in
 * parallel past a hold, nor faster than scrypt allows (~10/s, against a
 * generated password's 50 bits), and a flood cannot crowd the store's
 * commits off the thread pool. The password
 * is compared in its canonical form (password_normalize): a generated one
 * may be typed in any case, with or without hyphens. */
#include "api.h"
#include "http.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROCTOR_TOKEN_S (12 * 3600)
#define LOGIN_WINDOW_S  300
#define LOGIN_FAIL_MAX  5
#define LOGIN_HOLD_S    60

/* What the proctor reads (zh-CN, in one place). */
#define MSG_FIELDS        "请输入监考密码。"
#define MSG_WRONG         "监考密码不正确。"
#define MSG_HELD          "监考密码连续输错次数过多，请一分钟后再试。"
#define MSG_NO_PASS       "考场服务器没有设置监考密码。请在服务器上重新执行 examroom init 设置。"
#define MSG_BUSY          "考场服务器暂时无法核对密码，请稍后重试。"
#define MSG_ONE_AT_A_TIME "正在核对另一次登录，请几秒后再试。"
#define MSG_NO_LOGIN      "没有登录或登录已过期，请重新输入监考密码。"

struct login_job {
    uv_work_t work;
    struct http_req *q;
    struct ratelimit_key addr; /* whose guess it is */
    char password[API_PASSWORD_MAX + 1];
    char path[ROOM_PATH_MAX];
    int rc;
};

/* ---- the check, on the thread pool ---- */

static void verify_work(uv_work_t *w)
{
    struct login_job *j = w->data;
    char line[PASSWORD_LINE_MAX + 2];
    FILE *f = fopen(j->path, "r");

    j->rc = ER_IO;
    if (f == NULL)
        return;
    if (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        j->rc = password_verify(line, j->password);
    }
    fclose(f);
    OPENSSL_cleanse(line, sizeof(line));
}

static const struct ratelimit_rule fail_rule = {
    .max = LOGIN_FAIL_MAX, .window_s = LOGIN_WINDOW_S, .hold_s = LOGIN_HOLD_S};

static void count_failure(struct daemon *d, const struct ratelimit_key *addr, int64_t now)
{
    switch (ratelimit_count(&d->login_fails, &fail_rule, addr, now)) {
    case RATELIMIT_NOW_HELD:
        log_warn("proctor login: %d wrong passwords from one address, held off for %d s",
                 LOGIN_FAIL_MAX, LOGIN_HOLD_S);
        break;
    case RATELIMIT_UNTRACKED:
        log_warn("proctor login: every entry holds an address off; a failure not counted");
        break;
    default:
        break;
    }
}

static json_t *new_token(struct daemon *d, int64_t now)
{
    struct proctor_login *slot = &d->proctors[0];
    uint8_t raw[32];
    char token[65];
    json_t *out;

    /* An expired slot, or else the one that expires first. */
    for (size_t i = 0; i < DAEMON_PROCTOR_TOKENS; i++)
        if (d->proctors[i].expires_at < slot->expires_at)
            slot = &d->proctors[i];
    if (crypto_random(raw, sizeof(raw)) < 0)
        return NULL;
    hex_encode(raw, sizeof(raw), token);
    OPENSSL_cleanse(raw, sizeof(raw));
    sha256(token, strlen(token), slot->hash);
    slot->expires_at = now + PROCTOR_TOKEN_S;
    out = json_pack("{s:s, s:i}", "proctor_token", token, "expires_in", PROCTOR_TOKEN_S);
    OPENSSL_cleanse(token, sizeof(token));
    return out;
}

static void verify_done(uv_work_t *w, int status)
{
    struct login_job *j = w->data;
    struct daemon *d = j->q->d;
    int64_t now = daemon_now_ms() / 1000;
    json_t *token;

    OPENSSL_cleanse(j->password, sizeof(j->password));
    d->login_busy = 0;
    if (j->rc == ER_BADSIG)
        count_failure(d, &j->addr, now);
    if (status < 0) {
        answer_later(j->q, MHD_HTTP_SERVICE_UNAVAILABLE,
                     json_pack("{s:s, s:s}", "error", "busy", "message", MSG_BUSY));
    } else if (j->rc == 0 && (token = new_token(d, now)) != NULL) {
        log_notice("proctor login");
        answer_later(j->q, MHD_HTTP_OK, token);
    } else if (j->rc == ER_BADSIG) {
        answer_later(j->q, MHD_HTTP_UNAUTHORIZED,
                     json_pack("{s:s, s:s}", "error", "wrong_password", "message", MSG_WRONG));
    } else {
        log_error("proctor login: the password file cannot be read: %s", er_name(j->rc));
        answer_later(j->q, MHD_HTTP_SERVICE_UNAVAILABLE,
                     json_pack("{s:s, s:s}", "error", "no_password", "message", MSG_NO_PASS));
    }
    free(j);
}

/* ---- the calls ---- */

enum MHD_Result http_proctor_login(struct http_req *q)
{
    struct daemon *d = q->d;
    struct login_job *j;
    char typed[API_PASSWORD_MAX + 1];
    struct ratelimit_key addr;
    int who = http_client_key(q->conn, &addr);

    /* A held address is refused here, before it can take the one check. */
    if (who < 0 || ratelimit_held(&d->login_fails, &addr, daemon_now_ms() / 1000) > 0)
        return daemon_error(q->conn, MHD_HTTP_TOO_MANY_REQUESTS, "held", MSG_HELD);
    /* One check at a time: a flood of logins (no token needed) must neither
     * guess in parallel past the hold nor fill the thread pool that the
     * store's commits run on (each check: ~0.1 s and 32 MiB of scrypt). */
    if (d->login_busy)
        return daemon_error(q->conn, MHD_HTTP_TOO_MANY_REQUESTS, "busy", MSG_ONE_AT_A_TIME);
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", MSG_BUSY);
    if (api_password_body(q->body, q->len, typed) < 0 ||
        password_normalize(typed, j->password, sizeof(j->password)) < 0 || j->password[0] == '\0') {
        OPENSSL_cleanse(typed, sizeof(typed));
        OPENSSL_cleanse(j->password, sizeof(j->password));
        free(j);
        return daemon_error(q->conn, MHD_HTTP_BAD_REQUEST, "fields", MSG_FIELDS);
    }
    OPENSSL_cleanse(typed, sizeof(typed));
    j->q = q;
    j->addr = addr;
    j->work.data = j;
    if (room_path(&d->r, "proctor-password", j->path) < 0 ||
        uv_queue_work(&d->r.loop, &j->work, verify_work, verify_done) != 0) {
        OPENSSL_cleanse(j->password, sizeof(j->password));
        free(j);
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", MSG_BUSY);
    }
    d->login_busy = 1;
    return http_suspend(q);
}

/* The live login whose token the request carries, or NULL. */
static struct proctor_login *find(struct http_req *q)
{
    const char *t = http_bearer(q->conn);
    int64_t now = daemon_now_ms() / 1000;
    uint8_t hash[32];

    if (t == NULL)
        return NULL;
    sha256(t, strlen(t), hash);
    for (size_t i = 0; i < DAEMON_PROCTOR_TOKENS; i++) {
        struct proctor_login *p = &q->d->proctors[i];

        if (p->expires_at > now && CRYPTO_memcmp(p->hash, hash, sizeof(hash)) == 0)
            return p;
    }
    return NULL;
}

int http_is_proctor(struct http_req *q)
{
    return find(q) != NULL;
}

enum MHD_Result http_proctor_logout(struct http_req *q)
{
    struct proctor_login *p = find(q);

    if (p == NULL)
        return daemon_error(q->conn, MHD_HTTP_UNAUTHORIZED, "not_logged_in", MSG_NO_LOGIN);
    OPENSSL_cleanse(p, sizeof(*p));
    return daemon_reply(q->conn, MHD_HTTP_OK, json_pack("{s:b}", "logged_out", 1));
}
