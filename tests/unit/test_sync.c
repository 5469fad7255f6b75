/* Unit tests of sync/: sealing results and the chain (docs/protocol.md
 * "Sealed records"), checked against the document's own definitions, and
 * the classification of the center's answers and of transport failures into
 * retry or stop (docs/protocol.md "Errors"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sync.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- sealing ---- */

static const struct sync_result result = {
    .plan = "20261205-A",
    .room = "R01",
    .session = "S1",
    .ticket = "2026000123",
    .status = "submitted",
    .score = 85,
    .seat = 12,
    .submitted_at = 1796436000,
    .answers_json =
        "{\"2\": {\"answer\": \"AB\", \"rev\": 1}, \"1\": {\"answer\": \"B\", \"rev\": 3}}",
};

/* The document's example, field for field: compact, keys sorted. */
static void seal_gives_the_documented_bytes(void **state)
{
    static const uint8_t zeros[32] = {0};
    char *payload = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(sync_seal_result(&result, 1, zeros, &payload, &len), 0);
    assert_string_equal(payload, "{\"answers\":{\"1\":{\"answer\":\"B\",\"rev\":3},"
                                 "\"2\":{\"answer\":\"AB\",\"rev\":1}},\"chain_pos\":1,"
                                 "\"id\":\"R01-S1-2026000123\",\"plan\":\"20261205-A\","
                                 "\"prev\":\"000000000000000000000000000000000000000000000000"
                                 "0000000000000000\",\"room\":\"R01\",\"score\":85,"
                                 "\"seat\":12,\"session\":\"S1\",\"status\":\"submitted\","
                                 "\"submitted_at\":1796436000,\"ticket\":\"2026000123\"}");
    assert_int_equal(len, strlen(payload));
    free(payload);
}

/* Position n + 1 names SHA-256 of position n's payload as prev; the same
 * result at the same place gives the same bytes. */
static void chain_links_by_hash(void **state)
{
    static const uint8_t zeros[32] = {0};
    struct sync_result absent = result;
    char *p1, *p2, *again, hex[65];
    size_t l1, l2, la;
    uint8_t h1[32];
    json_t *doc;

    (void)state;
    absent.ticket = "2026000124";
    absent.status = "absent";
    absent.score = -1;
    absent.answers_json = NULL;
    assert_int_equal(sync_seal_result(&result, 1, zeros, &p1, &l1), 0);
    sha256(p1, l1, h1);
    assert_int_equal(sync_seal_result(&absent, 2, h1, &p2, &l2), 0);
    doc = json_loads(p2, 0, NULL);
    assert_non_null(doc);
    hex_encode(h1, sizeof(h1), hex);
    assert_string_equal(json_string_value(json_object_get(doc, "prev")), hex);
    assert_int_equal(json_integer_value(json_object_get(doc, "chain_pos")), 2);
    assert_true(json_is_null(json_object_get(doc, "score"))); /* absent: no score */
    assert_int_equal(json_object_size(json_object_get(doc, "answers")), 0);
    json_decref(doc);
    assert_int_equal(sync_seal_result(&result, 1, zeros, &again, &la), 0);
    assert_int_equal(la, l1);
    assert_memory_equal(again, p1, l1);
    /* Position 0 is the empty chain, not a result; answers must be an object. */
    assert_int_equal(sync_seal_result(&result, 0, zeros, &again, &la), ER_USAGE);
    absent.answers_json = "[1]";
    assert_int_equal(sync_seal_result(&absent, 2, h1, &again, &la), ER_USAGE);
    free(p1);
    free(p2);
    free(again);
}

/* Checks sig (base64) over context LF body with key_verify itself: the
 * message as the document spells it, not as proto_* builds it. */
static int verifies(const struct key *k, const char *context, const char *body, const char *sig)
{
    char msg[1024];
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    int n = snprintf(msg, sizeof(msg), "%s\n%s", context, body), rc;

    assert_true(n > 0 && (size_t)n < sizeof(msg));
    assert_int_equal(base64_decode(sig, &raw, &raw_len), 0);
    assert_int_equal(raw_len, KEY_SIG_LEN);
    rc = key_verify(k, msg, (size_t)n, raw);
    free(raw);
    return rc;
}

/* The head's signature is over "EXAMROOM-CHAIN-V1" LF pos LF hash, verifies
 * with the room's public key, and fails with a byte flipped anywhere: in
 * the signature, the hash or the position, or under another key. */
