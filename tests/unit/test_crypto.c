/* Unit tests of crypto/: typed codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "crypto.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char symbols[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";

static void hex_to_bytes(const char *hex, uint8_t *out)
{
    for (size_t i = 0; hex[2 * i] != '\0'; i++) {
        unsigned v;

        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

/* Vectors computed by an independent implementation (Python, value mod 37);
 * the same ones stand in docs/codes.md. */
static const struct {
    const char *hex;
    unsigned nbits, group;
    const char *text;
} vectors[] = {
    {"00000000000000000000", 75, 4, "0000-0000-0000-0000"},
    {"FFFFFFFFFFFFFFFFFFE0", 75, 4, "ZZZZ-ZZZZ-ZZZZ-ZZZ7"},
    {"0123456789ABCDEF0120", 75, 4, "04HM-ASW9-NF6Y-Y09W"},
    {"DEADBEEFCAFEBABE12345660", 95, 5, "VTPVX-VYAZT-XBW4H-MASG~"},
    {"000000000000000000000020", 95, 5, "00000-00000-00000-000GG"},
};

/* docs/codes.md "Key fingerprints": RFC 8032's first test key, as the
 * center-key.pub file holds it, and its fingerprint; the page must show
 * both, and the code must give that fingerprint. */
static void key_fingerprint_vector(void **state)
{
    static const char b64[] = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    static const char want[] = "47Z3-3QX1-AJH6-2RKB-K";
    char fp[KEY_FINGERPRINT_SIZE], doc[65536] = "", path[512];
    struct key *k = NULL;
    FILE *f;
    size_t n;

    (void)state;
    snprintf(path, sizeof(path), "%s/docs/codes.md", EXAMROOM_SOURCE_DIR);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(doc, 1, sizeof(doc) - 1, f);
    doc[n] = '\0';
    fclose(f);
    assert_non_null(strstr(doc, b64));
    assert_non_null(strstr(doc, want));
    assert_int_equal(key_parse_public(KEY_ED25519, b64, &k), 0);
    key_fingerprint(k, fp);
    assert_string_equal(fp, want);
    key_free(k);
    /* 44 characters exactly: one short, or without its '=', is refused. */
    assert_int_equal(
        key_parse_public(KEY_ED25519, "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo", &k),
        ER_KEY_FORMAT);
}

/* docs/protocol.md "Test vectors": each block gives fixed keys (seeds),
 * a time, a nonce and the bytes sent; the room's code must give the signed
 * string (verbatim in the doc), the request signature and the center's
 * answer signature that the doc shows. PROTO_VECTORS_PRINT=1 prints what
 * the code gives, to write the doc. */
static char *vector_field(const char *block, const char *name, char *out, size_t outsz)
{
    char key[64];
    const char *p;
    size_t n;

    snprintf(key, sizeof(key), "\n%s ", name);
    p = strstr(block, key);
    if (p == NULL)
        return NULL;
    p += strlen(key);
    while (*p == ' ')
        p++;
    n = strcspn(p, "\n");
    if (n >= outsz)
        return NULL;
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
}

