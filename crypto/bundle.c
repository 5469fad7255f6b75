/* The USB bundle and its receipt: records a room carries to the center by
 * hand, and the center's signed answer carried back. The bundle is encrypted
 * to the center (only it can read the results) and signed by the room (only
 * that room can have made it); the receipt is signed by the center.
 *
 * Both files start with a fixed preamble that carries the lengths of what
 * follows and a check of itself, so a file cut short (a stick pulled before
 * the copy ended) is told apart from one with a changed byte: the first is
 * ER_USB_TRUNCATED, the second fails the preamble check or the signature. */
#define _GNU_SOURCE /* memmem */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint8_t bundle_magic[8] = {'E', 'X', 'R', 'M', 'U', 'S', 'B', 2};
static const uint8_t receipt_magic[8] = {'E', 'X', 'R', 'M', 'R', 'C', 'T', 1};
#define BUNDLE_CONTEXT    "EXAMROOM-BUNDLE-V2"
#define RECEIPT_CONTEXT   "EXAMROOM-USB-RECEIPT-V1"
#define BUNDLE_HEADER_MAX 4096
#define CHECK_LEN         8
/* magic | u32 h | u64 n | check: the bundle's preamble. */
#define BUNDLE_PRE (8 + 4 + 8 + CHECK_LEN)
/* magic | u32 n | check: the receipt's. */
#define RECEIPT_PRE (8 + 4 + CHECK_LEN)
/* Room before the file in memory for the signature's context line. */
#define CTX_ROOM 32

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
    return ok ? 0 : ER_USB_CORRUPT;
}

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
    uint64_t v = 0;

    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

/* The preamble's check: the first bytes of SHA-256 of what precedes it. */
static void pre_check(const uint8_t *pre, size_t n, uint8_t out[CHECK_LEN])
{
    uint8_t h[32];

    sha256(pre, n, h);
    memcpy(out, h, CHECK_LEN);
}

/* Writes data to path atomically and durably: a new temporary file in the
 * same directory, written and fsync'd, renamed over path, the directory
 * fsync'd. A crash or a pulled stick leaves the old file or the new one,
 * or a temporary file, never a part of path. */
int usb_write_file(const char *path, const uint8_t *data, size_t n)
{
    char tmp[4096];
    int fd, rc = 0;

    if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
        return ER_USAGE;
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return ER_IO;
    for (size_t done = 0; done < n && rc == 0;) {
        ssize_t w = write(fd, data + done, n - done);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = errno == ENOSPC ? ER_DISK_FULL : ER_IO;
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
    /* vfat refuses to fsync a directory: fs_sync_dir lets that pass. */
    if (rc == 0)
        rc = fs_sync_dir(path);
    return rc;
}

/* Reads the whole file (at most max bytes) into a buffer with CTX_ROOM
 * bytes free before it, for the signature's context line. */
static int load(const char *path, size_t max, uint8_t **buf, size_t *len)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint8_t *b;
    ssize_t got;

    if (fd < 0)
        return ER_IO;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ER_USB_NOT_BUNDLE;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return ER_PKG_TOO_LARGE;
    }
    b = malloc(CTX_ROOM + (size_t)st.st_size + 1);
    if (b == NULL) {
        close(fd);
        return ER_NOMEM;
    }
    got = pread(fd, b + CTX_ROOM, (size_t)st.st_size, 0);
    close(fd);
    if (got != st.st_size) {
        free(b);
        return ER_IO;
    }
    *buf = b;
    *len = (size_t)got;
    return 0;
}

/* The file starts with magic, or (shorter than it) is a start of it. */
static int magic_ok(const uint8_t *f, size_t len, const uint8_t magic[8], int not_ours)
{
    if (memcmp(f, magic, len < 8 ? len : 8) != 0 || len == 0)
        return not_ours;
    return len < 8 ? ER_USB_TRUNCATED : 0;
}

