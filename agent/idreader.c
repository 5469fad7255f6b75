/* idreader: frames of an ID card reader's SAM module, and the card's text
 * (idreader.h; the protocol as settled is in docs/idreader.md). */
#include "idreader.h"

#include <string.h>

static const uint8_t preamble[IDR_PREAMBLE_LEN] = {0xaa, 0xaa, 0xaa, 0x96, 0x69};

/* Where each field of the text block is, and how long (bytes of UCS-2LE). */
struct field {
    size_t at, len, off; /* off: the member of struct idr_card */
    size_t size;
};

#define FIELD(at, len, member)                                                                     \
    {                                                                                              \
        at, len, offsetof(struct idr_card, member), sizeof(((struct idr_card *)0)->member)         \
    }
static const struct field fields[] = {
    FIELD(0, 30, name),     FIELD(30, 2, sex),          FIELD(32, 4, nation),
    FIELD(36, 16, birth),   FIELD(52, 70, address),     FIELD(122, 36, id_number),
    FIELD(158, 30, issuer), FIELD(188, 16, valid_from), FIELD(204, 16, valid_to),
};
#undef FIELD

uint8_t idr_xor(const uint8_t *p, size_t n)
{
    uint8_t x = 0;

    for (size_t i = 0; i < n; i++)
        x ^= p[i];
    return x;
}

size_t idr_build(enum idr_command command, const uint8_t *data, size_t n, uint8_t *out,
                 size_t outsz)
{
    size_t len = 2 + n + 1; /* CMD PARA, data, checksum */
    size_t total = IDR_HEAD_LEN + len;

    if (n > IDR_FRAME_MAX || total > IDR_FRAME_MAX || total > outsz)
        return 0;
    memcpy(out, preamble, IDR_PREAMBLE_LEN);
    out[5] = (uint8_t)(len >> 8);
    out[6] = (uint8_t)len;
    out[7] = (uint8_t)((unsigned)command >> 8);
    out[8] = (uint8_t)command;
    if (n > 0)
        memcpy(out + 9, data, n);
    out[total - 1] = idr_xor(out + IDR_PREAMBLE_LEN, total - IDR_PREAMBLE_LEN - 1);
    return total;
}

void idr_parser_init(struct idr_parser *p)
{
    memset(p, 0, sizeof(*p));
}

void idr_parser_reset(struct idr_parser *p)
{
    p->n = 0;
}

/* Where the preamble (or, at the end, a start of it) begins in p->buf. */
static size_t find_preamble(const struct idr_parser *p)
{
    for (size_t i = 0; i < p->n; i++) {
        size_t k = p->n - i < IDR_PREAMBLE_LEN ? p->n - i : IDR_PREAMBLE_LEN;

        if (memcmp(p->buf + i, preamble, k) == 0)
            return i;
    }
    return p->n;
}

static void drop(struct idr_parser *p, size_t k)
{
    memmove(p->buf, p->buf + k, p->n - k);
    p->n -= k;
}

/* Takes every complete frame out of the buffer. A frame that is not valid
 * loses its first byte only: a real frame may start inside it. */
static void parse(struct idr_parser *p, void (*fn)(const struct idr_reply *, void *), void *arg)
{
    for (;;) {
        size_t at = find_preamble(p), len, total;

        p->garbage += at;
        drop(p, at);
        if (p->n < IDR_HEAD_LEN)
            return;
        len = (size_t)p->buf[5] << 8 | p->buf[6];
        total = IDR_HEAD_LEN + len;
        if (len < 4 || total > IDR_FRAME_MAX) {
            p->bad_length++;
            p->garbage++;
            drop(p, 1);
            continue;
        }
        if (p->n < total)
            return;
        if (idr_xor(p->buf + IDR_PREAMBLE_LEN, total - IDR_PREAMBLE_LEN - 1) != p->buf[total - 1]) {
            p->bad_checksum++;
            p->garbage++;
            drop(p, 1);
            continue;
        }
        p->frames++;
        if (fn != NULL) {
            struct idr_reply r = {p->buf[7], p->buf[8], p->buf[9], p->buf + 10, len - 4};

            fn(&r, arg);
        }
        drop(p, total);
    }
}

void idr_feed(struct idr_parser *p, const uint8_t *in, size_t n,
              void (*fn)(const struct idr_reply *, void *), void *arg)
{
    while (n > 0) {
        size_t k = sizeof(p->buf) - p->n;

        if (k > n)
            k = n;
        memcpy(p->buf + p->n, in, k);
        p->n += k;
        in += k;
        n -= k;
        parse(p, fn, arg);
    }
}

/* ---- the text ---- */

static size_t put_utf8(unsigned c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xc0 | c >> 6);
        out[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    out[0] = (char)(0xe0 | c >> 12);
    out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
    out[2] = (char)(0x80 | (c & 0x3f));
    return 3;
}

/* One field: len bytes of UCS-2LE into out (size: 3 bytes a character and
 * a NUL, as struct idr_card has them), trailing spaces trimmed. */
static void decode_field(const uint8_t *p, size_t len, char *out, size_t size)
{
    size_t o = 0;

    for (size_t i = 0; i + 1 < len && o + 4 <= size; i += 2) {
        unsigned c = (unsigned)p[i] | (unsigned)p[i + 1] << 8;

        if (c == 0)
            break;
        if (c >= 0xd800 && c <= 0xdfff)
            c = '?';
        o += put_utf8(c, out + o);
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

void idr_decode_text(const uint8_t text[IDR_TEXT_LEN], struct idr_card *card)
{
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        decode_field(text + fields[i].at, fields[i].len, (char *)card + fields[i].off,
                     fields[i].size);
}

int idr_decode_read(const struct idr_reply *r, struct idr_card *card)
{
    size_t text, photo;

    if (r->len < 4)
        return -1;
    text = (size_t)r->data[0] << 8 | r->data[1];
    photo = (size_t)r->data[2] << 8 | r->data[3];
    if (text < IDR_TEXT_LEN || 4 + text + photo > r->len)
        return -1;
    idr_decode_text(r->data + 4, card);
    return 0;
}

/* The next character of UTF-8 s (BMP only), or -1. */
static long next_utf8(const unsigned char **s)
{
    const unsigned char *p = *s;
    long c;

    if (p[0] < 0x80) {
        c = p[0];
        *s = p + 1;
    } else if ((p[0] & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80) {
        c = (long)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
        *s = p + 2;
    } else if ((p[0] & 0xf0) == 0xe0 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80) {
        c = (long)(p[0] & 0x0f) << 12 | (long)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
        *s = p + 3;
    } else {
        return -1;
    }
    return c;
}

int idr_encode_text(const struct idr_card *card, uint8_t text[IDR_TEXT_LEN])
{
    for (size_t i = 0; i < IDR_TEXT_LEN; i += 2) {
        text[i] = ' ';
        text[i + 1] = 0;
    }
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const unsigned char *s = (const unsigned char *)card + fields[i].off;
        size_t o = 0;

        while (*s != '\0') {
            long c = next_utf8(&s);

            if (c < 0 || o + 2 > fields[i].len)
                return -1;
            text[fields[i].at + o] = (uint8_t)c;
            text[fields[i].at + o + 1] = (uint8_t)(c >> 8);
            o += 2;
        }
    }
    return 0;
}
