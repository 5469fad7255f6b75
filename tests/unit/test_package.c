/* Unit tests of the exam package (crypto/pkg_*.c): round trips, and every
 * way a package can be damaged, forged, replayed or misused. In every
 * rejected case the test also counts the plaintext bytes that reached the
 * sink: it must be none. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "crypto.h"
#include "internal.h" /* the key schedule, to check the vectors step by step */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define C   PKG_CHUNK
#define NOW 1796400000 /* 2026-12-04, a day before the sample exam */

struct fixture {
    char dir[64];
    struct key *center, *room, *room_pub, *other_center, *other_room;
    uint8_t code[2][CODE_BYTES(CODE_UNLOCK_BITS)];
};

struct section_spec {
    const char *name, *session;
    size_t size;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    uint8_t raw[KEY_RAW_LEN];

    strcpy(f->dir, "/tmp/examroom-pkg-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(key_generate(KEY_ED25519, &f->center), 0);
    assert_int_equal(key_generate(KEY_ED25519, &f->other_center), 0);
    assert_int_equal(key_generate(KEY_X25519, &f->room), 0);
    assert_int_equal(key_generate(KEY_X25519, &f->other_room), 0);
    key_public_raw(f->room, raw);
    assert_int_equal(key_from_raw_public(KEY_X25519, raw, &f->room_pub), 0);
    assert_int_equal(code_random(CODE_UNLOCK_BITS, f->code[0]), 0);
    assert_int_equal(code_random(CODE_UNLOCK_BITS, f->code[1]), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    key_free(f->center);
    key_free(f->other_center);
    key_free(f->room);
    key_free(f->room_pub);
    key_free(f->other_room);
    free(f);
    return 0;
}

/* The content of byte j of a section: differs by section and by seed. */
static uint8_t content(unsigned seed, size_t section, size_t j)
{
    uint64_t x = (j + 1) * 0x9E3779B97F4A7C15ull ^ (seed * 131 + section * 7919);

    x ^= x >> 29;
    return (uint8_t)(x * 0xBF58476D1CE4E5B9ull >> 56);
}

static void path_in(const struct fixture *f, const char *name, char out[128])
{
    snprintf(out, 128, "%s/%s", f->dir, name);
}

/* The content seed of the package built last: open_all() checks against it. */
static unsigned built_seed;

static void build(const struct fixture *f, const char *path, const struct key *center,
                  const struct key *room_pub, uint64_t version, unsigned seed,
                  const struct section_spec *secs, size_t n)
{
    const struct pkg_session_spec sessions[] = {
        {"S1", f->code[0], NOW + 86400, NOW + 86400 + 5400},
        {"S2", f->code[1], NOW + 104400, NOW + 104400 + 5400},
    };
    const struct pkg_writer_params p = {
        .plan_id = "20261205-广东省华立高级技工学校",
        .room_id = "R01",
        .version = version,
        .created_at = NOW,
        .expires_at = NOW + 30 * 86400,
        .center_key = center,
        .room_key = room_pub,
        .sessions = sessions,
        .n_sessions = 2,
        .scrypt_log2_n = 10,
    };
    struct pkg_writer *w;
    uint8_t *buf = malloc(3 * C + 100);

    built_seed = seed;
    assert_int_equal(pkg_writer_new(&p, path, &w), 0);
    for (size_t s = 0; s < n; s++) {
        size_t done = 0, piece = 1;

        assert_int_equal(pkg_writer_begin(w, secs[s].name, secs[s].session), 0);
        /* Uneven pieces, so chunk edges fall inside and between writes. */
        while (done < secs[s].size) {
            size_t take = piece < secs[s].size - done ? piece : secs[s].size - done;

            for (size_t j = 0; j < take; j++)
                buf[j] = content(seed, s, done + j);
            assert_int_equal(pkg_writer_write(w, buf, take), 0);
            done += take;
            piece = piece * 7 % (3 * C + 97) + 1;
        }
        assert_int_equal(pkg_writer_end(w), 0);
    }
    assert_int_equal(pkg_writer_finish(w), 0);
    pkg_writer_free(w);
    free(buf);
}

struct sink {
    size_t released;
    unsigned seed;
    size_t section, pos;
    int mismatch;
};

static int count_sink(void *arg, const uint8_t *data, size_t n)
{
    struct sink *k = arg;

    for (size_t j = 0; j < n; j++)
        if (data[j] != content(k->seed, k->section, k->pos + j))
            k->mismatch = 1;
    k->pos += n;
    k->released += n;
    return 0;
}

/* The room's whole flow for a package: open, verify, unlock both sessions,
 * read every section. Returns the first error; *released counts plaintext
 * bytes handed out. */
static int open_all(const struct fixture *f, const char *path, const struct key *room,
                    uint64_t min_version, int64_t now, size_t *released)
{
    const struct pkg_trust t = {f->center, room, min_version, now};
    struct pkg_reader *r;
    struct sink k = {.seed = built_seed};
    uint8_t keys[2][PKG_SESSION_KEY];
    const struct pkg_info *info;
    int rc;

    *released = 0;
    rc = pkg_open(path, &t, &r);
    if (rc < 0)
        return rc;
    info = pkg_get_info(r);
    rc = pkg_verify(r);
    for (int s = 0; s < 2 && rc == 0; s++)
        rc = pkg_unlock(r, s == 0 ? "S1" : "S2", f->code[s], keys[s]);
    for (size_t s = 0; s < info->n_sections && rc == 0; s++) {
        int sess = info->sections[s].session;

        k.section = s;
        k.pos = 0;
        rc = pkg_read(r, info->sections[s].name, sess < 0 ? NULL : keys[sess], count_sink, &k);
        if (rc == 0 && (k.pos != info->sections[s].size || k.mismatch))
            rc = ER_INTERNAL;
    }
    *released = k.released;
    pkg_close(r);
    return rc;
}

static const struct section_spec small[] = {
    {"roster", NULL, 300},
    {"paper/S1", "S1", 200},
    {"paper/S2", "S2", 0},
};

static const struct section_spec several[] = {
    {"roster", NULL, 1000},  {"photos", NULL, 3 * C + 5}, {"empty", NULL, 0},
    {"paper/S1", "S1", C},   {"paper/S2", "S2", 2 * C},   {"one", NULL, 1},
    {"almost", "S1", C - 1}, {"just-over", "S2", C + 1},
};

static void round_trip_several_sizes(void **state)
{
    struct fixture *f = *state;
    char path[128];
    size_t released;
    struct pkg_reader *r;
    const struct pkg_trust t = {f->center, f->room, 7, NOW};
    const struct pkg_info *info;
    struct stat st;

    path_in(f, "several.pkg", path);
    build(f, path, f->center, f->room_pub, 7, 1, several, 8);
    assert_int_equal(open_all(f, path, f->room, 7, NOW, &released), 0);
    assert_int_equal(released, 1000 + 3 * C + 5 + C + 2 * C + 1 + C - 1 + C + 1);

    assert_int_equal(pkg_open(path, &t, &r), 0);
    info = pkg_get_info(r);
    assert_string_equal(info->plan_id, "20261205-广东省华立高级技工学校");
    assert_string_equal(info->room_id, "R01");
    assert_int_equal(info->version, 7);
    assert_int_equal(info->expires_at, NOW + 30 * 86400);
    assert_int_equal(info->n_sessions, 2);
    assert_string_equal(info->sessions[1].id, "S2");
    assert_int_equal(info->n_sections, 8);
    assert_int_equal(info->sections[1].size, 3 * C + 5);
    assert_int_equal(info->sections[3].session, 0);
    assert_int_equal(info->sections[0].session, -1);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(info->file_size, (uint64_t)st.st_size);
    assert_int_equal(st.st_mode & 0777, 0600);
    pkg_close(r);

    /* No temporary file is left beside the package. */
    path_in(f, "several.pkg.body", path);
    assert_int_not_equal(access(path, F_OK), 0);
    path_in(f, "several.pkg.tmp", path);
    assert_int_not_equal(access(path, F_OK), 0);
}

static void flip(const char *src, const char *dst, long off, int bit)
{
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    int c;
    long i = 0;

    assert_non_null(in);
    assert_non_null(out);
    while ((c = fgetc(in)) != EOF) {
        if (i++ == off)
            c ^= 1 << bit;
        fputc(c, out);
    }
    fclose(in);
    fclose(out);
}

static long file_size(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return (long)st.st_size;
}

/* Every bit of every byte of a small package flipped, one at a time: each
 * is refused with the error of the part it hit, and nothing is released. */
static void every_bit_flip_rejected(void **state)
{
    struct fixture *f = *state;
    char path[128], bad[128];
    size_t released;
    long size, hdr_end;
    struct pkg_reader *r;
    const struct pkg_trust t = {f->center, f->room, 0, NOW};
    int counts[5] = {0};

    path_in(f, "small.pkg", path);
    path_in(f, "flipped.pkg", bad);
    build(f, path, f->center, f->room_pub, 1, 2, small, 3);
    size = file_size(path);
    assert_int_equal(pkg_open(path, &t, &r), 0);
    hdr_end = (long)(pkg_get_info(r)->file_size - (300 + 16 + 200 + 16 + 0 + 16));
    pkg_close(r);

    for (long off = 0; off < size; off++) {
        for (int bit = 0; bit < 8; bit++) {
            int rc;

            flip(path, bad, off, bit);
            rc = open_all(f, bad, f->room, 0, NOW, &released);
            if (released != 0)
                fail_msg("byte %ld bit %d: %zu bytes released", off, bit, released);
            if (off < 7) {
                assert_int_equal(rc, ER_PKG_NOT_PACKAGE);
                counts[0]++;
            } else if (off == 7) {
                assert_int_equal(rc, ER_PKG_FORMAT_VERSION);
                counts[1]++;
            } else if (off < 12) {
                /* The header's length: out of bounds, past the end of the
                 * file, or a different split of header and signature. */
                if (rc != ER_PKG_CORRUPT && rc != ER_PKG_TRUNCATED && rc != ER_PKG_BADSIG)
                    fail_msg("length byte %ld bit %d: %s", off, bit, er_name(rc));
                counts[2]++;
            } else if (off < hdr_end) {
                if (rc != ER_PKG_BADSIG)
                    fail_msg("header byte %ld bit %d: %s", off, bit, er_name(rc));
                counts[3]++;
            } else {
                if (rc != ER_PKG_CORRUPT)
                    fail_msg("body byte %ld bit %d: %s", off, bit, er_name(rc));
                counts[4]++;
            }
        }
    }
    assert_int_equal(counts[0], 7 * 8);
    assert_int_equal(counts[1], 8);
    assert_true(counts[3] > 300 * 8);
    assert_int_equal(counts[4], (300 + 16 + 200 + 16 + 16) * 8);
}

static void copy_range(const char *src, FILE *out, long from, long n)
{
    FILE *in = fopen(src, "rb");
    char buf[8192];

    assert_non_null(in);
    assert_int_equal(fseek(in, from, SEEK_SET), 0);
    while (n > 0) {
        size_t take = n < (long)sizeof(buf) ? (size_t)n : sizeof(buf);

        assert_int_equal(fread(buf, 1, take, in), take);
        assert_int_equal(fwrite(buf, 1, take, out), take);
        n -= (long)take;
    }
    fclose(in);
}

/* A package with one big section: where its chunks lie in the file. */
static const struct section_spec big[] = {{"photos", NULL, 3 * C + 100}};
#define BIG_STORED        ((long)(3 * C + 100 + 4 * 16 + 3 * 32))
#define CHUNK_AT(body, i) ((body) + (long)(i) * (C + 16 + 32))

static void truncation_anywhere_rejected(void **state)
{
    struct fixture *f = *state;
    char path[128], bad[128];
    size_t released;
    long size, body;

    path_in(f, "big.pkg", path);
    path_in(f, "cut.pkg", bad);
    build(f, path, f->center, f->room_pub, 1, 3, big, 1);
    size = file_size(path);
    body = size - BIG_STORED;
    long cuts[] = {0,
                   5,
                   12,
                   body - 64,
                   body - 1,
                   body,
                   CHUNK_AT(body, 1) - 32,
                   CHUNK_AT(body, 1),
                   CHUNK_AT(body, 1) + C / 2,
                   CHUNK_AT(body, 2),
                   CHUNK_AT(body, 2) + 1,
                   CHUNK_AT(body, 3),
                   CHUNK_AT(body, 3) + 50,
                   size - 16,
                   size - 1};

    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        FILE *out = fopen(bad, "wb");
        int rc;

        copy_range(path, out, 0, cuts[i]);
        fclose(out);
        rc = open_all(f, bad, f->room, 0, NOW, &released);
        if (rc != ER_PKG_TRUNCATED)
            fail_msg("cut at %ld of %ld: %s", cuts[i], size, er_name(rc));
        assert_int_equal(released, 0);
    }
}

/* Builds dst from src with the stored chunks rearranged: order lists which
 * chunk of src goes in each place (the links stay where they were). */
static void rearrange(const char *src, const char *dst, long body, const int *order, int n)
{
    FILE *out = fopen(dst, "wb");

    copy_range(src, out, 0, body);
    for (int i = 0; i < n; i++) {
        int from = order[i];
        long len = from == 3 ? 100 + 16 : C + 16;

        /* Chunks of equal size only, so only the order changes. */
        assert_true(from != 3 || i == 3);
        copy_range(src, out, CHUNK_AT(body, from), len);
        if (i < 3)
            copy_range(src, out, CHUNK_AT(body, i) + C + 16, 32);
    }
    fclose(out);
}

static void reordered_repeated_appended_rejected(void **state)
{
    struct fixture *f = *state;
    char path[128], bad[128];
    size_t released;
    long size, body;
    FILE *out;

    path_in(f, "big.pkg", path);
    path_in(f, "bad.pkg", bad);
    build(f, path, f->center, f->room_pub, 1, 4, big, 1);
    size = file_size(path);
    body = size - BIG_STORED;

    rearrange(path, bad, body, (const int[]){1, 0, 2, 3}, 4); /* two chunks swapped */
    assert_int_equal(open_all(f, bad, f->room, 0, NOW, &released), ER_PKG_CORRUPT);
    assert_int_equal(released, 0);
    rearrange(path, bad, body, (const int[]){0, 0, 2, 3}, 4); /* a chunk repeated */
    assert_int_equal(open_all(f, bad, f->room, 0, NOW, &released), ER_PKG_CORRUPT);
    assert_int_equal(released, 0);
    rearrange(path, bad, body, (const int[]){0, 1, 2, 3}, 4); /* the control */
    assert_int_equal(open_all(f, bad, f->room, 0, NOW, &released), 0);

    out = fopen(bad, "wb"); /* a chunk inserted again */
    copy_range(path, out, 0, CHUNK_AT(body, 2));
    copy_range(path, out, CHUNK_AT(body, 1), C + 16 + 32);
    copy_range(path, out, CHUNK_AT(body, 2), size - CHUNK_AT(body, 2));
    fclose(out);
    assert_int_equal(open_all(f, bad, f->room, 0, NOW, &released), ER_PKG_TRAILING);
    assert_int_equal(released, 0);

    out = fopen(bad, "wb"); /* bytes appended */
    copy_range(path, out, 0, size);
    fputs("extra", out);
    fclose(out);
    assert_int_equal(open_all(f, bad, f->room, 0, NOW, &released), ER_PKG_TRAILING);
    assert_int_equal(released, 0);
}

static void header_over_another_body_rejected(void **state)
{
    struct fixture *f = *state;
    char a[128], b[128], bad[128];
    size_t released;
    long body;
    FILE *out;

    path_in(f, "a.pkg", a);
    path_in(f, "b.pkg", b);
    path_in(f, "ab.pkg", bad);
    build(f, a, f->center, f->room_pub, 1, 5, big, 1);
    build(f, b, f->center, f->room_pub, 1, 6, big, 1);
    body = file_size(a) - BIG_STORED;
    assert_int_equal(body, file_size(b) - BIG_STORED);
    out = fopen(bad, "wb");
    copy_range(a, out, 0, body);
    copy_range(b, out, body, BIG_STORED);
    fclose(out);
    assert_int_equal(open_all(f, bad, f->room, 0, NOW, &released), ER_PKG_CORRUPT);
    assert_int_equal(released, 0);
}

static void room_version_expiry_and_signer_checked(void **state)
{
    struct fixture *f = *state;
    char path[128], forged[128];
    size_t released;
    struct key *other_pub;
    uint8_t raw[KEY_RAW_LEN];

    path_in(f, "v5.pkg", path);
    build(f, path, f->center, f->room_pub, 5, 7, small, 3);
    assert_int_equal(open_all(f, path, f->room, 5, NOW, &released), 0);
    assert_int_equal(open_all(f, path, f->other_room, 0, NOW, &released), ER_PKG_OTHER_ROOM);
    assert_int_equal(released, 0);
    assert_int_equal(open_all(f, path, f->room, 6, NOW, &released), ER_PKG_OLD_VERSION);
    assert_int_equal(released, 0);
    assert_int_equal(open_all(f, path, f->room, 0, NOW + 30 * 86400, &released), ER_PKG_EXPIRED);
    assert_int_equal(released, 0);
    assert_int_equal(open_all(f, path, f->room, 0, NOW + 30 * 86400 - 1, &released), 0);

    /* Signed by someone else: refused before anything else is believed. */
    path_in(f, "forged.pkg", forged);
    build(f, forged, f->other_center, f->room_pub, 9, 7, small, 3);
    assert_int_equal(open_all(f, forged, f->room, 0, NOW, &released), ER_PKG_BADSIG);
    assert_int_equal(released, 0);

    /* Wrapped to another room's key. */
    key_public_raw(f->other_room, raw);
    assert_int_equal(key_from_raw_public(KEY_X25519, raw, &other_pub), 0);
    build(f, forged, f->center, other_pub, 9, 7, small, 3);
    assert_int_equal(open_all(f, forged, f->room, 0, NOW, &released), ER_PKG_OTHER_ROOM);
    key_free(other_pub);

    /* Not a package at all. */
    {
        FILE *out = fopen(forged, "wb");

        fputs("PK\x03\x04 this is a zip file, not a package", out);
        fclose(out);
        assert_int_equal(open_all(f, forged, f->room, 0, NOW, &released), ER_PKG_NOT_PACKAGE);
    }
}

/* Files shorter than the 12-byte prefix: as much of the magic as there is
 * must match; then it is an incomplete package (or another format). */
static void short_files_named_right(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *bytes;
        size_t n;
        int want;
    } v[] = {
        {"", 0, ER_PKG_TRUNCATED},
        {"EXR", 3, ER_PKG_TRUNCATED},
        {"EXRMPKG\x01", 8, ER_PKG_TRUNCATED},
        {"EXRMPKG\x01\x00\x00\x01", 11, ER_PKG_TRUNCATED},
        {"EXRMPKG\x02\x00", 9, ER_PKG_FORMAT_VERSION},
        {"EXRMPKG\x02\x00\x00\x01\x00", 12, ER_PKG_FORMAT_VERSION},
        {"EXA", 3, ER_PKG_NOT_PACKAGE},
        {"\xff\x6b\x97\x50\x26\x00\x80\x61\x00", 9, ER_PKG_NOT_PACKAGE},
        {"EXRMPKG\x01\x00\x00\x00\x10", 12, ER_PKG_CORRUPT}, /* header of 16 bytes */
        {"EXRMPKG\x01\x00\x00\x01\x00", 12, ER_PKG_TRUNCATED},
    };
    char path[128];
    size_t released;