static void check_vector(const char *doc, const char *name, const char *method, const char *path,
                         const char *answer_context)
{
    static char block[16384], body[4096], answer[4096], seed_hex[80], time_s[20], nonce[33];
    static char want_sig[100], want_answer_sig[100], encoding[32];
    char marker[64], sig[89], center_hex[65];
    const char *start, *end;
    uint8_t seed[32], center_id[32];
    struct key *room = NULL, *center = NULL;
    struct proto_auth a;
    size_t len;
    char *signed_string;
    int print = getenv("PROTO_VECTORS_PRINT") != NULL;

    snprintf(marker, sizeof(marker), "# vector: %s\n", name);
    start = strstr(doc, marker);
    assert_non_null(start);
    end = strstr(start, "```");
    assert_non_null(end);
    snprintf(block, sizeof(block), "\n%.*s", (int)(end - start), start);
    assert_non_null(vector_field(block, "room_seed", seed_hex, sizeof(seed_hex)));
    assert_int_equal(hex_decode(seed_hex, seed, 32), 0);
    assert_int_equal(key_from_raw_private(KEY_ED25519, seed, &room), 0);
    assert_non_null(vector_field(block, "center_seed", seed_hex, sizeof(seed_hex)));
    assert_int_equal(hex_decode(seed_hex, seed, 32), 0);
    assert_int_equal(key_from_raw_private(KEY_ED25519, seed, &center), 0);
    key_id(center, center_id);
    hex_encode(center_id, 32, center_hex);
    assert_non_null(vector_field(block, "time", time_s, sizeof(time_s)));
    assert_non_null(vector_field(block, "nonce", nonce, sizeof(nonce)));
    assert_non_null(vector_field(block, "body", body, sizeof(body)));
    if (vector_field(block, "encoding", encoding, sizeof(encoding)) == NULL)
        encoding[0] = '\0';
    memset(&a, 0, sizeof(a));
    snprintf(a.time, sizeof(a.time), "%s", time_s);
    snprintf(a.nonce, sizeof(a.nonce), "%s", nonce);
    {
        const struct proto_request rq = {.center = center_id,
                                         .method = method,
                                         .path = path,
                                         .encoding = encoding[0] ? encoding : NULL,
                                         .body = body,
                                         .body_len = strlen(body)};

        assert_int_equal(proto_sign_request_as(room, &rq, &a), 0);
        signed_string = proto_request_string(&rq, &a, &len);
        assert_non_null(signed_string);
    }
    if (print) {
        char pub[KEY_B64_LEN + 1];

        key_public_b64(room, pub);
        printf("%s: room %s (%s) center %s\nsigned:\n%s\nsignature %s\n", name, a.room, pub,
               center_hex, signed_string, a.sig);
    }
    /* The signed string, byte for byte, in the doc. */
    if (!print)
        assert_non_null(strstr(doc, signed_string));
    assert_non_null(vector_field(block, "signature", want_sig, sizeof(want_sig)));
    if (!print)
        assert_string_equal(a.sig, want_sig);
    assert_non_null(vector_field(block, "room_key", seed_hex, sizeof(seed_hex)));
    if (!print)
        assert_string_equal(seed_hex, a.room);
    assert_non_null(vector_field(block, "center_key", seed_hex, sizeof(seed_hex)));
    if (!print)
        assert_string_equal(seed_hex, center_hex);
    /* The center's answer, bound to this request, and its signature. */
    assert_non_null(vector_field(block, "answer", answer, sizeof(answer)));
    assert_int_equal(proto_sign_body(center, answer_context, answer, strlen(answer), sig), 0);
    if (print)
        printf("answer_sig %s\n", sig);
    assert_non_null(vector_field(block, "answer_sig", want_answer_sig, sizeof(want_answer_sig)));
    if (!print)
        assert_string_equal(sig, want_answer_sig);
    {
        char bind[200];

        snprintf(bind, sizeof(bind), "\"request\":{\"nonce\":\"%s\",\"room_key\":\"%s\"}", nonce,
                 a.room);
        if (!print)
            assert_non_null(strstr(answer, bind));
    }
    assert_int_equal(proto_verify_body(center, answer_context, answer, strlen(answer), sig), 0);
    free(signed_string);
    key_free(room);
    key_free(center);
}

