/* The room's side of "Signed answers" (docs/protocol.md, issue 16): the
 * room's own sync client and upload engine against the real `examcenter
 * serve` (genuine answers, captured) and against a fake center on loopback
 * that answers what the test says: unsigned, replayed, signed for another
 * request, or with a receipt whose hashes are not the room's. A fake answer
 * moves neither the room's clock offset nor its retry time, and
 * acknowledges nothing.
 *   test_room_answers EXAMCENTER */
#include "centerproc.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sync.h"

#include <jansson.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static const char *examcenter;
static char dir[64], data[128], real_url[96], fake_url[96], serial[32];
static char *ca_pem, *cert_pem, *tls_key_pem;
static pid_t server_pid;
static struct key *room, *center_pub, *center_priv;
static char room_hex[65];
static uv_loop_t loop;

/* ---- the real center ---- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

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

static pid_t start_server(char *url, size_t urlsz)
{
    pid_t pid = centerproc_start(examcenter, data, "", url, urlsz);

    assert_true(pid > 0);
    return pid;
}

/* ---- the fake center ---- */

enum bind { UNSIGNED, BOUND, OTHER_NONCE, REPLAY };

/* What the fake answers next. */
static struct {
    unsigned status;
    enum bind bind;
    const char *context; /* BOUND, OTHER_NONCE: signed under this */
    char *body;          /* the body (BOUND: "request" is added); NULL: a receipt */
    char *sig;           /* REPLAY: the captured signature */
    int hashes;          /* a receipt: 1 the right hashes, 0 none, -1 wrong ones */
} script;

struct upload {
    char *buf;
    size_t len;
};

static char *inflate_body(const struct upload *u)
{
    z_stream z = {0};
    size_t cap = 1 << 20;
    char *out = calloc(1, cap);

    inflateInit2(&z, 16 + MAX_WBITS);
    z.next_in = (Bytef *)u->buf;
    z.avail_in = (uInt)u->len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)(cap - 1);
    inflate(&z, Z_FINISH);
    inflateEnd(&z);
    return out;
}

/* The receipt the real center would give for an events upload, with the
 * hashes the script says. */
static json_t *receipt_for(const struct upload *u)
{
    char *text = inflate_body(u);
    json_t *doc = json_loads(text, 0, NULL), *ids = json_array(), *hashes = json_object(), *ev;
    json_t *out;
    size_t i;

    json_array_foreach(json_object_get(doc, "events"), i, ev)
    {
        const char *id = json_string_value(json_object_get(ev, "id"));
        uint8_t *raw, h[32];
        size_t n;
        char hex[65];

        assert_int_equal(base64_decode(json_string_value(json_object_get(ev, "payload")), &raw, &n),
                         0);
        sha256(raw, n, h);
        free(raw);
        if (script.hashes < 0)
            h[0] ^= 1;
        hex_encode(h, 32, hex);
        json_array_append_new(ids, json_string(id));
        json_object_set_new(hashes, id, json_string(hex));
    }
    out = json_pack("{s:s, s:s, s:o}", "kind", "events", "room", room_hex, "stored", ids);
    if (script.hashes != 0)
        json_object_set_new(out, "hashes", hashes);
    else
        json_decref(hashes);
    json_decref(doc);
    free(text);
    return out;
}

