/* examcenter serve: the center's HTTP(S) API (docs/protocol.md) on
 * libmicrohttpd with one internal polling thread, so requests are handled one
 * at a time against one SQLite connection. This file is the plumbing: the
 * daemon, request bodies, gzip, authentication and replies; api.c holds the
 * endpoints. */
#include "center.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---- replies ---- */

/* The request an answer names: the room key id and nonce the request
 * carried, when they are well-formed (64 and 32 lower-case hex digits). */
static json_t *answered_request(struct api *api)
{
    const char *room, *nonce;
    uint8_t tmp[32];

    if (api->conn == NULL)
        return NULL;
    room = MHD_lookup_connection_value(api->conn, MHD_HEADER_KIND, PROTO_HDR_ROOM);
    nonce = MHD_lookup_connection_value(api->conn, MHD_HEADER_KIND, PROTO_HDR_NONCE);
    if (room == NULL || nonce == NULL || strlen(room) != 64 || strlen(nonce) != 32 ||
        hex_decode(room, tmp, 32) < 0 || hex_decode(nonce, tmp, 16) < 0 ||
        strspn(room, "0123456789abcdef") != 64 || strspn(nonce, "0123456789abcdef") != 32)
        return NULL;
    return json_pack("{s:s, s:s}", "nonce", nonce, "room_key", room);
}

