/* Unit tests of agent/idreader.c: command frames as docs/idreader.md says
 * (a published frame checked byte for byte), the reply parser on split,
 * merged, noisy and damaged input, and the card's text block. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "idreader.h"

#include <stdlib.h>
#include <string.h>

struct got {
    int n;
    uint8_t sw3[16];
    size_t len[16];
    uint8_t first[16];
};

static void take(const struct idr_reply *r, void *arg)
{
    struct got *g = arg;

    if (g->n < 16) {
        g->sw3[g->n] = r->sw3;
        g->len[g->n] = r->len;
        g->first[g->n] = r->len > 0 ? r->data[0] : 0;
    }
    g->n++;
}

/* A reply frame: status 00 00 sw3 and n bytes of data. */
static size_t reply(uint8_t sw3, const uint8_t *data, size_t n, uint8_t *out)
{
    size_t len = 3 + n + 1;

    memcpy(out, (const uint8_t[]){0xaa, 0xaa, 0xaa, 0x96, 0x69}, 5);
    out[5] = (uint8_t)(len >> 8);
    out[6] = (uint8_t)len;
    out[7] = 0;
    out[8] = 0;
    out[9] = sw3;
    if (n > 0)
        memcpy(out + 10, data, n);
    out[10 + n] = idr_xor(out + 5, 5 + n);
    return 11 + n;
}

static void build_commands(void **state)
{
    uint8_t f[16];

    (void)state;
    /* Find card, as the reader's manual and every vendor's SDK write it. */
    assert_int_equal(idr_build(IDR_FIND_CARD, NULL, 0, f, sizeof(f)), 10);
    assert_memory_equal(
        f, ((const uint8_t[]){0xaa, 0xaa, 0xaa, 0x96, 0x69, 0x00, 0x03, 0x20, 0x01, 0x22}), 10);
    assert_int_equal(idr_build(IDR_RESET_SAM, NULL, 0, f, sizeof(f)), 10);
    assert_memory_equal(f + 7, ((const uint8_t[]){0x10, 0xff, 0xec}), 3);
    assert_int_equal(idr_build(IDR_READ_TEXT, NULL, 0, f, sizeof(f)), 10);
    assert_memory_equal(f + 7, ((const uint8_t[]){0x30, 0x01, 0x32}), 3);
    assert_int_equal(idr_build(IDR_FIND_CARD, NULL, 0, f, 9), 0); /* does not fit */
}

static void parse_published_reply(void **state)
{
    /* "aa aa aa 96 69 00 04 00 00 41 45": read failed, a frame from a
     * public write-up (docs/idreader.md). */
    const uint8_t f[] = {0xaa, 0xaa, 0xaa, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x41, 0x45};
    struct idr_parser p;
    struct got g = {0};

    (void)state;
    idr_parser_init(&p);
    idr_feed(&p, f, sizeof(f), take, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.sw3[0], IDR_READ_FAIL);
    assert_int_equal(g.len[0], 0);
    assert_int_equal(p.bad_checksum + p.bad_length + p.garbage, 0);
}

static void parse_split_bytewise(void **state)
{
    uint8_t f[64], data[5] = {1, 2, 3, 4, 5};
    size_t n = reply(IDR_FOUND, data, sizeof(data), f);
    struct idr_parser p;
    struct got g = {0};

    (void)state;
    idr_parser_init(&p);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(g.n, 0);
        idr_feed(&p, f + i, 1, take, &g);
    }
    assert_int_equal(g.n, 1);
    assert_int_equal(g.sw3[0], IDR_FOUND);
    assert_int_equal(g.len[0], 5);
    assert_int_equal(g.first[0], 1);
}

static void parse_merged_and_garbage(void **state)
{
    uint8_t buf[256], d = 7;
    size_t n = 0;
    struct idr_parser p;
    struct got g = {0};

    (void)state;
    /* Noise that looks like a start: a lone preamble, a half one. */
    memcpy(buf, (const uint8_t[]){0x00, 0xaa, 0xaa, 0x13, 0xaa, 0xaa, 0xaa, 0x96}, 8);
    n = 8;
    n += reply(IDR_OK, NULL, 0, buf + n);
    n += reply(IDR_NO_CARD, NULL, 0, buf + n);
    buf[n++] = 0x55;
    n += reply(IDR_OK, &d, 1, buf + n);
    idr_parser_init(&p);
    idr_feed(&p, buf, n, take, &g);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.sw3[0], IDR_OK);
    assert_int_equal(g.sw3[1], IDR_NO_CARD);
    assert_int_equal(g.sw3[2], IDR_OK);
    assert_int_equal(g.first[2], 7);
    assert_true(p.garbage >= 9);
    assert_int_equal(p.frames, 3);
}

