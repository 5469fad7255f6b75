/* The package format: header encoding, section sizes, the key schedule and
 * the small primitives the writer and the reader share. */
#include "internal.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

const uint8_t pkg_magic[PKG_MAGIC_LEN] = {'E', 'X', 'R', 'M', 'P', 'K', 'G', PKG_FORMAT};

/* ---- sizes ---- */

uint64_t pkg_chunks(uint64_t plain_len)
{
    if (plain_len > ((uint64_t)1 << 48)) /* 256 TiB: refuse rather than overflow */
        return 0;
    return plain_len == 0 ? 1 : (plain_len + PKG_CHUNK - 1) / PKG_CHUNK;
}

uint64_t pkg_stored_len(uint64_t plain_len)
{
    uint64_t n = pkg_chunks(plain_len);

    if (n == 0)
        return 0;
    return plain_len + n * PKG_TAG_LEN + (n - 1) * PKG_LINK_LEN;
}

/* ---- header encoding: big-endian integers, strings as u16 length + bytes ---- */

/* Writes go into one buffer capped at PKG_HEADER_MAX; the first failure
 * sticks, so the encoder checks once at the end. */
struct wbuf {
    struct dynbuf d;
    int failed; /* 0, or the first add's error */
};

static void put(struct wbuf *b, const void *data, size_t n)
{
    if (b->failed == 0)
        b->failed = dynbuf_add(&b->d, data, n);
}

