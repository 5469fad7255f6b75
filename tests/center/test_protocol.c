/* Protocol tests against a running `examcenter serve` over HTTPS on
 * loopback, with the test CA pinned (issue 5, docs/protocol.md). The room's
 * side is played by this client: a conformance client of the center side
 * (issue 16). It signs requests, checks answers and seals results the way
 * docs/protocol.md says, from its own copy of the strings that page gives
 * (the DOC_* below), not crypto/proto.c's: only the Ed25519 and SHA-256
 * primitives are shared.
 *   test_protocol EXAMCENTER */
#define _GNU_SOURCE /* memmem */
#include "centerproc.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "crypto.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static const char *examcenter;
static char dir[64], data[128], ca[160], base[96];
static pid_t server_pid;
static pid_t other_pid; /* a second center, while it runs */

/* docs/protocol.md, "Authentication of a room" and "Signed answers". */
#define DOC_REQUEST  "EXAMROOM-REQUEST-V1"
#define DOC_REGISTER "EXAMROOM-REGISTER-V1"
#define DOC_MANIFEST "EXAMROOM-MANIFEST-V1"
#define DOC_RECEIPT  "EXAMROOM-RECEIPT-V1"
#define DOC_SESSION  "EXAMROOM-SESSION-KEY-V1"
#define DOC_ERROR    "EXAMROOM-ERROR-V1"
#define DOC_H_ROOM   "X-Examroom-Room"
#define DOC_H_TIME   "X-Examroom-Time"
#define DOC_H_NONCE  "X-Examroom-Nonce"
#define DOC_H_SIG    "X-Examroom-Signature"
#define DOC_H_CSIG   "X-Examroom-Center-Signature"
#define DOC_SKEW     300

/* The center spoken to: its key, and its key id in hex (requests name it). */
static struct key *doc_center;
static char center_hex[65];

struct room {
    struct key *sign, *wrap;
    char id[65];
    const char *room_id; /* the center's id of the room: "R01" */
};

struct resp {
    long status;
    char *body;
    size_t len;
    char center_sig[128], etag[128], content_range[128];
    struct proto_auth auth; /* the headers the request carried, if signed */
};

/* ---- running examcenter ---- */

/* Runs "examcenter --data DATA args" and returns its first line of stdout. */
__attribute__((format(printf, 3, 4))) static int center(char *out, size_t outsz, const char *fmt,
                                                        ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = centerproc_vrun(examcenter, data, out, outsz, fmt, ap);
    va_end(ap);
    return rc;
}

/* Starts serve on an ephemeral port and reads the port from its ready line. */
static pid_t start_server(const char *extra, char *url, size_t urlsz)
{
    pid_t pid = centerproc_start(examcenter, data, extra, url, urlsz);

    assert_true(pid > 0);
    return pid;
}

static void stop_server(pid_t pid)
{
    int status;

    kill(pid, SIGTERM);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0); /* clean shutdown */
}

/* ---- HTTP ---- */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct resp *r = arg;
    char *b = realloc(r->body, r->len + size * n + 1);

    if (b == NULL)
        return 0;
    r->body = b;
    memcpy(r->body + r->len, p, size * n);
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

static void keep_header(const char *line, const char *name, char *out, size_t outsz)
{
    size_t n = strlen(name);

    if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
        snprintf(out, outsz, "%s", line + n + 1 + (line[n + 1] == ' '));
        out[strcspn(out, "\r\n")] = '\0';
    }
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct resp *r = arg;
    char line[512];

    snprintf(line, sizeof(line), "%.*s", (int)(size * n), p);
    keep_header(line, DOC_H_CSIG, r->center_sig, sizeof(r->center_sig));
    keep_header(line, "ETag", r->etag, sizeof(r->etag));
    keep_header(line, "Content-Range", r->content_range, sizeof(r->content_range));
    return size * n;
}

/* The signed string of docs/protocol.md: "EXAMROOM-REQUEST-V1" LF CENTER LF
 * METHOD LF PATH LF QUERY LF CONTENT-ENCODING LF RANGE LF IF-RANGE LF TIME LF
 * NONCE LF hex(SHA-256(body)). a->time and a->nonce given; fills a->room and
 * a->sig. */
static void doc_sign(const struct key *k, const char *center, const char *method,
                     const char *target, const char *encoding, const char *range,
                     const char *if_range, const void *body, size_t len, struct proto_auth *a)
{
    const char *q = strchr(target, '?');
    uint8_t digest[32], id[32], sig[64];
    char hex[65], msg[2048];
    int n;

    SHA256(body ? body : (const void *)"", len, digest);
    hex_encode(digest, 32, hex);
    n = snprintf(msg, sizeof(msg), DOC_REQUEST "\n%s\n%s\n%.*s\n%s\n%s\n%s\n%s\n%s\n%s\n%s", center,
                 method, q ? (int)(q - target) : (int)strlen(target), target, q ? q + 1 : "",
                 encoding ? encoding : "", range ? range : "", if_range ? if_range : "", a->time,
                 a->nonce, hex);
    assert_true(n > 0 && n < (int)sizeof(msg));
    assert_int_equal(key_sign(k, msg, (size_t)n, sig), 0);
    EVP_EncodeBlock((unsigned char *)a->sig, sig, 64);
    key_id(k, id);
    hex_encode(id, 32, a->room);
}

static void fresh(struct proto_auth *a, int64_t t)
{
    uint8_t nonce[16];

    snprintf(a->time, sizeof(a->time), "%lld", (long long)t);
    assert_int_equal(RAND_bytes(nonce, 16), 1);
    hex_encode(nonce, 16, a->nonce);
}

/* A room's signature over CONTEXT LF bytes (records, the chain head), base64. */
static int doc_sign_body(const struct key *k, const char *context, const void *bytes, size_t n,
                         char sig_b64[89])
{
    size_t c = strlen(context);
    char *msg = malloc(c + 1 + n);
    uint8_t sig[64];
    int rc;

    memcpy(msg, context, c);
    msg[c] = '\n';
    memcpy(msg + c + 1, bytes, n);
    rc = key_sign(k, msg, c + 1 + n, sig);
    free(msg);
    EVP_EncodeBlock((unsigned char *)sig_b64, sig, 64);
    return rc;
}

/* docs/protocol.md "Signed answers": the center's signature over CONTEXT LF
 * body verifies with its key, and the body's "request" names the room key
 * and the nonce of the request it answers. */
static int answer_ok(const char *context, const struct resp *r)
{
    uint8_t sig[66];
    size_t c = strlen(context);
    char *msg = malloc(c + 1 + r->len + 1);
    json_t *doc, *req;
    int ok;

    if (strlen(r->center_sig) != 88 ||
        EVP_DecodeBlock(sig, (const unsigned char *)r->center_sig, 88) != 66) {
        free(msg);
        return 0;
    }
    memcpy(msg, context, c);
    msg[c] = '\n';
    memcpy(msg + c + 1, r->body, r->len);
    ok = key_verify(doc_center, msg, c + 1 + r->len, sig) == 0;
    free(msg);
    doc = json_loadb(r->body, r->len, 0, NULL);
    req = json_object_get(doc, "request");
    ok = ok && json_is_string(json_object_get(req, "nonce")) &&
         strcmp(json_string_value(json_object_get(req, "nonce")), r->auth.nonce) == 0 &&
         json_is_string(json_object_get(req, "room_key")) &&
         strcmp(json_string_value(json_object_get(req, "room_key")), r->auth.room) == 0;
    json_decref(doc);
    return ok;
}

/* The value of header name among a request's extra lines, or NULL. */
static const char *extra_value(const char *const extra[4], const char *name)
{
    size_t n = strlen(name);

    for (int i = 0; i < 4 && extra[i] != NULL; i++)
        if (strncasecmp(extra[i], name, n) == 0 && extra[i][n] == ':')
            return extra[i] + n + 1 + (extra[i][n + 1] == ' ');
    return NULL;
}

struct req {
    const char *method, *path;
    const void *body;
    size_t len;
    const struct room *room;    /* signs with its key */
    const struct proto_auth *a; /* or these exact headers (a replay) */
    struct proto_auth *used;    /* the headers sent */
    int64_t time_shift;
    const char *extra[4]; /* more headers */
    int no_ca;            /* do not pin the CA */
};