static void parse_bad_checksum_skipped(void **state)
{
    uint8_t buf[64];
    size_t n = reply(IDR_FOUND, NULL, 0, buf);
    struct idr_parser p;
    struct got g = {0};

    (void)state;
    buf[n - 1] ^= 0x01;
    n += reply(IDR_OK, NULL, 0, buf + n);
    idr_parser_init(&p);
    idr_feed(&p, buf, n, take, &g);
    assert_int_equal(g.n, 1); /* the damaged one skipped, the next one found */
    assert_int_equal(g.sw3[0], IDR_OK);
    assert_int_equal(p.bad_checksum, 1);
}

static void parse_length_out_of_range(void **state)
{
    uint8_t buf[64];
    size_t n;
    struct idr_parser p;
    struct got g = {0};

    (void)state;
    /* Length 0xffff, then length 2 (too short for a status), then a frame. */
    memcpy(buf, (const uint8_t[]){0xaa, 0xaa, 0xaa, 0x96, 0x69, 0xff, 0xff}, 7);
    memcpy(buf + 7, (const uint8_t[]){0xaa, 0xaa, 0xaa, 0x96, 0x69, 0x00, 0x02}, 7);
    n = 14 + reply(IDR_OK, NULL, 0, buf + 14);
    idr_parser_init(&p);
    idr_feed(&p, buf, n, take, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(p.bad_length, 2);
    /* A length that fits but never completes holds at most one frame. */
    idr_feed(&p, (const uint8_t[]){0xaa, 0xaa, 0xaa, 0x96, 0x69, 0x0f, 0xf0}, 7, take, &g);
    for (int i = 0; i < 10; i++) {
        uint8_t junk[1000];

        memset(junk, 0x11, sizeof(junk));
        idr_feed(&p, junk, sizeof(junk), take, &g);
        assert_true(p.n <= IDR_FRAME_MAX);
    }
    idr_feed(&p, buf + 14, n - 14, take, &g);
    assert_int_equal(g.n, 2); /* the parser found its feet again */
}

static void text_round_trip(void **state)
{
    struct idr_card in = {0}, out;
    uint8_t text[IDR_TEXT_LEN], data[4 + IDR_TEXT_LEN + IDR_PHOTO_LEN] = {0};
    struct idr_reply r = {0, 0, IDR_OK, data, sizeof(data)};

    (void)state;
    strcpy(in.name, "王美娜");
    strcpy(in.sex, "2");
    strcpy(in.nation, "01");
    strcpy(in.birth, "19860911");
    strcpy(in.address, "河北省石家庄市长安区建设北大街20号");
    strcpy(in.id_number, "11010519491231002X");
    strcpy(in.issuer, "石家庄市公安局长安分局");
    strcpy(in.valid_from, "20110303");
    strcpy(in.valid_to, "长期");
    assert_int_equal(idr_encode_text(&in, text), 0);
    /* The name's first character, UCS-2LE, then the space padding. */
    assert_int_equal(text[0], 0x8b);
    assert_int_equal(text[1], 0x73);
    assert_int_equal(text[28], ' ');
    idr_decode_text(text, &out);
    assert_string_equal(out.name, "王美娜");
    assert_string_equal(out.sex, "2");
    assert_string_equal(out.nation, "01");
    assert_string_equal(out.address, in.address);
    assert_string_equal(out.id_number, "11010519491231002X");
    assert_string_equal(out.valid_to, "长期");
    data[0] = 0x01; /* text 256, photo 1024 */
    data[2] = 0x04;
    memcpy(data + 4, text, sizeof(text));
    memset(&out, 0, sizeof(out));
    assert_int_equal(idr_decode_read(&r, &out), 0);
    assert_string_equal(out.issuer, in.issuer);
    r.len = 4 + IDR_TEXT_LEN; /* the photo's length past the end */
    assert_int_equal(idr_decode_read(&r, &out), -1);
    data[0] = 0x00; /* text shorter than the block */
    r.len = sizeof(data);
    assert_int_equal(idr_decode_read(&r, &out), -1);
    strcpy(in.name, "这个名字有十六个字长过姓名栏位了吧"); /* 17 characters */
    assert_int_equal(idr_encode_text(&in, text), -1);
}

static void text_odd_characters(void **state)
{
    uint8_t text[IDR_TEXT_LEN];
    struct idr_card out;

    (void)state;
    memset(text, 0xff, sizeof(text));
    text[0] = 0x00; /* a surrogate half: '?' */
    text[1] = 0xd8;
    text[2] = 'A';
    text[3] = 0;
    text[4] = 0; /* a NUL ends the field */
    text[5] = 0;
    idr_decode_text(text, &out);
    assert_string_equal(out.name, "?A");
    assert_int_equal(strlen(out.address), 35 * 3); /* U+FFFF each */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(build_commands),
        cmocka_unit_test(parse_published_reply),
        cmocka_unit_test(parse_split_bytewise),
        cmocka_unit_test(parse_merged_and_garbage),
        cmocka_unit_test(parse_bad_checksum_skipped),
        cmocka_unit_test(parse_length_out_of_range),
        cmocka_unit_test(text_round_trip),
        cmocka_unit_test(text_odd_characters),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