static enum MHD_Result on_fake(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_size, void **con_cls)
{
    struct upload *u = *con_cls;
    const char *nonce = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Examroom-Nonce");
    const char *rk = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Examroom-Room");
    struct MHD_Response *r;
    char *text, sig[89] = "";
    enum MHD_Result ok;

    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    if (u == NULL) {
        *con_cls = calloc(1, sizeof(struct upload));
        return MHD_YES;
    }
    if (*upload_size > 0) {
        u->buf = realloc(u->buf, u->len + *upload_size);
        memcpy(u->buf + u->len, upload_data, *upload_size);
        u->len += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    if (script.bind == UNSIGNED || script.bind == REPLAY) {
        text = strdup(script.body);
        if (script.bind == REPLAY)
            snprintf(sig, sizeof(sig), "%s", script.sig);
    } else {
        json_t *doc = script.body ? json_loads(script.body, 0, NULL) : receipt_for(u);

        json_object_set_new(
            doc, "request",
            json_pack("{s:s, s:s}", "nonce",
                      script.bind == BOUND ? nonce : "00000000000000000000000000000000", "room_key",
                      rk));
        text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(doc);
        assert_int_equal(proto_sign_body(center_priv, script.context, text, strlen(text), sig), 0);
    }
    r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
    if (sig[0] != '\0')
        MHD_add_response_header(r, PROTO_HDR_CENTER_SIG, sig);
    ok = MHD_queue_response(conn, script.status, r);
    MHD_destroy_response(r);
    return ok;
}

static void on_fake_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct upload *u = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (u != NULL) {
        free(u->buf);
        free(u);
    }
    *con_cls = NULL;
}

static struct MHD_Daemon *fake;

static void start_fake(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    const union MHD_DaemonInfo *info;

    fake =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS, 0, NULL, NULL, on_fake,
                         NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_NOTIFY_COMPLETED, on_fake_done, NULL, MHD_OPTION_HTTPS_MEM_CERT,
                         cert_pem, MHD_OPTION_HTTPS_MEM_KEY, tls_key_pem, MHD_OPTION_END);
    assert_non_null(fake);
    info = MHD_get_daemon_info(fake, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(fake_url, sizeof(fake_url), "https://localhost:%u", info->port);
}

/* ---- the room's client ---- */

struct got {
    int done;
    struct sync_response r;
};

static void on_answer(struct sync_response *r, void *arg)
{
    struct got *g = arg;

    g->r = *r;
    g->r.body = NULL;
    if (r->body != NULL) {
        g->r.body = malloc(r->len + 1);
        memcpy(g->r.body, r->body, r->len + 1);
    }
    g->done = 1;
}

static struct sync_client *client(const char *url)
{
    const struct sync_config cfg = {
        .center_url = url, .ca_pem = ca_pem, .room = room, .center = center_pub};
    struct sync_client *c;

    assert_int_equal(sync_client_new(&loop, &cfg, &c), 0);
    return c;
}

static void on_closed(void *arg)
{
    *(int *)arg = 1;
}

static void close_client(struct sync_client *c)
{
    int closed = 0;

    sync_client_close(c, on_closed, &closed);
    while (!closed)
        uv_run(&loop, UV_RUN_ONCE);
}

static void call(struct sync_client *c, const struct sync_request *req, struct sync_response *out)
{
    struct got g = {0};

    assert_int_equal(sync_start(c, req, on_answer, &g), 0);
    while (!g.done)
        uv_run(&loop, UV_RUN_ONCE);
    *out = g.r;
}

/* Answers captured from the real center, each signed for its own request. */
static char *skew_body, *skew_sig, *early_body, *early_sig, *register_body, *register_sig;
static int64_t opens_at;

