/* The signatures of the center protocol: what exactly is signed, in one
 * place for both ends. */
#include "crypto.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SHA-256 fetched once: EVP_sha256() makes EVP_Digest look the
 * implementation up again at every call (OpenSSL 3's implicit fetch, about
 * a microsecond: every token of every request pays it). Kept to the end. */
static EVP_MD *sha256_md;

static void fetch_sha256(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void sha256(const void *data, size_t n, uint8_t out[32])
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, fetch_sha256);
    EVP_Digest(data, n, out, NULL, sha256_md != NULL ? sha256_md : EVP_sha256(), NULL);
}

char *base64_encode(const uint8_t *in, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);

    if (out != NULL)
        EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    return out;
}

int base64_decode(const char *text, uint8_t **out, size_t *out_len)
{
    size_t n = strlen(text), pad = 0;
    uint8_t *buf;
    int got;

    if (n % 4 != 0 || n > (size_t)1 << 30)
        return ER_USAGE;
    if (n > 0 && text[n - 1] == '=')
        pad++;
    if (n > 1 && text[n - 2] == '=')
        pad++;
    for (size_t i = 0; i < n - pad; i++) {
        char c = text[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return ER_USAGE;
    }
    buf = malloc(n / 4 * 3 + 1);
    if (buf == NULL)
        return ER_NOMEM;
    got = n == 0 ? 0 : EVP_DecodeBlock(buf, (const unsigned char *)text, (int)n);
    if (got < 0 || (size_t)got < pad) {
        free(buf);
        return ER_USAGE;
    }
    *out = buf;
    *out_len = (size_t)got - pad;
    return 0;
}

int64_t proto_parse_time(const char *text)
{
    int64_t v = 0;

    if (text == NULL || *text == '\0' || strlen(text) > 18)
        return -1;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v;
}

static const char *or_empty(const char *s)
{
    return s != NULL ? s : "";
}

char *proto_request_string(const struct proto_request *rq, const struct proto_auth *a, size_t *len)
{
    uint8_t digest[32];
    char hex[65], center[65], *s;
    size_t n = strlen(rq->method) + strlen(rq->path) + strlen(or_empty(rq->query)) +
               strlen(or_empty(rq->encoding)) + strlen(or_empty(rq->range)) +
               strlen(or_empty(rq->if_range)) + strlen(a->time) + strlen(a->nonce) + 256;
    int w;

    EVP_Digest(rq->body != NULL ? rq->body : "", rq->body_len, digest, NULL, EVP_sha256(), NULL);
    hex_encode(digest, sizeof(digest), hex);
    hex_encode(rq->center, 32, center);
    s = malloc(n);
    if (s == NULL)
        return NULL;
    w = snprintf(s, n, PROTO_CTX_REQUEST "\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s", center,
                 rq->method, rq->path, or_empty(rq->query), or_empty(rq->encoding),
                 or_empty(rq->range), or_empty(rq->if_range), a->time, a->nonce, hex);
    if (w < 0 || (size_t)w >= n) {
        free(s);
        return NULL;
    }
    *len = (size_t)w;
    return s;
}

int proto_sign_request(const struct key *room, const struct proto_request *rq, int64_t now,
                       struct proto_auth *auth)
{
    uint8_t nonce[16];

    snprintf(auth->time, sizeof(auth->time), "%lld", (long long)now);
    if (RAND_bytes(nonce, sizeof(nonce)) != 1)
        return ER_RANDOM;
    hex_encode(nonce, sizeof(nonce), auth->nonce);
    return proto_sign_request_as(room, rq, auth);
}

int proto_sign_request_as(const struct key *room, const struct proto_request *rq,
                          struct proto_auth *auth)
{
    uint8_t id[32], sig[KEY_SIG_LEN];
    size_t len;
    char *msg;
    int rc;

    key_id(room, id);
    hex_encode(id, sizeof(id), auth->room);
    msg = proto_request_string(rq, auth, &len);
    if (msg == NULL)
        return ER_NOMEM;
    rc = key_sign(room, msg, len, sig);
    free(msg);
    if (rc == 0)
        EVP_EncodeBlock((unsigned char *)auth->sig, sig, KEY_SIG_LEN);
    return rc;
}

static int decode_sig(const char *b64, uint8_t sig[KEY_SIG_LEN])
{
    uint8_t raw[KEY_SIG_LEN + 2];

    /* 64 bytes are 88 base64 characters ending in "==". */
    if (strlen(b64) != 88 || b64[86] != '=' || b64[87] != '=' ||
        EVP_DecodeBlock(raw, (const unsigned char *)b64, 88) != KEY_SIG_LEN + 2)
        return ER_BADSIG;
    memcpy(sig, raw, KEY_SIG_LEN);
    return 0;
}

int proto_verify_request(const struct key *room, const struct proto_request *rq,
                         const struct proto_auth *auth)
{
    uint8_t sig[KEY_SIG_LEN];
    size_t len;
    char *msg;
    int rc = decode_sig(auth->sig, sig);

    if (rc < 0)
        return rc;
    msg = proto_request_string(rq, auth, &len);
    if (msg == NULL)
        return ER_NOMEM;
    rc = key_verify(room, msg, len, sig);
    free(msg);
    return rc;
}

static char *body_string(const char *context, const void *body, size_t n, size_t *len)
{
    size_t c = strlen(context);
    char *s = malloc(c + 1 + n);

    if (s == NULL)
        return NULL;
    memcpy(s, context, c);
    s[c] = '\n';
    if (n > 0)
        memcpy(s + c + 1, body, n);
    *len = c + 1 + n;
    return s;
}

int proto_sign_body(const struct key *center, const char *context, const void *body, size_t n,
                    char sig_b64[89])
{
    uint8_t sig[KEY_SIG_LEN];
    size_t len;
    char *msg = body_string(context, body, n, &len);
    int rc;

    if (msg == NULL)
        return ER_NOMEM;
    rc = key_sign(center, msg, len, sig);
    free(msg);
    if (rc == 0)
        EVP_EncodeBlock((unsigned char *)sig_b64, sig, KEY_SIG_LEN);
    return rc;
}

int proto_verify_body(const struct key *center, const char *context, const void *body, size_t n,
                      const char *sig_b64)
{
    uint8_t sig[KEY_SIG_LEN];
    size_t len;
    char *msg;
    int rc = decode_sig(sig_b64, sig);

    if (rc < 0)
        return rc;
    msg = body_string(context, body, n, &len);
    if (msg == NULL)
        return ER_NOMEM;
    rc = key_verify(center, msg, len, sig);
    free(msg);
    return rc;
}