    path_in(f, "short.pkg", path);
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        FILE *out = fopen(path, "wb");
        int rc;

        assert_int_equal(fwrite(v[i].bytes, 1, v[i].n, out), v[i].n);
        fclose(out);
        rc = open_all(f, path, f->room, 0, NOW, &released);
        if (rc != v[i].want)
            fail_msg("case %zu: %s, want %s", i, er_name(rc), er_name(v[i].want));
    }
}

static int never_sink(void *arg, const uint8_t *data, size_t n)
{
    (void)data;
    *(size_t *)arg += n;
    return 0;
}

static void unlock_codes_checked(void **state)
{
    struct fixture *f = *state;
    char path[128];
    const struct pkg_trust t = {f->center, f->room, 0, NOW};
    struct pkg_reader *r;
    uint8_t k1[PKG_SESSION_KEY], k2[PKG_SESSION_KEY], wrong[CODE_BYTES(CODE_UNLOCK_BITS)];
    size_t released = 0;

    path_in(f, "codes.pkg", path);
    build(f, path, f->center, f->room_pub, 1, 8, small, 3);
    assert_int_equal(pkg_open(path, &t, &r), 0);
    memcpy(wrong, f->code[0], sizeof(wrong));
    wrong[3] ^= 0x10;
    assert_int_equal(pkg_unlock(r, "S1", wrong, k1), ER_PKG_WRONG_CODE);
    assert_int_equal(pkg_unlock(r, "S1", f->code[1], k1), ER_PKG_WRONG_CODE); /* S2's code */
    assert_int_equal(pkg_unlock(r, "S9", f->code[0], k1), ER_PKG_NO_SESSION);
    assert_int_equal(pkg_read(r, "paper/S1", NULL, never_sink, &released), ER_PKG_LOCKED);
    assert_int_equal(pkg_read(r, "nothing", NULL, never_sink, &released), ER_PKG_NO_SECTION);
    assert_int_equal(pkg_unlock(r, "S1", f->code[0], k1), 0);
    assert_int_equal(pkg_unlock(r, "S2", f->code[1], k2), 0);
    assert_memory_not_equal(k1, k2, sizeof(k1));
    /* S2's key does not open S1's paper. */
    assert_int_equal(pkg_read(r, "paper/S1", k2, never_sink, &released), ER_PKG_WRONG_CODE);
    assert_int_equal(released, 0);
    assert_int_equal(pkg_read(r, "paper/S1", k1, never_sink, &released), 0);
    assert_int_equal(released, 200);
    /* The roster needs no session key. */
    assert_int_equal(pkg_read(r, "roster", NULL, never_sink, &released), 0);
    assert_int_equal(released, 500);
    pkg_close(r);
}