/* The bundle's framing: magic, the preamble's check, the lengths against
 * the file's. *hl and *n: the header's and the ciphertext's lengths. */
static int bundle_frame(const uint8_t *f, size_t len, size_t *hl, size_t *n)
{
    uint8_t check[CHECK_LEN];
    uint64_t h, c;
    int rc = magic_ok(f, len, bundle_magic, ER_USB_NOT_BUNDLE);

    if (rc < 0)
        return rc;
    if (len < BUNDLE_PRE)
        return ER_USB_TRUNCATED;
    pre_check(f, BUNDLE_PRE - CHECK_LEN, check);
    if (memcmp(check, f + BUNDLE_PRE - CHECK_LEN, CHECK_LEN) != 0)
        return ER_USB_CORRUPT;
    h = get_be(f + 8, 4);
    c = get_be(f + 12, 8);
    if (h > BUNDLE_HEADER_MAX || c > BUNDLE_MAX)
        return ER_USB_CORRUPT;
    if (len < BUNDLE_PRE + h + c + 16 + KEY_SIG_LEN)
        return ER_USB_TRUNCATED;
    if (len > BUNDLE_PRE + h + c + 16 + KEY_SIG_LEN)
        return ER_USB_CORRUPT;
    *hl = (size_t)h;
    *n = (size_t)c;
    return 0;
}

int bundle_write(const char *path, const struct key *room_sign, const struct key *center_bundle,
                 const char *plan, const char *room, int64_t created_at, const void *body,
                 size_t body_len)
{
    uint8_t room_id[32], center_id[32], center_pub[32], eph_pub[32], shared[32], key[32];
    char room_hex[65], center_hex[65], eph_b64[KEY_B64_LEN + 1], header[BUNDLE_HEADER_MAX];
    size_t ctx_len = sizeof(BUNDLE_CONTEXT), hl, total;
    struct key *eph = NULL;
    uint8_t *out = NULL, *file;
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
    total = BUNDLE_PRE + hl + body_len + 16 + KEY_SIG_LEN;
    out = malloc(ctx_len + total);
    if (out == NULL) {
        rc = ER_NOMEM;
        goto out;
    }
    /* The signature covers CONTEXT "\n" then the file up to the signature. */
    memcpy(out, BUNDLE_CONTEXT "\n", ctx_len);
    file = out + ctx_len;
    memcpy(file, bundle_magic, 8);
    put_be(file + 8, hl, 4);
    put_be(file + 12, body_len, 8);
    pre_check(file, BUNDLE_PRE - CHECK_LEN, file + BUNDLE_PRE - CHECK_LEN);
    memcpy(file + BUNDLE_PRE, header, hl);
    rc = pkg_x25519(eph, center_pub, shared);
    if (rc == 0)
        rc = bundle_key(shared, eph_pub, center_pub, key);
    if (rc == 0)
        rc = gcm(1, key, file, BUNDLE_PRE + hl, body, body_len, file + BUNDLE_PRE + hl,
                 file + BUNDLE_PRE + hl + body_len);
    if (rc == 0)
        rc = key_sign(room_sign, out, ctx_len + total - KEY_SIG_LEN, file + total - KEY_SIG_LEN);
    if (rc == 0)
        rc = usb_write_file(path, file, total);
out:
    OPENSSL_cleanse(shared, sizeof(shared));
    OPENSSL_cleanse(key, sizeof(key));
    key_free(eph);
    free(out);
    return rc;
}

/* A string field of a JSON object text we wrote ourselves (compact, no
 * escapes in these values); read before the signature only to choose the
 * message, or after it. */
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

static int load_bundle(const char *path, uint8_t **buf, size_t *len, size_t *hl, size_t *n)
{
    int rc = load(path, BUNDLE_MAX + BUNDLE_HEADER_MAX + 128, buf, len);

    if (rc == 0 && (rc = bundle_frame(*buf + CTX_ROOM, *len, hl, n)) < 0)
        free(*buf);
    return rc;
}

