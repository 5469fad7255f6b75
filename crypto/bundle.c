/* The USB bundle: records a room carries to the center by hand. Encrypted to
 * the center (only it can read the results), signed by the room (only that
 * room can have made it). */
#define _GNU_SOURCE /* memmem */
#include "internal.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint8_t bundle_magic[8] = {'E', 'X', 'R', 'M', 'U', 'S', 'B', 1};
#define BUNDLE_CONTEXT    "EXAMROOM-BUNDLE-V1"
#define BUNDLE_HEADER_MAX 4096

static int bundle_key(const uint8_t shared[32], const uint8_t eph[32], const uint8_t center[32],
                      uint8_t out[32])
{
    uint8_t salt[64];

    memcpy(salt, eph, 32);
    memcpy(salt + 32, center, 32);
    return kdf_hkdf(salt, sizeof(salt), shared, 32, "examroom/v1/bundle", 18, out, 32);
}

/* AES-256-GCM with a zero nonce: each key encrypts one bundle only. */
static int gcm(int enc, const uint8_t key[32], const uint8_t *aad, size_t aad_len,
               const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[16])
{
    static const uint8_t iv[12];
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len, ok;

    ok = ctx != NULL && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv, enc) == 1 &&
         EVP_CipherUpdate(ctx, NULL, &len, aad, (int)aad_len) == 1 &&
         (n == 0 || EVP_CipherUpdate(ctx, out, &len, in, (int)n) == 1);
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1;
    ok = ok && EVP_CipherFinal_ex(ctx, out + n, &len) == 1;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : ER_PKG_CORRUPT;
}

static int write_file(const char *path, const uint8_t *data, size_t n)
{
    char tmp[4096];
    int fd, rc = 0;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return ER_USAGE;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return ER_IO;
    for (size_t done = 0; done < n && rc == 0;) {
        ssize_t w = write(fd, data + done, n - done);

        if (w <= 0)
            rc = ER_IO;
        else
            done += (size_t)w;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = ER_IO;
    if (close(fd) != 0 && rc == 0)
        rc = ER_IO;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = ER_IO;
    if (rc < 0)
        unlink(tmp);
    return rc;
}

int bundle_write(const char *path, const struct key *room_sign, const struct key *center_bundle,
                 const char *plan, const char *room, int64_t created_at, const void *body,
                 size_t body_len)
{
    uint8_t room_id[32], center_id[32], center_pub[32], eph_pub[32], shared[32], key[32];
    char room_hex[65], center_hex[65], eph_b64[KEY_B64_LEN + 1], header[BUNDLE_HEADER_MAX];
    size_t ctx_len = sizeof(BUNDLE_CONTEXT), hl, total;
    struct key *eph = NULL;
    uint8_t *out = NULL;
    int rc, n;

    if (body_len > BUNDLE_MAX)
        return ER_PKG_TOO_LARGE;
    key_id(room_sign, room_id);
    key_id(center_bundle, center_id);
    hex_encode(room_id, 32, room_hex);
    hex_encode(center_id, 32, center_hex);
    key_public_raw(center_bundle, center_pub);
    rc = key_generate(KEY_X25519, &eph);
    if (rc < 0)
        return rc;
    key_public_raw(eph, eph_pub);
    key_public_b64(eph, eph_b64);
    /* Names are the center's own ids, checked by the center: they need no
     * JSON escaping beyond refusing quotes and backslashes. */
    if (strpbrk(plan, "\"\\") || strpbrk(room, "\"\\")) {
        rc = ER_USAGE;
        goto out;
    }
    n = snprintf(header, sizeof(header),
                 "{\"center_key\":\"%s\",\"created_at\":%lld,\"eph_pub\":\"%s\",\"plan\":\"%s\","
                 "\"room\":\"%s\",\"room_key\":\"%s\"}",
                 center_hex, (long long)created_at, eph_b64, plan, room, room_hex);
    if (n < 0 || (size_t)n >= sizeof(header)) {
        rc = ER_USAGE;
        goto out;
    }
    hl = (size_t)n;
    total = 12 + hl + body_len + 16 + KEY_SIG_LEN;
    out = malloc(ctx_len + total);
    if (out == NULL) {
        rc = ER_NOMEM;
        goto out;
    }
    /* The signature covers CONTEXT "\n" then the file up to the signature. */
    memcpy(out, BUNDLE_CONTEXT "\n", ctx_len);
    memcpy(out + ctx_len, bundle_magic, 8);
    for (int i = 0; i < 4; i++)
        out[ctx_len + 8 + i] = (uint8_t)(hl >> (8 * (3 - i)));
    memcpy(out + ctx_len + 12, header, hl);
    rc = pkg_x25519(eph, center_pub, shared);
    if (rc == 0)
        rc = bundle_key(shared, eph_pub, center_pub, key);
    if (rc == 0)
        rc = gcm(1, key, out + ctx_len, 12 + hl, body, body_len, out + ctx_len + 12 + hl,
                 out + ctx_len + 12 + hl + body_len);
    if (rc == 0)
        rc = key_sign(room_sign, out, ctx_len + total - KEY_SIG_LEN, out + ctx_len + total - 64);
    if (rc == 0)
        rc = write_file(path, out + ctx_len, total);
out:
    OPENSSL_cleanse(shared, sizeof(shared));
    OPENSSL_cleanse(key, sizeof(key));
    key_free(eph);
    free(out);
    return rc;
}

/* Reads the whole bundle (bounded), with room for the signature context
 * before it. */
static int load(const char *path, uint8_t **buf, size_t *len, size_t *hl)
{
    size_t ctx_len = sizeof(BUNDLE_CONTEXT);
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
    uint8_t *b;
    ssize_t got;

    if (fd < 0)
        return ER_IO;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ER_PKG_NOT_PACKAGE;
    }
    if ((uint64_t)st.st_size > BUNDLE_MAX + BUNDLE_HEADER_MAX + 128) {
        close(fd);
        return ER_PKG_TOO_LARGE;
    }
    b = malloc(ctx_len + (size_t)st.st_size + 1);
    if (b == NULL) {
        close(fd);
        return ER_NOMEM;
    }
    got = pread(fd, b + ctx_len, (size_t)st.st_size, 0);
    close(fd);
    if (got != st.st_size)
        rc = ER_IO;
    else if ((size_t)got < 12 || memcmp(b + ctx_len, bundle_magic, 8) != 0)
        rc = ER_PKG_NOT_PACKAGE;
    if (rc == 0) {
        const uint8_t *p = b + ctx_len + 8;

        *hl = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        if (*hl > BUNDLE_HEADER_MAX)
            rc = ER_PKG_CORRUPT;
        else if ((size_t)got < 12 + *hl + 16 + KEY_SIG_LEN)
            rc = ER_PKG_TRUNCATED;
    }
    if (rc < 0) {
        free(b);
        return rc;
    }
    memcpy(b, BUNDLE_CONTEXT "\n", ctx_len);
    *buf = b;
    *len = (size_t)got;
    return 0;
}