/* Even without pkg_verify first, pkg_read releases only chunks that passed:
 * a damaged third chunk stops the read after exactly two good chunks. */
static void read_stops_at_first_bad_chunk(void **state)
{
    struct fixture *f = *state;
    char path[128], bad[128];
    const struct pkg_trust t = {f->center, f->room, 0, NOW};
    struct pkg_reader *r;
    struct sink k = {.seed = 9};
    long body;

    path_in(f, "big.pkg", path);
    path_in(f, "mid.pkg", bad);
    build(f, path, f->center, f->room_pub, 1, 9, big, 1);
    body = file_size(path) - BIG_STORED;
    flip(path, bad, CHUNK_AT(body, 2) + 1000, 3);
    assert_int_equal(pkg_open(bad, &t, &r), 0);
    assert_int_equal(pkg_read(r, "photos", NULL, count_sink, &k), ER_PKG_CORRUPT);
    assert_int_equal(k.released, 2 * C);
    assert_false(k.mismatch);
    assert_int_equal(pkg_verify(r), ER_PKG_CORRUPT);
    pkg_close(r);
}

/* Random access: any range reads what the whole read gives, across chunk
 * edges, in a session's section too; a range over a damaged chunk fails and
 * gives nothing, one beside it still reads; a range past the end is refused. */