static CURLcode http(const struct req *q, struct resp *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    struct proto_auth auth;
    char url[256], line[256];
    CURLcode rc;

    memset(r, 0, sizeof(*r));
    memset(&auth, 0, sizeof(auth));
    snprintf(url, sizeof(url), "%s%s", base, q->path);
    if (q->a != NULL) {
        auth = *q->a;
    } else if (q->room != NULL) {
        /* Every header the center acts on is signed, as sent. */
        fresh(&auth, time(NULL) + q->time_shift);
        doc_sign(q->room->sign, center_hex, q->method, q->path,
                 extra_value(q->extra, "Content-Encoding"), extra_value(q->extra, "Range"),
                 extra_value(q->extra, "If-Range"), q->body, q->len, &auth);
    }
    if (q->a != NULL || q->room != NULL) {
        snprintf(line, sizeof(line), "%s: %s", DOC_H_ROOM, auth.room);
        h = curl_slist_append(h, line);
        snprintf(line, sizeof(line), "%s: %s", DOC_H_TIME, auth.time);
        h = curl_slist_append(h, line);
        snprintf(line, sizeof(line), "%s: %s", DOC_H_NONCE, auth.nonce);
        h = curl_slist_append(h, line);
        snprintf(line, sizeof(line), "%s: %s", DOC_H_SIG, auth.sig);
        h = curl_slist_append(h, line);
        if (q->used != NULL)
            *q->used = auth;
    }
    for (int i = 0; i < 4 && q->extra[i] != NULL; i++)
        h = curl_slist_append(h, q->extra[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
    if (!q->no_ca)
        curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    if (q->body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)q->len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    r->auth = auth;
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc;
}

static const char *error_code(const struct resp *r)
{
    static char code[64];
    json_t *doc = json_loads(r->body ? r->body : "", 0, NULL);

    snprintf(code, sizeof(code), "%s",
             json_string_value(json_object_get(doc, "error"))
                 ? json_string_value(json_object_get(doc, "error"))
                 : "");
    json_decref(doc);
    return code;
}

static void new_room(struct room *r)
{
    uint8_t id[32];

    assert_int_equal(key_generate(KEY_ED25519, &r->sign), 0);
    assert_int_equal(key_generate(KEY_X25519, &r->wrap), 0);
    key_id(r->sign, id);
    hex_encode(id, 32, r->id);
}

static void free_room(struct room *r)
{
    key_free(r->sign);
    key_free(r->wrap);
}

static char *register_body(const struct room *r, const char *serial)
{
    char sign[KEY_B64_LEN + 1], wrap[KEY_B64_LEN + 1];
    json_t *doc;
    char *text;

    key_public_b64(r->sign, sign);
    key_public_b64(r->wrap, wrap);
    doc = json_pack("{s:s, s:s, s:s, s:s}", "serial", serial, "sign_pub", sign, "wrap_pub", wrap,
                    "name", "第一考场服务器");
    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

static struct key *center_bundle; /* from the register answer */

static struct key *read_center_key(void)
{
    char path[256], b64[128] = "";
    struct key *k;
    FILE *f;

    snprintf(path, sizeof(path), "%s/center-key.pub", data);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(b64, sizeof(b64), f));
    fclose(f);
    assert_int_equal(key_parse_public(KEY_ED25519, b64, &k), 0);
    return k;
}

/* The key of the center in data, and its id: what requests name. */
static void use_center_key(void)
{
    uint8_t id[32];

    key_free(doc_center);
    doc_center = read_center_key();
    key_id(doc_center, id);
    hex_encode(id, 32, center_hex);
}

static long do_register(const struct room *r, const char *serial, struct resp *out)
{
    char *body = register_body(r, serial);
    struct req q = {
        .method = "POST", .path = "/v1/register", .body = body, .len = strlen(body), .room = r};
    struct resp tmp, *resp = out ? out : &tmp;

    assert_int_equal(http(&q, resp), CURLE_OK);
    free(body);
    if (out == NULL)
        free(tmp.body);
    return resp->status;
}

/* ---- the world: a center with a generated plan, serving ---- */

static char serial_r01[32], serial_r01b[32], serial_r02[32];
static struct room room1, room2, intruder;
static struct room newroom; /* R01's replacement server, registered late */

/* Real tickets of R01's session S1: a result must name a candidate the
 * uploading room seats. */
static char tickets[10][32];

static const char *tk(int n)
{
    return tickets[n - 1];
}

static void load_tickets(void)
{
    char path[200];
    sqlite3 *db;
    sqlite3_stmt *st;
    int n = 0;

    snprintf(path, sizeof(path), "%s/center.db", data);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT ticket FROM candidates WHERE room_id = 'R01' "
                                        "AND session_id = 'S1' ORDER BY seat LIMIT 10",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (n < 10 && sqlite3_step(st) == SQLITE_ROW)
        snprintf(tickets[n++], sizeof(tickets[0]), "%s", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_int_equal(n, 10);
}

static int setup(void **state)
{
    char out[256];

    (void)state;
    strcpy(dir, "/tmp/examcenter-proto-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(data, sizeof(data), "%s/center", dir);
    snprintf(ca, sizeof(ca), "%s/ca.pem", data);
    assert_int_equal(center(NULL, 0, "init"), 0);
    assert_int_equal(
        center(NULL, 0, "plan sample %s/plan --candidates 40 --rooms 2 --start-in 60", dir), 0);
    assert_int_equal(center(out, sizeof(out), "plan import %s/plan", dir), 0);
    assert_int_equal(center(serial_r01, sizeof(serial_r01), "serial issue --room R01"), 0);
    assert_int_equal(center(serial_r01b, sizeof(serial_r01b), "serial issue --room R01"), 0);
    assert_int_equal(center(serial_r02, sizeof(serial_r02), "serial issue --room R02"), 0);
    assert_int_equal(strlen(serial_r01), 19);
    load_tickets();
    use_center_key();
    server_pid = start_server("", base, sizeof(base));
    new_room(&room1);
    new_room(&room2);
    new_room(&intruder);
    room1.room_id = "R01";
    room2.room_id = "R02";
    intruder.room_id = "R09";
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    stop_server(server_pid);
    if (other_pid > 0) /* a test failed while it ran */
        stop_server(other_pid);
    free_room(&room1);
    free_room(&room2);
    free_room(&intruder);
    free_room(&newroom);
    key_free(center_bundle);
    key_free(doc_center);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd);
}

/* ---- tests, in order: each builds on the state the one before left ---- */

static void tls_is_verified_against_the_pinned_ca(void **state)
{
    struct req q = {.method = "GET", .path = "/v1/time"};
    struct resp r;
    json_t *doc;

    (void)state;
    assert_int_equal(http(&q, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    doc = json_loads(r.body, 0, NULL);
    assert_true(llabs((long long)json_integer_value(json_object_get(doc, "time")) - time(NULL)) <
                5);
    json_decref(doc);
    free(r.body);
    /* The system's CAs do not know the test CA: verification fails. */
    q.no_ca = 1;
    assert_int_equal(http(&q, &r), CURLE_PEER_FAILED_VERIFICATION);
    free(r.body);
}

static void serial_is_single_use(void **state)
{
    struct resp r;
    json_t *doc;

    (void)state;
    assert_int_equal(do_register(&room1, serial_r01, &r), 200);
    /* Signed by the center: the room takes its bundle key from here. */
    assert_true(answer_ok(DOC_REGISTER, &r));
    doc = json_loads(r.body, 0, NULL);
    assert_int_equal(key_parse_public(KEY_X25519,
                                      json_string_value(json_object_get(doc, "bundle_key")),
                                      &center_bundle),
                     0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "room"), "id")),
                        "R01");
    assert_true(json_array_size(json_object_get(doc, "sessions")) >= 1);
    json_decref(doc);
    free(r.body);
    /* The same room again (its answer was lost): the same registration. */
    assert_int_equal(do_register(&room1, serial_r01, NULL), 200);
    /* Another key with the used serial: refused, with a clear code. */
    assert_int_equal(do_register(&intruder, serial_r01, &r), 409);
    assert_string_equal(error_code(&r), "serial_used");
    free(r.body);
    /* A typo, an unknown serial. */
    {
        char typo[32];

        strcpy(typo, serial_r02);
        typo[0] = typo[0] == 'A' ? 'B' : 'A';
        assert_int_equal(do_register(&intruder, typo, &r), 400);
        assert_string_equal(error_code(&r), "serial_typo");
        free(r.body);
        assert_int_equal(do_register(&intruder, "0000-0000-0000-0000", &r), 404);
        assert_string_equal(error_code(&r), "serial_unknown");
        free(r.body);
    }
    assert_int_equal(do_register(&room2, serial_r02, NULL), 200);
    /* A key registered once cannot take a second serial. */
    assert_int_equal(do_register(&room1, serial_r01b, &r), 409);
    assert_string_equal(error_code(&r), "room_key_in_use");
    free(r.body);
}

static void requests_are_authenticated(void **state)
{
    struct proto_auth used, forged;
    struct req q = {.method = "GET",
                    .path = "/v1/manifest",
                    .body = NULL,
                    .len = 0,
                    .room = &room1,
                    .a = NULL,
                    .used = &used};
    struct resp r;

    (void)state;
    assert_int_equal(http(&q, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    free(r.body);
    /* The very same request again: a replay. */
    q.room = NULL;
    q.a = &used;
    q.used = NULL;
    assert_int_equal(http(&q, &r), CURLE_OK);
    assert_int_equal(r.status, 401);
    assert_string_equal(error_code(&r), "replay");
    free(r.body);
    /* A clock far off, either way: refused, with the center's time. */
    for (int sign = -1; sign <= 1; sign += 2) {
        struct req s = {
            .method = "GET", .path = "/v1/manifest", .body = NULL, .len = 0, .room = &room1};
        json_t *doc;

        s.time_shift = sign * (DOC_SKEW + 60);
        assert_int_equal(http(&s, &r), CURLE_OK);
        assert_int_equal(r.status, 401);
        assert_string_equal(error_code(&r), "clock_skew");
        /* center_time is signed, for this request: the room acts on it. */
        assert_true(answer_ok(DOC_ERROR, &r));
        doc = json_loads(r.body, 0, NULL);
        assert_true(json_is_integer(json_object_get(doc, "center_time")));
        json_decref(doc);
        free(r.body);
    }
    /* Another room's id with this room's signature: refused. */
    {
        struct req s = {.method = "GET",
                        .path = "/v1/manifest",
                        .body = NULL,
                        .len = 0,
                        .room = &room2,
                        .a = NULL,
                        .used = &forged};

        s.used = &forged;
        fresh(&forged, time(NULL));
        doc_sign(room2.sign, center_hex, "GET", "/v1/manifest", NULL, NULL, NULL, NULL, 0, &forged);
        strcpy(forged.room, room1.id);
        s.room = NULL;
        s.a = &forged;
        s.used = NULL;
        assert_int_equal(http(&s, &r), CURLE_OK);
        assert_int_equal(r.status, 401);
        assert_string_equal(error_code(&r), "bad_signature");
        free(r.body);
    }
    /* An unregistered key posting a large body: refused from its headers,
     * the body never read. */
    {
        size_t big = 8u << 20;
        char *body = malloc(big);
        struct req s = {
            .method = "POST", .path = "/v1/results", .body = body, .len = big, .room = &intruder};

        memset(body, '{', big);
        assert_int_equal(http(&s, &r), CURLE_OK);
        assert_int_equal(r.status, 401);
        assert_string_equal(error_code(&r), "unknown_room");
        free(r.body);
        free(body);
    }
    /* An unregistered key. */
    {
        struct req s = {
            .method = "GET", .path = "/v1/manifest", .body = NULL, .len = 0, .room = &intruder};

        assert_int_equal(http(&s, &r), CURLE_OK);
        assert_int_equal(r.status, 401);
        assert_string_equal(error_code(&r), "unknown_room");
        free(r.body);
    }
}

/* Seen nonces are kept in center.db for the whole window: a request
 * captured before a restart is refused after it. */
static void replay_refused_after_a_restart(void **state)
{
    struct proto_auth used;
    struct req q = {.method = "GET", .path = "/v1/manifest", .room = &room1, .used = &used};
    struct resp r;

    (void)state;
    assert_int_equal(http(&q, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    free(r.body);
    stop_server(server_pid);
    server_pid = start_server("", base, sizeof(base));
    q.room = NULL;
    q.a = &used;
    q.used = NULL;
    assert_int_equal(http(&q, &r), CURLE_OK);
    assert_int_equal(r.status, 401);
    assert_string_equal(error_code(&r), "replay");
    free(r.body);
}

/* register signed by the key it registers, but X-Examroom-Room naming
 * another key id: the request is not that key's, so bad_signature (not
 * unknown_room), before the serial is looked at. */
static void register_under_another_key_id_is_bad_signature(void **state)
{
    struct room k;
    struct proto_auth a;
    char *body;
    struct resp r;

    (void)state;
    new_room(&k);
    body = register_body(&k, serial_r02);
    fresh(&a, time(NULL));
    doc_sign(k.sign, center_hex, "POST", "/v1/register", NULL, NULL, NULL, body, strlen(body), &a);
    strcpy(a.room, room2.id);
    {
        struct req q = {
            .method = "POST", .path = "/v1/register", .body = body, .len = strlen(body), .a = &a};

        assert_int_equal(http(&q, &r), CURLE_OK);
    }
    assert_int_equal(r.status, 401);
    assert_string_equal(error_code(&r), "bad_signature");
    free(r.body);
    free(body);
    free_room(&k);
}

static char plan_id[256];

static json_t *manifest(const struct room *room)
{
    struct req q = {.method = "GET", .path = "/v1/manifest", .body = NULL, .len = 0, .room = room};
    struct resp r;
    struct key *center_pub;
    char path[256], b64[128] = "";
    FILE *f;
    json_t *doc;

    assert_int_equal(http(&q, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    /* Signed by the center key that init wrote out. */
    snprintf(path, sizeof(path), "%s/center-key.pub", data);
    f = fopen(path, "r");
    assert_non_null(fgets(b64, sizeof(b64), f));
    fclose(f);
    assert_int_equal(key_parse_public(KEY_ED25519, b64, &center_pub), 0);
    assert_true(answer_ok(DOC_MANIFEST, &r));
    r.body[0] = ' '; /* a changed body no longer matches */
    assert_false(answer_ok(DOC_MANIFEST, &r));
    r.body[0] = '{';
    key_free(center_pub);
    doc = json_loads(r.body, 0, NULL);
    free(r.body);
    assert_non_null(doc);
    snprintf(plan_id, sizeof(plan_id), "%s", json_string_value(json_object_get(doc, "plan")));
    return doc;
}

/* What docs/package-format.md says of a real package (examcenter pack):
 * scrypt log2_n 15, r 8, p 1; expires_at 30 days after its last session
 * ends. The scrypt fields are read from the header's bytes (table order). */
static void real_package_parameters(const uint8_t *p, size_t n, const struct pkg_info *in)
{
    size_t off = 12;
    int64_t last = 0;

    for (int i = 0; i < 2; i++) /* plan_id, room_id: u16 length, bytes */
        off += 2 + ((size_t)p[off] << 8 | p[off + 1]);
    off += 3 * 8 + 3 * 32 + 48; /* version, created_at, expires_at, 3 ids/keys, wrapped */
    assert_true(off + 9 <= n);
    assert_int_equal(p[off], 15);
    assert_int_equal((uint32_t)p[off + 1] << 24 | p[off + 2] << 16 | p[off + 3] << 8 | p[off + 4],
                     8);
    assert_int_equal((uint32_t)p[off + 5] << 24 | p[off + 6] << 16 | p[off + 7] << 8 | p[off + 8],
                     1);
    assert_true(in->n_sessions >= 1);
    for (size_t i = 0; i < in->n_sessions; i++)
        if (in->sessions[i].ends_at > last)
            last = in->sessions[i].ends_at;
    assert_int_equal(in->expires_at, last + 2592000);
}

static void packages_download_and_resume(void **state)
{
    char line[512], etag[128];
    json_t *m, *pkg;
    struct resp r, part;
    const char *path;
    long size;

    (void)state;
    m = manifest(&room1);
    assert_int_equal(json_array_size(json_object_get(m, "packages")), 0);
    json_decref(m);
    assert_int_equal(center(line, sizeof(line), "pack"), 0); /* both registered rooms */
    m = manifest(&room1);
    pkg = json_array_get(json_object_get(m, "packages"), 0);
    assert_int_equal(json_integer_value(json_object_get(pkg, "version")), 1);
    path = json_string_value(json_object_get(pkg, "path"));
    size = (long)json_integer_value(json_object_get(pkg, "size"));
    {
        struct req q = {.method = "GET", .path = path, .body = NULL, .len = 0, .room = &room1};

        assert_int_equal(http(&q, &r), CURLE_OK);
    }
    assert_int_equal(r.status, 200);
    assert_int_equal((long)r.len, size);
    snprintf(etag, sizeof(etag), "\"%s\"", json_string_value(json_object_get(pkg, "package_id")));
    assert_string_equal(r.etag, etag);
    /* It is this room's package: it opens with this room's key. */
    {
        char file[200];
        FILE *f;
        struct key *center_pub;
        struct pkg_reader *rd;
        char cpath[256], b64[128];
        struct pkg_trust t = {NULL, room1.wrap, 0, time(NULL)};

        snprintf(file, sizeof(file), "%s/r01.pkg", dir);
        f = fopen(file, "wb");
        fwrite(r.body, 1, r.len, f);
        fclose(f);
        snprintf(cpath, sizeof(cpath), "%s/center-key.pub", data);
        f = fopen(cpath, "r");
        assert_non_null(fgets(b64, sizeof(b64), f));
        fclose(f);
        assert_int_equal(key_parse_public(KEY_ED25519, b64, &center_pub), 0);
        t.center_key = center_pub;
        assert_int_equal(pkg_open(file, &t, &rd), 0);
        assert_int_equal(pkg_verify(rd), 0);
        assert_string_equal(pkg_get_info(rd)->room_id, "R01");
        real_package_parameters((const uint8_t *)r.body, r.len, pkg_get_info(rd));
        pkg_close(rd);
        t.room_key = room2.wrap;
        assert_int_equal(pkg_open(file, &t, &rd), ER_PKG_OTHER_ROOM);
        key_free(center_pub);
    }
    /* Range: the right bytes; If-Range with this ETag still a range. */
    {
        char if_range[160];
        struct req q = {.method = "GET",
                        .path = path,
                        .body = NULL,
                        .len = 0,
                        .room = &room1,
                        .extra = {"Range: bytes=100-1099"}};

        assert_int_equal(http(&q, &part), CURLE_OK);
        assert_int_equal(part.status, 206);
        assert_int_equal(part.len, 1000);
        assert_memory_equal(part.body, r.body + 100, 1000);
        snprintf(line, sizeof(line), "bytes 100-1099/%ld", size);
        assert_string_equal(part.content_range, line);
        free(part.body);
        snprintf(if_range, sizeof(if_range), "If-Range: %s", etag);
        q.extra[1] = if_range;
        q.extra[0] = "Range: bytes=1000-";
        assert_int_equal(http(&q, &part), CURLE_OK);
        assert_int_equal(part.status, 206);
        assert_int_equal((long)part.len, size - 1000);
        assert_memory_equal(part.body, r.body + 1000, part.len);
        free(part.body);
        /* A room holding part of another (changed) package gets it whole. */
        q.extra[1] =
            "If-Range: \"0000000000000000000000000000000000000000000000000000000000000000\"";
        assert_int_equal(http(&q, &part), CURLE_OK);
        assert_int_equal(part.status, 200);
        assert_int_equal((long)part.len, size);
        free(part.body);
        q.extra[1] = NULL;
        snprintf(line, sizeof(line), "Range: bytes=%ld-", size);
        q.extra[0] = line;
        assert_int_equal(http(&q, &part), CURLE_OK);
        assert_int_equal(part.status, 416);
        free(part.body);
    }
    free(r.body);
    /* Another room cannot fetch this room's versions: its own are its own. */
    {
        struct req q = {
            .method = "GET", .path = "/v1/packages/99", .body = NULL, .len = 0, .room = &room1};

        assert_int_equal(http(&q, &part), CURLE_OK);
        assert_int_equal(part.status, 404);
        free(part.body);
    }
    json_decref(m);
}

static void session_keys_wait_for_their_window(void **state)
{
    struct resp r;
    json_t *doc, *reg;
    char code[64], url[96];
    const char *session;
    pid_t early;

    (void)state;
    /* The sessions start in an hour; keys open 15 minutes before. */
    reg = manifest(&room1);
    json_decref(reg);
    {
        struct resp rr;
        char *body = register_body(&room1, serial_r01);
        struct req q = {.method = "POST",
                        .path = "/v1/register",
                        .body = body,
                        .len = strlen(body),
                        .room = &room1};

        assert_int_equal(http(&q, &rr), CURLE_OK);
        free(body);
        reg = json_loads(rr.body, 0, NULL);
        free(rr.body);
    }
    session = json_string_value(
        json_object_get(json_array_get(json_object_get(reg, "sessions"), 0), "id"));
    snprintf(url, sizeof(url), "/v1/sessions/%s/key", session);
    {
        struct req q = {.method = "GET", .path = url, .body = NULL, .len = 0, .room = &room1};
        json_t *s = json_array_get(json_object_get(reg, "sessions"), 0);

        assert_int_equal(http(&q, &r), CURLE_OK);
        assert_int_equal(r.status, 403);
        assert_string_equal(error_code(&r), "too_early");
        /* opens_at is signed, for this request: the room acts on it. */
        assert_true(answer_ok(DOC_ERROR, &r));
        doc = json_loads(r.body, 0, NULL);
        assert_int_equal(json_integer_value(json_object_get(doc, "opens_at")),
                         json_integer_value(json_object_get(s, "starts_at")) - 15 * 60);
        json_decref(doc);
        free(r.body);
    }
    /* A center that releases keys well ahead: the key is the unlock code.
     * The lead covers the session's start, wherever the time of day put it
     * (the sample moves a session that would cross midnight to the next
     * day, up to a few hours away). */
    {
        char saved[96], lead[48];
        struct req q = {.method = "GET", .path = url, .body = NULL, .len = 0, .room = &room1};
        int64_t starts = json_integer_value(
            json_object_get(json_array_get(json_object_get(reg, "sessions"), 0), "starts_at"));

        snprintf(lead, sizeof(lead), "--key-lead %lld",
                 (long long)((starts - (int64_t)time(NULL)) / 60 + 120));
        strcpy(saved, base);
        early = start_server(lead, base, sizeof(base));
        assert_int_equal(http(&q, &r), CURLE_OK);
        assert_int_equal(r.status, 200);
        assert_true(answer_ok(DOC_SESSION, &r));
        doc = json_loads(r.body, 0, NULL);
        assert_int_equal(center(code, sizeof(code), "unlock-code --session %s", session), 0);
        assert_string_equal(json_string_value(json_object_get(doc, "unlock_code")), code);
        json_decref(doc);
        free(r.body);
        /* An unregistered key gets nothing. */
        q.room = &intruder;
        assert_int_equal(http(&q, &r), CURLE_OK);
        assert_int_equal(r.status, 401);
        free(r.body);
        /* Nor does an unknown session. */
        q.room = &room1;
        q.path = "/v1/sessions/NOPE/key";
        assert_int_equal(http(&q, &r), CURLE_OK);
        assert_int_equal(r.status, 404);
        free(r.body);
        stop_server(early);
        strcpy(base, saved);
    }
    json_decref(reg);
}

/* ---- results: sealed and chained by the room, stored once ---- */

struct chain {
    int64_t pos;
    uint8_t head[32];
};

/* A result sealed as docs/protocol.md says, appended to chain c: score
 * -1 is null; status NULL is "submitted"; seat 0 leaves "seat" out. */
static json_t *seal_as(const struct room *room, struct chain *c, const char *id, const char *ticket,
                       int score, const char *status, int seat)
{
    char prev[65], sig[89], *payload, *b64;
    json_t *doc, *item;

    hex_encode(c->head, 32, prev);
    c->pos++; /* positions start at 1; 0 is the empty chain */
    doc = json_pack("{s:{s:{s:s, s:i}}, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "answers",
                    "1", "answer", "B", "rev", 1, "chain_pos", (json_int_t)c->pos, "id", id, "plan",
                    plan_id, "prev", prev, "room", room->room_id, "session", "S1", "status",
                    status ? status : "submitted", "submitted_at",
                    (json_int_t)(1796436000 + c->pos), "ticket", ticket);
    json_object_set_new(doc, "score", score < 0 ? json_null() : json_integer(score));
    if (seat != 0)
        json_object_set_new(doc, "seat", json_integer(seat));
    payload = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    assert_int_equal(doc_sign_body(room->sign, "EXAMROOM-RESULT-V1", payload, strlen(payload), sig),
                     0);
    sha256(payload, strlen(payload), c->head);
    b64 = base64_encode((const uint8_t *)payload, strlen(payload));
    item = json_pack("{s:s, s:s, s:s}", "id", id, "payload", b64, "sig", sig);
    free(b64);
    free(payload);
    return item;
}

static json_t *seal(const struct room *room, struct chain *c, const char *id, const char *ticket,
                    int score)
{
    return seal_as(room, c, id, ticket, score, NULL, 0);
}

static json_t *head_of(const struct room *room, const struct chain *c)
{
    char hash[65], text[96], sig[89];

    hex_encode(c->head, 32, hash);
    snprintf(text, sizeof(text), "%lld\n%s", (long long)c->pos, hash);
    assert_int_equal(doc_sign_body(room->sign, "EXAMROOM-CHAIN-V1", text, strlen(text), sig), 0);
    return json_pack("{s:I, s:s, s:s}", "pos", (json_int_t)c->pos, "hash", hash, "sig", sig);
}

static long upload(const struct room *room, json_t *results, json_t *head, int gzip, struct resp *r)
{
    json_t *doc = json_pack("{s:O, s:o}", "results", results, "head", head);
    char *text = json_dumps(doc, JSON_COMPACT);
    uint8_t *body = (uint8_t *)text;
    size_t len = strlen(text);
    struct req q = {.method = "POST", .path = "/v1/results", .body = NULL, .len = 0, .room = room};

    json_decref(doc);
    if (gzip) {
        z_stream z = {0};

        body = malloc(len + 1024);
        deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
        z.next_in = (Bytef *)text;
        z.avail_in = (uInt)len;
        z.next_out = body;
        z.avail_out = (uInt)(len + 1024);
        assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
        len = z.total_out;
        deflateEnd(&z);
        q.extra[0] = "Content-Encoding: gzip";
    }
    q.body = body;
    q.len = len;
    assert_int_equal(http(&q, r), CURLE_OK);
    if (gzip)
        free(body);
    free(text);
    return r->status;
}

/* Rows in one of the center's tables, read from its database directly. */
static int count(const char *table)
{
    char path[200], sql[96];
    sqlite3 *db;
    sqlite3_stmt *st;
    int n = -1;

    snprintf(path, sizeof(path), "%s/center.db", data);
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", table);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void results_are_stored_once_with_signed_receipts(void **state)
{
    struct chain c = {0};
    json_t *batch = json_array(), *head;
    struct resp r1, r2, r;
    struct key *center_pub;
    char path[200], b64[128];
    FILE *f;

    (void)state;
    json_array_append_new(batch, seal(&room1, &c, "r01-0001", tk(1), 85));
    json_array_append_new(batch, seal(&room1, &c, "r01-0002", tk(2), 40));
    json_array_append_new(batch, seal(&room1, &c, "r01-0003", tk(3), 100));
    head = head_of(&room1, &c);
    assert_int_equal(upload(&room1, batch, json_incref(head), 1, &r1), 200);
    assert_int_equal(count("results"), 3);
    /* The receipt is signed by the center and lists what it holds. */
    snprintf(path, sizeof(path), "%s/center-key.pub", data);
    f = fopen(path, "r");
    assert_non_null(fgets(b64, sizeof(b64), f));
    fclose(f);
    assert_int_equal(key_parse_public(KEY_ED25519, b64, &center_pub), 0);
    assert_true(answer_ok(DOC_RECEIPT, &r1));
    assert_non_null(strstr(r1.body, "\"stored\":[\"r01-0001\",\"r01-0002\",\"r01-0003\"]"));
    /* The same upload again (its receipt was lost): stored once, the same
     * receipt but for the request it answers. */
    assert_int_equal(upload(&room1, batch, json_incref(head), 0, &r2), 200);
    assert_int_equal(count("results"), 3);
    assert_true(answer_ok(DOC_RECEIPT, &r2));
    {
        json_t *d1 = json_loads(r1.body, 0, NULL), *d2 = json_loads(r2.body, 0, NULL);

        assert_false(json_equal(d1, d2));
        json_object_del(d1, "request");
        json_object_del(d2, "request");
        assert_true(json_equal(d1, d2));
        json_decref(d1);
        json_decref(d2);
    }
    free(r1.body);
    free(r2.body);

    /* The same id with another payload: 409, and nothing of that batch kept. */
    {
        struct chain fork = {0};
        json_t *bad = json_array();

        json_array_append_new(bad, seal(&room1, &fork, "r01-0001", tk(1), 99));
        json_array_append_new(bad, seal(&room1, &c, "r01-0004", tk(4), 70));
        assert_int_equal(upload(&room1, bad, head_of(&room1, &c), 0, &r), 409);
        assert_string_equal(error_code(&r), "conflict");
        assert_non_null(strstr(r.body, "r01-0001"));
        assert_int_equal(count("results"), 3);
        free(r.body);
        json_decref(bad);
    }
    json_decref(head);
    json_decref(batch);
    key_free(center_pub);
}

static void rewritten_or_truncated_history_is_refused(void **state)
{
    struct chain c = {0}, other = {0};
    json_t *batch = json_array(), *older;
    struct resp r;

    (void)state;
    /* Rebuild room1's chain as it stands (three results), then a fourth. */
    json_decref(seal(&room1, &c, "r01-0001", tk(1), 85));
    json_decref(seal(&room1, &c, "r01-0002", tk(2), 40));
    json_decref(seal(&room1, &c, "r01-0003", tk(3), 100));
    older = head_of(&room1, &c);
    json_array_append_new(batch, seal(&room1, &c, "r01-0004", tk(4), 70));
    assert_int_equal(upload(&room1, batch, head_of(&room1, &c), 0, &r), 200);
    free(r.body);
    assert_int_equal(count("results"), 4);
    /* A head older than one the center has seen: history was truncated. */
    json_decref(batch);
    batch = json_array();
    assert_int_equal(upload(&room1, batch, older, 0, &r), 409);
    assert_string_equal(error_code(&r), "chain_rollback");
    free(r.body);
    /* A result at position 4 that does not follow position 3: rewritten. */
    json_decref(seal(&room1, &other, "x1", "T1", 1));
    json_decref(seal(&room1, &other, "x2", "T2", 1));
    json_decref(seal(&room1, &other, "x3", "T3", 1));
    json_decref(seal(&room1, &other, "x4", "T4", 1));
    json_decref(batch);
    batch = json_array();
    json_array_append_new(batch, seal(&room1, &other, "r01-0005", tk(5), 60));
    assert_int_equal(upload(&room1, batch, head_of(&room1, &other), 0, &r), 409);
    assert_string_equal(error_code(&r), "chain_broken");
    free(r.body);
    assert_int_equal(count("results"), 4);
    /* Another room cannot upload a result for R01's candidate, under any id. */
    {
        struct chain c2 = {0};
        json_t *forged = json_array();

        json_array_append_new(forged, seal(&room2, &c2, "r01-0001", tk(1), 100));
        assert_int_equal(upload(&room2, forged, head_of(&room2, &c2), 0, &r), 400);
        free(r.body);
        json_decref(forged);
        assert_int_equal(count("results"), 4);
    }
    /* A result signed by another room's key is refused outright. */
    json_decref(batch);
    batch = json_array();
    json_array_append_new(batch, seal(&room2, &c, "r01-0005", tk(5), 60));
    assert_int_equal(upload(&room1, batch, head_of(&room1, &c), 0, &r), 401);
    assert_string_equal(error_code(&r), "bad_signature");
    free(r.body);
    json_decref(batch);
    assert_int_equal(count("results"), 4);
}

static void events_are_stored_once(void **state)
{
    char sig[89], *payload, *b64, *text;
    json_t *ev, *doc;
    struct resp r;
    int i;

    (void)state;
    ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", "ev-1", "plan", plan_id, "room", "R01",
                   "kind", "incident", "ticket", "T0001", "text", "考生举手报告鼠标失灵，已更换");
    payload = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(ev);
    assert_int_equal(doc_sign_body(room1.sign, "EXAMROOM-EVENT-V1", payload, strlen(payload), sig),
                     0);
    b64 = base64_encode((const uint8_t *)payload, strlen(payload));
    doc = json_pack("{s:[{s:s, s:s, s:s}]}", "events", "id", "ev-1", "payload", b64, "sig", sig);
    text = json_dumps(doc, JSON_COMPACT);
    for (i = 0; i < 2; i++) {
        struct req q = {.method = "POST",
                        .path = "/v1/events",
                        .body = text,
                        .len = strlen(text),
                        .room = &room1};

        assert_int_equal(http(&q, &r), CURLE_OK);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.body, "\"kind\":\"events\""));
        assert_true(answer_ok(DOC_RECEIPT, &r));
        /* The receipt names the bytes it holds: SHA-256 of the payload. */
        {
            json_t *rc = json_loads(r.body, 0, NULL);
            uint8_t h[32];
            char hex[65];

            SHA256((const unsigned char *)payload, strlen(payload), h);
            hex_encode(h, 32, hex);
            assert_string_equal(
                json_string_value(json_object_get(json_object_get(rc, "hashes"), "ev-1")), hex);
            assert_null(json_object_get(rc, "head"));
            json_decref(rc);
        }
        free(r.body);
    }
    assert_int_equal(count("events"), 1);
    free(text);
    json_decref(doc);
    free(b64);
    free(payload);
}

/* Exit status of "examcenter import FILE", with its first line in out. */
static int import(const char *file, char *out, size_t outsz)
{
    return center(out, outsz, "import %s 2>&1", file);
}

static void usb_bundles_import_idempotently(void **state)
{
    struct chain c = {0};
    json_t *results = json_array(), *doc, *ev;
    char *body, file[160], bad[160], line[512], sig[89], *payload, *b64;

    (void)state;
    /* The room's unacknowledged records: four the center already has (sent
     * online, their receipt lost), two new ones, one known event, one new. */
    json_array_append_new(results, seal(&room1, &c, "r01-0001", tk(1), 85));
    json_array_append_new(results, seal(&room1, &c, "r01-0002", tk(2), 40));
    json_array_append_new(results, seal(&room1, &c, "r01-0003", tk(3), 100));
    json_array_append_new(results, seal(&room1, &c, "r01-0004", tk(4), 70));
    json_array_append_new(results, seal(&room1, &c, "r01-0005", tk(5), 60));
    json_array_append_new(results, seal(&room1, &c, "r01-0006", tk(6), 0));
    ev = json_pack("{s:s, s:s, s:s, s:s}", "id", "ev-2", "plan", plan_id, "room", "R01", "kind",
                   "attendance");
    payload = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(ev);
    assert_int_equal(doc_sign_body(room1.sign, "EXAMROOM-EVENT-V1", payload, strlen(payload), sig),
                     0);
    b64 = base64_encode((const uint8_t *)payload, strlen(payload));
    doc = json_pack("{s:o, s:o, s:[{s:s, s:s, s:s}]}", "results", results, "head",
                    head_of(&room1, &c), "events", "id", "ev-2", "payload", b64, "sig", sig);
    free(b64);
    free(payload);
    body = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    snprintf(file, sizeof(file), "%s/r01.usb", dir);
    assert_int_equal(bundle_write(file, room1.sign, center_bundle, plan_id, "R01", time(NULL), body,
                                  strlen(body)),
                     0);
    /* Encrypted: the records are not in the file in the clear. */
    {
        FILE *f = fopen(file, "rb");
        char all[65536];
        size_t n = fread(all, 1, sizeof(all) - 1, f);

        fclose(f);
        all[n] = '\0';
        assert_null(memmem(all, n, tk(5), strlen(tk(5))));
    }
    assert_int_equal(count("results"), 4);
    assert_int_equal(import(file, line, sizeof(line)), 0);
    assert_int_equal(count("results"), 6);
    assert_int_equal(count("events"), 2);
    /* Again: nothing changes. */
    assert_int_equal(import(file, line, sizeof(line)), 0);
    assert_int_equal(count("results"), 6);
    assert_int_equal(count("events"), 2);
    /* The room goes on online with a seventh result; the same bundle, now
     * older than the center's head, still imports as a no-op. */
    {
        json_t *more = json_array();
        struct resp r;

        json_array_append_new(more, seal(&room1, &c, "r01-0007", tk(7), 77));
        assert_int_equal(upload(&room1, more, head_of(&room1, &c), 0, &r), 200);
        free(r.body);
        json_decref(more);
        assert_int_equal(count("results"), 7);
        assert_int_equal(import(file, line, sizeof(line)), 0);
        assert_int_equal(count("results"), 7);
    }

    /* One bit changed: refused, nothing stored. */
    snprintf(bad, sizeof(bad), "%s/bad.usb", dir);
    {
        FILE *in = fopen(file, "rb"), *out = fopen(bad, "wb");
        int ch;
        long i = 0;

        while ((ch = fgetc(in)) != EOF)
            fputc(i++ == 300 ? ch ^ 4 : ch, out);
        fclose(in);
        fclose(out);
    }
    assert_int_equal(import(bad, line, sizeof(line)), 1);
    assert_non_null(strstr(line, "无法导入"));
    /* Encrypted to another center's key: refused. */
    {
        struct key *other;

        assert_int_equal(key_generate(KEY_X25519, &other), 0);
        assert_int_equal(
            bundle_write(bad, room1.sign, other, plan_id, "R01", time(NULL), body, strlen(body)),
            0);
        key_free(other);
        assert_int_equal(import(bad, line, sizeof(line)), 1);
    }
    /* Another room's key cannot bring R01's results. */
    assert_int_equal(bundle_write(bad, room2.sign, center_bundle, plan_id, "R02", time(NULL), body,
                                  strlen(body)),
                     0);
    assert_int_equal(import(bad, line, sizeof(line)), 1);
    assert_int_equal(count("results"), 7);
    assert_int_equal(count("events"), 2);
    free(body);
}

/* The score report lists what arrived, joined with the roster. */
static void scores_report_what_arrived(void **state)
{
    char cmd[512], line[1024];
    json_t *doc, *row;
    FILE *p;
    size_t i;
    int found = 0;

    (void)state;
    snprintf(cmd, sizeof(cmd), "%s --data %s scores --format json", examcenter, data);
    p = popen(cmd, "r");
    doc = json_loadf(p, 0, NULL);
    assert_int_equal(pclose(p), 0);
    assert_int_equal(json_array_size(doc), 7);
    json_array_foreach(doc, i, row)
    {
        static const char *fields[] = {"plan",  "session", "ticket", "name", "occupation", "level",
                                       "score", "passed",  "status", "room", "seat"};

        for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
            assert_non_null(json_object_get(row, fields[f]));
        if (strcmp(json_string_value(json_object_get(row, "ticket")), tk(2)) == 0) {
            found = 1;
            assert_int_equal(json_integer_value(json_object_get(row, "score")), 40);
            assert_true(json_is_false(json_object_get(row, "passed"))); /* below 60 */
            assert_string_equal(json_string_value(json_object_get(row, "room")), "R01");
        }
    }
    assert_true(found);
    json_decref(doc);
    /* CSV: UTF-8 with a BOM and a Chinese header row, one line per result. */
    snprintf(cmd, sizeof(cmd), "%s --data %s scores", examcenter, data);
    p = popen(cmd, "r");
    assert_non_null(fgets(line, sizeof(line), p));
    assert_memory_equal(line, "\xEF\xBB\xBF", 3);
    assert_non_null(strstr(line, "准考证号,姓名"));
    for (i = 0; fgets(line, sizeof(line), p) != NULL; i++)
        assert_non_null(strstr(line, plan_id));
    assert_int_equal(pclose(p), 0);
    assert_int_equal(i, 7);
}

static void malformed_requests_get_4xx(void **state)
{
    static const struct {
        const char *method, *path, *body, *extra;
        long status;
    } cases[] = {
        {"POST", "/v1/register", "not json", NULL, 400},
        {"POST", "/v1/register", "{\"serial\": 5}", NULL, 400},
        {"GET", "/v1/register", NULL, NULL, 405},
        {"GET", "/nowhere", NULL, NULL, 404},
        {"POST", "/v1/results", "{\"results\": 7, \"head\": {}}", NULL, 400},
        {"POST", "/v1/results", "garbage", "Content-Encoding: gzip", 400},
        {"POST", "/v1/results", "{}", "Content-Encoding: br", 415},
    };
    struct resp r;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct req q = {.method = cases[i].method,
                        .path = cases[i].path,
                        .body = cases[i].body,
                        .len = cases[i].body ? strlen(cases[i].body) : 0,
                        .room = &room1};

        q.extra[0] = cases[i].extra;
        assert_int_equal(http(&q, &r), CURLE_OK);
        if (r.status != cases[i].status)
            fail_msg("%s %s: %ld, want %ld (%s)", cases[i].method, cases[i].path, r.status,
                     cases[i].status, r.body ? r.body : "");
        free(r.body);
    }
}

/* ---- a room has one key at a time; two results for one candidate are held ---- */

/* The planned seat of a ticket of R01's session S1. */
static int planned_seat(const char *ticket)
{
    char path[200];
    sqlite3 *db;
    sqlite3_stmt *st;
    int seat = -1;

    snprintf(path, sizeof(path), "%s/center.db", data);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT seat FROM candidates WHERE session_id = 'S1' "
                                        "AND ticket = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, ticket, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        seat = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return seat;
}

static json_t *scores_json(void)
{
    char cmd[512];
    json_t *doc;
    FILE *p;

    snprintf(cmd, sizeof(cmd), "%s --data %s scores --format json", examcenter, data);
    p = popen(cmd, "r");
    doc = json_loadf(p, 0, NULL);
    assert_int_equal(pclose(p), 0);
    assert_true(json_is_array(doc));
    return doc;
}

/* The rows of the score report for ticket (at most 4), and how many. */
static size_t rows_of(json_t *doc, const char *ticket, json_t *out[4])
{
    size_t i, n = 0;
    json_t *row;

    json_array_foreach(doc, i, row)
    {
        if (n < 4 && strcmp(json_string_value(json_object_get(row, "ticket")), ticket) == 0)
            out[n++] = row;
    }
    return n;
}

/* The CSV line of the score report for a ticket, with a room key that starts
 * as given ("" for any). */
static int csv_line(const char *ticket, const char *key, char *line, size_t linesz)
{
    char cmd[512];
    FILE *p;
    int found = 0;

    snprintf(cmd, sizeof(cmd), "%s --data %s scores", examcenter, data);
    p = popen(cmd, "r");
    while (!found && fgets(line, (int)linesz, p) != NULL)
        found = strstr(line, ticket) != NULL && strstr(line, key) != NULL;
    while (fgets(cmd, sizeof(cmd), p) != NULL)
        ;
    assert_int_equal(pclose(p), 0);
    return found;
}

static void a_room_has_one_key_at_a_time(void **state)
{
    char out[512], serial_new[32];
    struct chain c = {0};
    json_t *batch = json_array(), *doc, *rows[4];
    struct resp r;

    (void)state;
    /* R01 is registered (room1): a plain serial for it is refused at issue,
     * pointing to --replace; and one issued before R01 registered cannot
     * register a second key for it. */
    assert_int_equal(center(out, sizeof(out), "serial issue --room R01 2>&1"), 2);
    assert_non_null(strstr(out, "--replace R01"));
    new_room(&newroom);
    newroom.room_id = "R01";
    assert_int_equal(do_register(&newroom, serial_r01b, &r), 409);
    assert_string_equal(error_code(&r), "room_registered");
    free(r.body);
    /* The replacement serial: until it registers, room1's key is R01's. */
    assert_int_equal(center(serial_new, sizeof(serial_new), "serial issue --replace R01"), 0);
    assert_int_equal(strlen(serial_new), 19);
    json_array_append_new(batch, seal(&room1, &c, "r01-0001", tk(1), 85));
    json_array_append_new(batch, seal(&room1, &c, "r01-0002", tk(2), 40));
    json_array_append_new(batch, seal(&room1, &c, "r01-0003", tk(3), 100));
    json_array_append_new(batch, seal(&room1, &c, "r01-0004", tk(4), 70));
    json_array_append_new(batch, seal(&room1, &c, "r01-0005", tk(5), 60));
    json_array_append_new(batch, seal(&room1, &c, "r01-0006", tk(6), 0));
    json_array_append_new(batch, seal(&room1, &c, "r01-0007", tk(7), 77));
    json_decref(batch);
    batch = json_array();
    json_array_append_new(batch, seal(&room1, &c, "r01-0008", tk(8), 66));
    assert_int_equal(upload(&room1, batch, head_of(&room1, &c), 0, &r), 200);
    free(r.body);
    assert_int_equal(count("results"), 8);
    /* From the moment it registers, room1's key is retired, whatever it asks. */
    assert_int_equal(do_register(&newroom, serial_new, NULL), 200);
    {
        struct req q = {.method = "GET", .path = "/v1/manifest", .room = &room1};

        assert_int_equal(http(&q, &r), CURLE_OK);
        assert_int_equal(r.status, 403);
        assert_string_equal(error_code(&r), "room_key_retired");
        free(r.body);
    }
    json_decref(batch);
    batch = json_array();
    json_array_append_new(batch, seal(&room1, &c, "r01-0009", tk(9), 90));
    assert_int_equal(upload(&room1, batch, head_of(&room1, &c), 0, &r), 403);
    assert_string_equal(error_code(&r), "room_key_retired");
    free(r.body);
    assert_int_equal(do_register(&room1, serial_r01, &r), 403);
    assert_string_equal(error_code(&r), "room_key_retired");
    free(r.body);
    /* Nor by USB: a bundle of room1's key is refused, saying why. */
    {
        char file[160], *body;
        json_t *b = json_pack("{s:O, s:o}", "results", batch, "head", head_of(&room1, &c));

        body = json_dumps(b, JSON_COMPACT);
        json_decref(b);
        snprintf(file, sizeof(file), "%s/retired.usb", dir);
        assert_int_equal(bundle_write(file, room1.sign, center_bundle, plan_id, "R01", time(NULL),
                                      body, strlen(body)),
                         0);
        free(body);
        assert_int_equal(import(file, out, sizeof(out)), 1);
        assert_non_null(strstr(out, "已停用"));
        /* A key the center never registered: said so (not "cannot pack"). */
        assert_int_equal(
            bundle_write(file, intruder.sign, center_bundle, plan_id, "R01", time(NULL), "{}", 2),
            0);
        assert_int_equal(import(file, out, sizeof(out)), 1);
        assert_non_null(strstr(out, "不认识的考场密钥"));
        assert_null(strstr(out, "试卷包"));
    }
    assert_int_equal(count("results"), 8);
    /* The new key's first batch: tk(1), which room1 delivered, comes again
     * with another score; the others are new. All stored (the new key's chain
     * is its own), the receipt lists them all and holds tk(1) for review. */
    {
        struct chain n = {0};
        json_t *nb = json_array();

        /* (tk(9) sat elsewhere than planned; tk(10) was absent: for the
         * report, below.) */
        json_array_append_new(nb, seal(&newroom, &n, "n01-0001", tk(1), 100));
        json_array_append_new(
            nb, seal_as(&newroom, &n, "n01-0009", tk(9), 90, NULL, planned_seat(tk(9)) + 20));
        json_array_append_new(nb, seal_as(&newroom, &n, "n01-0010", tk(10), -1, "absent", 0));
        assert_int_equal(upload(&newroom, nb, head_of(&newroom, &n), 0, &r), 200);
        assert_non_null(strstr(r.body, "\"stored\":[\"n01-0001\",\"n01-0009\",\"n01-0010\"]"));
        assert_non_null(strstr(r.body, "\"held\":[\"n01-0001\"]"));
        free(r.body);
        /* The same by USB: nothing new, and import says what it holds. */
        {
            char file[160], *body;
            json_t *b = json_pack("{s:O, s:o}", "results", nb, "head", head_of(&newroom, &n));

            body = json_dumps(b, JSON_COMPACT);
            json_decref(b);
            snprintf(file, sizeof(file), "%s/held.usb", dir);
            assert_int_equal(bundle_write(file, newroom.sign, center_bundle, plan_id, "R01",
                                          time(NULL), body, strlen(body)),
                             0);
            free(body);
            assert_int_equal(center(out, sizeof(out), "import %s 2>&1 | grep 冲突待核", file), 0);
            assert_non_null(strstr(out, "其中 1 条成绩"));
        }
        json_decref(nb);
    }
    assert_int_equal(count("results"), 11);
    /* The report shows both results for tk(1) as 冲突待核, with no pass or
     * fail; room1's other results, delivered before it was retired, stand. */
    doc = scores_json();
    assert_int_equal(rows_of(doc, tk(1), rows), 2);
    for (int i = 0; i < 2; i++) {
        assert_true(json_is_true(json_object_get(rows[i], "conflict")));
        assert_string_equal(json_string_value(json_object_get(rows[i], "outcome")), "冲突待核");
        assert_true(json_is_null(json_object_get(rows[i], "passed")));
    }
    assert_string_not_equal(json_string_value(json_object_get(rows[0], "room_key")),
                            json_string_value(json_object_get(rows[1], "room_key")));
    assert_int_equal(rows_of(doc, tk(8), rows), 1);
    assert_true(json_is_false(json_object_get(rows[0], "conflict")));
    assert_true(json_is_true(json_object_get(rows[0], "passed")));
    assert_string_equal(json_string_value(json_object_get(rows[0], "room_key")), room1.id);
    assert_int_equal(rows_of(doc, tk(9), rows), 1);
    assert_string_equal(json_string_value(json_object_get(rows[0], "room_key")), newroom.id);
    json_decref(doc);
    assert_true(csv_line(tk(1), room1.id, out, sizeof(out)));
    assert_non_null(strstr(out, ",冲突待核,"));
    assert_true(csv_line(tk(1), newroom.id, out, sizeof(out)));
    assert_non_null(strstr(out, ",冲突待核,"));
    json_decref(batch);
}

/* A stolen serial's key got in first and delivered a forged result; the
 * real room, registered with a replacement serial, then sends its whole
 * batch: accepted, the forged candidate held, nothing called chain_broken. */
static void a_forgery_does_not_block_the_real_room(void **state)
{
    char serial_a[32], serial_b[32];
    struct room forger = {0}, real = {0};
    struct chain f = {0}, c = {0};
    json_t *batch = json_array(), *doc, *rows[4];
    struct resp r;
    char ticket[32];
    int before;

    (void)state;
    /* R02's session S1 tickets, as the real room seats them. */
    {
        char path[200];
        sqlite3 *db;
        sqlite3_stmt *st;

        snprintf(path, sizeof(path), "%s/center.db", data);
        assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT ticket FROM candidates WHERE room_id = 'R02' "
                                            "AND session_id = 'S1' ORDER BY seat",
                                            -1, &st, NULL),
                         SQLITE_OK);
        new_room(&forger);
        new_room(&real);
        forger.room_id = real.room_id = "R02";
        /* R02 is room2's: the forger comes in with a replacement serial (the
         * center was fooled once), the real room takes R02 back the same way. */
        assert_int_equal(center(serial_a, sizeof(serial_a), "serial issue --replace R02"), 0);
        assert_int_equal(do_register(&forger, serial_a, NULL), 200);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        snprintf(ticket, sizeof(ticket), "%s", sqlite3_column_text(st, 0));
        json_array_append_new(batch, seal(&forger, &f, "R02-S1-forged", ticket, 100));
        assert_int_equal(upload(&forger, batch, head_of(&forger, &f), 0, &r), 200);
        free(r.body);
        json_decref(batch);
        assert_int_equal(center(serial_b, sizeof(serial_b), "serial issue --replace R02"), 0);
        assert_int_equal(do_register(&real, serial_b, NULL), 200);
        before = count("results");
        /* The real room's batch: every candidate of R02 in S1, the forged
         * one among them. */
        batch = json_array();
        sqlite3_reset(st);
        while (sqlite3_step(st) == SQLITE_ROW) {
            char id[64];

            snprintf(id, sizeof(id), "R02-S1-%s", sqlite3_column_text(st, 0));
            json_array_append_new(
                batch, seal(&real, &c, id, (const char *)sqlite3_column_text(st, 0), 61));
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    assert_true(json_array_size(batch) >= 5);
    assert_int_equal(upload(&real, batch, head_of(&real, &c), 1, &r), 200);
    assert_non_null(strstr(r.body, "\"held\":[\"R02-S1-"));
    free(r.body);
    assert_int_equal(count("results"), before + (int)json_array_size(batch));
    doc = scores_json();
    assert_int_equal(rows_of(doc, ticket, rows), 2);
    assert_string_equal(json_string_value(json_object_get(rows[0], "outcome")), "冲突待核");
    assert_string_equal(json_string_value(json_object_get(rows[1], "outcome")), "冲突待核");
    json_decref(doc);
    /* The forger's key is retired too. */
    {
        struct req q = {.method = "GET", .path = "/v1/manifest", .room = &forger};

        assert_int_equal(http(&q, &r), CURLE_OK);
        assert_int_equal(r.status, 403);
        assert_string_equal(error_code(&r), "room_key_retired");
        free(r.body);
    }
    json_decref(batch);
    free_room(&forger);
    free_room(&real);
}

/* What the room's results say: the seat used, and 缺考 for the absent
 * (from the new key's batch above). */
static void scores_show_seat_used_and_absent(void **state)
{
    json_t *doc = scores_json(), *rows[4];
    char line[1024], want[64];

    (void)state;
    /* tk(9) sat 20 seats from its planned one: the report says where. */
    assert_int_equal(rows_of(doc, tk(9), rows), 1);
    assert_int_equal(json_integer_value(json_object_get(rows[0], "seat")),
                     planned_seat(tk(9)) + 20);
    /* A result that does not say: the planned seat. */
    assert_int_equal(rows_of(doc, tk(8), rows), 1);
    assert_int_equal(json_integer_value(json_object_get(rows[0], "seat")), planned_seat(tk(8)));
    /* Absent: 缺考, neither passed nor failed. */
    assert_int_equal(rows_of(doc, tk(10), rows), 1);
    assert_string_equal(json_string_value(json_object_get(rows[0], "outcome")), "缺考");
    assert_true(json_is_null(json_object_get(rows[0], "passed")));
    assert_true(json_is_null(json_object_get(rows[0], "score")));
    assert_string_equal(json_string_value(json_object_get(rows[0], "status")), "absent");
    json_decref(doc);
    /* The same in CSV: 座位号 is the seat used, 是否合格 says 缺考. */
    assert_true(csv_line(tk(9), newroom.id, line, sizeof(line)));
    snprintf(want, sizeof(want), ",R01,%d,", planned_seat(tk(9)) + 20);
    assert_non_null(strstr(line, want));
    assert_true(csv_line(tk(10), newroom.id, line, sizeof(line)));
    assert_non_null(strstr(line, ",缺考,absent,"));
    assert_null(strstr(line, "不合格"));
    assert_true(csv_line(tk(8), room1.id, line, sizeof(line)));
    snprintf(want, sizeof(want), ",R01,%d,", planned_seat(tk(8)));
    assert_non_null(strstr(line, want));
}

/* Sends the request of q with the headers of a (signed before, for what the
 * caller chose), and returns the status. */
static long send_as(struct req q, const struct proto_auth *a, struct resp *r)
{
    q.room = NULL;
    q.a = a;
    q.used = NULL;
    assert_int_equal(http(&q, r), CURLE_OK);
    return r->status;
}

/* The request signature covers Range, If-Range, the query and
 * Content-Encoding: a request changed in transit does not verify (and its
 * nonce is not used up by the refusal). */
static void headers_changed_in_transit_are_refused(void **state)
{
    struct req q = {.method = "GET",
                    .path = "/v1/packages/1",
                    .room = &room1,
                    .extra = {"Range: bytes=0-99", NULL}};
    struct proto_auth a;
    struct resp r;

    (void)state;
    fresh(&a, time(NULL));
    doc_sign(room1.sign, center_hex, "GET", "/v1/packages/1", NULL, "bytes=0-99", NULL, NULL, 0,
             &a);
    q.extra[0] = "Range: bytes=100-199";
    assert_int_equal(send_as(q, &a, &r), 401);
    assert_string_equal(error_code(&r), "bad_signature");
    assert_true(answer_ok(DOC_ERROR, &r));
    free(r.body);
    q.extra[0] = "Range: bytes=0-99";
    q.extra[1] = "If-Range: \"0000000000000000000000000000000000000000000000000000000000000000\"";
    assert_int_equal(send_as(q, &a, &r), 401);
    assert_string_equal(error_code(&r), "bad_signature");
    free(r.body);
    q.extra[1] = NULL;
    q.path = "/v1/packages/1?x=1";
    assert_int_equal(send_as(q, &a, &r), 401);
    assert_string_equal(error_code(&r), "bad_signature");
    free(r.body);
    /* As signed: served. */
    q.path = "/v1/packages/1";
    assert_int_equal(send_as(q, &a, &r), 206);
    assert_int_equal(r.len, 100);
    free(r.body);
    /* An upload whose Content-Encoding was added on the way. */
    {
        const char *body = "{\"events\":[]}";
        struct req u = {.method = "POST",
                        .path = "/v1/events",
                        .body = body,
                        .len = strlen(body),
                        .extra = {"Content-Encoding: identity"}};

        fresh(&a, time(NULL));
        doc_sign(room1.sign, center_hex, "POST", "/v1/events", NULL, NULL, NULL, body, strlen(body),
                 &a);
        assert_int_equal(send_as(u, &a, &r), 401);
        assert_string_equal(error_code(&r), "bad_signature");
        free(r.body);
    }
}

/* The request signature names the center: a request captured on its way to
 * one center and replayed to another, within the window, is refused there,
 * though the room is registered at both. */
static void request_for_another_center_is_refused(void **state)
{
    char saved_data[128], saved_ca[160], saved_base[96], saved_hex[65], serial[32], other[96];
    char a_hex[65];
    struct key *a_key = doc_center;
    struct proto_auth a;
    struct resp r;
    struct req q = {.method = "GET", .path = "/v1/manifest"};
    pid_t pid;

    (void)state;
    strcpy(saved_data, data);
    strcpy(saved_ca, ca);
    strcpy(saved_base, base);
    strcpy(a_hex, center_hex);
    /* A second center: its own data directory, its own key. */
    snprintf(data, sizeof(data), "%s/center2", dir);
    snprintf(ca, sizeof(ca), "%s/ca.pem", data);
    assert_int_equal(center(NULL, 0, "init"), 0);
    assert_int_equal(center(NULL, 0, "plan import %s/plan", dir), 0);
    assert_int_equal(center(serial, sizeof(serial), "serial issue --room R02"), 0);
    doc_center = NULL;
    use_center_key();
    strcpy(saved_hex, center_hex);
    assert_string_not_equal(saved_hex, a_hex);
    other_pid = pid = start_server("", other, sizeof(other));
    strcpy(base, other);
    assert_int_equal(do_register(&room2, serial, NULL), 200);
    /* room2's request, signed for the first center. */
    fresh(&a, time(NULL));
    doc_sign(room2.sign, a_hex, "GET", "/v1/manifest", NULL, NULL, NULL, NULL, 0, &a);
    assert_int_equal(send_as(q, &a, &r), 401);
    assert_string_equal(error_code(&r), "bad_signature");
    free(r.body);
    stop_server(pid);
    other_pid = 0;
    /* Back to the first center, where the same request is good. */
    key_free(doc_center);
    doc_center = a_key;
    strcpy(center_hex, a_hex);
    strcpy(data, saved_data);
    strcpy(ca, saved_ca);
    strcpy(base, saved_base);
    assert_int_equal(send_as(q, &a, &r), 200);
    assert_true(answer_ok(DOC_MANIFEST, &r));
    free(r.body);
}

/* Every signed answer names its request: the register answer and the
 * manifest carry this request's nonce and the room key, so an answer kept
 * from before (or another room's) is told apart by the room. */
static void answers_name_their_request(void **state)
{
    struct req q = {.method = "GET", .path = "/v1/manifest", .room = &room1};
    struct resp r1, r2;
    json_t *d1, *d2;

    (void)state;
    assert_int_equal(http(&q, &r1), CURLE_OK);
    assert_int_equal(http(&q, &r2), CURLE_OK);
    assert_true(answer_ok(DOC_MANIFEST, &r1));
    assert_true(answer_ok(DOC_MANIFEST, &r2));
    /* r1's answer is not an answer to r2's request. */
    r2.auth = r1.auth;
    assert_false(answer_ok(DOC_MANIFEST, &r2));
    d1 = json_loads(r1.body, 0, NULL);
    d2 = json_object_get(d1, "request");
    assert_string_equal(json_string_value(json_object_get(d2, "room_key")), room1.id);
    json_decref(d1);
    free(r1.body);
    free(r2.body);
    /* Another room's manifest names another key. */
    q.room = &room2;
    assert_int_equal(http(&q, &r1), CURLE_OK);
    assert_true(answer_ok(DOC_MANIFEST, &r1));
    r1.auth.room[0] = r1.auth.room[0] == 'a' ? 'b' : 'a';
    assert_false(answer_ok(DOC_MANIFEST, &r1));
    free(r1.body);
    (void)d2;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tls_is_verified_against_the_pinned_ca),
        cmocka_unit_test(serial_is_single_use),
        cmocka_unit_test(requests_are_authenticated),
        cmocka_unit_test(replay_refused_after_a_restart),
        cmocka_unit_test(register_under_another_key_id_is_bad_signature),
        cmocka_unit_test(answers_name_their_request),
        cmocka_unit_test(request_for_another_center_is_refused),
        cmocka_unit_test(packages_download_and_resume),
        cmocka_unit_test(headers_changed_in_transit_are_refused),
        cmocka_unit_test(session_keys_wait_for_their_window),
        cmocka_unit_test(results_are_stored_once_with_signed_receipts),
        cmocka_unit_test(rewritten_or_truncated_history_is_refused),
        cmocka_unit_test(events_are_stored_once),
        cmocka_unit_test(usb_bundles_import_idempotently),
        cmocka_unit_test(scores_report_what_arrived),
        cmocka_unit_test(malformed_requests_get_4xx),
        cmocka_unit_test(a_room_has_one_key_at_a_time),
        cmocka_unit_test(a_forgery_does_not_block_the_real_room),
        cmocka_unit_test(scores_show_seat_used_and_absent),
    };

    if (argc != 2) {
        fprintf(stderr, "usage: test_protocol EXAMCENTER\n");
        return 2;
    }
    examcenter = argv[1];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests_name("center protocol", tests, setup, teardown);
}
