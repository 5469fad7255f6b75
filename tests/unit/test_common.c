/* Unit tests of common/: error sentences, logging, full-width folding,
 * GB 11643 ID-number checks and the growable buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- errors ---- */

static const int all_codes[] = {
#define ER_LIST_ENTRY(name, value) name,
    ER_CODES(ER_LIST_ENTRY)
#undef ER_LIST_ENTRY
};

static void every_code_has_a_sentence_and_a_name(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(all_codes) / sizeof(all_codes[0]); i++) {
        const char *s = er_strerror(all_codes[i]);

        assert_true(all_codes[i] < 0);
        assert_non_null(s);
        assert_true(strlen(s) > 10);
        assert_null(strstr(s, "未知错误"));
        assert_string_not_equal(er_name(all_codes[i]), "ER_UNKNOWN");
        assert_int_equal(strncmp(er_name(all_codes[i]), "ER_", 3), 0);
        /* Codes are distinct: no two entries share a value. */
        for (size_t j = 0; j < i; j++)
            assert_int_not_equal(all_codes[i], all_codes[j]);
    }
    assert_string_equal(er_name(ER_CODE_TYPO), "ER_CODE_TYPO");
}

static void unknown_codes_name_their_number(void **state)
{
    (void)state;
    assert_non_null(strstr(er_strerror(-9999), "-9999"));
    assert_non_null(strstr(er_strerror(-9), "-9"));
    assert_non_null(strstr(er_strerror(7), "7"));
    assert_string_equal(er_name(-9999), "ER_UNKNOWN");
}

/* ---- logging ---- */

/* Runs fn with stderr pointed at a temporary file and returns what it wrote. */
static char *capture_stderr(void (*fn)(const char *journal_stream), int as_journal)
{
    char path[] = "/tmp/examroom-log-XXXXXX";
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    struct stat st;
    char env[64];
    static char buf[4096];
    ssize_t n;

    assert_true(fd >= 0 && saved >= 0);
    fflush(stderr);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    assert_int_equal(fstat(fd, &st), 0);
    snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
             as_journal ? (unsigned long long)st.st_ino : (unsigned long long)st.st_ino + 1);
    fn(env);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    n = pread(fd, buf, sizeof(buf) - 1, 0);
    assert_true(n >= 0);
    buf[n] = '\0';
    close(fd);
    unlink(path);
    return buf;
}

static void log_some(const char *journal_stream)
{
    setenv("JOURNAL_STREAM", journal_stream, 1);
    log_detect_journal();
    log_set_level(LOG_LEVEL_INFO);
    log_error("disk %s", "full");
    log_info("ready");
    log_debug("hidden at level info");
    unsetenv("JOURNAL_STREAM");
    log_detect_journal();
}

static void log_uses_journal_prefix_only_on_the_journal(void **state)
{
    const char *out;

    (void)state;
    out = capture_stderr(log_some, 1);
    assert_string_equal(out, "<3>disk full\n<6>ready\n");

    out = capture_stderr(log_some, 0);
    assert_non_null(strstr(out, "Z examroom error: disk full\n"));
    assert_non_null(strstr(out, "Z examroom info: ready\n"));
    assert_null(strstr(out, "hidden"));
    assert_null(strstr(out, "<3>"));
}

static void log_level_from_environment(void **state)
{
    (void)state;
    setenv("EXAMROOM_LOG", "debug", 1);
    log_init("examroom");
    assert_int_equal(log_get_level(), LOG_LEVEL_DEBUG);
    setenv("EXAMROOM_LOG", "warn", 1);
    log_init("examroom");
    assert_int_equal(log_get_level(), LOG_LEVEL_WARN);
    unsetenv("EXAMROOM_LOG");
    log_set_level(LOG_LEVEL_INFO);
}

/* ---- full-width folding ---- */