static void protocol_test_vectors(void **state)
{
    static char doc[262144];
    char path[512];
    FILE *f;
    size_t n;

    (void)state;
    snprintf(path, sizeof(path), "%s/docs/protocol.md", EXAMROOM_SOURCE_DIR);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(doc, 1, sizeof(doc) - 1, f);
    doc[n] = '\0';
    fclose(f);
    check_vector(doc, "register", "POST", "/v1/register", PROTO_CTX_REGISTER);
    check_vector(doc, "results", "POST", "/v1/results", PROTO_CTX_RECEIPT);
    /* The result record inside the upload: its signature over its payload. */
    {
        static const char seed_hex[] =
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
        const char *p = strstr(doc, "# record: result\n"), *payload_at, *sig_at;
        char payload[2048], want[100], sig[89];
        uint8_t seed[32];
        struct key *room;

        assert_non_null(p);
        payload_at = strstr(p, "\npayload ");
        sig_at = strstr(p, "\nsig ");
        assert_non_null(payload_at);
        assert_non_null(sig_at);
        payload_at += strlen("\npayload ");
        sig_at += strlen("\nsig ");
        snprintf(payload, sizeof(payload), "%.*s", (int)strcspn(payload_at, "\n"), payload_at);
        snprintf(want, sizeof(want), "%.*s", (int)strcspn(sig_at, "\n"), sig_at);
        assert_int_equal(hex_decode(seed_hex, seed, 32), 0);
        assert_int_equal(key_from_raw_private(KEY_ED25519, seed, &room), 0);
        assert_int_equal(proto_sign_body(room, PROTO_CTX_RESULT, payload, strlen(payload), sig), 0);
        if (getenv("PROTO_VECTORS_PRINT") != NULL)
            printf("record sig %s\n", sig);
        else
            assert_string_equal(sig, want);
        /* The chain head it makes: position 1, the payload's hash. */
        {
            uint8_t h[32];
            char head[128], hex[65];
            const char *head_at = strstr(p, "\nhead_sig ");

            sha256(payload, strlen(payload), h);
            hex_encode(h, 32, hex);
            snprintf(head, sizeof(head), "1\n%s", hex);
            assert_int_equal(proto_sign_body(room, PROTO_CTX_CHAIN, head, strlen(head), sig), 0);
            assert_non_null(head_at);
            head_at += strlen("\nhead_sig ");
            snprintf(want, sizeof(want), "%.*s", (int)strcspn(head_at, "\n"), head_at);
            if (getenv("PROTO_VECTORS_PRINT") != NULL)
                printf("head sig %s\n", sig);
            else
                assert_string_equal(sig, want);
        }
        key_free(room);
    }
}

static void code_known_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        uint8_t data[CODE_BYTES(CODE_MAX_SYMBOLS * 5)], back[sizeof(data)];
        char text[128];

        hex_to_bytes(vectors[i].hex, data);
        assert_int_equal(code_encode(data, vectors[i].nbits, vectors[i].group, text, sizeof(text)),
                         0);
        assert_string_equal(text, vectors[i].text);
        assert_int_equal(code_decode(text, vectors[i].nbits, back), 0);
        assert_memory_equal(back, data, CODE_BYTES(vectors[i].nbits));
    }
}

static void code_decode_tolerates_what_people_type(void **state)
{
    static const char *forms[] = {
        "04HM-ASW9-NF6Y-Y09W",
        "04hm-asw9-nf6y-y09w",
        "04HMASW9NF6YY09W",
        " 04HM ASW9 NF6Y Y09W ",
        "o4hm-asw9-nf6y-yo9w",
        "04HM--ASW9 - NF6Y-Y09W",
        "０４ＨＭ－ＡＳＷ９－ＮＦ６Ｙ－Ｙ０９Ｗ",
        "04HM\tASW9\nNF6Y-Y09W",
    };
    uint8_t want[10], got[10];

    (void)state;
    hex_to_bytes("0123456789ABCDEF0120", want);
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        memset(got, 0, sizeof(got));
        assert_int_equal(code_decode(forms[i], CODE_SERIAL_BITS, got), 0);
        assert_memory_equal(got, want, sizeof(want));
    }
    /* I and L read as 1: "1" in a code may be typed as either. */
    hex_to_bytes("FFFFFFFFFFFFFFFFFFE0", want);
    assert_int_equal(code_decode("ZZZZ-ZZZZ-ZZZZ-ZZZ7", CODE_SERIAL_BITS, got), 0);
    {
        char text[32];
        uint8_t d[10], back1[10], backi[10], backl[10];

        hex_to_bytes("08421084210842108420", d); /* every symbol is 1 */
        assert_int_equal(code_encode(d, 75, 4, text, sizeof(text)), 0);
        assert_string_equal(text, "1111-1111-1111-1115");
        assert_int_equal(code_decode("1111-1111-1111-1115", 75, back1), 0);
        assert_int_equal(code_decode("iiii-llll-IiIi-LlL5", 75, backi), 0);
        assert_int_equal(code_decode("IIII LLLL 1111 1115", 75, backl), 0);
        assert_memory_equal(back1, d, 10);
        assert_memory_equal(backi, d, 10);
        assert_memory_equal(backl, d, 10);
    }
}