static void range_reads(void **state)
{
    struct fixture *f = *state;
    char path[128], bad[128];
    const struct pkg_trust t = {f->center, f->room, 0, NOW};
    static const struct {
        uint64_t from;
        size_t n;
    } ranges[] = {{0, 1},           {0, 3 * C + 100},   {C - 10, 20},
                  {C, C},           {2 * C - 1, C + 2}, {3 * C + 99, 1},
                  {3 * C + 100, 0}, {12345, 100000},    {3 * C, 100}};
    struct pkg_reader *r;
    uint8_t *out = malloc(3 * C + 100), key[PKG_SESSION_KEY];
    long body;

    path_in(f, "range.pkg", path);
    build(f, path, f->center, f->room_pub, 1, 11, big, 1);
    assert_int_equal(pkg_open(path, &t, &r), 0);
    assert_int_equal(pkg_verify(r), 0);
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        memset(out, 0, 3 * C + 100);
        assert_int_equal(pkg_read_range(r, "photos", NULL, ranges[i].from, ranges[i].n, out), 0);
        for (size_t j = 0; j < ranges[i].n; j++)
            assert_int_equal(out[j], content(11, 0, ranges[i].from + j));
    }
    assert_int_equal(pkg_read_range(r, "photos", NULL, 3 * C + 100, 1, out), ER_USAGE);
    assert_int_equal(pkg_read_range(r, "photos", NULL, 10, 3 * C + 91, out), ER_USAGE);
    assert_int_equal(pkg_read_range(r, "nothing", NULL, 0, 1, out), ER_PKG_NO_SECTION);
    pkg_close(r);

    /* A session's section needs its key. */
    path_in(f, "range2.pkg", path);
    build(f, path, f->center, f->room_pub, 1, 12, several, sizeof(several) / sizeof(several[0]));
    assert_int_equal(pkg_open(path, &t, &r), 0);
    assert_int_equal(pkg_read_range(r, "just-over", NULL, 0, 1, out), ER_PKG_LOCKED);
    assert_int_equal(pkg_unlock(r, "S2", f->code[1], key), 0);
    assert_int_equal(pkg_read_range(r, "just-over", key, C - 1, 2, out), 0);
    assert_int_equal(out[0], content(12, 7, C - 1));
    assert_int_equal(out[1], content(12, 7, C));
    pkg_close(r);

    /* A bit flipped in chunk 2 after the open. */
    path_in(f, "range.pkg", path);
    path_in(f, "range-bad.pkg", bad);
    build(f, path, f->center, f->room_pub, 1, 11, big, 1);
    body = file_size(path) - BIG_STORED;
    flip(path, bad, CHUNK_AT(body, 2) + 1000, 3);
    assert_int_equal(pkg_open(bad, &t, &r), 0);
    memset(out, 0x55, 200);
    assert_int_equal(pkg_read_range(r, "photos", NULL, 2 * C + 900, 200, out), ER_PKG_CORRUPT);
    for (size_t j = 0; j < 200; j++)
        assert_int_equal(out[j], 0);
    assert_int_equal(pkg_read_range(r, "photos", NULL, C + 5, 100, out), 0);
    assert_int_equal(out[0], content(11, 0, C + 5));
    assert_int_equal(pkg_read_range(r, "photos", NULL, 2 * C - 50, 100, out), ER_PKG_CORRUPT);
    pkg_close(r);
    free(out);
}

