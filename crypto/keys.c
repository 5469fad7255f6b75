/* Key pairs: Ed25519 and X25519 through OpenSSL's EVP_PKEY, PEM on disk. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct key {
    enum key_type type;
    EVP_PKEY *pkey;
    int has_private;
};

static int evp_id(enum key_type type)
{
    return type == KEY_ED25519 ? EVP_PKEY_ED25519 : EVP_PKEY_X25519;
}

static int wrap(enum key_type type, EVP_PKEY *pkey, int has_private, struct key **out)
{
    struct key *k;

    if (pkey == NULL)
        return ER_CRYPTO;
    k = calloc(1, sizeof(*k));
    if (k == NULL) {
        EVP_PKEY_free(pkey);
        return ER_NOMEM;
    }
    k->type = type;
    k->pkey = pkey;
    k->has_private = has_private;
    *out = k;
    return 0;
}

int key_generate(enum key_type type, struct key **out)
{
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(evp_id(type), NULL);
    int ok = ctx != NULL && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &pkey) == 1;

    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        EVP_PKEY_free(pkey);
        return ER_CRYPTO;
    }
    return wrap(type, pkey, 1, out);
}

int key_from_raw_private(enum key_type type, const uint8_t raw[KEY_RAW_LEN], struct key **out)
{
    return wrap(type, EVP_PKEY_new_raw_private_key(evp_id(type), NULL, raw, KEY_RAW_LEN), 1, out);
}

int key_from_raw_public(enum key_type type, const uint8_t raw[KEY_RAW_LEN], struct key **out)
{
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(evp_id(type), NULL, raw, KEY_RAW_LEN);

    if (pkey == NULL)
        return ER_KEY_FORMAT;
    return wrap(type, pkey, 0, out);
}

void key_free(struct key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

enum key_type key_get_type(const struct key *k)
{
    return k->type;
}

int key_has_private(const struct key *k)
{
    return k->has_private;
}

EVP_PKEY *key_evp(const struct key *k)
{
    return k->pkey;
}

int key_save_private(const struct key *k, const char *path)
{
    char tmp[4096];
    FILE *f = NULL;
    int fd, rc = ER_KEY_FILE;

    if (!k->has_private)
        return ER_USAGE;
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return ER_USAGE;
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return ER_KEY_FILE;
    f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        goto out;
    }
    if (PEM_write_PrivateKey(f, k->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
        rc = ER_CRYPTO;
        goto out;
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        goto out;
    if (fclose(f) != 0) {
        f = NULL;
        goto out;
    }
    f = NULL;
    if (rename(tmp, path) != 0)
        goto out;
    /* Durable only once the directory is: else a power cut may undo it. */
    return fs_sync_dir(path) == 0 ? 0 : ER_KEY_FILE;
out:
    if (f != NULL)
        fclose(f);
    unlink(tmp);
    return rc;
}

int key_load_private(enum key_type type, const char *path, struct key **out)
{
    struct stat st;
    EVP_PKEY *pkey;
    FILE *f = fopen(path, "re");

    if (f == NULL)
        return ER_KEY_FILE;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        return ER_KEY_FILE;
    }
    if ((st.st_mode & 077) != 0) {
        fclose(f);
        return ER_KEY_PERMS;
    }
    pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (pkey == NULL)
        return ER_KEY_FORMAT;
    if (EVP_PKEY_get_id(pkey) != evp_id(type)) {
        EVP_PKEY_free(pkey);
        return ER_KEY_FORMAT;
    }
    return wrap(type, pkey, 1, out);
}

void key_public_raw(const struct key *k, uint8_t raw[KEY_RAW_LEN])
{
    size_t n = KEY_RAW_LEN;

    /* Cannot fail for the two key types this module makes. */
    if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &n) != 1 || n != KEY_RAW_LEN)
        memset(raw, 0, KEY_RAW_LEN);
}

void key_public_b64(const struct key *k, char out[KEY_B64_LEN + 1])
{
    uint8_t raw[KEY_RAW_LEN];

    key_public_raw(k, raw);
    EVP_EncodeBlock((unsigned char *)out, raw, KEY_RAW_LEN);
}

static int parse_b64(enum key_type type, const char *text, struct key **out)
{
    char clean[KEY_B64_LEN + 1];
    unsigned char raw[KEY_RAW_LEN + 3];
    size_t n = 0;

    for (const char *p = text; *p != '\0'; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            continue;
        if (n == KEY_B64_LEN)
            return ER_KEY_FORMAT;
        clean[n++] = *p;
    }
    clean[n] = '\0';
    /* 44 characters ending in one '=' decode to 33 bytes, the last a pad. */
    if (n != KEY_B64_LEN || clean[43] != '=' || clean[42] == '=' ||
        EVP_DecodeBlock(raw, (const unsigned char *)clean, KEY_B64_LEN) != KEY_RAW_LEN + 1)
        return ER_KEY_FORMAT;
    return key_from_raw_public(type, raw, out);
}

