/* Typed codes: Crockford base32 with the mod-37 check symbol. */
#include "crypto.h"

#include <openssl/rand.h>
#include <string.h>

/* Values 0..31 are data symbols; 32..36 appear only as the check symbol. */
static const char alphabet[37] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";

/* The value of a typed character: 0..36, or -1 when it is not a symbol.
 * Crockford's decoding folds case and reads I, L as 1 and O as 0. */
static int symbol_value(unsigned char c)
{
    if (c >= 'a' && c <= 'z')
        c = (unsigned char)(c - 'a' + 'A');
    if (c == 'I' || c == 'L')
        c = '1';
    if (c == 'O')
        c = '0';
    for (int v = 0; v < 37; v++)
        if (alphabet[v] == (char)c)
            return v;
    return -1;
}

static int bits_ok(unsigned nbits)
{
    return nbits > 0 && nbits % 5 == 0 && nbits / 5 <= CODE_MAX_SYMBOLS;
}

static unsigned get_symbol(const uint8_t *data, unsigned i)
{
    unsigned v = 0;

    for (unsigned b = i * 5; b < i * 5 + 5; b++)
        v = (v << 1) | ((data[b / 8] >> (7 - b % 8)) & 1u);
    return v;
}

static void put_symbol(uint8_t *data, unsigned i, unsigned v)
{
    for (unsigned k = 0; k < 5; k++) {
        unsigned b = i * 5 + k;

        if ((v >> (4 - k)) & 1u)
            data[b / 8] |= (uint8_t)(0x80u >> (b % 8));
    }
}

static int tail_is_clear(const uint8_t *data, unsigned nbits)
{
    unsigned used = nbits % 8;

    return used == 0 || (data[nbits / 8] & (0xFFu >> used)) == 0;
}

size_t code_text_size(unsigned nbits, unsigned group)
{
    size_t nsym;

    if (!bits_ok(nbits))
        return 0;
    nsym = nbits / 5 + 1;
    if (group == 0)
        group = (unsigned)nsym;
    return nsym + (nsym - 1) / group + 1;
}

int code_encode(const uint8_t *data, unsigned nbits, unsigned group, char *out, size_t outsz)
{
    unsigned nsym, check = 0;
    size_t need = code_text_size(nbits, group), n = 0;

    if (need == 0 || outsz < need || !tail_is_clear(data, nbits))
        return ER_USAGE;
    nsym = nbits / 5;
    if (group == 0)
        group = nsym + 1;
    for (unsigned i = 0; i <= nsym; i++) {
        unsigned v;

        if (i == nsym) {
            v = check;
        } else {
            v = get_symbol(data, i);
            check = (check * 32 + v) % 37;
        }
        if (i > 0 && i % group == 0)
            out[n++] = '-';
        out[n++] = alphabet[v];
    }
    out[n] = '\0';
    return 0;
}

int code_decode(const char *text, unsigned nbits, uint8_t *data)
{
    /* Room for every symbol of the longest code and then some: a longer
     * input is the wrong length whatever it holds. */
    char folded[4 * CODE_MAX_SYMBOLS + 64];
    unsigned char sym[CODE_MAX_SYMBOLS + 2];
    unsigned nsym, count = 0, check = 0;
    int too_long = 0;
    uint8_t tmp[CODE_BYTES(CODE_MAX_SYMBOLS * 5)];

    if (!bits_ok(nbits))
        return ER_USAGE;
    nsym = nbits / 5;
    if (strlen(text) >= sizeof(folded) || text_fold_fullwidth(text, folded, sizeof(folded)) < 0)
        return ER_CODE_LENGTH;

    for (const unsigned char *p = (const unsigned char *)folded; *p != '\0'; p++) {
        int v;

        if (*p == ' ' || *p == '-' || *p == '\t' || *p == '\r' || *p == '\n')
            continue;
        v = symbol_value(*p);
        if (v < 0)
            return ER_CODE_CHAR;
        if (count < sizeof(sym))
            sym[count] = (unsigned char)v;
        else
            too_long = 1;
        count++;
    }
    /* A check-only symbol is a mistake anywhere but the last place. */
    for (unsigned i = 0; i + 1 < count && i < sizeof(sym); i++)
        if (sym[i] >= 32)
            return ER_CODE_CHAR;
    if (too_long || count != nsym + 1)
        return ER_CODE_LENGTH;

    memset(tmp, 0, sizeof(tmp));
    for (unsigned i = 0; i < nsym; i++) {
        check = (check * 32 + sym[i]) % 37;
        put_symbol(tmp, i, sym[i]);
    }
    if (sym[nsym] != check)
        return ER_CODE_TYPO;
    memcpy(data, tmp, CODE_BYTES(nbits));
    return 0;
}

int code_random(unsigned nbits, uint8_t *data)
{
    unsigned used = nbits % 8;

    if (!bits_ok(nbits))
        return ER_USAGE;
    if (RAND_bytes(data, (int)CODE_BYTES(nbits)) != 1)
        return ER_RANDOM;
    if (used != 0)
        data[nbits / 8] &= (uint8_t)(0xFFu << (8 - used));
    return 0;
}