static void writer_refuses_misuse(void **state)
{
    struct fixture *f = *state;
    char path[128];
    const struct pkg_session_spec s[] = {{"S1", f->code[0], 0, 0}, {"S1", f->code[1], 0, 0}};
    struct pkg_writer_params p = {
        .plan_id = "20261205-x",
        .room_id = "R01",
        .version = 1,
        .created_at = NOW,
        .expires_at = NOW + 1,
        .center_key = f->center,
        .room_key = f->room_pub,
        .sessions = s,
        .n_sessions = 1,
        .scrypt_log2_n = 10,
    };
    struct pkg_writer *w;

    path_in(f, "misuse.pkg", path);
    p.center_key = f->room; /* not a signing key */
    assert_int_equal(pkg_writer_new(&p, path, &w), ER_USAGE);
    p.center_key = f->center;
    p.n_sessions = 2; /* two sessions named S1 */
    assert_int_equal(pkg_writer_new(&p, path, &w), ER_USAGE);
    p.n_sessions = 1;
    p.room_id = "";
    assert_int_equal(pkg_writer_new(&p, path, &w), ER_USAGE);
    p.room_id = "R01";
    assert_int_equal(pkg_writer_new(&p, path, &w), 0);
    assert_int_equal(pkg_writer_write(w, "x", 1), ER_USAGE); /* no section open */
    assert_int_equal(pkg_writer_begin(w, "a", "S7"), ER_PKG_NO_SESSION);
    assert_int_equal(pkg_writer_begin(w, "a", NULL), 0);
    assert_int_equal(pkg_writer_begin(w, "b", NULL), ER_USAGE); /* one at a time */
    assert_int_equal(pkg_writer_finish(w), ER_USAGE);           /* section still open */
    assert_int_equal(pkg_writer_end(w), 0);
    assert_int_equal(pkg_writer_begin(w, "a", NULL), ER_USAGE); /* name taken */
    pkg_writer_free(w); /* unfinished: nothing left behind */
    assert_int_not_equal(access(path, F_OK), 0);
}