static int setup(void **state)
{
    char path[256], b64[128] = "";
    uint8_t id[32];
    FILE *f;

    (void)state;
    strcpy(dir, "/tmp/examroom-answers-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(data, sizeof(data), "%s/center", dir);
    assert_int_equal(center(NULL, 0, "init"), 0);
    assert_int_equal(
        center(NULL, 0, "plan sample %s/plan --candidates 20 --rooms 1 --start-in 60", dir), 0);
    assert_int_equal(center(NULL, 0, "plan import %s/plan", dir), 0);
    assert_int_equal(center(serial, sizeof(serial), "serial issue --room R01"), 0);
    snprintf(path, sizeof(path), "%s/ca.pem", data);
    ca_pem = slurp(path);
    snprintf(path, sizeof(path), "%s/server.pem", data);
    cert_pem = slurp(path);
    snprintf(path, sizeof(path), "%s/server-key.pem", data);
    tls_key_pem = slurp(path);
    snprintf(path, sizeof(path), "%s/center-key.pub", data);
    f = fopen(path, "r");
    assert_non_null(fgets(b64, sizeof(b64), f));
    fclose(f);
    assert_int_equal(key_parse_public(KEY_ED25519, b64, &center_pub), 0);
    snprintf(path, sizeof(path), "%s/center-key.pem", data);
    assert_int_equal(key_load_private(KEY_ED25519, path, &center_priv), 0);
    assert_int_equal(key_generate(KEY_ED25519, &room), 0);
    key_id(room, id);
    hex_encode(id, 32, room_hex);
    assert_int_equal(uv_loop_init(&loop), 0);
    server_pid = start_server(real_url, sizeof(real_url));
    start_fake();
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    int status;

    (void)state;
    kill(server_pid, SIGTERM);
    waitpid(server_pid, &status, 0);
    MHD_stop_daemon(fake);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    key_free(room);
    key_free(center_pub);
    key_free(center_priv);
    free(ca_pem);
    free(cert_pem);
    free(tls_key_pem);
    free(skew_body);
    free(skew_sig);
    free(early_body);
    free(early_sig);
    free(register_body);
    free(register_sig);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd);
}

/* The real center's answers verify, name their request, and set the clock:
 * a signed clock_skew corrects the offset, a signed too_early gives the
 * retry time. They are kept, to be replayed below. */
static void genuine_answers_verify(void **state)
{
    struct sync_client *c = client(real_url);
    struct sync_response r;
    struct key *wrap;
    char sign_b64[KEY_B64_LEN + 1], wrap_b64[KEY_B64_LEN + 1], body[512];

    (void)state;
    assert_int_equal(key_generate(KEY_X25519, &wrap), 0);
    key_public_b64(room, sign_b64);
    key_public_b64(wrap, wrap_b64);
    key_free(wrap);
    snprintf(body, sizeof(body),
             "{\"name\":\"R01\",\"serial\":\"%s\",\"sign_pub\":\"%s\",\"wrap_pub\":\"%s\"}", serial,
             sign_b64, wrap_b64);
    {
        const struct sync_request req = {.method = "POST",
                                         .path = "/v1/register",
                                         .body = body,
                                         .body_len = strlen(body),
                                         .sign = 1,
                                         .answer = PROTO_CTX_REGISTER,
                                         .fd = -1};

        call(c, &req, &r);
    }
    assert_int_equal(r.status, 200);
    assert_int_equal(r.answer, 0);
    assert_int_equal(sync_answer_error(&r), 0);
    register_body = (char *)r.body;
    register_sig = strdup(r.center_sig);
    /* A clock 1000 s behind: the center's signed clock_skew corrects it. */
    sync_set_clock_offset(c, -1000);
    {
        const struct sync_request req = {.method = "GET",
                                         .path = "/v1/manifest",
                                         .sign = 1,
                                         .answer = PROTO_CTX_MANIFEST,
                                         .fd = -1};

        call(c, &req, &r);
    }
    assert_int_equal(r.status, 401);
    assert_int_equal(sync_answer_error(&r), ER_SYNC_CLOCK);
    assert_int_equal(r.answer, 0);
    assert_true(llabs((long long)sync_clock_offset(c)) < 5);
    skew_body = (char *)r.body;
    skew_sig = strdup(r.center_sig);
    /* Too early for the session's key: the signed opens_at is taken. */
    {
        const struct sync_request req = {.method = "GET",
                                         .path = "/v1/sessions/S1/key",
                                         .sign = 1,
                                         .answer = PROTO_CTX_SESSION_KEY,
                                         .fd = -1};

        call(c, &req, &r);
    }
    assert_int_equal(r.status, 403);
    assert_int_equal(r.answer, 0);
    opens_at = sync_too_early_until(&r);
    assert_true(opens_at > time(NULL) + 30 * 60);
    early_body = (char *)r.body;
    early_sig = strdup(r.center_sig);
    close_client(c);
}

struct pass_wait {
    int done;
    struct sync_outcome out;
};