static void head_signature_verifies_and_breaks(void **state)
{
    static const uint8_t zeros[32] = {0};
    struct key *room, *other, *pub;
    uint8_t raw[KEY_RAW_LEN], h[32], *sigraw = NULL;
    char hex[65], sig[89], body[96], *payload, rsig[89], *flipped;
    size_t len, sigraw_len;

    (void)state;
    assert_int_equal(key_generate(KEY_ED25519, &room), 0);
    assert_int_equal(key_generate(KEY_ED25519, &other), 0);
    key_public_raw(room, raw);
    assert_int_equal(key_from_raw_public(KEY_ED25519, raw, &pub), 0);
    assert_int_equal(sync_seal_result(&result, 1, zeros, &payload, &len), 0);
    sha256(payload, len, h);
    hex_encode(h, sizeof(h), hex);

    assert_int_equal(sync_sign_head(room, 41, hex, sig), 0);
    assert_int_equal(strlen(sig), 88);
    snprintf(body, sizeof(body), "41\n%s", hex);
    assert_int_equal(verifies(pub, "EXAMROOM-CHAIN-V1", body, sig), 0);
    assert_int_not_equal(verifies(other, "EXAMROOM-CHAIN-V1", body, sig), 0);
    snprintf(body, sizeof(body), "42\n%s", hex);
    assert_int_not_equal(verifies(pub, "EXAMROOM-CHAIN-V1", body, sig), 0);
    snprintf(body, sizeof(body), "41\n%s", hex);
    body[10] ^= 1;
    assert_int_not_equal(verifies(pub, "EXAMROOM-CHAIN-V1", body, sig), 0);
    snprintf(body, sizeof(body), "41\n%s", hex);
    assert_int_equal(base64_decode(sig, &sigraw, &sigraw_len), 0);
    for (size_t i = 0; i < sigraw_len; i += 7) {
        sigraw[i] ^= 0x01;
        flipped = base64_encode(sigraw, sigraw_len);
        assert_non_null(flipped);
        assert_int_not_equal(verifies(pub, "EXAMROOM-CHAIN-V1", body, flipped), 0);
        free(flipped);
        sigraw[i] ^= 0x01;
    }
    free(sigraw);

    /* A result as the engine seals it (PROTO_CTX_RESULT over the payload):
     * the document's "EXAMROOM-RESULT-V1" LF payload; one payload byte
     * flipped fails. */
    assert_int_equal(proto_sign_body(room, PROTO_CTX_RESULT, payload, len, rsig), 0);
    assert_int_equal(verifies(pub, "EXAMROOM-RESULT-V1", payload, rsig), 0);
    payload[len / 2] ^= 0x20;
    assert_int_not_equal(verifies(pub, "EXAMROOM-RESULT-V1", payload, rsig), 0);
    free(payload);
    key_free(room);
    key_free(other);
    key_free(pub);
}

/* ---- retry or stop ---- */

/* The answer of status with body {"error": code}, classified. */
static int classify(long status, const char *code)
{
    char body[128];
    struct sync_response r = {.status = status};

    if (code != NULL) {
        snprintf(body, sizeof(body), "{\"error\": \"%s\", \"message\": \"…\"}", code);
        r.body = (uint8_t *)body;
        r.len = strlen(body);
    }
    return sync_answer_error(&r);
}

/* Every row of docs/protocol.md's error table, and what the room does:
 * transient errors are retried with backoff, the rest stop the pass. */