/* ---- the test vector of docs/package-format.md ---- */

#define VEC_MAX 2048

struct vec {
    const char *name;
    uint8_t val[VEC_MAX];
    size_t len;
};

static void from_hex(const char *hex, struct vec *v)
{
    v->len = 0;
    for (const char *p = hex; p[0] && p[1] && v->len < VEC_MAX; p += 2) {
        unsigned x;

        if (sscanf(p, "%2x", &x) != 1)
            break;
        v->val[v->len++] = (uint8_t)x;
    }
}

/* Finds "name = hex" (continued on lines that start with a space) in the
 * ```vectors block of the document. */
static int doc_value(const char *doc, const char *name, struct vec *out)
{
    const char *block = strstr(doc, "```vectors\n"), *end, *p;
    char hex[2 * VEC_MAX + 1];
    size_t n = 0, name_len = strlen(name);

    if (block == NULL || (end = strstr(block + 11, "```")) == NULL)
        return -1;
    for (p = block + 11; p < end; p = strchr(p, '\n') + 1) {
        if (strncmp(p, name, name_len) == 0 && strncmp(p + name_len, " = ", 3) == 0)
            break;
    }
    if (p >= end)
        return -1;
    p += name_len + 3;
    for (; p < end; p++) {
        if (*p == '\n' && p[1] != ' ')
            break;
        if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
            if (n < sizeof(hex) - 1)
                hex[n++] = *p;
    }
    hex[n] = '\0';
    from_hex(hex, out);
    return 0;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = malloc(1 << 20);
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void print_vec(const struct vec *v)
{
    printf("%s =", v->name);
    for (size_t i = 0; i < v->len; i++)
        printf("%s%02x", i % 32 == 0 ? (i == 0 ? " " : "\n    ") : "", v->val[i]);
    printf("\n");
}

static int collect_sink(void *arg, const uint8_t *data, size_t n)
{
    struct vec *v = arg;

    assert_true(v->len + n <= VEC_MAX);
    memcpy(v->val + v->len, data, n);
    v->len += n;
    return 0;
}

enum {
    V_CENTER,
    V_ROOM,
    V_SEED,
    V_CODE,
    V_ROSTER,
    V_PAPER, /* inputs */
    V_CENTER_PUB,
    V_ROOM_PUB,
    V_SECRET,
    V_EPH_PUB,
    V_WRAP_KEY,
    V_WRAPPED,
    V_SALT,
    V_CODE_KEY,
    V_SESSION_KEY,
    V_COMMIT,
    V_KEY_ROSTER,
    V_KEY_PAPER,
    V_PACKAGE_ID,
    V_PACKAGE,
    V_B_HEADER,
    V_B_LINKS,
    V_B_LENGTH,
    V_B_SHA256,
    V_COUNT
};

/* Vector B: vector A's inputs with a three-chunk section and an empty one
 * between its two sections, so that chains longer than one link, chunk
 * counters above 0 and an empty chunk are pinned down too. The package is
 * too big to print: its header, the photos chain, its length and SHA-256. */
static void compute_vector_b(struct vec *v, const char *dir, const struct key *center,
                             const struct key *room_pub)
{
    const struct pkg_session_spec session = {"S1", v[V_CODE].val, 1796432400, 1796437800};
    const struct pkg_writer_params p = {
        .plan_id = "20261205-示例学校",
        .room_id = "R01",
        .version = 1,
        .created_at = 1796400000,
        .expires_at = 1799078400,
        .center_key = center,
        .room_key = room_pub,
        .sessions = &session,
        .n_sessions = 1,
        .scrypt_log2_n = 10,
        .scrypt_r = 8,
        .scrypt_p = 1,
        .test_seed = v[V_SEED].val,
    };
    size_t photos = 2 * C + 1, hl, at;
    uint8_t *buf = malloc(photos), *file = malloc(photos + 4096);
    const uint8_t *entry;
    struct pkg_writer *w;
    char path[128];
    FILE *f;
    long n;

    for (size_t j = 0; j < photos; j++)
        buf[j] = (uint8_t)(j % 251);
    snprintf(path, sizeof(path), "%s/vector-b.pkg", dir);
    assert_int_equal(pkg_writer_new(&p, path, &w), 0);
    assert_int_equal(pkg_writer_begin(w, "roster", NULL), 0);
    assert_int_equal(pkg_writer_write(w, v[V_ROSTER].val, v[V_ROSTER].len), 0);
    assert_int_equal(pkg_writer_end(w), 0);
    assert_int_equal(pkg_writer_begin(w, "photos", NULL), 0);
    assert_int_equal(pkg_writer_write(w, buf, photos), 0);
    assert_int_equal(pkg_writer_end(w), 0);
    assert_int_equal(pkg_writer_begin(w, "empty", NULL), 0);
    assert_int_equal(pkg_writer_end(w), 0);
    assert_int_equal(pkg_writer_begin(w, "paper/S1", "S1"), 0);
    assert_int_equal(pkg_writer_write(w, v[V_PAPER].val, v[V_PAPER].len), 0);
    assert_int_equal(pkg_writer_end(w), 0);
    assert_int_equal(pkg_writer_finish(w), 0);
    pkg_writer_free(w);
    f = fopen(path, "rb");
    n = (long)fread(file, 1, photos + 4096, f);
    fclose(f);
    unlink(path);

    hl = (size_t)file[8] << 24 | (size_t)file[9] << 16 | (size_t)file[10] << 8 | file[11];
    assert_true(hl <= VEC_MAX);
    memcpy(v[V_B_HEADER].val, file + 12, hl);
    v[V_B_HEADER].len = hl;
    /* photos' links: H_0 is the last field of its header entry (name, u16
     * session, u64 size, head); H_1 and H_2 follow its first two chunks. */
    entry = memmem(file + 12, hl, "\x00\x06photos", 8);
    assert_non_null(entry);
    memcpy(v[V_B_LINKS].val, entry + 8 + 2 + 8, 32);
    at = 12 + hl + 64 + v[V_ROSTER].len + 16; /* the roster is one chunk */
    memcpy(v[V_B_LINKS].val + 32, file + at + C + 16, 32);
    memcpy(v[V_B_LINKS].val + 64, file + at + 2 * (C + 16) + 32, 32);
    v[V_B_LINKS].len = 96;
    for (int i = 0; i < 8; i++)
        v[V_B_LENGTH].val[i] = (uint8_t)((uint64_t)n >> (8 * (7 - i)));
    v[V_B_LENGTH].len = 8;
    EVP_Digest(file, (size_t)n, v[V_B_SHA256].val, NULL, EVP_sha256(), NULL);
    v[V_B_SHA256].len = 32;
    free(buf);
    free(file);
}

static void compute_vector(struct vec *v, const char *dir)
{
    struct key *center, *room, *room_pub, *eph;
    uint8_t shared[32], eph_raw[32];
    char path[128];
    FILE *f;
    const struct pkg_session_spec session = {"S1", v[V_CODE].val, 1796432400, 1796437800};
    const struct pkg_writer_params p = {
        .plan_id = "20261205-示例学校",
        .room_id = "R01",
        .version = 1,
        .created_at = 1796400000,
        .expires_at = 1799078400,
        .sessions = &session,
        .n_sessions = 1,
        .scrypt_log2_n = 10,
        .scrypt_r = 8,
        .scrypt_p = 1,
        .test_seed = v[V_SEED].val,
    };
    struct pkg_writer_params pp = p;
    struct pkg_writer *w;
    struct pkg_header h = {.log2_n = 10, .scrypt_r = 8, .scrypt_p = 1};

    assert_int_equal(key_from_raw_private(KEY_ED25519, v[V_CENTER].val, &center), 0);
    assert_int_equal(key_from_raw_private(KEY_X25519, v[V_ROOM].val, &room), 0);
    key_public_raw(center, v[V_CENTER_PUB].val);
    key_public_raw(room, v[V_ROOM_PUB].val);
    v[V_CENTER_PUB].len = v[V_ROOM_PUB].len = 32;
    assert_int_equal(key_from_raw_public(KEY_X25519, v[V_ROOM_PUB].val, &room_pub), 0);

    /* Each step of the key schedule, as the document writes it. */
    assert_int_equal(kdf_hkdf(NULL, 0, v[V_SEED].val, 32, "examroom/test-seed/secret/0", 27,
                              v[V_SECRET].val, 32),
                     0);
    assert_int_equal(
        kdf_hkdf(NULL, 0, v[V_SEED].val, 32, "examroom/test-seed/ephemeral/0", 30, eph_raw, 32), 0);
    assert_int_equal(
        kdf_hkdf(NULL, 0, v[V_SEED].val, 32, "examroom/test-seed/salt/0", 25, v[V_SALT].val, 16),
        0);
    assert_int_equal(key_from_raw_private(KEY_X25519, eph_raw, &eph), 0);
    key_public_raw(eph, v[V_EPH_PUB].val);
    assert_int_equal(pkg_x25519(eph, v[V_ROOM_PUB].val, shared), 0);
    assert_int_equal(pkg_wrap_key(shared, v[V_EPH_PUB].val, v[V_ROOM_PUB].val, v[V_WRAP_KEY].val),
                     0);
    assert_int_equal(pkg_seal_secret(v[V_WRAP_KEY].val, v[V_SECRET].val, v[V_WRAPPED].val), 0);
    memcpy(h.session_keys = calloc(1, sizeof(*h.session_keys)), v[V_SALT].val, 16);
    assert_int_equal(pkg_code_key(&h, 0, v[V_CODE].val, v[V_CODE_KEY].val), 0);
    free(h.session_keys);
    assert_int_equal(
        pkg_session_key(v[V_SECRET].val, v[V_CODE_KEY].val, "S1", v[V_SESSION_KEY].val), 0);
    assert_int_equal(pkg_commit(v[V_SESSION_KEY].val, v[V_COMMIT].val), 0);
    assert_int_equal(pkg_section_key(v[V_SECRET].val, 0, "roster", v[V_KEY_ROSTER].val), 0);
    assert_int_equal(pkg_section_key(v[V_SESSION_KEY].val, 1, "paper/S1", v[V_KEY_PAPER].val), 0);
    v[V_SECRET].len = v[V_EPH_PUB].len = v[V_WRAP_KEY].len = v[V_CODE_KEY].len = 32;
    v[V_SESSION_KEY].len = v[V_COMMIT].len = v[V_KEY_ROSTER].len = v[V_KEY_PAPER].len = 32;
    v[V_SALT].len = 16;
    v[V_WRAPPED].len = 48;

    /* The package itself. */
    snprintf(path, sizeof(path), "%s/vector.pkg", dir);
    pp.center_key = center;
    pp.room_key = room_pub;
    assert_int_equal(pkg_writer_new(&pp, path, &w), 0);
    assert_int_equal(pkg_writer_begin(w, "roster", NULL), 0);
    assert_int_equal(pkg_writer_write(w, v[V_ROSTER].val, v[V_ROSTER].len), 0);
    assert_int_equal(pkg_writer_end(w), 0);
    assert_int_equal(pkg_writer_begin(w, "paper/S1", "S1"), 0);
    assert_int_equal(pkg_writer_write(w, v[V_PAPER].val, v[V_PAPER].len), 0);
    assert_int_equal(pkg_writer_end(w), 0);
    assert_int_equal(pkg_writer_finish(w), 0);
    pkg_writer_free(w);
    f = fopen(path, "rb");
    v[V_PACKAGE].len = fread(v[V_PACKAGE].val, 1, VEC_MAX, f);
    fclose(f);
    assert_true(v[V_PACKAGE].len < VEC_MAX);
    {
        uint32_t hl = (uint32_t)v[V_PACKAGE].val[8] << 24 | (uint32_t)v[V_PACKAGE].val[9] << 16 |
                      (uint32_t)v[V_PACKAGE].val[10] << 8 | v[V_PACKAGE].val[11];

        EVP_Digest(v[V_PACKAGE].val, 12 + hl, v[V_PACKAGE_ID].val, NULL, EVP_sha256(), NULL);
        v[V_PACKAGE_ID].len = 32;
    }

    /* And the reader gets back what went in. */
    {
        const struct pkg_trust t = {center, room, 1, 1796400000};
        struct pkg_reader *r;
        struct vec got = {0};
        uint8_t key[32];

        assert_int_equal(pkg_open(path, &t, &r), 0);
        assert_memory_equal(pkg_get_info(r)->package_id, v[V_PACKAGE_ID].val, 32);
        assert_int_equal(pkg_verify(r), 0);
        assert_int_equal(pkg_unlock(r, "S1", v[V_CODE].val, key), 0);
        assert_memory_equal(key, v[V_SESSION_KEY].val, 32);
        assert_int_equal(pkg_read(r, "roster", NULL, collect_sink, &got), 0);
        assert_int_equal(got.len, v[V_ROSTER].len);
        assert_memory_equal(got.val, v[V_ROSTER].val, got.len);
        got.len = 0;
        assert_int_equal(pkg_read(r, "paper/S1", key, collect_sink, &got), 0);
        assert_int_equal(got.len, v[V_PAPER].len);
        assert_memory_equal(got.val, v[V_PAPER].val, got.len);
        pkg_close(r);
    }
    unlink(path);
    compute_vector_b(v, dir, center, room_pub);
    key_free(center);
    key_free(room);
    key_free(room_pub);
    key_free(eph);
}

static void docs_vector_matches(void **state)
{
    struct fixture *f = *state;
    static const char *names[V_COUNT] = {
        "center_private",
        "room_private",
        "test_seed",
        "unlock_code_S1",
        "roster",
        "paper_S1",
        "center_public",
        "room_public",
        "secret",
        "eph_public",
        "wrap_key",
        "wrapped",
        "salt_S1",
        "code_key_S1",
        "session_key_S1",
        "commit_S1",
        "section_key_roster",
        "section_key_paper_S1",
        "package_id",
        "package",
        "B_header",
        "B_links_photos",
        "B_package_length",
        "B_package_sha256",
    };
    static struct vec v[V_COUNT], d;
    char *doc = read_text(EXAMROOM_SOURCE_DIR "/docs/package-format.md");
    int printing = getenv("EXAMROOM_PRINT_VECTORS") != NULL, bad = 0;

    for (int i = 0; i < V_COUNT; i++)
        v[i].name = names[i];
    /* The inputs are fixed here; the document must show the same. */
    from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", &v[V_CENTER]);
    from_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", &v[V_ROOM]);
    from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", &v[V_SEED]);
    from_hex("deadbeefcafebabe12345660", &v[V_CODE]); /* VTPVX-VYAZT-XBW4H-MASG~ */
    memcpy(v[V_ROSTER].val, "R01,1,4401000726000001\nR01,2,4401000726000003\n", 46);
    v[V_ROSTER].len = 46;
    memcpy(v[V_PAPER].val,
           "{\"items\":[{\"id\":\"1\",\"type\":\"single\",\"key\":\"B\",\"points\":100}]}", 62);
    v[V_PAPER].len = 62;
    compute_vector(v, f->dir);

    for (int i = 0; i < V_COUNT; i++) {
        if (printing) {
            print_vec(&v[i]);
            continue;
        }
        if (doc_value(doc, names[i], &d) != 0) {
            fprintf(stderr, "docs/package-format.md has no value for %s\n", names[i]);
            bad++;
        } else if (d.len != v[i].len || memcmp(d.val, v[i].val, d.len) != 0) {
            fprintf(stderr, "docs/package-format.md: %s differs from what the code computes\n",
                    names[i]);
            bad++;
        }
    }
    free(doc);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_several_sizes),
        cmocka_unit_test(every_bit_flip_rejected),
        cmocka_unit_test(truncation_anywhere_rejected),
        cmocka_unit_test(reordered_repeated_appended_rejected),
        cmocka_unit_test(header_over_another_body_rejected),
        cmocka_unit_test(room_version_expiry_and_signer_checked),
        cmocka_unit_test(short_files_named_right),
        cmocka_unit_test(unlock_codes_checked),
        cmocka_unit_test(read_stops_at_first_bad_chunk),
        cmocka_unit_test(range_reads),
        cmocka_unit_test(writer_refuses_misuse),
        cmocka_unit_test(docs_vector_matches),
    };

    return cmocka_run_group_tests_name("package", tests, setup, teardown);
}
