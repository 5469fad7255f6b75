/* Unit tests of the USB bundle and its receipt (crypto/bundle.c): round
 * trips, and a file cut at every length or changed at every byte, each told
 * apart: cut short is always "truncated", changed never is, and neither
 * ever reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "crypto.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fixture {
    char dir[64], file[128], copy[128];
    struct key *room, *bundle, *other_bundle, *center, *other_center;
    uint8_t *bytes;
    size_t len;
};

static const char body[] =
    "{\"results\":[{\"id\":\"R01-S1-1\",\"payload\":\"e30=\",\"sig\":\"x\"}],"
    "\"head\":{\"pos\":1,\"hash\":\"00\",\"sig\":\"x\"},\"events\":[]}";

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b = malloc(1 << 20);

    assert_non_null(f);
    assert_non_null(b);
    *len = fread(b, 1, 1 << 20, f);
    fclose(f);
    return b;
}

static void spill(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    strcpy(f->dir, "/tmp/examroom-usb-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->file, sizeof(f->file), "%s/r01.usb", f->dir);
    snprintf(f->copy, sizeof(f->copy), "%s/copy.usb", f->dir);
    assert_int_equal(key_generate(KEY_ED25519, &f->room), 0);
    assert_int_equal(key_generate(KEY_X25519, &f->bundle), 0);
    assert_int_equal(key_generate(KEY_X25519, &f->other_bundle), 0);
    assert_int_equal(key_generate(KEY_ED25519, &f->center), 0);
    assert_int_equal(key_generate(KEY_ED25519, &f->other_center), 0);
    assert_int_equal(
        bundle_write(f->file, f->room, f->bundle, "P1", "R01", 1796400000, body, strlen(body)), 0);
    f->bytes = slurp(f->file, &f->len);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    DIR *d = opendir(f->dir);
    struct dirent *e;
    char path[400];

    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", f->dir, e->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(f->dir);
    key_free(f->room);
    key_free(f->bundle);
    key_free(f->other_bundle);
    key_free(f->center);
    key_free(f->other_center);
    free(f->bytes);
    free(f);
    return 0;
}

/* Only the bundle is in the directory: no temporary file is left. */
static int files_in(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void bundle_round_trip(void **state)
{
    struct fixture *f = *state;
    uint8_t *out = NULL, hash[32], want[32];
    char room_id[65], hex[65];
    uint8_t id[32];
    size_t n = 0;

    assert_int_equal(files_in(f->dir), 1);
    assert_int_equal(bundle_peek(f->file, room_id), 0);
    key_id(f->room, id);
    hex_encode(id, 32, hex);
    assert_string_equal(room_id, hex);
    assert_int_equal(bundle_read(f->file, f->room, f->bundle, &out, &n, hash), 0);
    assert_int_equal(n, strlen(body));
    assert_memory_equal(out, body, n);
    sha256(f->bytes, f->len, want);
    assert_memory_equal(hash, want, 32);
    free(out);
    /* Encrypted to another center's bundle key: said so. */
    assert_int_equal(bundle_read(f->file, f->room, f->other_bundle, &out, &n, NULL),
                     ER_USB_OTHER_CENTER);
    /* Written again over itself: replaced, still one file. */
    assert_int_equal(bundle_write(f->file, f->room, f->bundle, "P1", "R01", 1, "{}", 2), 0);
    assert_int_equal(files_in(f->dir), 1);
    /* A directory that does not exist: an error, nothing written. */
    assert_int_equal(usb_write_file("/nonexistent-examroom/x.usb", f->bytes, f->len), ER_IO);
}

static void bundle_cut_anywhere_is_truncated(void **state)
{
    struct fixture *f = *state;
    uint8_t *out = NULL;
    char room_id[65];
    size_t n = 0;

    for (size_t len = 1; len < f->len; len++) {
        spill(f->copy, f->bytes, len);
        if (bundle_read(f->copy, f->room, f->bundle, &out, &n, NULL) != ER_USB_TRUNCATED)
            fail_msg("cut at %zu of %zu: not reported as truncated", len, f->len);
        assert_int_equal(bundle_peek(f->copy, room_id), ER_USB_TRUNCATED);
    }
    assert_null(out);
}

static void bundle_changed_anywhere_is_corrupt(void **state)
{
    struct fixture *f = *state;
    uint8_t *b = malloc(f->len + 1), *out = NULL;
    size_t n = 0;

    assert_non_null(b);
    for (size_t at = 0; at < f->len; at++) {
        int rc;

        memcpy(b, f->bytes, f->len);
        b[at] ^= 0x04;
        spill(f->copy, b, f->len);
        rc = bundle_read(f->copy, f->room, f->bundle, &out, &n, NULL);
        /* The magic changed: not a bundle; anything else: damaged. */
        if (rc != (at < 8 ? ER_USB_NOT_BUNDLE : ER_USB_CORRUPT))
            fail_msg("byte %zu changed: %s", at, er_name(rc));
    }
    /* One byte more at the end: damaged too, never read. */
    memcpy(b, f->bytes, f->len);
    b[f->len] = 0;
    spill(f->copy, b, f->len + 1);
    assert_int_equal(bundle_read(f->copy, f->room, f->bundle, &out, &n, NULL), ER_USB_CORRUPT);
    assert_null(out);
    free(b);
}

/* A receipt body naming key's id as its center. */
static char *receipt_body(const struct key *key)
{
    uint8_t id[32];
    char hex[65], *text = malloc(256);

    key_id(key, id);
    hex_encode(id, 32, hex);
    snprintf(text, 256, "{\"bundle\":\"00\",\"center_key\":\"%s\",\"plan\":\"P1\"}", hex);
    return text;
}

static void receipt_checks(void **state)
{
    struct fixture *f = *state;
    char path[128], *text = receipt_body(f->center), *other = receipt_body(f->other_center);
    char *out = NULL;
    uint8_t *bytes, *file = NULL;
    size_t len, n = 0, file_len = 0;

    snprintf(path, sizeof(path), "%s/r01.usb.receipt", f->dir);
    assert_int_equal(receipt_write(path, f->center, text, strlen(text)), 0);
    bytes = slurp(path, &len);
    assert_int_equal(receipt_read(path, f->center, &out, &n, &file, &file_len), 0);
    assert_string_equal(out, text);
    assert_int_equal(file_len, len);
    assert_memory_equal(file, bytes, len);
    free(out);
    free(file);
    /* The same body, the same bytes (Ed25519 is deterministic). */
    assert_int_equal(receipt_write(path, f->center, text, strlen(text)), 0);
    {
        size_t len2;
        uint8_t *again = slurp(path, &len2);

        assert_int_equal(len2, len);
        assert_memory_equal(again, bytes, len);
        free(again);
    }
    out = NULL;
    for (size_t cut = 1; cut < len; cut++)
        if (receipt_parse(bytes, cut, f->center, &out, &n) != ER_RECEIPT_TRUNCATED)
            fail_msg("receipt cut at %zu of %zu: not reported as truncated", cut, len);
    assert_int_equal(receipt_parse(bytes, 0, f->center, &out, &n), ER_RECEIPT_NOT_RECEIPT);
    for (size_t at = 0; at < len; at++) {
        int rc;

        bytes[at] ^= 0x10;
        rc = receipt_parse(bytes, len, f->center, &out, &n);
        bytes[at] ^= 0x10;
        /* A change inside the center key id's hex may make it name
         * another center: refused as that, never read. */
        if (rc != (at < 8 ? ER_RECEIPT_NOT_RECEIPT : ER_RECEIPT_CORRUPT) &&
            rc != ER_RECEIPT_OTHER_CENTER)
            fail_msg("receipt byte %zu changed: %s", at, er_name(rc));
    }
    assert_null(out);
    /* Signed by another center, which it names: said so. Signed by another
     * key but naming ours (forged): damaged. A bundle is no receipt. */
    assert_int_equal(receipt_write(path, f->other_center, other, strlen(other)), 0);
    assert_int_equal(receipt_read(path, f->center, &out, &n, NULL, NULL), ER_RECEIPT_OTHER_CENTER);
    assert_int_equal(receipt_write(path, f->other_center, text, strlen(text)), 0);
    assert_int_equal(receipt_read(path, f->center, &out, &n, NULL, NULL), ER_RECEIPT_CORRUPT);
    assert_int_equal(receipt_read(f->file, f->center, &out, &n, NULL, NULL),
                     ER_RECEIPT_NOT_RECEIPT);
    assert_null(out);
    free(bytes);
    free(text);
    free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(bundle_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(bundle_cut_anywhere_is_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(bundle_changed_anywhere_is_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(receipt_checks, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