int bundle_peek(const char *path, char room_key_id[65])
{
    uint8_t *buf;
    size_t len, hl, n;
    int rc = load_bundle(path, &buf, &len, &hl, &n);

    if (rc < 0)
        return rc;
    if (header_field(buf + CTX_ROOM + BUNDLE_PRE, hl, "room_key", room_key_id, 65) < 0 ||
        strlen(room_key_id) != 64)
        rc = ER_USB_CORRUPT;
    free(buf);
    return rc;
}

int bundle_read(const char *path, const struct key *room_sign, const struct key *center_bundle,
                uint8_t **body, size_t *body_len, uint8_t hash[32])
{
    size_t ctx_len = sizeof(BUNDLE_CONTEXT), len, hl, n;
    uint8_t *buf, *file, eph[32], center_pub[32], center_id[32], shared[32], key[32];
    char eph_b64[64], center_hex[65], want_hex[65];
    uint8_t *eph_raw = NULL, *plain = NULL;
    size_t eph_len = 0;
    int rc = load_bundle(path, &buf, &len, &hl, &n);

    if (rc < 0)
        return rc;
    file = buf + CTX_ROOM;
    memcpy(file - ctx_len, BUNDLE_CONTEXT "\n", ctx_len);
    if (key_verify(room_sign, file - ctx_len, ctx_len + len - KEY_SIG_LEN,
                   file + len - KEY_SIG_LEN) != 0) {
        rc = ER_USB_CORRUPT;
        goto out;
    }
    key_id(center_bundle, center_id);
    hex_encode(center_id, 32, want_hex);
    if (header_field(file + BUNDLE_PRE, hl, "center_key", center_hex, sizeof(center_hex)) < 0 ||
        header_field(file + BUNDLE_PRE, hl, "eph_pub", eph_b64, sizeof(eph_b64)) < 0 ||
        base64_decode(eph_b64, &eph_raw, &eph_len) < 0 || eph_len != 32) {
        rc = ER_USB_CORRUPT;
        goto out;
    }
    if (strcmp(center_hex, want_hex) != 0) {
        rc = ER_USB_OTHER_CENTER;
        goto out;
    }
    memcpy(eph, eph_raw, 32);
    key_public_raw(center_bundle, center_pub);
    plain = malloc(n + 1);
    rc = plain == NULL ? ER_NOMEM : pkg_x25519(center_bundle, eph, shared);
    if (rc == 0)
        rc = bundle_key(shared, eph, center_pub, key);
    if (rc == 0)
        rc = gcm(0, key, file, BUNDLE_PRE + hl, file + BUNDLE_PRE + hl, n, plain,
                 file + BUNDLE_PRE + hl + n);
    if (rc == 0) {
        plain[n] = '\0';
        *body = plain;
        *body_len = n;
        plain = NULL;
        if (hash != NULL)
            sha256(file, len, hash);
    }
out:
    OPENSSL_cleanse(shared, sizeof(shared));
    OPENSSL_cleanse(key, sizeof(key));
    free(plain);
    free(eph_raw);
    free(buf);
    return rc;
}

/* ---- the receipt ---- */

int receipt_write(const char *path, const struct key *center_sign, const void *body, size_t n)
{
    size_t ctx_len = sizeof(RECEIPT_CONTEXT), total = RECEIPT_PRE + n + KEY_SIG_LEN;
    uint8_t *out, *file;
    int rc;

    if (n > RECEIPT_MAX)
        return ER_PKG_TOO_LARGE;
    out = malloc(ctx_len + total);
    if (out == NULL)
        return ER_NOMEM;
    memcpy(out, RECEIPT_CONTEXT "\n", ctx_len);
    file = out + ctx_len;
    memcpy(file, receipt_magic, 8);
    put_be(file + 8, n, 4);
    pre_check(file, RECEIPT_PRE - CHECK_LEN, file + RECEIPT_PRE - CHECK_LEN);
    memcpy(file + RECEIPT_PRE, body, n);
    rc = key_sign(center_sign, out, ctx_len + total - KEY_SIG_LEN, file + total - KEY_SIG_LEN);
    if (rc == 0)
        rc = usb_write_file(path, file, total);
    free(out);
    return rc;
}