static void on_pass(const struct sync_outcome *o, void *arg)
{
    struct pass_wait *w = arg;

    w->out = *o;
    w->done = 1;
}

static void on_added(int status, const struct store_ack *ack, void *arg)
{
    (void)ack;
    *(int *)arg = status == 0 ? 1 : -1;
}

/* A room store with one event to upload, and an engine on client c. */
static struct store *event_store(const char *name)
{
    char path[160];
    struct store *st;
    const struct store_event ev = {.kind = STORE_EVENT_INCIDENT, .body = "{\"text\":\"x\"}"};
    int added = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(store_open(&loop, path, "room", &st), 0);
    assert_int_equal(store_add_event(st, &ev, on_added, &added), 0);
    while (added == 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(added, 1);
    return st;
}

static void close_store(struct store *st)
{
    int closed = 0;

    store_close(st, on_closed, &closed);
    while (!closed)
        uv_run(&loop, UV_RUN_ONCE);
}

/* One upload pass of the engine against the fake; the outcome. */
static struct sync_outcome pass(struct sync_client *c, struct store *st)
{
    const struct sync_engine_config cfg = {.client = c,
                                           .store = st,
                                           .room = room,
                                           .center = center_pub,
                                           .plan = "P",
                                           .room_id = "R01"};
    struct sync_engine *e;
    struct pass_wait w = {0};

