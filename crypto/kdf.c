/* HKDF-SHA-256 and scrypt through OpenSSL 3's EVP_KDF. */
#include "crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

int kdf_hkdf(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
             const void *info, size_t info_len, uint8_t *out, size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[5], *p = params;
    int ok;

    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
    if (salt_len > 0)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    *p = OSSL_PARAM_construct_end();
    ok = ctx != NULL && EVP_KDF_derive(ctx, out, out_len, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return ok ? 0 : ER_CRYPTO;
}

int kdf_scrypt(const uint8_t *pw, size_t pw_len, const uint8_t *salt, size_t salt_len,
               unsigned log2_n, uint32_t r, uint32_t p, uint8_t out[32])
{
    /* scrypt needs 128·N·r bytes (plus 128·r·p); allow what the parameters
     * ask for, which callers bound. */
    uint64_t maxmem = ((uint64_t)128 << log2_n) * r + (uint64_t)128 * r * p + (1u << 20);

    if (log2_n < 1 || log2_n > 30 || r == 0 || p == 0)
        return ER_USAGE;
    if (EVP_PBE_scrypt((const char *)pw, pw_len, salt, salt_len, (uint64_t)1 << log2_n, r, p,
                       maxmem, out, 32) != 1)
        return ER_CRYPTO;
    return 0;
}
