/* Fuzzes the typed-code reader: any text is refused with a code error or read
 * into bits that encode back to a text that reads the same. And the key of a
 * bearer token (any text): its time and SHA-256 when it begins with 16 hex
 * digits, else its plain SHA-256. */
#include "fuzz.h"

#include "crypto.h"

#include <string.h>

static void one_kind(const char *text, unsigned nbits, unsigned group)
{
    uint8_t d[CODE_BYTES(CODE_MAX_SYMBOLS * 5)], back[sizeof(d)];
    char shown[160];
    int rc = code_decode(text, nbits, d);

    if (rc < 0) {
        FUZZ_CHECK(rc == ER_CODE_CHAR || rc == ER_CODE_LENGTH || rc == ER_CODE_TYPO);
        return;
    }
    FUZZ_CHECK(code_encode(d, nbits, group, shown, sizeof(shown)) == 0);
    FUZZ_CHECK(code_decode(shown, nbits, back) == 0);
    FUZZ_CHECK(memcmp(d, back, CODE_BYTES(nbits)) == 0);
}

static void token_key(const char *text)
{
    uint8_t key[32], digest[32], issued[8];
    char head[17];
    size_t hex = strspn(text, "0123456789abcdefABCDEF");

    crypto_token_key(text, key);
    sha256(text, strlen(text), digest);
    FUZZ_CHECK(memcmp(key + (hex >= 16 ? 8 : 0), digest, hex >= 16 ? 24 : 32) == 0);
    if (hex >= 16) {
        memcpy(head, text, 16);
        head[16] = '\0';
        FUZZ_CHECK(hex_decode(head, issued, sizeof(issued)) == 0);
        FUZZ_CHECK(memcmp(key, issued, sizeof(issued)) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    one_kind(text, CODE_SERIAL_BITS, CODE_SERIAL_GROUP);
    one_kind(text, CODE_UNLOCK_BITS, CODE_UNLOCK_GROUP);
    one_kind(text, 5, 0);
    token_key(text);
    free(text);
    return 0;
}