    assert_int_equal(sync_engine_new(&cfg, &e), 0);
    assert_int_equal(sync_engine_pass(e, on_pass, &w), 0);
    while (!w.done)
        uv_run(&loop, UV_RUN_ONCE);
    sync_engine_free(e);
    return w.out;
}

/* The attack: whoever sits on the wire answers an upload with clock_skew,
 * made up or replayed from an earlier exchange. The room's clock offset
 * stays where it was; only a clock_skew signed for this request moves it. */
static void fake_clock_skew_moves_nothing(void **state)
{
    struct sync_client *c = client(fake_url);
    struct store *st = event_store("clock");
    struct sync_outcome o;
    char forged[128];

    (void)state;
    sync_set_clock_offset(c, 777);
    snprintf(forged, sizeof(forged),
             "{\"center_time\":%lld,\"error\":\"clock_skew\",\"message\":\"x\"}",
             (long long)time(NULL) + 86400);
    script.status = 401;
    script.bind = UNSIGNED;
    script.body = forged;
    o = pass(c, st);
    assert_int_equal(o.status, ER_SYNC_CLOCK);
    assert_int_equal(sync_clock_offset(c), 777);
    /* A real, signed clock_skew, but of another request: a replay. */
    script.bind = REPLAY;
    script.body = skew_body;
    script.sig = skew_sig;
    o = pass(c, st);
    assert_int_equal(o.status, ER_SYNC_CLOCK);
    assert_int_equal(sync_clock_offset(c), 777);
    /* The same answer, signed by the center for this request: it moves. */
    script.bind = BOUND;
    script.context = PROTO_CTX_ERROR;
    script.body = forged;
    o = pass(c, st);
    assert_int_equal(o.status, ER_SYNC_CLOCK);
    assert_true(llabs((long long)sync_clock_offset(c) - 86400) < 5);
    assert_int_equal(o.pending, 1);
    close_store(st);
    close_client(c);
}

/* too_early's opens_at: taken from the answer signed for this request
 * only; a made-up or replayed one gives no retry time (the room backs off). */
static void fake_too_early_gives_no_retry_time(void **state)
{
    const struct sync_request req = {.method = "GET",
                                     .path = "/v1/sessions/S1/key",
                                     .sign = 1,
                                     .answer = PROTO_CTX_SESSION_KEY,
                                     .fd = -1};
    struct sync_client *c = client(fake_url);
    struct sync_response r;
    char forged[160];

    (void)state;
    snprintf(forged, sizeof(forged),
             "{\"center_time\":1,\"error\":\"too_early\",\"message\":\"x\",\"opens_at\":%lld}",
             (long long)time(NULL) + 7 * 86400);
    script.status = 403;
    script.bind = UNSIGNED;
    script.body = forged;
    call(c, &req, &r);
    assert_int_equal(sync_too_early_until(&r), 0);
    free(r.body);
    script.bind = REPLAY;
    script.body = early_body;
    script.sig = early_sig;
    call(c, &req, &r);
    assert_int_equal(r.answer, ER_SYNC_UNBOUND);
    assert_int_equal(sync_too_early_until(&r), 0);
    free(r.body);
    script.bind = BOUND;
    script.context = PROTO_CTX_ERROR;
    script.body = early_body;
    call(c, &req, &r);
    assert_int_equal(sync_too_early_until(&r), opens_at);
    free(r.body);
    close_client(c);
}

/* A signed answer that names another request is refused whole: a replayed
 * register answer, one signed for another nonce, or one under another
 * answer's context. */
static void answers_for_another_request_are_refused(void **state)
{
    const struct sync_request req = {.method = "POST",
                                     .path = "/v1/register",
                                     .body = "{}",
                                     .body_len = 2,
                                     .sign = 1,
                                     .answer = PROTO_CTX_REGISTER,
                                     .fd = -1};
    struct sync_client *c = client(fake_url);
    struct sync_response r;

    (void)state;
    script.status = 200;
    script.bind = REPLAY;
    script.body = register_body;
    script.sig = register_sig;
    call(c, &req, &r);
    assert_int_equal(sync_answer_error(&r), ER_SYNC_UNBOUND);
    assert_int_equal(r.center_time, 0);
    free(r.body);
    script.bind = OTHER_NONCE;
    script.context = PROTO_CTX_REGISTER;
    call(c, &req, &r);
    assert_int_equal(sync_answer_error(&r), ER_SYNC_UNBOUND);
    free(r.body);
    script.bind = BOUND;
    script.context = PROTO_CTX_MANIFEST;
    call(c, &req, &r);
    assert_int_equal(sync_answer_error(&r), ER_SYNC_BADSIG);
    free(r.body);
    script.context = PROTO_CTX_REGISTER;
    call(c, &req, &r);
    assert_int_equal(sync_answer_error(&r), 0);
    free(r.body);
    close_client(c);
}

/* An events receipt names the hash of each payload: one whose hashes are
 * not the room's, or that gives none, acknowledges nothing. */
static void events_receipt_hashes_are_checked(void **state)
{
    struct sync_client *c = client(fake_url);
    struct store *st = event_store("hashes");
    struct sync_outcome o;

    (void)state;
    script.status = 200;
    script.bind = BOUND;
    script.context = PROTO_CTX_RECEIPT;
    script.body = NULL;
    script.hashes = -1;
    o = pass(c, st);
    assert_int_equal(o.status, ER_RECEIPT_MISMATCH);
    assert_int_equal(o.pending, 1);
    script.hashes = 0;
    o = pass(c, st);
    assert_int_equal(o.status, ER_RECEIPT_MISMATCH);
    assert_int_equal(o.pending, 1);
    /* Signed, right hashes, but for another request. */
    script.hashes = 1;
    script.bind = OTHER_NONCE;
    o = pass(c, st);
    assert_int_equal(o.status, ER_SYNC_UNBOUND);
    assert_int_equal(o.pending, 1);
    script.bind = BOUND;
    o = pass(c, st);
    assert_int_equal(o.status, 0);
    assert_int_equal(o.uploaded, 1);
    assert_int_equal(o.pending, 0);
    close_store(st);
    close_client(c);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(genuine_answers_verify),
        cmocka_unit_test(fake_clock_skew_moves_nothing),
        cmocka_unit_test(fake_too_early_gives_no_retry_time),
        cmocka_unit_test(answers_for_another_request_are_refused),
        cmocka_unit_test(events_receipt_hashes_are_checked),
    };

    if (argc != 2) {
        fprintf(stderr, "usage: test_room_answers EXAMCENTER\n");
        return 2;
    }
    examcenter = argv[1];
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name("room answers", tests, setup, teardown);
}