static void fold_fullwidth_forms(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(text_fold_fullwidth("４４０１ｘＸ－　ａ～！", out, sizeof(out)), 11);
    assert_string_equal(out, "4401xX- a~!");
    /* Other characters pass through untouched. */
    assert_int_equal(text_fold_fullwidth("考场 A1", out, sizeof(out)), (int)strlen("考场 A1"));
    assert_string_equal(out, "考场 A1");
    /* A truncated sequence at the end is copied, not read past. */
    assert_int_equal(text_fold_fullwidth("a\xEF\xBC", out, sizeof(out)), 3);
    assert_int_equal(text_fold_fullwidth("abcdef", out, 6), ER_USAGE);
    assert_int_equal(text_fold_fullwidth("abcde", out, 6), 5);
}

/* ---- ID numbers ---- */

static void id_valid_vectors(void **state)
{
    static const struct {
        const char *in, *want;
    } v[] = {
        {"445102199308191882", "445102199308191882"},
        {"44030419960428242X", "44030419960428242X"},
        {"44030419960428242x", "44030419960428242X"},
        {"  44030419960428242x\t", "44030419960428242X"},
        {"４４０３０４１９９６０４２８２４２Ｘ", "44030419960428242X"},
        {"４４０３０４１９９６０４２８２４２ｘ", "44030419960428242X"},
        {"　445102199308191882　", "445102199308191882"},
        {"11010519491231002X", "11010519491231002X"},
        {"110105200002290013", "110105200002290013"}, /* 29 Feb of a leap year */
    };
    char out[IDNUM_LEN + 1];

    (void)state;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        assert_int_equal(idnum_check(v[i].in, out), 0);
        assert_string_equal(out, v[i].want);
    }
}

static void id_invalid_vectors(void **state)
{
    static const struct {
        const char *in;
        int want;
    } v[] = {
        {"", ER_ID_LENGTH},
        {"44510219930819188", ER_ID_LENGTH},
        {"4451021993081918821", ER_ID_LENGTH},
        {"4451 02199308191882", ER_ID_LENGTH},
        {"44510219930819188X1", ER_ID_LENGTH},
        {"4451021993081918A2", ER_ID_CHAR},
        {"X45102199308191882", ER_ID_CHAR},
        {"44510219930819188?", ER_ID_CHAR},
        {"44510219930819188Y", ER_ID_CHAR},
        {"445102199302301882", ER_ID_BIRTH}, /* 30 February */
        {"445102199313011882", ER_ID_BIRTH}, /* month 13 */
        {"445102199300011882", ER_ID_BIRTH}, /* month 0 */
        {"445102199301001882", ER_ID_BIRTH}, /* day 0 */
        {"445102199304311882", ER_ID_BIRTH}, /* 31 April */
        {"445102190002291882", ER_ID_BIRTH}, /* 1900 was not a leap year */
        {"445102189912311882", ER_ID_BIRTH}, /* before 1900 */
        {"445102299901011882", ER_ID_BIRTH}, /* not born yet */
        {"445102199308191883", ER_ID_CHECK},
        {"44030419960428242 ", ER_ID_LENGTH}, /* trailing space trimmed: 17 left */
        {"440304199604282420", ER_ID_CHECK},
    };
    char out[IDNUM_LEN + 1] = "untouched";

    (void)state;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        int rc = idnum_check(v[i].in, out);

        if (rc != v[i].want)
            fail_msg("%s: got %s, want %s", v[i].in, er_name(rc), er_name(v[i].want));
    }
    assert_string_equal(out, "untouched"); /* nothing written on failure */
}