/* file has CTX_ROOM writable bytes before it (the context line goes there). */
static int receipt_check(uint8_t *file, size_t len, const struct key *center, char **body,
                         size_t *body_len)
{
    size_t ctx_len = sizeof(RECEIPT_CONTEXT), n;
    uint8_t check[CHECK_LEN], id[32];
    char have[65], want[65];
    int rc = magic_ok(file, len, receipt_magic, ER_RECEIPT_NOT_RECEIPT);

    if (rc < 0)
        return rc == ER_USB_TRUNCATED ? ER_RECEIPT_TRUNCATED : rc;
    if (len < RECEIPT_PRE)
        return ER_RECEIPT_TRUNCATED;
    pre_check(file, RECEIPT_PRE - CHECK_LEN, check);
    if (memcmp(check, file + RECEIPT_PRE - CHECK_LEN, CHECK_LEN) != 0)
        return ER_RECEIPT_CORRUPT;
    n = (size_t)get_be(file + 8, 4);
    if (n > RECEIPT_MAX)
        return ER_RECEIPT_CORRUPT;
    if (len < RECEIPT_PRE + n + KEY_SIG_LEN)
        return ER_RECEIPT_TRUNCATED;
    if (len > RECEIPT_PRE + n + KEY_SIG_LEN)
        return ER_RECEIPT_CORRUPT;
    memcpy(file - ctx_len, RECEIPT_CONTEXT "\n", ctx_len);
    if (key_verify(center, file - ctx_len, ctx_len + len - KEY_SIG_LEN, file + len - KEY_SIG_LEN) !=
        0) {
        /* Which message: a receipt another center signed (it names its
         * key), or one that was changed. */
        key_id(center, id);
        hex_encode(id, 32, want);
        if (header_field(file + RECEIPT_PRE, n, "center_key", have, sizeof(have)) == 0 &&
            strlen(have) == 64 && strcmp(have, want) != 0)
            return ER_RECEIPT_OTHER_CENTER;
        return ER_RECEIPT_CORRUPT;
    }
    *body = malloc(n + 1);
    if (*body == NULL)
        return ER_NOMEM;
    memcpy(*body, file + RECEIPT_PRE, n);
    (*body)[n] = '\0';
    *body_len = n;
    return 0;
}

int receipt_parse(const uint8_t *file, size_t len, const struct key *center, char **body,
                  size_t *body_len)
{
    uint8_t *buf;
    int rc;

    if (len > RECEIPT_MAX + 128)
        return ER_PKG_TOO_LARGE;
    buf = malloc(CTX_ROOM + len + 1);
    if (buf == NULL)
        return ER_NOMEM;
    if (len > 0)
        memcpy(buf + CTX_ROOM, file, len);
    rc = receipt_check(buf + CTX_ROOM, len, center, body, body_len);
    free(buf);
    return rc;
}

int receipt_read(const char *path, const struct key *center, char **body, size_t *body_len,
                 uint8_t **file, size_t *file_len)
{
    uint8_t *buf;
    size_t len;
    int rc = load(path, RECEIPT_MAX + 128, &buf, &len);

    if (rc == ER_USB_NOT_BUNDLE)
        rc = ER_RECEIPT_NOT_RECEIPT;
    if (rc < 0)
        return rc;
    rc = receipt_check(buf + CTX_ROOM, len, center, body, body_len);
    if (rc == 0 && file != NULL) {
        memmove(buf, buf + CTX_ROOM, len);
        *file = buf;
        *file_len = len;
        buf = NULL;
    }
    free(buf);
    return rc;
}
