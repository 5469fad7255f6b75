/* The proctor password, kept as scrypt: "scrypt$LOGN$R$P$SALT$HASH" (base64),
 * one line. Verification compares in constant time. */
#include "crypto.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int crypto_random(uint8_t *buf, size_t n)
{
    return RAND_bytes(buf, (int)n) == 1 ? 0 : ER_RANDOM;
}

int password_hash(const char *password, char *out, size_t outsz)
{
    uint8_t salt[16], hash[32];
    char *salt_b64, *hash_b64;
    int rc = crypto_random(salt, sizeof(salt));

    if (rc == 0)
        rc = kdf_scrypt((const uint8_t *)password, strlen(password), salt, sizeof(salt),
                        PASSWORD_LOG2_N, 8, 1, hash);
    if (rc < 0)
        return rc;
    salt_b64 = base64_encode(salt, sizeof(salt));
    hash_b64 = base64_encode(hash, sizeof(hash));
    if (salt_b64 == NULL || hash_b64 == NULL)
        rc = ER_NOMEM;
    else if (snprintf(out, outsz, "scrypt$%d$8$1$%s$%s", PASSWORD_LOG2_N, salt_b64, hash_b64) >=
             (int)outsz)
        rc = ER_USAGE;
    free(salt_b64);
    free(hash_b64);
    OPENSSL_cleanse(hash, sizeof(hash));
    return rc;
}

int password_verify(const char *stored, const char *password)
{
    char salt_b64[64], hash_b64[64];
    unsigned log2_n, r, p;
    uint8_t *salt = NULL, *want = NULL, got[32];
    size_t salt_len = 0, want_len = 0;
    int rc = ER_KEY_FORMAT;

    if (sscanf(stored, "scrypt$%u$%u$%u$%63[^$]$%63s", &log2_n, &r, &p, salt_b64, hash_b64) != 5 ||
        log2_n < 10 || log2_n > 20 || r < 1 || r > 32 || p < 1 || p > 16)
        return rc;
    if (base64_decode(salt_b64, &salt, &salt_len) == 0 &&
        base64_decode(hash_b64, &want, &want_len) == 0 && want_len == sizeof(got)) {
        rc = kdf_scrypt((const uint8_t *)password, strlen(password), salt, salt_len, log2_n, r, p,
                        got);
        if (rc == 0)
            rc = CRYPTO_memcmp(got, want, sizeof(got)) == 0 ? 0 : ER_BADSIG;
    }
    free(salt);
    free(want);
    OPENSSL_cleanse(got, sizeof(got));
    return rc;
}

int password_normalize(const char *typed, char *out, size_t outsz)
{
    char folded[256];
    uint8_t raw[CODE_BYTES(50)];
    size_t n;
    const char *p;

    if (text_fold_fullwidth(typed, folded, sizeof(folded)) < 0)
        return ER_USAGE;
    n = strlen(folded);
    while (n > 0 && (folded[n - 1] == ' ' || folded[n - 1] == '\t'))
        folded[--n] = '\0';
    p = folded + strspn(folded, " \t");
    if (code_decode(p, 50, raw) == 0)
        return code_encode(raw, 50, 5, out, outsz) < 0 ? ER_USAGE : 0;
    if (strlen(p) >= outsz)
        return ER_USAGE;
    memcpy(out, p, strlen(p) + 1);
    return 0;
}