enum MHD_Result api_reply_json(struct api *api, unsigned status, json_t *body,
                               const char *sign_context)
{
    json_t *bound = sign_context != NULL ? answered_request(api) : NULL;
    char *text;
    struct MHD_Response *r;
    enum MHD_Result ok;

    /* A signed answer names the request it answers (docs/protocol.md,
     * "Signed answers"): a copy of it is worth nothing for another. */
    if (bound != NULL)
        json_object_set_new(body, PROTO_ANSWER_REQUEST, bound);
    text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(body);
    if (text == NULL)
        return MHD_NO;
    api->status = status;
    r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
    if (sign_context != NULL) {
        char sig[89];

        if (proto_sign_body(api->server->center, sign_context, text, strlen(text), sig) == 0)
            MHD_add_response_header(r, PROTO_HDR_CENTER_SIG, sig);
    }
    ok = MHD_queue_response(api->conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

/* Error bodies: a stable code for programs, a sentence for people. */
static const struct {
    const char *code, *message;
} errors[] = {
    {"bad_request", "请求格式不对。"},
    {"bad_json", "请求内容不是有效的 JSON，或缺少必需的字段。"},
    {"too_large", "请求内容过大。"},
    {"bad_encoding", "不支持的内容编码（只接受 gzip）。"},
    {"not_found", "没有这个接口。"},
    {"method_not_allowed", "该接口不接受这种请求方法。"},
    {"unknown_room", "考试中心不认识这个考场密钥。请先用注册码注册考场。"},
    {"bad_signature", "请求签名无效。"},
    {"clock_skew", "考场服务器时间与考试中心相差过大。请校准考场服务器时间。"},
    {"replay", "重复的请求（可能被重放），已拒绝。"},
    {"serial_typo", "注册码输入有误（校验位不符）。"},
    {"serial_unknown", "没有这个注册码。请核对考试中心发放的注册码。"},
    {"serial_used", "该注册码已被使用，不能再次注册。请联系考试中心。"},
    {"room_key_in_use", "该考场密钥已用另一个注册码注册过。"},
    {"room_registered", "该考场已由另一台考场服务器注册，这个注册码不能再注册它。如需更换考场服务器"
                        "，请联系考试中心签发替换注册码"
                        "（examcenter serial issue --replace 考场号）。"},
    {"room_key_retired", "这台考场服务器的密钥已停用：考试中心已用替换注册码把本考场注册到另一台服"
                         "务器。此前已上传的成绩仍然有效；"
                         "请改用新注册的服务器，并联系考试中心处理本机尚未上传的记录。"},
    {"no_such_package", "没有这个版本的试卷包。"},
    {"range", "请求的字节范围无效。"},
    {"no_such_session", "没有这个场次。"},
    {"not_your_session", "本考场没有这个场次的考生，不能取得该场次的密钥。"},
    {"too_early", "还未到发放该场次密钥的时间。"},
    {"conflict", "同一编号的记录已以不同内容上传过。"},
    {"chain_broken", "成绩记录链不连续或被改写。"},
    {"chain_rollback", "成绩记录链比考试中心已收到的更短（历史被截断）。"},
    {"internal", "考试中心内部错误，请稍后重试。"},
};

enum MHD_Result api_reply_error(struct api *api, unsigned status, const char *code, json_t *extra)
{
    json_t *body = extra != NULL ? extra : json_object();
    const char *message = "";

    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
        if (strcmp(errors[i].code, code) == 0)
            message = errors[i].message;
    json_object_set_new(body, "error", json_string(code));
    json_object_set_new(body, "message", json_string(message));
    /* Signed and bound like any answer: the room acts on clock_skew's
     * center_time and too_early's opens_at only when they verify. */
    return api_reply_json(api, status, body, PROTO_CTX_ERROR);
}

/* ---- request bodies ---- */

struct request {
    uint8_t *body;
    size_t len, cap, limit;
    int too_large;
    int begun;   /* the headers were seen */
    char *query; /* the raw query string, or NULL */
};

static int append(struct request *rq, const char *data, size_t n)
{
    if (rq->too_large || rq->len + n > rq->limit) {
        rq->too_large = 1;
        return 0;
    }
    if (rq->len + n > rq->cap) {
        size_t cap = rq->cap ? rq->cap * 2 : 4096;
        uint8_t *p;

        while (cap < rq->len + n)
            cap *= 2;
        p = realloc(rq->body, cap);
        if (p == NULL)
            return -1;
        rq->body = p;
        rq->cap = cap;
    }
    memcpy(rq->body + rq->len, data, n);
    rq->len += n;
    return 0;
}

/* Inflates a gzip body into *out (malloc'd), at most API_BODY_MAX bytes. */
int api_gunzip(const uint8_t *in, size_t n, uint8_t **out, size_t *out_len)
{
    z_stream z = {0};
    size_t cap = n < API_BODY_MAX / 4 ? n * 4 + 1024 : API_BODY_MAX, len = 0;
    uint8_t *buf = malloc(cap);
    int zr = Z_OK;

    if (buf == NULL || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        free(buf);
        return ER_NOMEM;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    while (zr != Z_STREAM_END) {
        if (len == cap) {
            uint8_t *p;

            /* Full at the limit with the stream not ended: too large. */
            if (cap >= API_BODY_MAX)
                break;
            cap = cap * 2 > API_BODY_MAX ? API_BODY_MAX : cap * 2;
            p = realloc(buf, cap);
            if (p == NULL)
                break;
            buf = p;
        }
        z.next_out = buf + len;
        z.avail_out = (uInt)(cap - len);
        zr = inflate(&z, Z_NO_FLUSH);
        len = cap - z.avail_out;
        if (zr != Z_OK && zr != Z_STREAM_END)
            break;
        if (zr == Z_OK && z.avail_in == 0 && z.avail_out > 0)
            break; /* the input ended before the stream did */
    }
    inflateEnd(&z);
    if (zr != Z_STREAM_END || z.avail_in != 0) {
        free(buf);
        return len >= API_BODY_MAX ? ER_PKG_TOO_LARGE : ER_USAGE;
    }
    *out = buf;
    *out_len = len;
    return 0;
}

/* ---- authentication ---- */

static const char *header(struct api *api, const char *name)
{
    return MHD_lookup_connection_value(api->conn, MHD_HEADER_KIND, name);
}

static int copy_header(struct api *api, const char *name, char *out, size_t size)
{
    const char *v = header(api, name);

    if (v == NULL || strlen(v) >= size)
        return -1;
    strcpy(out, v);
    return 0;
}

int api_read_auth(struct api *api, struct proto_auth *auth)
{
    if (copy_header(api, PROTO_HDR_ROOM, auth->room, sizeof(auth->room)) ||
        copy_header(api, PROTO_HDR_TIME, auth->time, sizeof(auth->time)) ||
        copy_header(api, PROTO_HDR_NONCE, auth->nonce, sizeof(auth->nonce)) ||
        copy_header(api, PROTO_HDR_SIGNATURE, auth->sig, sizeof(auth->sig)))
        return -1;
    return 0;
}

/* Checks time, signature and nonce of a request signed by key, whose id is
 * key_id. Returns 0, or queues the 401 and returns 1. */
int api_check_signed(struct api *api, const struct proto_auth *auth, const struct key *key,
                     const uint8_t key_id[32])
{
    int64_t t = proto_parse_time(auth->time);
    struct proto_request rq;
    uint8_t nonce[16];
    sqlite3_stmt *st;
    int rc;

    if (t < 0 || t > api->now + PROTO_SKEW_MAX || t < api->now - PROTO_SKEW_MAX) {
        json_t *extra = json_object();

        json_object_set_new(extra, "center_time", json_integer(api->now));
        api->result = api_reply_error(api, MHD_HTTP_UNAUTHORIZED, "clock_skew", extra);
        return 1;
    }
    /* The signature covers this center's key id and every header the center
     * acts on: a request made for another center, or whose Range was
     * changed on the way, does not verify. */
    rq.center = api->server->center_id;
    rq.method = api->method;
    rq.path = api->url;
    rq.query = api->query;
    rq.encoding = header(api, MHD_HTTP_HEADER_CONTENT_ENCODING);
    rq.range = header(api, MHD_HTTP_HEADER_RANGE);
    rq.if_range = header(api, MHD_HTTP_HEADER_IF_RANGE);
    rq.body = api->body;
    rq.body_len = api->raw_len;
    if (hex_decode(auth->nonce, nonce, sizeof(nonce)) < 0 ||
        proto_verify_request(key, &rq, auth) < 0) {
        api->result = api_reply_error(api, MHD_HTTP_UNAUTHORIZED, "bad_signature", NULL);
        return 1;
    }
    /* A nonce is remembered twice as long as a timestamp stays acceptable,
     * so no accepted request can be accepted again. */
    sqlite3_exec(api->server->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (sqlite3_prepare_v2(api->server->db, "DELETE FROM nonces WHERE seen_at < ?1", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, api->now - 2 * PROTO_SKEW_MAX);
        sqlite3_step(st);
        sqlite3_finalize(st);
    }
    rc = sqlite3_prepare_v2(api->server->db,
                            "INSERT INTO nonces (room_key_id, nonce, seen_at) VALUES (?1, ?2, ?3)",
                            -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_blob(st, 1, key_id, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, nonce, sizeof(nonce), SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, api->now);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
    }
    sqlite3_exec(api->server->db, "COMMIT", NULL, NULL, NULL);
    if (rc == SQLITE_CONSTRAINT) {
        api->result = api_reply_error(api, MHD_HTTP_UNAUTHORIZED, "replay", NULL);
        return 1;
    }
    if (rc != SQLITE_DONE) {
        api->result = api_reply_error(api, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", NULL);
        return 1;
    }
    return 0;
}

/* A key whose room was taken over by a replacement serial: refused from
 * then on, saying since when. */
static enum MHD_Result retired(struct api *api, int64_t since)
{
    return api_reply_error(api, MHD_HTTP_FORBIDDEN, "room_key_retired",
                           json_pack("{s:I}", "retired_at", (json_int_t)since));
}

/* A registered room's request: finds the room by its key id and checks the
 * request. Returns 0 with api->room filled, or queues the error and returns
 * 1. */
int api_authenticate(struct api *api)
{
    struct proto_auth auth;
    int rc;

    if (api_read_auth(api, &auth) < 0 || hex_decode(auth.room, api->room.key_id, 32) < 0) {
        api->result = api_reply_error(api, MHD_HTTP_UNAUTHORIZED, "unknown_room", NULL);
        return 1;
    }
    hex_encode(api->room.key_id, 32, api->room_hex);
    rc = center_find_room(api->server->db, &api->room);
    if (rc == ER_CENTER_DB) {
        api->result = api_reply_error(api, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", NULL);
        return 1;
    }
    if (rc != 0) {
        api->result = api_reply_error(api, MHD_HTTP_UNAUTHORIZED, "unknown_room", NULL);
        return 1;
    }
    if (api->room.retired_at != 0) {
        api->result = retired(api, api->room.retired_at);
        return 1;
    }
    return api_check_signed(api, &auth, api->room.sign, api->room.key_id);
}

/* ---- the daemon ---- */

/* From the headers alone: an unknown room or a clock far off is answered
 * at once, and its body never read. MHD_YES lets the request go on. */
static enum MHD_Result early_refusal(struct server *server, struct MHD_Connection *conn,
                                     const char *url, const char *method)
{
    struct api api = {.server = server, .conn = conn, .method = method, .url = url};
    const char *room = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, PROTO_HDR_ROOM);
    int64_t t =
        proto_parse_time(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, PROTO_HDR_TIME));
    int known;

    center_now_override(&api.now);
    if (room == NULL || hex_decode(room, api.room.key_id, 32) < 0)
        return api_reply_error(&api, MHD_HTTP_UNAUTHORIZED, "unknown_room", NULL);
    known = center_find_room(server->db, &api.room);
    key_free(api.room.sign);
    if (known == ER_ROOM_NOT_REGISTERED)
        return api_reply_error(&api, MHD_HTTP_UNAUTHORIZED, "unknown_room", NULL);
    if (known == 0 && api.room.retired_at != 0)
        return retired(&api, api.room.retired_at);
    if (t < 0 || t > api.now + PROTO_SKEW_MAX || t < api.now - PROTO_SKEW_MAX)
        return api_reply_error(&api, MHD_HTTP_UNAUTHORIZED, "clock_skew",
                               json_pack("{s:I}", "center_time", (json_int_t)api.now));
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    struct server *server = cls;
    struct request *rq = *con_cls;
    struct api api = {
        .server = server, .conn = conn, .method = method, .url = url, .source = "online"};
    const char *encoding;
    uint8_t *plain = NULL;
    enum MHD_Result result;
    int rc = 0;

    (void)version;
    if (rq == NULL)
        return MHD_NO; /* on_uri could not allocate it */
    api.query = rq->query;
    if (!rq->begun) {
        rq->begun = 1;
        /* Before any body is read: a body is only worth buffering (and
         * inflating) for a room the center knows, whose clock agrees. */
        rq->limit = strcmp(url, "/v1/register") == 0 ? API_REGISTER_MAX : API_BODY_MAX;
        if (strcmp(method, "POST") == 0 && strcmp(url, "/v1/register") != 0)
            return early_refusal(server, conn, url, method);
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (append(rq, upload_data, *upload_size) < 0)
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    center_now_override(&api.now);
    api.body = rq->body != NULL ? rq->body : (const uint8_t *)"";
    api.raw_len = rq->len;
    api.data = api.body;
    api.len = rq->len;
    encoding = header(&api, MHD_HTTP_HEADER_CONTENT_ENCODING);
    if (rq->too_large) {
        result = api_reply_error(&api, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", NULL);
    } else if (encoding != NULL && strcmp(encoding, "identity") != 0 &&
               strcmp(encoding, "gzip") != 0) {
        result = api_reply_error(&api, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "bad_encoding", NULL);
    } else if (encoding != NULL && strcmp(encoding, "gzip") == 0 &&
               (rc = api_gunzip(rq->body, rq->len, &plain, &api.len)) < 0) {
        result = api_reply_error(
            &api, rc == ER_PKG_TOO_LARGE ? MHD_HTTP_CONTENT_TOO_LARGE : MHD_HTTP_BAD_REQUEST,
            rc == ER_PKG_TOO_LARGE ? "too_large" : "bad_encoding", NULL);
    } else {
        if (plain != NULL)
            api.data = plain;
        result = api_dispatch(&api);
    }
    /* The access log: every answered request, one line. */
    log_info("%s %s %u", method, url, result == MHD_YES ? api.status : 0);
    key_free(api.room.sign);
    free(plain);
    return result;
}

/* The first sight of a request: its raw URI, query included (the request
 * callback gets the path alone). What it returns is the request's con_cls. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct request *rq = calloc(1, sizeof(*rq));
    const char *q = strchr(uri, '?');

    (void)cls;
    (void)conn;
    if (rq != NULL && q != NULL && (rq->query = strdup(q + 1)) == NULL) {
        free(rq);
        return NULL;
    }
    return rq;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct request *rq = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (rq != NULL) {
        free(rq->body);
        free(rq->query);
        free(rq);
    }
    *con_cls = NULL;
}

static int parse_listen(const char *text, struct sockaddr_storage *ss)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    size_t n;
    long port;
    char *end;

    if (colon == NULL || (n = (size_t)(colon - text)) >= sizeof(host))
        return -1;
    memcpy(host, text, n);
    host[n] = '\0';
    port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 0 || port > 65535)
        return -1;
    memset(ss, 0, sizeof(*ss));
    if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

        host[n - 1] = '\0';
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        return inet_pton(AF_INET6, host + 1, &s6->sin6_addr) == 1 ? 0 : -1;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        return inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -1;
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n < (1 << 20) &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
        }
    }
    fclose(f);
    return buf;
}

/* libmicrohttpd's messages, into our log: fmt is its printf format. */
__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    log_vmsg(LOG_LEVEL_WARN, fmt, ap);
}

int cmd_serve(struct cli_ctx *ctx, int argc, char **argv)
{
    static const char *const names[] = {"--listen",   "--tls-cert",   "--tls-key",
                                        "--key-lead", "--plain-http", NULL};
    int bad = 0, rc, sig, plain = 0;
    const char *listen = cli_option(argc, argv, "--listen", &bad);
    const char *cert = cli_option(argc, argv, "--tls-cert", &bad);
    const char *tls_key = cli_option(argc, argv, "--tls-key", &bad);
    const char *lead = cli_option(argc, argv, "--key-lead", &bad);
    char path[CENTER_PATH_MAX], cert_path[CENTER_PATH_MAX], key_path[CENTER_PATH_MAX];
    char *cert_pem = NULL, *key_pem = NULL;
    struct server server = {.key_lead = CENTER_KEY_LEAD};
    struct sockaddr_storage ss;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    const union MHD_DaemonInfo *info;
    sigset_t set;

    /* A daemon: its access log is wanted, unless EXAMROOM_LOG says otherwise. */
    if (getenv("EXAMROOM_LOG") == NULL && log_get_level() < LOG_LEVEL_INFO)
        log_set_level(LOG_LEVEL_INFO);
    /* --plain-http takes no value: take it out before the pairs are checked. */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--plain-http") == 0) {
            plain = 1;
            memmove(argv + i, argv + i + 1, (size_t)(argc - i - 1) * sizeof(*argv));
            argc--;
            i--;
        }
    if (bad || listen == NULL || parse_listen(listen, &ss) < 0 ||
        (cert == NULL) != (tls_key == NULL) || (plain && cert != NULL) ||
        cli_check_options(argc, argv, 1, names) < 0)
        return cli_fail(ctx, ER_USAGE);
    if (lead != NULL && (server.key_lead = proto_parse_time(lead) * 60) < 0)
        return cli_fail(ctx, ER_USAGE);
    if (center_path(ctx, "center-key.pem", path) < 0 || center_path(ctx, "server.pem", cert_path) ||
        center_path(ctx, "server-key.pem", key_path))
        return cli_fail(ctx, ER_USAGE);
    rc = key_load_private(KEY_ED25519, path, &server.center);
    if (rc == 0 && center_path(ctx, "center-bundle.pem", path) == 0)
        rc = key_load_private(KEY_X25519, path, &server.bundle);
    if (rc == 0)
        key_id(server.center, server.center_id);
    if (rc < 0) {
        key_free(server.center);
        return cli_fail_detail(ctx, rc, "无法读取中心密钥 %s（是否已运行 examcenter init？）",
                               path);
    }
    rc = center_db_open(ctx->data_dir, &server.db);
    if (rc < 0) {
        key_free(server.center);
        key_free(server.bundle);
        return cli_fail(ctx, rc);
    }
    if (!plain) {
        cert_pem = slurp(cert ? cert : cert_path);
        key_pem = slurp(tls_key ? tls_key : key_path);
        if (cert_pem == NULL || key_pem == NULL) {
            rc = cli_fail_detail(ctx, ER_IO, "无法读取 TLS 证书或私钥（%s，%s）。",
                                 cert ? cert : cert_path, tls_key ? tls_key : key_path);
            goto out;
        }
        flags |= MHD_USE_TLS;
    }
    /* SIGTERM and SIGINT are taken by sigwait() below; block them before the
     * daemon's thread starts so that it inherits the mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    server.daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, &server, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        NULL, MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)30, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
        plain ? MHD_OPTION_END : MHD_OPTION_HTTPS_MEM_CERT, cert_pem, MHD_OPTION_HTTPS_MEM_KEY,
        key_pem, MHD_OPTION_END);
    if (server.daemon == NULL) {
        rc = cli_fail_detail(ctx, ER_IO, "无法在 %s 上监听（地址被占用，或证书无效）。", listen);
        goto out;
    }
    info = MHD_get_daemon_info(server.daemon, MHD_DAEMON_INFO_BIND_PORT);
    {
        char host[64];
        const char *colon = strrchr(listen, ':');

        snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
        printf("listening on %s://%s:%u\n", plain ? "http" : "https", host, info ? info->port : 0);
        fflush(stdout);
    }
    sigwait(&set, &sig);
    log_notice("signal %d: stopping", sig);
    MHD_stop_daemon(server.daemon);
    rc = 0;
out:
    free(cert_pem);
    free(key_pem);
    sqlite3_close(server.db);
    key_free(server.center);
    key_free(server.bundle);
    return rc;
}