static void put_u(struct wbuf *b, uint64_t v, int bytes)
{
    uint8_t tmp[8];

    for (int i = 0; i < bytes; i++)
        tmp[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    put(b, tmp, (size_t)bytes);
}

static void put_str(struct wbuf *b, const char *s)
{
    size_t n = strlen(s);

    put_u(b, n, 2);
    put(b, s, n);
}

int pkg_header_encode(const struct pkg_header *h, uint8_t **out, size_t *len)
{
    struct wbuf b = {.failed = 0};
    const struct pkg_info *in = &h->info;

    dynbuf_init(&b.d, PKG_HEADER_MAX);
    put_str(&b, in->plan_id);
    put_str(&b, in->room_id);
    put_u(&b, in->version, 8);
    put_u(&b, (uint64_t)in->created_at, 8);
    put_u(&b, (uint64_t)in->expires_at, 8);
    put(&b, h->center_key_id, 32);
    put(&b, h->room_key_id, 32);
    put(&b, h->eph_pub, KEY_RAW_LEN);
    put(&b, h->wrapped, PKG_WRAPPED_LEN);
    put_u(&b, h->log2_n, 1);
    put_u(&b, h->scrypt_r, 4);
    put_u(&b, h->scrypt_p, 4);
    put_u(&b, h->chunk_size, 4);
    put_u(&b, h->body_len, 8);
    put_u(&b, in->n_sessions, 2);
    for (size_t i = 0; i < in->n_sessions; i++) {
        put_str(&b, h->sessions[i].id);
        put_u(&b, (uint64_t)h->sessions[i].starts_at, 8);
        put_u(&b, (uint64_t)h->sessions[i].ends_at, 8);
        put(&b, h->session_keys[i].salt, PKG_SALT_LEN);
        put(&b, h->session_keys[i].commit, 32);
    }
    put_u(&b, in->n_sections, 2);
    for (size_t i = 0; i < in->n_sections; i++) {
        put_str(&b, h->sections[i].name);
        put_u(&b, h->sections[i].session < 0 ? PKG_NO_SESSION : (uint64_t)h->sections[i].session,
              2);
        put_u(&b, h->sections[i].size, 8);
        put(&b, h->layout[i].head, PKG_LINK_LEN);
    }
    if (b.failed != 0) {
        dynbuf_free(&b.d);
        return b.failed == ER_TOO_LARGE ? ER_PKG_TOO_LARGE : b.failed;
    }
    *out = (uint8_t *)b.d.buf;
    *len = b.d.len;
    return 0;
}

struct rbuf {
    const uint8_t *p;
    size_t len, pos;
    int failed;
};

static void get(struct rbuf *b, void *out, size_t n)
{
    if (b->failed || b->len - b->pos < n) {
        b->failed = 1;
        memset(out, 0, n);
        return;
    }
    memcpy(out, b->p + b->pos, n);
    b->pos += n;
}

static uint64_t get_u(struct rbuf *b, int bytes)
{
    uint8_t tmp[8];
    uint64_t v = 0;

    get(b, tmp, (size_t)bytes);
    for (int i = 0; i < bytes; i++)
        v = (v << 8) | tmp[i];
    return v;
}

/* A name: 1..PKG_MAX_NAME bytes, no control characters (which also keeps
 * NUL out, so the C string is the whole name). */
static void get_str(struct rbuf *b, char out[PKG_MAX_NAME + 1])
{
    size_t n = (size_t)get_u(b, 2);

    out[0] = '\0';
    if (n == 0 || n > PKG_MAX_NAME) {
        b->failed = 1;
        return;
    }
    get(b, out, n);
    out[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
            b->failed = 1;
}

/* Calloc of at least one element, so that an empty table is not NULL. */
static void *table(size_t n, size_t size)
{
    return calloc(n ? n : 1, size);
}

/* The scrypt parameters a reader accepts: enough to be slow for an attacker,
 * bounded so a signed-but-wrong header cannot ask for gigabytes. */
static int scrypt_params_ok(const struct pkg_header *h)
{
    return h->log2_n >= 10 && h->log2_n <= 20 && h->scrypt_r >= 1 && h->scrypt_r <= 32 &&
           h->scrypt_p >= 1 && h->scrypt_p <= 16 &&
           ((uint64_t)128 << h->log2_n) * h->scrypt_r <= ((uint64_t)256 << 20);
}

static int sections_ok(struct pkg_header *h)
{
    uint64_t offset = 0;

    for (size_t i = 0; i < h->info.n_sections; i++) {
        struct pkg_section_layout *l = &h->layout[i];
        int s = h->sections[i].session;

        if (s >= (int)h->info.n_sessions)
            return 0;
        for (size_t j = 0; j < i; j++)
            if (strcmp(h->sections[i].name, h->sections[j].name) == 0)
                return 0;
        l->chunks = pkg_chunks(h->sections[i].size);
        l->stored = pkg_stored_len(h->sections[i].size);
        if (l->chunks == 0 || l->stored > UINT64_MAX - offset)
            return 0;
        l->offset = offset;
        offset += l->stored;
    }
    return offset == h->body_len;
}

int pkg_header_parse(const uint8_t *buf, size_t len, struct pkg_header *h)
{
    struct rbuf b = {.p = buf, .len = len};
    struct pkg_info *in = &h->info;
    size_t n_sessions, n_sections;

    memset(h, 0, sizeof(*h));
    get_str(&b, in->plan_id);
    get_str(&b, in->room_id);
    in->version = get_u(&b, 8);
    in->created_at = (int64_t)get_u(&b, 8);
    in->expires_at = (int64_t)get_u(&b, 8);
    get(&b, h->center_key_id, 32);
    get(&b, h->room_key_id, 32);
    get(&b, h->eph_pub, KEY_RAW_LEN);
    get(&b, h->wrapped, PKG_WRAPPED_LEN);
    h->log2_n = (uint8_t)get_u(&b, 1);
    h->scrypt_r = (uint32_t)get_u(&b, 4);
    h->scrypt_p = (uint32_t)get_u(&b, 4);
    h->chunk_size = (uint32_t)get_u(&b, 4);
    /* Sizes below are computed with this chunk size: refuse another as a
     * format this reader does not know, before anything is derived from it. */
    if (!b.failed && h->chunk_size != PKG_CHUNK)
        return ER_PKG_FORMAT_VERSION;
    h->body_len = get_u(&b, 8);
    n_sessions = (size_t)get_u(&b, 2);
    if (b.failed || n_sessions > PKG_MAX_SESSIONS || !scrypt_params_ok(h))
        return ER_PKG_CORRUPT;
    /* A session takes at least 67 bytes, a section 45: counts the buffer
     * cannot hold are refused before anything is allocated for them. */
    if (n_sessions * 67 > b.len - b.pos)
        return ER_PKG_CORRUPT;
    h->sessions = table(n_sessions, sizeof(*h->sessions));
    h->session_keys = table(n_sessions, sizeof(*h->session_keys));
    if (h->sessions == NULL || h->session_keys == NULL)
        return ER_NOMEM;
    in->sessions = h->sessions;
    in->n_sessions = n_sessions;
    for (size_t i = 0; i < n_sessions; i++) {
        get_str(&b, h->sessions[i].id);
        h->sessions[i].starts_at = (int64_t)get_u(&b, 8);
        h->sessions[i].ends_at = (int64_t)get_u(&b, 8);
        get(&b, h->session_keys[i].salt, PKG_SALT_LEN);
        get(&b, h->session_keys[i].commit, 32);
        for (size_t j = 0; j < i && !b.failed; j++)
            if (strcmp(h->sessions[i].id, h->sessions[j].id) == 0)
                b.failed = 1;
    }
    n_sections = (size_t)get_u(&b, 2);
    if (b.failed || n_sections > PKG_MAX_SECTIONS || n_sections * 45 > b.len - b.pos)
        return ER_PKG_CORRUPT;
    h->sections = table(n_sections, sizeof(*h->sections));
    h->layout = table(n_sections, sizeof(*h->layout));
    if (h->sections == NULL || h->layout == NULL)
        return ER_NOMEM;
    in->sections = h->sections;
    in->n_sections = n_sections;
    for (size_t i = 0; i < n_sections && !b.failed; i++) {
        unsigned s;

        get_str(&b, h->sections[i].name);
        s = (unsigned)get_u(&b, 2);
        h->sections[i].session = s == PKG_NO_SESSION ? -1 : (int)s;
        h->sections[i].size = get_u(&b, 8);
        get(&b, h->layout[i].head, PKG_LINK_LEN);
    }
    if (b.failed || b.pos != b.len || !sections_ok(h))
        return ER_PKG_CORRUPT;
    return 0;
}

void pkg_header_clear(struct pkg_header *h)
{
    free(h->sessions);
    free(h->session_keys);
    free(h->sections);
    free(h->layout);
    OPENSSL_cleanse(h, sizeof(*h));
}

/* ---- the key schedule ---- */

/* info = label || 0x00 || extra, so no label is a prefix of another's input. */
static int derive(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                  const char *label, const void *extra, size_t extra_len, uint8_t out[32])
{
    uint8_t info[64 + 2 + PKG_MAX_NAME];
    size_t n = strlen(label);

    if (n + 1 + extra_len > sizeof(info))
        return ER_USAGE;
    memcpy(info, label, n);
    info[n++] = 0;
    if (extra_len > 0)
        memcpy(info + n, extra, extra_len);
    return kdf_hkdf(salt, salt_len, ikm, ikm_len, info, n + extra_len, out, 32);
}

int pkg_wrap_key(const uint8_t shared[32], const uint8_t eph_pub[32], const uint8_t room_pub[32],
                 uint8_t out[32])
{
    uint8_t salt[64];

    memcpy(salt, eph_pub, 32);
    memcpy(salt + 32, room_pub, 32);
    return derive(salt, sizeof(salt), shared, 32, "examroom/v1/wrap", NULL, 0, out);
}

int pkg_session_key(const uint8_t secret[32], const uint8_t code_key[32], const char *session_id,
                    uint8_t out[32])
{
    return derive(code_key, 32, secret, 32, "examroom/v1/session", session_id, strlen(session_id),
                  out);
}

int pkg_commit(const uint8_t session_key[32], uint8_t out[32])
{
    return derive(NULL, 0, session_key, 32, "examroom/v1/commit", NULL, 0, out);
}

int pkg_section_key(const uint8_t root[32], unsigned index, const char *name, uint8_t out[32])
{
    uint8_t extra[2 + PKG_MAX_NAME];
    size_t n = strlen(name);

    if (n > PKG_MAX_NAME)
        return ER_USAGE;
    extra[0] = (uint8_t)(index >> 8);
    extra[1] = (uint8_t)index;
    memcpy(extra + 2, name, n);
    return derive(NULL, 0, root, 32, "examroom/v1/section", extra, 2 + n, out);
}

int pkg_code_key(const struct pkg_header *h, unsigned session, const uint8_t *unlock_code,
                 uint8_t out[32])
{
    return kdf_scrypt(unlock_code, CODE_BYTES(CODE_UNLOCK_BITS), h->session_keys[session].salt,
                      PKG_SALT_LEN, h->log2_n, h->scrypt_r, h->scrypt_p, out);
}

/* ---- primitives ---- */

void pkg_nonce(uint64_t counter, int last, uint8_t iv[12])
{
    iv[0] = iv[1] = iv[2] = 0;
    for (int i = 0; i < 8; i++)
        iv[3 + i] = (uint8_t)(counter >> (8 * (7 - i)));
    iv[11] = last ? 1 : 0;
}

void pkg_link(const uint8_t *chunk, size_t n, const uint8_t next[PKG_LINK_LEN],
              uint8_t out[PKG_LINK_LEN])
{
    uint8_t both[64];

    EVP_Digest(chunk, n, both, NULL, EVP_sha256(), NULL);
    memcpy(both + 32, next, PKG_LINK_LEN);
    EVP_Digest(both, sizeof(both), out, NULL, EVP_sha256(), NULL);
}

int pkg_x25519(const struct key *priv, const uint8_t peer[KEY_RAW_LEN], uint8_t shared[32])
{
    EVP_PKEY *peer_key = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, KEY_RAW_LEN);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key_evp(priv), NULL);
    size_t n = 32;
    int ok = peer_key != NULL && ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 &&
             EVP_PKEY_derive_set_peer(ctx, peer_key) == 1 &&
             EVP_PKEY_derive(ctx, shared, &n) == 1 && n == 32;

    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer_key);
    return ok ? 0 : ER_CRYPTO;
}