static void code_errors(void **state)
{
    uint8_t d[CODE_BYTES(CODE_UNLOCK_BITS)] = {0}, untouched[sizeof(d)];
    char text[64];

    (void)state;
    memset(d, 0xAA, sizeof(d));
    memcpy(untouched, d, sizeof(d));
    assert_int_equal(code_decode("", 75, d), ER_CODE_LENGTH);
    assert_int_equal(code_decode("04HM-ASW9-NF6Y-Y09", 75, d), ER_CODE_LENGTH);
    assert_int_equal(code_decode("04HM-ASW9-NF6Y-Y09WW", 75, d), ER_CODE_LENGTH);
    assert_int_equal(code_decode("04HM-ASW9-NF6Y-Y09W", 95, d), ER_CODE_LENGTH);
    assert_int_equal(code_decode("04HM-ASW9-NF6Y-Y0UW", 75, d), ER_CODE_CHAR);
    assert_int_equal(code_decode("04HM-ASW9-NF6Y-Y0*W", 75, d), ER_CODE_CHAR);
    assert_int_equal(code_decode("04HM-ASW9-NF6Y-Y09W!", 75, d), ER_CODE_CHAR);
    assert_int_equal(code_decode("04HM-ASW9-NF6Y-考场", 75, d), ER_CODE_CHAR);
    assert_int_equal(code_decode("04HM_ASW9_NF6Y_Y09W", 75, d), ER_CODE_CHAR);
    assert_int_equal(code_decode("04HM-ASW9-NF6Y-Y09X", 75, d), ER_CODE_TYPO);
    assert_memory_equal(d, untouched, sizeof(d)); /* nothing written on failure */

    /* A text longer than any buffer is the wrong length, not a crash. */
    {
        char big[2048];

        memset(big, 'A', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_int_equal(code_decode(big, 75, d), ER_CODE_LENGTH);
        memset(big, '-', sizeof(big) - 1);
        memcpy(big + 1000, "04HM-ASW9-NF6Y-Y09W", 19);
        assert_int_equal(code_decode(big, 75, d), ER_CODE_LENGTH);
    }

    /* Encoding: bad sizes and unused bits are refused. */
    memset(d, 0, sizeof(d));
    assert_int_equal(code_encode(d, 76, 4, text, sizeof(text)), ER_USAGE);
    assert_int_equal(code_encode(d, 0, 4, text, sizeof(text)), ER_USAGE);
    assert_int_equal(code_encode(d, 75, 4, text, 19), ER_USAGE);
    assert_int_equal(code_encode(d, 75, 4, text, 20), 0);
    d[9] = 0x01; /* bit 80 is beyond 75 */
    assert_int_equal(code_encode(d, 75, 4, text, sizeof(text)), ER_USAGE);
    assert_int_equal(code_decode("0000-0000-0000-0000", 76, d), ER_USAGE);
    assert_int_equal((int)code_text_size(75, 4), 20);
    assert_int_equal((int)code_text_size(95, 5), 24);
    assert_int_equal((int)code_text_size(77, 4), 0);
}

/* Every single-symbol substitution (every place, the check symbol's too, with
 * every other symbol) and every adjacent transposition of two different
 * symbols is refused, for a sample code of each kind. */
static void code_detects_substitutions_and_transpositions(void **state)
{
    static const struct {
        const char *text;
        unsigned nbits;
    } samples[] = {
        {"04HMASW9NF6YY09W", 75},
        {"VTPVXVYAZTXBW4HMASG~", 95},
    };
    uint8_t d[CODE_BYTES(CODE_UNLOCK_BITS)];
    int substitutions = 0, transpositions = 0;

    (void)state;
    for (size_t k = 0; k < sizeof(samples) / sizeof(samples[0]); k++) {
        const char *code = samples[k].text;
        size_t n = strlen(code);
        char bad[64];

        assert_int_equal(code_decode(code, samples[k].nbits, d), 0);
        for (size_t pos = 0; pos < n; pos++) {
            for (const char *s = symbols; *s; s++) {
                int rc;

                if (*s == code[pos])
                    continue;
                memcpy(bad, code, n + 1);
                bad[pos] = *s;
                rc = code_decode(bad, samples[k].nbits, d);
                if (rc != ER_CODE_TYPO && rc != ER_CODE_CHAR)
                    fail_msg("substitution %s accepted (%s)", bad, er_name(rc));
                substitutions++;
            }
        }
        for (size_t pos = 0; pos + 1 < n; pos++) {
            int rc;

            if (code[pos] == code[pos + 1])
                continue;
            memcpy(bad, code, n + 1);
            bad[pos] = code[pos + 1];
            bad[pos + 1] = code[pos];
            rc = code_decode(bad, samples[k].nbits, d);
            if (rc != ER_CODE_TYPO && rc != ER_CODE_CHAR)
                fail_msg("transposition %s accepted (%s)", bad, er_name(rc));
            transpositions++;
        }
    }
    /* 16 places × 36 + 20 places × 36 substitutions, and every pair. */
    assert_int_equal(substitutions, (16 + 20) * 36);
    assert_true(transpositions >= 30);
}

/* Random codes of both kinds, written the way people write them, come back
 * as the same bits. */
static void code_random_round_trips(void **state)
{
    static const unsigned kinds[][2] = {
        {CODE_SERIAL_BITS, CODE_SERIAL_GROUP},
        {CODE_UNLOCK_BITS, CODE_UNLOCK_GROUP},
        {5, 0},
        {CODE_MAX_SYMBOLS * 5, 4},
    };

    (void)state;
    srand(20261205);
    for (int round = 0; round < 5000; round++) {
        const unsigned *k = kinds[round % 4];
        uint8_t d[CODE_BYTES(CODE_MAX_SYMBOLS * 5)], back[sizeof(d)];
        char text[160], typed[400];
        size_t n = 0;

        assert_int_equal(code_random(k[0], d), 0);
        assert_int_equal(code_encode(d, k[0], k[1], text, sizeof(text)), 0);
        assert_int_equal(strlen(text) + 1, code_text_size(k[0], k[1]));
        /* Retype: random case, separators dropped or doubled, 0 as O. */
        for (const char *p = text; *p; p++) {
            char c = *p;

            if (c == '-' && rand() % 3 == 0)
                continue;
            if (c == '0' && rand() % 4 == 0)
                c = 'o';
            else if (c >= 'A' && c <= 'Z' && rand() % 2)
                c = (char)(c - 'A' + 'a');
            typed[n++] = c;
            if (rand() % 10 == 0)
                typed[n++] = ' ';
        }
        typed[n] = '\0';
        memset(back, 0, sizeof(back));
        assert_int_equal(code_decode(typed, k[0], back), 0);
        assert_memory_equal(back, d, CODE_BYTES(k[0]));
    }
}

static void code_random_clears_unused_bits(void **state)
{
    uint8_t d[CODE_BYTES(CODE_SERIAL_BITS)];

    (void)state;
    for (int i = 0; i < 200; i++) {
        assert_int_equal(code_random(CODE_SERIAL_BITS, d), 0);
        assert_int_equal(d[9] & 0x1F, 0);
    }
    assert_int_equal(code_random(7, d), ER_USAGE);
}

/* ---- KDFs: the RFCs' own vectors ---- */

static void hex_n(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;

        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static void hkdf_rfc5869_case1(void **state)
{
    uint8_t ikm[22], salt[13], info[10], want[42], got[42];

    (void)state;
    memset(ikm, 0x0b, sizeof(ikm));
    for (int i = 0; i < 13; i++)
        salt[i] = (uint8_t)i;
    for (int i = 0; i < 10; i++)
        info[i] = (uint8_t)(0xf0 + i);
    hex_n("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
          want, sizeof(want));
    assert_int_equal(kdf_hkdf(salt, sizeof(salt), ikm, sizeof(ikm), info, sizeof(info), got, 42),
                     0);
    assert_memory_equal(got, want, sizeof(want));
}

static void scrypt_rfc7914(void **state)
{
    uint8_t want[32], got[32];

    (void)state;
    hex_n("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162", want, 32);
    assert_int_equal(
        kdf_scrypt((const uint8_t *)"password", 8, (const uint8_t *)"NaCl", 4, 10, 8, 16, got), 0);
    assert_memory_equal(got, want, sizeof(want));
    assert_int_equal(kdf_scrypt((const uint8_t *)"p", 1, (const uint8_t *)"s", 1, 0, 8, 1, got),
                     ER_USAGE);
}

/* ---- keys ---- */

static void keys_save_load_sign_verify(void **state)
{
    char dir[] = "/tmp/examroom-keys-XXXXXX", path[128], b64[KEY_B64_LEN + 1];
    char fp[KEY_FINGERPRINT_SIZE];
    struct key *k, *loaded, *pub, *x;
    uint8_t sig[KEY_SIG_LEN], raw1[KEY_RAW_LEN], raw2[KEY_RAW_LEN], id[32];
    struct stat st;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/room.pem", dir);
    assert_int_equal(key_generate(KEY_ED25519, &k), 0);
    assert_int_equal(key_save_private(k, path), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(key_load_private(KEY_ED25519, path, &loaded), 0);
    key_public_raw(k, raw1);
    key_public_raw(loaded, raw2);
    assert_memory_equal(raw1, raw2, KEY_RAW_LEN);

    /* A signature by the loaded key verifies with the public key read back
     * from base64, and fails for a changed message or signature. */
    assert_int_equal(key_sign(loaded, "result", 6, sig), 0);
    key_public_b64(k, b64);
    assert_int_equal(strlen(b64), KEY_B64_LEN);
    assert_int_equal(key_parse_public(KEY_ED25519, b64, &pub), 0);
    assert_false(key_has_private(pub));
    assert_int_equal(key_verify(pub, "result", 6, sig), 0);
    assert_int_equal(key_verify(pub, "resulT", 6, sig), ER_BADSIG);
    sig[10] ^= 1;
    assert_int_equal(key_verify(pub, "result", 6, sig), ER_BADSIG);
    assert_int_equal(key_sign(pub, "x", 1, sig), ER_USAGE);

    /* Same key, same id and fingerprint; a typed-code fingerprint. */
    key_id(k, id);
    key_fingerprint(pub, fp);
    assert_int_equal(strlen(fp), KEY_FINGERPRINT_SIZE - 1);
    {
        uint8_t back[10];

        assert_int_equal(code_decode(fp, 80, back), 0);
        assert_memory_equal(back, id, 10);
    }

    /* The public key file form: base64 in a file, with a newline. */
    {
        char pubpath[160];
        FILE *f;

        snprintf(pubpath, sizeof(pubpath), "%s/center-key.pub", dir);
        f = fopen(pubpath, "w");
        fprintf(f, "%s\n", b64);
        fclose(f);
        key_free(pub);
        assert_int_equal(key_parse_public(KEY_ED25519, pubpath, &pub), 0);
        sig[10] ^= 1; /* undo the damage above */
        assert_int_equal(key_verify(pub, "result", 6, sig), 0);
        unlink(pubpath);
    }
    assert_int_equal(key_parse_public(KEY_ED25519, "not base64 at all", &x), ER_KEY_FORMAT);
    assert_int_equal(key_parse_public(KEY_ED25519, "AAAA", &x), ER_KEY_FORMAT);
    b64[5] = '*';
    assert_int_equal(key_parse_public(KEY_ED25519, b64, &x), ER_KEY_FORMAT);

    /* Refused: readable by others, the wrong type, missing, not a key. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(key_load_private(KEY_ED25519, path, &x), ER_KEY_PERMS);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(key_load_private(KEY_X25519, path, &x), ER_KEY_FORMAT);
    unlink(path);
    assert_int_equal(key_load_private(KEY_ED25519, path, &x), ER_KEY_FILE);
    {
        FILE *f = fopen(path, "w");

        fputs("-----BEGIN PRIVATE KEY-----\nnonsense\n-----END PRIVATE KEY-----\n", f);
        fclose(f);
        chmod(path, 0600);
        assert_int_equal(key_load_private(KEY_ED25519, path, &x), ER_KEY_FORMAT);
        unlink(path);
    }
    key_free(k);
    key_free(loaded);
    key_free(pub);
    rmdir(dir);
}

/* A secret sealed under a key opens with that key and label only. */
static void sealed_secrets(void **state)
{
    struct key *k, *other;
    uint8_t secret[32], sealed[KEY_SEALED_LEN(32)], back[32];

    (void)state;
    memset(secret, 0x5a, sizeof(secret));
    assert_int_equal(key_generate(KEY_X25519, &k), 0);
    assert_int_equal(key_generate(KEY_X25519, &other), 0);
    assert_int_equal(key_seal_secret(k, "session S1", secret, 32, sealed), 0);
    assert_memory_not_equal(sealed + 12, secret, 32); /* not in the clear */
    assert_int_equal(key_open_secret(k, "session S1", sealed, sizeof(sealed), back), 0);
    assert_memory_equal(back, secret, 32);
    assert_int_equal(key_open_secret(other, "session S1", sealed, sizeof(sealed), back),
                     ER_PKG_CORRUPT);
    assert_int_equal(key_open_secret(k, "session S2", sealed, sizeof(sealed), back),
                     ER_PKG_CORRUPT);
    sealed[20] ^= 1;
    assert_int_equal(key_open_secret(k, "session S1", sealed, sizeof(sealed), back),
                     ER_PKG_CORRUPT);
    assert_int_equal(key_open_secret(k, "session S1", sealed, 10, back), ER_PKG_CORRUPT);
    key_free(k);
    key_free(other);
}

/* ASCII as full-width forms (U+FF01..U+FF5E), as a Chinese input method
 * types it. */
static void to_fullwidth(const char *in, char *out)
{
    for (; *in != '\0'; in++) {
        unsigned u = 0xFF01 + (unsigned)(*in - 0x21);

        *out++ = (char)(0xE0 | u >> 12);
        *out++ = (char)(0x80 | (u >> 6 & 0x3F));
        *out++ = (char)(0x80 | (u & 0x3F));
    }
    *out = '\0';
}

/* A generated password (a typed code) is found however it is typed; any
 * other password only loses full-width forms and surrounding spaces. */
static void passwords_typed_as_people_type(void **state)
{
    const uint8_t raw[CODE_BYTES(50)] = {0x5e, 0xad, 0x72, 0xbe, 0xf5, 0x71, 0xc0};
    char code[32], lower[32], bare[32], spaced[40], wide[128], out[64], line[PASSWORD_LINE_MAX];
    const char *typed[] = {code, lower, bare, spaced, wide};
    size_t n = 0;

    (void)state;
    assert_int_equal(code_encode(raw, 50, 5, code, sizeof(code)), 0);
    for (size_t i = 0; code[i] != '\0'; i++) {
        lower[i] = (char)tolower((unsigned char)code[i]);
        if (code[i] != '-')
            bare[n++] = code[i];
    }
    lower[strlen(code)] = '\0';
    bare[n] = '\0';
    snprintf(spaced, sizeof(spaced), "  %s ", code);
    to_fullwidth(code, wide);
    for (size_t i = 0; i < sizeof(typed) / sizeof(typed[0]); i++) {
        assert_int_equal(password_normalize(typed[i], out, sizeof(out)), 0);
        assert_string_equal(out, code);
    }
    assert_int_equal(password_normalize("  监考-Proctor-2026 ", out, sizeof(out)), 0);
    assert_string_equal(out, "监考-Proctor-2026");
    to_fullwidth("Proctor2026", wide);
    assert_int_equal(password_normalize(wide, out, sizeof(out)), 0);
    assert_string_equal(out, "Proctor2026");
    /* Not a code (a check symbol wrong): as typed, case kept. */
    lower[strlen(lower) - 1] = lower[strlen(lower) - 1] == 'a' ? 'b' : 'a';
    assert_int_equal(password_normalize(lower, out, sizeof(out)), 0);
    assert_string_equal(out, lower);
    assert_int_equal(password_normalize("longer than three", out, 3), ER_USAGE);
    /* Hashed canonical, checked canonical. */
    assert_int_equal(password_hash(code, line, sizeof(line)), 0);
    assert_int_equal(password_normalize(bare, out, sizeof(out)), 0);
    assert_int_equal(password_verify(line, out), 0);
}

/* Candidate tokens: 64 hex digits, each new one's key sorting after the
 * one before (the sign-ins' index grows at its right edge), the key being
 * the token's time and 24 bytes of its SHA-256; anything that does not
 * begin with 16 hex digits keyed by its plain SHA-256. */
static void candidate_token_keys_sort_by_issue(void **state)
{
    char tokens[20][CRYPTO_TOKEN_HEX + 1];
    uint8_t keys[20][32], digest[32], issued[8];
    char head[17] = {0};
    const char *others[] = {"", "0123456789abcde", "0123456789abcdeg0000", "Bearer x",
                            "题0123456789abcdef"};

    (void)state;

    for (int i = 0; i < 20; i++) {
        assert_int_equal(crypto_token_issue(tokens[i]), 0);
        assert_int_equal(strlen(tokens[i]), CRYPTO_TOKEN_HEX);
        for (const char *c = tokens[i]; *c != '\0'; c++)
            assert_true(isxdigit((unsigned char)*c) && !isupper((unsigned char)*c));
        crypto_token_key(tokens[i], keys[i]);
        sha256(tokens[i], strlen(tokens[i]), digest);
        memcpy(head, tokens[i], 16);
        hex_to_bytes(head, issued);
        assert_memory_equal(keys[i], issued, 8);
        assert_memory_equal(keys[i] + 8, digest, 24);
        if (i > 0) {
            assert_true(memcmp(keys[i - 1], keys[i], 32) < 0);
            assert_memory_not_equal(tokens[i - 1] + 16, tokens[i] + 16, 48);
        }
        nanosleep(&(struct timespec){.tv_nsec = 1500000}, NULL); /* a later millisecond */
    }
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        crypto_token_key(others[i], keys[0]);
        sha256(others[i], strlen(others[i]), digest);
        assert_memory_equal(keys[0], digest, 32);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(code_known_vectors),
        cmocka_unit_test(key_fingerprint_vector),
        cmocka_unit_test(protocol_test_vectors),
        cmocka_unit_test(code_decode_tolerates_what_people_type),
        cmocka_unit_test(code_errors),
        cmocka_unit_test(code_detects_substitutions_and_transpositions),
        cmocka_unit_test(code_random_round_trips),
        cmocka_unit_test(code_random_clears_unused_bits),
        cmocka_unit_test(hkdf_rfc5869_case1),
        cmocka_unit_test(scrypt_rfc7914),
        cmocka_unit_test(keys_save_load_sign_verify),
        cmocka_unit_test(sealed_secrets),
        cmocka_unit_test(passwords_typed_as_people_type),
        cmocka_unit_test(candidate_token_keys_sort_by_issue),
    };

    return cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
}