int key_parse_public(enum key_type type, const char *text, struct key **out)
{
    char buf[256];
    size_t n;
    FILE *f;

    if (parse_b64(type, text, out) == 0)
        return 0;
    f = fopen(text, "re");
    if (f == NULL)
        return ER_KEY_FORMAT;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return parse_b64(type, buf, out);
}

void key_id(const struct key *k, uint8_t id[32])
{
    uint8_t raw[KEY_RAW_LEN];

    key_public_raw(k, raw);
    EVP_Digest(raw, sizeof(raw), id, NULL, EVP_sha256(), NULL);
}

void key_fingerprint(const struct key *k, char out[KEY_FINGERPRINT_SIZE])
{
    uint8_t id[32];

    key_id(k, id);
    code_encode(id, 80, 4, out, KEY_FINGERPRINT_SIZE);
}

int key_sign(const struct key *k, const void *msg, size_t n, uint8_t sig[KEY_SIG_LEN])
{
    EVP_MD_CTX *ctx;
    size_t len = KEY_SIG_LEN;
    int ok;

    if (k->type != KEY_ED25519 || !k->has_private)
        return ER_USAGE;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return ER_NOMEM;
    ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
         EVP_DigestSign(ctx, sig, &len, msg, n) == 1 && len == KEY_SIG_LEN;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : ER_CRYPTO;
}

int key_verify(const struct key *k, const void *msg, size_t n, const uint8_t sig[KEY_SIG_LEN])
{
    EVP_MD_CTX *ctx;
    int ok;

    if (k->type != KEY_ED25519)
        return ER_USAGE;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return ER_NOMEM;
    ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
         EVP_DigestVerify(ctx, sig, KEY_SIG_LEN, msg, n) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : ER_BADSIG;
}

/* The sealing key: HKDF over the private key's raw bytes, per label. */
static int seal_key(const struct key *k, const char *label, uint8_t out[32])
{
    uint8_t raw[KEY_RAW_LEN];
    size_t n = sizeof(raw);
    int rc;

    if (!k->has_private || EVP_PKEY_get_raw_private_key(k->pkey, raw, &n) != 1 || n != KEY_RAW_LEN)
        return ER_USAGE;
    rc = kdf_hkdf(NULL, 0, raw, n, label, strlen(label), out, 32);
    OPENSSL_cleanse(raw, sizeof(raw));
    return rc;
}

int key_seal_secret(const struct key *k, const char *label, const uint8_t *in, size_t n,
                    uint8_t *out)
{
    uint8_t key[32];
    EVP_CIPHER_CTX *ctx;
    int len, ok, rc = seal_key(k, label, key);

    if (rc < 0)
        return rc;
    if (crypto_random(out, 12) < 0) {
        OPENSSL_cleanse(key, sizeof(key));
        return ER_RANDOM;
    }
    ctx = EVP_CIPHER_CTX_new();
    ok = ctx != NULL && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, out) == 1 &&
         EVP_EncryptUpdate(ctx, out + 12, &len, in, (int)n) == 1 &&
         EVP_EncryptFinal_ex(ctx, out + 12 + n, &len) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out + 12 + n) == 1;
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(key, sizeof(key));
    return ok ? 0 : ER_CRYPTO;
}

int key_open_secret(const struct key *k, const char *label, const uint8_t *in, size_t in_len,
                    uint8_t *out)
{
    uint8_t key[32];
    EVP_CIPHER_CTX *ctx;
    size_t n;
    int len, ok, rc;

    if (in_len < KEY_SEALED_LEN(0))
        return ER_PKG_CORRUPT;
    rc = seal_key(k, label, key);
    if (rc < 0)
        return rc;
    n = in_len - KEY_SEALED_LEN(0);
    ctx = EVP_CIPHER_CTX_new();
    ok = ctx != NULL && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, in) == 1 &&
         EVP_DecryptUpdate(ctx, out, &len, in + 12, (int)n) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, (void *)(in + 12 + n)) == 1 &&
         EVP_DecryptFinal_ex(ctx, out + n, &len) == 1;
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(key, sizeof(key));
    if (!ok)
        OPENSSL_cleanse(out, n);
    return ok ? 0 : ER_PKG_CORRUPT;
}