static const uint8_t wrap_aad[] = "examroom/v1/wrapped-secret";

int pkg_seal_secret(const uint8_t key[32], const uint8_t secret[32], uint8_t out[PKG_WRAPPED_LEN])
{
    static const uint8_t iv[12];
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n, ok;

    ok = ctx != NULL && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv) == 1 &&
         EVP_EncryptUpdate(ctx, NULL, &n, wrap_aad, sizeof(wrap_aad) - 1) == 1 &&
         EVP_EncryptUpdate(ctx, out, &n, secret, 32) == 1 && n == 32 &&
         EVP_EncryptFinal_ex(ctx, out + 32, &n) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, PKG_TAG_LEN, out + 32) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : ER_CRYPTO;
}

int pkg_open_secret(const uint8_t key[32], const uint8_t in[PKG_WRAPPED_LEN], uint8_t secret[32])
{
    static const uint8_t iv[12];
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    uint8_t tmp[32];
    int n, ok;

    ok = ctx != NULL && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv) == 1 &&
         EVP_DecryptUpdate(ctx, NULL, &n, wrap_aad, sizeof(wrap_aad) - 1) == 1 &&
         EVP_DecryptUpdate(ctx, tmp, &n, in, 32) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, PKG_TAG_LEN, (void *)(in + 32)) == 1 &&
         EVP_DecryptFinal_ex(ctx, tmp + n, &n) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (ok)
        memcpy(secret, tmp, 32);
    OPENSSL_cleanse(tmp, sizeof(tmp));
    return ok ? 0 : ER_PKG_CORRUPT;
}
