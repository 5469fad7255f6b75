/* Fuzzes the ID card reader's reply parser and text decoder: any bytes,
 * fed whole and again in pieces of every size the input's first byte
 * picks, give the same frames; the parser never holds more than a frame,
 * every frame it gives has a valid checksum, and a read reply decodes to
 * NUL-terminated fields. */
#include "fuzz.h"

#include "idreader.h"

#include <string.h>

struct seen {
    uint64_t sum; /* over every frame's status and data */
    size_t frames;
};

static void take(const struct idr_reply *r, void *arg)
{
    struct seen *s = arg;
    struct idr_card card;

    FUZZ_CHECK(r->len <= IDR_FRAME_MAX);
    s->frames++;
    s->sum = s->sum * 31 + r->sw3 + r->len;
    for (size_t i = 0; i < r->len; i++)
        s->sum = s->sum * 31 + r->data[i];
    if (idr_decode_read(r, &card) == 0)
        FUZZ_CHECK(strlen(card.name) < sizeof(card.name) &&
                   strlen(card.id_number) < sizeof(card.id_number));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct idr_parser whole, parts;
    struct seen a = {0}, b = {0};
    size_t step = size > 0 ? (size_t)data[0] % 17 + 1 : 1;

    idr_parser_init(&whole);
    idr_parser_init(&parts);
    idr_feed(&whole, data, size, take, &a);
    for (size_t i = 0; i < size; i += step)
        idr_feed(&parts, data + i, size - i < step ? size - i : step, take, &b);
    FUZZ_CHECK(whole.n <= IDR_FRAME_MAX && parts.n <= IDR_FRAME_MAX);
    FUZZ_CHECK(a.frames == b.frames && a.sum == b.sum);
    FUZZ_CHECK(whole.frames == a.frames);
    return 0;
}