static void id_input_longer_than_any_buffer(void **state)
{
    char big[4096], out[IDNUM_LEN + 1];

    (void)state;
    memset(big, '1', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(idnum_check(big, out), ER_ID_LENGTH);
}

/* Builds a valid ID from a seed: region, a real date, sequence, check. */
static void make_id(unsigned seed, char id[IDNUM_LEN + 1])
{
    snprintf(id, IDNUM_LEN + 1, "%06u%04u%02u%02u%03u", 110000 + seed % 700000, 1950 + seed % 60,
             1 + seed % 12, 1 + seed % 28, seed % 1000);
    id[17] = idnum_check_char(id);
    id[18] = '\0';
}

/* MOD 11-2 detects every single-character substitution: each one is refused,
 * as a bad birth date where the date breaks, otherwise as a bad check. */
static void id_every_substitution_detected(void **state)
{
    static const char symbols[] = "0123456789X";
    char id[IDNUM_LEN + 1], bad[IDNUM_LEN + 1], out[IDNUM_LEN + 1];

    (void)state;
    for (unsigned seed = 1; seed < 2000; seed += 7) {
        make_id(seed * 2654435761u % 100000000u, id);
        assert_int_equal(idnum_check(id, out), 0);
        for (int pos = 0; pos < IDNUM_LEN; pos++) {
            for (const char *s = symbols; *s; s++) {
                int rc;

                if (*s == id[pos])
                    continue;
                memcpy(bad, id, sizeof(bad));
                bad[pos] = *s;
                rc = idnum_check(bad, out);
                if (pos < 17 && *s == 'X')
                    assert_int_equal(rc, ER_ID_CHAR);
                else if (pos >= 6 && pos < 14)
                    assert_true(rc == ER_ID_BIRTH || rc == ER_ID_CHECK);
                else
                    assert_int_equal(rc, ER_ID_CHECK);
            }
        }
    }
}

/* fs_write_atomic: the new bytes or the old, with the mode asked, and no
 * temporary file left behind; a directory that is not there is ER_IO. */
static void files_replaced_whole(void **state)
{
    char dir[] = "/tmp/examroom-test-common-XXXXXX", path[128], tmp[136], got[32] = {0};
    struct stat st;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/anchor", dir);
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    assert_int_equal(fs_write_atomic(path, "first\n", 6, 0600), 0);
    assert_int_equal(fs_write_atomic(path, "second", 6, 0600), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(access(tmp, F_OK), -1);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fread(got, 1, sizeof(got) - 1, f), 6);
    fclose(f);
    assert_string_equal(got, "second");
    snprintf(path, sizeof(path), "%s/missing/anchor", dir);
    assert_int_equal(fs_write_atomic(path, "x", 1, 0600), ER_IO);
    snprintf(path, sizeof(path), "%s/anchor", dir);
    unlink(path);
    rmdir(dir);
}

/* ---- dynbuf ---- */

/* The cap is reached exactly: max bytes fit, one more does not, by any of
 * the ways to add, and a refused add changes nothing. */
static void dynbuf_cap_hit_exactly_at_the_boundary(void **state)
{
    struct dynbuf b;

    (void)state;
    dynbuf_init(&b, 8);
    assert_int_equal(dynbuf_add(&b, "abcd", 4), 0);
    assert_int_equal(dynbuf_add_str(&b, "efg"), 0);
    assert_int_equal(dynbuf_printf(&b, "%c", 'h'), 0);
    assert_int_equal(b.len, 8);
    assert_string_equal(b.buf, "abcdefgh");
    assert_true(b.alloc <= 9); /* never more than the cap can use */
    assert_int_equal(dynbuf_add(&b, "i", 1), ER_TOO_LARGE);
    assert_int_equal(dynbuf_add_str(&b, "i"), ER_TOO_LARGE);
    assert_int_equal(dynbuf_printf(&b, "%d", 1), ER_TOO_LARGE);
    assert_int_equal(dynbuf_add(&b, "", 0), 0); /* nothing more still fits */
    assert_int_equal(b.len, 8);
    assert_string_equal(b.buf, "abcdefgh");
    dynbuf_free(&b);

    /* A single add that would land one past the cap. */
    dynbuf_init(&b, 5);
    assert_int_equal(dynbuf_add(&b, "abc", 3), 0);
    assert_int_equal(dynbuf_add(&b, "def", 3), ER_TOO_LARGE);
    assert_int_equal(dynbuf_printf(&b, "%s", "de"), 0);
    assert_string_equal(b.buf, "abcde");
    dynbuf_free(&b);

    /* A cap of zero holds the empty string only. */
    dynbuf_init(&b, 0);
    assert_int_equal(dynbuf_add(&b, "x", 1), ER_TOO_LARGE);
    assert_null(b.buf);
    assert_int_equal(dynbuf_add_str(&b, ""), 0);
    assert_string_equal(b.buf, "");
    dynbuf_free(&b);
}

/* Lengths that would wrap size_t are refused before any memory is touched,
 * even with no cap to speak of. */
static void dynbuf_refuses_size_t_overflow(void **state)
{
    struct dynbuf b;

    (void)state;
    dynbuf_init(&b, SIZE_MAX);
    assert_int_equal(dynbuf_add(&b, "a", 1), 0);
    assert_int_equal(dynbuf_add(&b, "x", SIZE_MAX), ER_TOO_LARGE);
    assert_int_equal(dynbuf_add(&b, "x", SIZE_MAX - 1), ER_TOO_LARGE); /* + 1 + NUL wraps */
    assert_int_equal(b.len, 1);
    assert_string_equal(b.buf, "a");
    dynbuf_free(&b);

    dynbuf_init(&b, SIZE_MAX - 1);
    assert_int_equal(dynbuf_add(&b, "x", SIZE_MAX), ER_TOO_LARGE);
    assert_null(b.buf);
    dynbuf_free(&b);
}

/* Growth past the first allocation keeps every byte, in order, with a NUL
 * after the last one; it also holds arrays of structs. */
static void dynbuf_grows_and_stays_terminated(void **state)
{
    struct dynbuf b;
    struct pair {
        int64_t a;
        char c;
    } pr;

    (void)state;
    dynbuf_init(&b, 1 << 20);
    for (size_t i = 0; i < 10000; i++) {
        char c = (char)('a' + i % 26);

        assert_int_equal(dynbuf_add(&b, &c, 1), 0);
        assert_int_equal(b.len, i + 1);
        assert_true(b.alloc >= b.len + 1);
        assert_int_equal(b.buf[b.len], '\0');
    }
    for (size_t i = 0; i < 10000; i++)
        assert_int_equal(b.buf[i], (char)('a' + i % 26));
    assert_int_equal(strlen(b.buf), 10000);
    assert_int_equal(dynbuf_printf(&b, "-%05d-%s", 42, "end"), 0);
    assert_string_equal(b.buf + 10000, "-00042-end");
    assert_int_equal(dynbuf_truncate(&b, 3), 0);
    assert_string_equal(b.buf, "abc");
    assert_int_equal(dynbuf_truncate(&b, 4), ER_USAGE);
    dynbuf_free(&b);

    dynbuf_init(&b, 100 * sizeof(pr));
    for (int i = 0; i < 100; i++) {
        pr = (struct pair){.a = (int64_t)i << 40, .c = (char)i};
        assert_int_equal(dynbuf_add(&b, &pr, sizeof(pr)), 0);
    }
    assert_int_equal(dynbuf_add(&b, &pr, sizeof(pr)), ER_TOO_LARGE);
    assert_int_equal(b.len / sizeof(pr), 100);
    assert_true(((const struct pair *)(const void *)b.buf)[99].a == (int64_t)99 << 40);
    assert_int_equal(((const struct pair *)(const void *)b.buf)[57].c, 57);
    dynbuf_free(&b);
}

/* reset keeps the memory, free releases it, take hands it over; each
 * leaves an empty buffer with its cap. */
static void dynbuf_reset_free_take(void **state)
{
    struct dynbuf b;
    size_t alloc, len = 99;
    char *p;

    (void)state;
    dynbuf_init(&b, 64);
    assert_int_equal(dynbuf_add_str(&b, "hello"), 0);
    alloc = b.alloc;
    dynbuf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.buf, "");
    assert_int_equal(b.alloc, alloc);
    assert_int_equal(dynbuf_add_str(&b, "world"), 0);
    assert_string_equal(b.buf, "world");
    p = dynbuf_take(&b, &len);
    assert_string_equal(p, "world");
    assert_int_equal(len, 5);
    assert_null(b.buf);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max, 64);
    free(p);
    p = dynbuf_take(&b, &len); /* nothing added: an empty string, not NULL */
    assert_non_null(p);
    assert_string_equal(p, "");
    assert_int_equal(len, 0);
    free(p);
    dynbuf_reset(&b); /* on an empty buffer: nothing to do */
    assert_int_equal(dynbuf_add_str(&b, "x"), 0);
    dynbuf_free(&b);
    assert_null(b.buf);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.alloc, 0);
    assert_int_equal(b.max, 64);
    dynbuf_free(&b); /* twice is harmless */
}