static void center_answers_map_to_the_documented_action(void **state)
{
    static const struct {
        long status;
        const char *code;
        int want, retried;
    } rows[] = {
        {400, "bad_request", ER_SYNC_PROTOCOL, 0}, /* does not retry; a bug */
        {400, "bad_json", ER_SYNC_PROTOCOL, 0},
        {400, "serial_typo", ER_CODE_TYPO, 0},              /* asks for the serial again */
        {401, "unknown_room", ER_SYNC_UNREGISTERED, 0},     /* asks to register */
        {401, "bad_signature", ER_SYNC_PROTOCOL, 0},        /* does not retry */
        {401, "clock_skew", ER_SYNC_CLOCK, 1},              /* corrects its offset, retries */
        {401, "replay", ER_SYNC_SERVER, 1},                 /* retries with a new nonce */
        {403, "not_your_session", ER_SYNC_PROTOCOL, 0},     /* does not retry */
        {404, "serial_unknown", ER_SYNC_SERIAL_UNKNOWN, 0}, /* does not retry */
        {404, "no_such_package", ER_SYNC_PROTOCOL, 0},
        {404, "no_such_session", ER_SYNC_PROTOCOL, 0},
        {404, "not_found", ER_SYNC_PROTOCOL, 0},
        {405, "method_not_allowed", ER_SYNC_PROTOCOL, 0},
        {409, "serial_used", ER_SYNC_SERIAL_USED, 0}, /* tells the proctor */
        {409, "room_key_in_use", ER_SYNC_KEY_IN_USE, 0},
        {409, "room_registered", ER_SYNC_ROOM_REGISTERED, 0},
        {403, "room_key_retired", ER_SYNC_KEY_RETIRED, 0},
        {409, "conflict", ER_SYNC_CONFLICT, 0},  /* stops */
        {409, "chain_broken", ER_SYNC_CHAIN, 0}, /* stops */
        {409, "chain_rollback", ER_SYNC_CHAIN, 0},
        {415, "bad_encoding", ER_SYNC_PROTOCOL, 0},
        {500, "internal", ER_SYNC_SERVER, 1}, /* retries with backoff */
        {502, NULL, ER_SYNC_SERVER, 1},       /* a proxy's 5xx, no JSON */
        {503, "internal", ER_SYNC_SERVER, 1},
        {418, NULL, ER_SYNC_PROTOCOL, 0}, /* anything else: stop */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int got = classify(rows[i].status, rows[i].code);

        if (got != rows[i].want || sync_transient(got) != rows[i].retried)
            fail_msg("%ld %s: %s (transient %d)", rows[i].status, rows[i].code ? rows[i].code : "-",
                     er_name(got), sync_transient(got));
    }
    assert_int_equal(classify(200, NULL), 0);
    assert_int_equal(classify(204, "internal"), 0); /* 2xx: whatever the body */
}

/* Each refusal a proctor acts on has its own sentence: room_key_in_use (this
 * machine's key registered under another serial) is not "serial used". */
static void center_refusals_have_their_own_sentence(void **state)
{
    static const char *const codes[] = {"serial_used",      "room_key_in_use", "room_registered",
                                        "room_key_retired", "serial_unknown",  "unknown_room",
                                        "clock_skew",       "conflict",        "chain_broken"};
    const char *in_use = er_strerror(classify(409, "room_key_in_use"));

    (void)state;
    assert_non_null(strstr(in_use, "本考场服务器的密钥已用另一个注册码注册过"));
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        for (size_t j = i + 1; j < sizeof(codes) / sizeof(codes[0]); j++)
            if (strcmp(er_strerror(classify(409, codes[i])),
                       er_strerror(classify(409, codes[j]))) == 0)
                fail_msg("%s and %s show the same sentence", codes[i], codes[j]);
}

/* A transfer that failed: the network (unreachable, timed out, broken) is
 * retried; a certificate that is not the pinned one never is. */
