/* Candidate tokens and the keys the store finds them by (crypto.h). */
#include "crypto.h"

#include <openssl/crypto.h>
#include <string.h>
#include <time.h>

#define ISSUED_BYTES 8 /* of a token, and of its key */

int crypto_token_issue(char out[CRYPTO_TOKEN_HEX + 1])
{
    uint8_t raw[CRYPTO_TOKEN_HEX / 2];
    struct timespec ts;
    uint64_t ms;
    int rc;

    /* The wall clock, not the exam clock: the keys need only sort about
     * in order, and nothing reads a time back from them. */
    clock_gettime(CLOCK_REALTIME, &ts);
    ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    for (int i = ISSUED_BYTES - 1; i >= 0; i--, ms >>= 8)
        raw[i] = (uint8_t)ms;
    rc = crypto_random(raw + ISSUED_BYTES, sizeof(raw) - ISSUED_BYTES);
    if (rc == 0)
        hex_encode(raw, sizeof(raw), out);
    OPENSSL_cleanse(raw, sizeof(raw));
    return rc;
}

void crypto_token_key(const char *token, uint8_t key[32])
{
    uint8_t issued[ISSUED_BYTES], digest[32];
    int hex = 1;

    for (size_t i = 0; i < ISSUED_BYTES && hex; i++) {
        int hi = hex_digit(token[2 * i]), lo = hi < 0 ? -1 : hex_digit(token[2 * i + 1]);

        hex = hi >= 0 && lo >= 0;
        if (hex)
            issued[i] = (uint8_t)(hi << 4 | lo);
    }
    sha256(token, strlen(token), digest);
    if (hex) {
        memcpy(key, issued, ISSUED_BYTES);
        memcpy(key + ISSUED_BYTES, digest, 32 - ISSUED_BYTES);
    } else {
        memcpy(key, digest, 32);
    }
    OPENSSL_cleanse(digest, sizeof(digest));
}