/* A property, libFuzzer-style but seeded: random adds, printfs and
 * truncations against a plain array as the model. The buffer always equals
 * the model, never passes its cap, and refuses exactly what would. */
static void dynbuf_matches_a_model(void **state)
{
    enum { CAP = 777 };
    char model[CAP + 1], chunk[300];
    size_t mlen = 0;
    uint32_t seed = 12345;
    struct dynbuf b;

    (void)state;
    dynbuf_init(&b, CAP);
    for (int step = 0; step < 20000; step++) {
        size_t n;
        int op, rc;

        seed = seed * 1103515245u + 12345u;
        op = (int)(seed >> 16) % 4;
        n = (seed >> 4) % sizeof(chunk);
        for (size_t i = 0; i < n; i++)
            chunk[i] = (char)('A' + (i + (size_t)step) % 50);
        if (op == 0 || op == 1) {
            rc = dynbuf_add(&b, chunk, n);
            assert_int_equal(rc, mlen + n <= CAP ? 0 : ER_TOO_LARGE);
        } else if (op == 2) {
            n %= 40;
            chunk[n] = '\0';
            rc = dynbuf_printf(&b, "<%s>", chunk);
            n += 2;
            memmove(chunk + 1, chunk, n - 2);
            chunk[0] = '<';
            chunk[n - 1] = '>';
            assert_int_equal(rc, mlen + n <= CAP ? 0 : ER_TOO_LARGE);
        } else {
            n = mlen > 0 ? (seed >> 8) % (mlen + 1) : 0;
            assert_int_equal(dynbuf_truncate(&b, n), 0);
            mlen = n;
            rc = -1;
        }
        if (rc == 0) {
            memcpy(model + mlen, chunk, n);
            mlen += n;
        }
        assert_int_equal(b.len, mlen);
        assert_true(b.alloc <= CAP + 1);
        if (b.buf != NULL) {
            assert_memory_equal(b.buf, model, mlen);
            assert_int_equal(b.buf[mlen], '\0');
        }
    }
    dynbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_code_has_a_sentence_and_a_name),
        cmocka_unit_test(unknown_codes_name_their_number),
        cmocka_unit_test(log_uses_journal_prefix_only_on_the_journal),
        cmocka_unit_test(log_level_from_environment),
        cmocka_unit_test(fold_fullwidth_forms),
        cmocka_unit_test(id_valid_vectors),
        cmocka_unit_test(id_invalid_vectors),
        cmocka_unit_test(id_input_longer_than_any_buffer),
        cmocka_unit_test(id_every_substitution_detected),
        cmocka_unit_test(files_replaced_whole),
        cmocka_unit_test(dynbuf_cap_hit_exactly_at_the_boundary),
        cmocka_unit_test(dynbuf_refuses_size_t_overflow),
        cmocka_unit_test(dynbuf_grows_and_stays_terminated),
        cmocka_unit_test(dynbuf_reset_free_take),
        cmocka_unit_test(dynbuf_matches_a_model),
    };

    return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