static void transport_errors_retry_except_tls(void **state)
{
    static const struct {
        int res, want, retried;
    } rows[] = {
        {CURLE_COULDNT_RESOLVE_HOST, ER_SYNC_UNREACHABLE, 1},
        {CURLE_COULDNT_CONNECT, ER_SYNC_UNREACHABLE, 1},
        {CURLE_COULDNT_RESOLVE_PROXY, ER_SYNC_UNREACHABLE, 1},
        {CURLE_OPERATION_TIMEDOUT, ER_SYNC_TIMEOUT, 1},
        {CURLE_RECV_ERROR, ER_SYNC_NETWORK, 1},
        {CURLE_SEND_ERROR, ER_SYNC_NETWORK, 1},
        {CURLE_GOT_NOTHING, ER_SYNC_NETWORK, 1},
        {CURLE_PARTIAL_FILE, ER_SYNC_NETWORK, 1},
        {CURLE_SSL_CONNECT_ERROR, ER_SYNC_NETWORK, 1}, /* a reset in the handshake */
        {CURLE_PEER_FAILED_VERIFICATION, ER_SYNC_TLS, 0},
        {CURLE_SSL_CACERT_BADFILE, ER_SYNC_TLS, 0},
        {CURLE_SSL_CERTPROBLEM, ER_SYNC_TLS, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int got = sync_transport_error(rows[i].res);

        if (got != rows[i].want || sync_transient(got) != rows[i].retried)
            fail_msg("CURLcode %d: %s", rows[i].res, er_name(got));
    }
    /* A response that carries a transport error is that error, whatever
     * its status says. */
    {
        struct sync_response r = {.error = ER_SYNC_TIMEOUT, .status = 200};

        assert_int_equal(sync_answer_error(&r), ER_SYNC_TIMEOUT);
    }
}

/* The real client against a loopback port nobody listens on: the answer
 * is ER_SYNC_UNREACHABLE, which is retried. */
struct got {
    int done, error;
};

static void on_answer(struct sync_response *r, void *arg)
{
    struct got *g = arg;

    g->done = 1;
    g->error = sync_answer_error(r);
}

static void on_closed(void *arg)
{
    *(int *)arg = 1;
}

static void refused_connection_is_retried(void **state)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t slen = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0), closed = 0;
    char url[64];
    uv_loop_t loop;
    struct sync_client *c;
    struct got g = {0};
    const struct sync_request req = {.method = "GET", .path = "/v1/time", .fd = -1};
    struct sync_config cfg = {.center_url = url, .connect_timeout_s = 5};
    struct key *center;
    struct key *room;

    (void)state;
    assert_int_equal(key_generate(KEY_ED25519, &room), 0);
    assert_int_equal(key_generate(KEY_ED25519, &center), 0);
    cfg.room = room;
    cfg.center = center;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &slen), 0);
    close(fd); /* bound, never listened on, now free: connect is refused */
    snprintf(url, sizeof(url), "https://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(sync_client_new(&loop, &cfg, &c), 0);
    assert_int_equal(sync_start(c, &req, on_answer, &g), 0);
    while (!g.done)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(g.error, ER_SYNC_UNREACHABLE);
    assert_true(sync_transient(g.error));
    sync_client_close(c, on_closed, &closed);
    while (!closed)
        uv_run(&loop, UV_RUN_ONCE);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    key_free(room);
    key_free(center);
}

/* Work done for the client on the thread pool (the upload's batch is built
 * there): its done runs on the loop with 0; when the client is closed while
 * the work runs, done runs with ER_SYNC_CANCELLED and the client is freed
 * only after it (ASan sees any use after free). */
struct job_seen {
    int worked, done, status, closed_before_done;
    int *closed;
};

static void slow_work(void *arg)
{
    struct job_seen *j = arg;

    uv_sleep(50);
    j->worked = 1;
}

static void job_done(int status, void *arg)
{
    struct job_seen *j = arg;

    j->done++;
    j->status = status;
    j->closed_before_done = *j->closed;
}

static void work_is_done_or_cancelled_before_close(void **state)
{
    uv_loop_t loop;
    struct sync_client *c;
    struct sync_config cfg = {.center_url = "https://127.0.0.1:9"};
    struct key *center, *room;
    int closed = 0;
    struct job_seen a = {.closed = &closed}, b = {.closed = &closed};

    (void)state;
    assert_int_equal(key_generate(KEY_ED25519, &room), 0);
    assert_int_equal(key_generate(KEY_ED25519, &center), 0);
    cfg.room = room;
    cfg.center = center;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(sync_client_new(&loop, &cfg, &c), 0);
    assert_int_equal(sync_client_work(c, slow_work, job_done, &a), 0);
    while (!a.done)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(a.done, 1);
    assert_int_equal(a.status, 0);
    assert_true(a.worked);
    /* Closed while the work runs: cancelled, then closed. */
    assert_int_equal(sync_client_work(c, slow_work, job_done, &b), 0);
    sync_client_close(c, on_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(b.done, 1);
    assert_int_equal(b.status, ER_SYNC_CANCELLED);
    assert_true(b.worked);
    assert_int_equal(b.closed_before_done, 0);
    assert_int_equal(closed, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
    key_free(room);
    key_free(center);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seal_gives_the_documented_bytes),
        cmocka_unit_test(chain_links_by_hash),
        cmocka_unit_test(head_signature_verifies_and_breaks),
        cmocka_unit_test(center_answers_map_to_the_documented_action),
        cmocka_unit_test(center_refusals_have_their_own_sentence),
        cmocka_unit_test(transport_errors_retry_except_tls),
        cmocka_unit_test(refused_connection_is_retried),
        cmocka_unit_test(work_is_done_or_cancelled_before_close),
    };

    return cmocka_run_group_tests_name("sync", tests, NULL, NULL);
}