/* A string field of the header JSON: header is our own compact form, and
 * only read after the signature for anything that matters. */
static int header_field(const uint8_t *h, size_t hl, const char *name, char *out, size_t outsz)
{
    char key[48];
    const char *p, *end;
    size_t n;

    snprintf(key, sizeof(key), "\"%s\":\"", name);
    p = memmem(h, hl, key, strlen(key));
    if (p == NULL)
        return -1;
    p += strlen(key);
    end = memchr(p, '"', hl - (size_t)(p - (const char *)h));
    if (end == NULL || (n = (size_t)(end - p)) >= outsz)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

int bundle_peek(const char *path, char room_key_id[65])
{
    uint8_t *buf;
    size_t len, hl;
    int rc = load(path, &buf, &len, &hl);

    if (rc < 0)
        return rc;
    if (header_field(buf + sizeof(BUNDLE_CONTEXT) + 12, hl, "room_key", room_key_id, 65) < 0 ||
        strlen(room_key_id) != 64)
        rc = ER_PKG_CORRUPT;
    free(buf);
    return rc;
}

int bundle_read(const char *path, const struct key *room_sign, const struct key *center_bundle,
                uint8_t **body, size_t *body_len)
{
    size_t ctx_len = sizeof(BUNDLE_CONTEXT), len, hl, n;
    uint8_t *buf, *file, eph[32], center_pub[32], center_id[32], shared[32], key[32];
    char eph_b64[64], center_hex[65], want_hex[65];
    uint8_t *eph_raw = NULL, *plain = NULL;
    size_t eph_len = 0;
    int rc = load(path, &buf, &len, &hl);

    if (rc < 0)
        return rc;
    file = buf + ctx_len;
    if (key_verify(room_sign, buf, ctx_len + len - KEY_SIG_LEN, file + len - KEY_SIG_LEN) != 0) {
        rc = ER_BADSIG;
        goto out;
    }
    key_id(center_bundle, center_id);
    hex_encode(center_id, 32, want_hex);
    if (header_field(file + 12, hl, "center_key", center_hex, sizeof(center_hex)) < 0 ||
        header_field(file + 12, hl, "eph_pub", eph_b64, sizeof(eph_b64)) < 0 ||
        base64_decode(eph_b64, &eph_raw, &eph_len) < 0 || eph_len != 32) {
        rc = ER_PKG_CORRUPT;
        goto out;
    }
    if (strcmp(center_hex, want_hex) != 0) {
        rc = ER_PKG_OTHER_ROOM;
        goto out;
    }
    memcpy(eph, eph_raw, 32);
    key_public_raw(center_bundle, center_pub);
    n = len - 12 - hl - 16 - KEY_SIG_LEN;
    plain = malloc(n + 1);
    rc = plain == NULL ? ER_NOMEM : pkg_x25519(center_bundle, eph, shared);
    if (rc == 0)
        rc = bundle_key(shared, eph, center_pub, key);
    if (rc == 0)
        rc = gcm(0, key, file, 12 + hl, file + 12 + hl, n, plain, file + 12 + hl + n);
    if (rc == 0) {
        plain[n] = '\0';
        *body = plain;
        *body_len = n;
        plain = NULL;
    }
out:
    OPENSSL_cleanse(shared, sizeof(shared));
    OPENSSL_cleanse(key, sizeof(key));
    free(plain);
    free(eph_raw);
    free(buf);
    return rc;
}
