/* Unit tests of the exam plan importer (center/plan*.c): the sample plan of
 * tests/fixtures, generated plans of several sizes, one broken plan per
 * validation rule (each problem at its exact FILE:LINE, nothing imported),
 * the line numbers of the JSON and CSV readers, and the seat arrangement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "plan_internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FIXTURE EXAMROOM_SOURCE_DIR "/tests/fixtures/sample-plan"

struct fx {
    char root[64], plan[96], data[96];
    sqlite3 *db;
    struct plan_diags d;
    struct plan_summary sum;
};

/* ---- files ---- */

static void rm_tree(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;

    if (lstat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    d = opendir(path);
    while (d != NULL && (e = readdir(d)) != NULL) {
        char sub[1024];

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        rm_tree(sub);
    }
    if (d != NULL)
        closedir(d);
    rmdir(path);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len != NULL)
        *len = (size_t)n;
    return buf;
}

static void spit(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void copy_tree(const char *from, const char *to)
{
    DIR *d = opendir(from);
    struct dirent *e;

    assert_non_null(d);
    assert_int_equal(mkdir(to, 0755), 0);
    while ((e = readdir(d)) != NULL) {
        char a[1024], b[1024];
        struct stat st;

        if (e->d_name[0] == '.')
            continue;
        snprintf(a, sizeof(a), "%s/%s", from, e->d_name);
        snprintf(b, sizeof(b), "%s/%s", to, e->d_name);
        assert_int_equal(stat(a, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            copy_tree(a, b);
        } else {
            size_t n;
            char *buf = slurp(a, &n);

            spit(b, buf, n);
            free(buf);
        }
    }
    closedir(d);
}

static void path_of(const struct fx *f, const char *rel, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", f->plan, rel);
}

/* Replaces the first occurrence of old in the plan's file rel. */
static void edit(const struct fx *f, const char *rel, const char *old, const char *new)
{
    char path[256], *out;
    size_t n;
    char *text, *at;

    path_of(f, rel, path, sizeof(path));
    text = slurp(path, &n);
    at = strstr(text, old);
    if (at == NULL)
        fail_msg("%s: no \"%s\" to replace", rel, old);
    out = malloc(n + strlen(new) + 1);
    assert_non_null(out);
    memcpy(out, text, (size_t)(at - text));
    strcpy(out + (at - text), new);
    strcat(out, at + strlen(old));
    spit(path, out, strlen(out));
    free(out);
    free(text);
}

static void put(const struct fx *f, const char *rel, const char *text)
{
    char path[256];

    path_of(f, rel, path, sizeof(path));
    spit(path, text, strlen(text));
}

/* ---- fixture ---- */

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    strcpy(f->root, "/tmp/examroom-plan-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->plan, sizeof(f->plan), "%s/plan", f->root);
    snprintf(f->data, sizeof(f->data), "%s/data", f->root);
    copy_tree(FIXTURE, f->plan);
    assert_int_equal(center_db_open(f->data, &f->db), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    sqlite3_close(f->db);
    plan_diags_free(&f->d);
    rm_tree(f->root);
    free(f);
    return 0;
}

static int import_dir(struct fx *f, const char *dir)
{
    plan_diags_free(&f->d);
    return plan_import(f->db, dir, &f->d, &f->sum);
}

static int import(struct fx *f)
{
    return import_dir(f, f->plan);
}

static long query_long(const struct fx *f, const char *sql)
{
    sqlite3_stmt *st;
    long v = -1;

    assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Rows in every table the importer writes. */
static long rows(const struct fx *f)
{
    return query_long(f, "SELECT (SELECT count(*) FROM plans) + (SELECT count(*) FROM rooms)"
                         " + (SELECT count(*) FROM sessions) + (SELECT count(*) FROM papers)"
                         " + (SELECT count(*) FROM session_papers)"
                         " + (SELECT count(*) FROM candidates)");
}

static void dump_diags(const struct fx *f)
{
    for (size_t i = 0; i < f->d.n; i++)
        print_message("  %s:%d: %s\n", f->d.v[i].file, f->d.v[i].line, f->d.v[i].msg);
}

/* Problem i is at file:line and its message contains needle. */
static void expect_diag(const struct fx *f, size_t i, const char *file, int line,
                        const char *needle)
{
    if (i >= f->d.n || strcmp(f->d.v[i].file, file) != 0 || f->d.v[i].line != line ||
        strstr(f->d.v[i].msg, needle) == NULL) {
        dump_diags(f);
        fail_msg("wanted problem %zu at %s:%d with \"%s\"", i, file, line, needle);
    }
}

/* The import fails, nothing is written, and the only problem is the one
 * wanted. */
static void expect_only(struct fx *f, const char *file, int line, const char *needle)
{
    int rc = import(f);

    if (rc != ER_PLAN_INVALID || f->d.n != 1) {
        dump_diags(f);
        fail_msg("wanted one problem (%s:%d), got rc %d and %zu", file, line, rc, f->d.n);
    }
    expect_diag(f, 0, file, line, needle);
    assert_int_equal(rows(f), 0);
}

/* ---- the sample plan (tests/fixtures, like ../shared/data/sample-plan) ---- */

static void sample_plan_imports(void **state)
{
    struct fx *f = *state;
    sqlite3_stmt *st;
    const void *code[2];
    uint8_t codes[2][12];
    int n = 0;

    assert_int_equal(import(f), 0);
    assert_int_equal(f->d.n, 0);
    assert_string_equal(f->sum.id, "20261205-广东省华立高级技工学校");
    assert_int_equal(f->sum.candidates, 40);
    assert_int_equal(f->sum.arranged, 4);
    assert_int_equal(query_long(f, "SELECT count(*) FROM rooms"), 2);
    assert_int_equal(query_long(f, "SELECT count(*) FROM sessions"), 2);
    assert_int_equal(query_long(f, "SELECT count(*) FROM papers"), 2); /* once per plan */
    assert_int_equal(query_long(f, "SELECT count(*) FROM session_papers"), 4);
    assert_int_equal(query_long(f, "SELECT count(*) FROM candidates"), 40);
    assert_int_equal(query_long(f, "SELECT pass_mark FROM plans"), 60);
    /* 2026-12-05 09:00 and 15:30 in Asia/Shanghai, in UTC seconds. */
    assert_int_equal(query_long(f, "SELECT starts_at FROM sessions WHERE id = 'S1'"), 1796432400);
    assert_int_equal(query_long(f, "SELECT ends_at FROM sessions WHERE id = 'S2'"),
                     1796450400 + 5400);
    /* Unlock codes: 12 bytes, one per session, not the same. */
    assert_int_equal(
        sqlite3_prepare_v2(f->db, "SELECT unlock_code FROM sessions ORDER BY id", -1, &st, NULL),
        SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW && n < 2) {
        assert_int_equal(sqlite3_column_bytes(st, 0), 12);
        code[n] = sqlite3_column_blob(st, 0);
        memcpy(codes[n], code[n], 12);
        n++;
    }
    sqlite3_finalize(st);
    assert_int_equal(n, 2);
    assert_memory_not_equal(codes[0], codes[1], 12);
    /* The paper body is the paper's JSON, compact, keys included. */
    assert_int_equal(query_long(f, "SELECT instr(body, '\"key\":\"B\"') > 0 AND"
                                   " instr(body, char(10)) = 0 FROM papers"
                                   " WHERE path = 'papers/computer-operator-4.json'"),
                     1);
    assert_int_equal(query_long(f, "SELECT length(photo) FROM candidates"
                                   " WHERE ticket = '4401000726000001'"),
                     1508);
}

/* The four candidates without a seat get the free seats in ascending order,
 * taken in the order occupation, level, ticket. */
static void sample_plan_unseated_are_arranged(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *session, *ticket;
        long seat;
    } want[] = {
        /* R02 in S1 has seats 1-4 and 6-9 given: 5 and 10 are the first free. */
        {"S1", "4401000726000010", 5},
        {"S1", "4401000726000020", 10},
        /* In S2, 电子商务师 (U+7535) sorts before 计算机操作员 (U+8BA1). */
        {"S2", "4401000726000030", 5},
        {"S2", "4401000726000040", 10},
    };

    assert_int_equal(import(f), 0);
    assert_int_equal(query_long(f, "SELECT count(*) FROM candidates WHERE seat_arranged = 1"), 4);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        char sql[256];

        snprintf(sql, sizeof(sql),
                 "SELECT seat FROM candidates WHERE session_id = '%s' AND ticket = '%s'"
                 " AND room_id = 'R02' AND seat_arranged = 1",
                 want[i].session, want[i].ticket);
        assert_int_equal(query_long(f, sql), want[i].seat);
    }
}

/* Occupation comes before ticket: with 电子商务师 unseated too, it is
 * placed first although its ticket is larger. */
static void arrangement_orders_by_occupation_then_ticket(void **state)
{
    struct fx *f = *state;

    edit(f, "candidates.csv", "计算机操作员,四级,S1,R02,1,", "计算机操作员,四级,S1,R02,,");
    edit(f, "candidates.csv", "电子商务师,四级,S1,R02,3,", "电子商务师,四级,S1,R02,,");
    assert_int_equal(import(f), 0);
    assert_int_equal(f->sum.arranged, 6);
    assert_int_equal(query_long(f, "SELECT seat FROM candidates WHERE session_id = 'S1' AND"
                                   " ticket = '4401000726000006'"),
                     1);
    assert_int_equal(query_long(f, "SELECT seat FROM candidates WHERE session_id = 'S1' AND"
                                   " ticket = '4401000726000002'"),
                     3);
    assert_int_equal(query_long(f, "SELECT seat FROM candidates WHERE session_id = 'S1' AND"
                                   " ticket = '4401000726000010'"),
                     5);
    assert_int_equal(query_long(f, "SELECT seat FROM candidates WHERE session_id = 'S1' AND"
                                   " ticket = '4401000726000020'"),
                     10);
}

static void same_plan_twice_is_refused(void **state)
{
    struct fx *f = *state;
    long before;

    assert_int_equal(import(f), 0);
    before = rows(f);
    assert_int_equal(import(f), ER_PLAN_EXISTS);
    assert_string_equal(f->sum.id, "20261205-广东省华立高级技工学校");
    assert_int_equal(rows(f), before);
}

/* Full-width digits, a lower-case x and spaces are folded; other ID types
 * are kept as given (trimmed); a BOM and CRLF line ends are accepted. */
static void input_is_normalised(void **state)
{
    struct fx *f = *state;
    char path[256], *text, *crlf;
    size_t n, k = 3;

    edit(f, "candidates.csv", "44030419960428242X", " ４４０３０４１９９６０４２８２４２x ");
    edit(f, "candidates.csv", "计算机操作员,四级,S1,R01,3,", "计算机操作员,四级,S1,R01,３,");
    edit(f, "candidates.csv", "居民身份证,440106199512245340", "护照, E1234567x ");
    path_of(f, "candidates.csv", path, sizeof(path));
    text = slurp(path, &n);
    crlf = malloc(2 * n + 4);
    assert_non_null(crlf);
    memcpy(crlf, "\xEF\xBB\xBF", 3);
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\n')
            crlf[k++] = '\r';
        crlf[k++] = text[i];
    }
    spit(path, crlf, k);
    free(crlf);
    free(text);
    assert_int_equal(import(f), 0);
    assert_int_equal(query_long(f, "SELECT count(*) FROM candidates WHERE"
                                   " id_number = '44030419960428242X' AND seat = 2"),
                     1);
    assert_int_equal(query_long(f, "SELECT seat FROM candidates WHERE ticket = '4401000726000005'"),
                     3);
    assert_int_equal(query_long(f, "SELECT count(*) FROM candidates WHERE id_type = '护照'"
                                   " AND id_number = 'E1234567x'"),
                     1);
}

/* ---- generated plans ---- */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void import_generated(struct fx *f, unsigned n, unsigned rooms)
{
    struct plan_sample_opts o = {.candidates = n,
                                 .rooms = rooms,
                                 .start_in_minutes = 60,
                                 .seed = 7,
                                 .now = (int64_t)time(NULL)};
    char dir[128];
    double t0, t1, t2;

    /* A database of its own: every generated plan of the same day has the
     * same id. */
    sqlite3_close(f->db);
    snprintf(dir, sizeof(dir), "%s/data-%u-%u", f->root, n, rooms);
    assert_int_equal(center_db_open(dir, &f->db), 0);
    snprintf(dir, sizeof(dir), "%s/gen-%u-%u", f->root, n, rooms);
    t0 = now_s();
    assert_int_equal(plan_sample_write(dir, &o), 0);
    t1 = now_s();
    if (import_dir(f, dir) != 0) {
        dump_diags(f);
        fail_msg("the generated plan of %u candidates does not import", n);
    }
    t2 = now_s();
    print_message("  plan sample --candidates %u: written in %.3f s, imported in %.3f s\n", n,
                  t1 - t0, t2 - t1);
    assert_int_equal(f->sum.candidates, n);
    assert_int_equal(f->sum.sessions, 2);
    assert_true(f->sum.arranged > 0);
    rm_tree(dir);
}

static void generated_plans_import(void **state)
{
    struct fx *f = *state;

    import_generated(f, 10, 0);
    import_generated(f, 300, 0);
    import_generated(f, 3000, 0);
}

static void generated_plan_shape(void **state)
{
    struct fx *f = *state;

    import_generated(f, 20, 1);
    /* Two occupations share the room (混排) in each session. */
    assert_int_equal(query_long(f, "SELECT count(*) FROM (SELECT DISTINCT session_id, occupation"
                                   " FROM candidates WHERE room_id = 'R01')"),
                     4);
    /* One or two candidates carry another ID type, stored as given. */
    assert_int_equal(query_long(f, "SELECT count(*) FROM candidates WHERE id_type <> '居民身份证'"),
                     2);
    /* 90 minutes each, S2 half an hour after S1, whatever the time of day
     * (a session past midnight in Beijing ends the next day). */
    {
        long s1_start = query_long(f, "SELECT starts_at FROM sessions WHERE id = 'S1'");
        long s1_end = query_long(f, "SELECT ends_at FROM sessions WHERE id = 'S1'");
        long s2_start = query_long(f, "SELECT starts_at FROM sessions WHERE id = 'S2'");
        long s2_end = query_long(f, "SELECT ends_at FROM sessions WHERE id = 'S2'");

        assert_int_equal(s1_end - s1_start, 5400);
        assert_int_equal(s2_start, s1_end + 1800);
        assert_int_equal(s2_end - s2_start, 5400);
    }
    assert_int_equal(query_long(f, "SELECT count(*) FROM sessions WHERE starts_at <"
                                   " strftime('%s', 'now') + 3600"),
                     0);
}

static void generated_plan_is_deterministic(void **state)
{
    struct fx *f = *state;
    struct plan_sample_opts o = {
        .candidates = 50, .start_in_minutes = 60, .seed = 3, .now = 1796432400};
    char a[128], b[128], *x, *y;
    static const char *const files[] = {"candidates.csv", "plan.json", "papers/e-commerce-4.json"};

    snprintf(a, sizeof(a), "%s/a", f->root);
    snprintf(b, sizeof(b), "%s/b", f->root);
    assert_int_equal(plan_sample_write(a, &o), 0);
    assert_int_equal(plan_sample_write(b, &o), 0);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char pa[256], pb[256];

        snprintf(pa, sizeof(pa), "%s/%s", a, files[i]);
        snprintf(pb, sizeof(pb), "%s/%s", b, files[i]);
        x = slurp(pa, NULL);
        y = slurp(pb, NULL);
        assert_string_equal(x, y);
        free(x);
        free(y);
    }
    /* 2026-12-05 01:00 UTC is 09:00 in Beijing: the first session starts at
     * 10:01, an hour after the next whole minute. */
    snprintf(a, sizeof(a), "%s/a/plan.json", f->root);
    x = slurp(a, NULL);
    assert_non_null(strstr(x, "\"id\": \"20261205-示例职业技能鉴定中心\""));
    assert_non_null(strstr(x, "\"start\": \"10:01\""));
    assert_non_null(strstr(x, "\"start\": \"12:01\""));
    free(x);
    /* The directory must be new or empty. */
    assert_int_equal(plan_sample_write(b, &o), ER_USAGE);
}

/* ---- one broken plan per validation rule ---- */

static void rule_plan_id(void **state)
{
    struct fx *f = *state;

    edit(f, "plan.json", "20261205-广东", "2026125-广东");
    expect_only(f, "plan.json", 2, "计划编号“2026125-广东省华立高级技工学校”不符合");
    edit(f, "plan.json", "2026125-广东", "20261305-广东"); /* no 13th month */
    expect_only(f, "plan.json", 2, "20261305");
    edit(f, "plan.json", "20261305-广东省华立高级技工学校", "20261205-");
    expect_only(f, "plan.json", 2, "YYYYMMDD-机构名称");
}

static void rule_id_number(void **state)
{
    struct fx *f = *state;

    edit(f, "candidates.csv", "44030419960428242X", "440304199604282428");
    edit(f, "candidates.csv", "441302197804114171", "44130219780411417");
    edit(f, "candidates.csv", "445102198506112933", "445102198502302933");
    edit(f, "candidates.csv", "441302200109067371", "4413022001090673A1");
    assert_int_equal(import(f), ER_PLAN_INVALID);
    assert_int_equal(f->d.n, 4);
    expect_diag(f, 0, "candidates.csv", 5, "证件号码“440304199604282428”无效：校验位不符");
    expect_diag(f, 1, "candidates.csv", 6, "应为 18 位");
    expect_diag(f, 2, "candidates.csv", 7, "出生日期");
    expect_diag(f, 3, "candidates.csv", 8, "只能是数字");
    assert_int_equal(rows(f), 0);
}

static void rule_id_type(void **state)
{
    struct fx *f = *state;

    edit(f, "candidates.csv", "女,居民身份证,440304199406262348", "女,身份证,440304199406262348");
    expect_only(f, "candidates.csv", 3, "证件类型“身份证”无效");
}

static void rule_duplicate_ticket(void **state)
{
    struct fx *f = *state;

    edit(f, "candidates.csv", "4401000726000003,欧阳杰", "4401000726000001,欧阳杰");
    expect_only(f, "candidates.csv", 4, "场次 S1 中准考证号“4401000726000001”重复（第 2 行已有）");
}

static void rule_duplicate_id(void **state)
{
    struct fx *f = *state;

    edit(f, "candidates.csv", "440111198809288970", "445102199308191882");
    expect_only(f, "candidates.csv", 4,
                "场次 S1 中证件号码“445102199308191882”重复（第 2 行已有）");
}

static void same_ticket_in_two_sessions_is_fine(void **state)
{
    struct fx *f = *state;

    /* One candidate sitting both sessions. */
    edit(f, "candidates.csv", "4401000726000021,郑晓", "4401000726000001,郑晓");
    assert_int_equal(import(f), 0);
}

static void rule_unknown_session(void **state)
{
    struct fx *f = *state;

    edit(f, "candidates.csv", "S1,R02,1,4401000726000002", "S9,R02,1,4401000726000002");
    expect_only(f, "candidates.csv", 3, "场次“S9”不在 plan.json 中");
}

static void rule_unknown_room(void **state)
{
    struct fx *f = *state;

    edit(f, "candidates.csv", "S1,R02,1,4401000726000002", "S1,R09,1,4401000726000002");
    expect_only(f, "candidates.csv", 3, "考场“R09”不在 plan.json 中");
}

static void rule_unknown_occupation_level(void **state)
{
    struct fx *f = *state;

    edit(f, "candidates.csv", "四级,S1,R02,1,4401000726000002", "五级,S1,R02,1,4401000726000002");
    expect_only(f, "candidates.csv", 3, "场次 S1 没有职业“计算机操作员”等级“五级”的试卷");
}

static void rule_seat_beyond_room(void **state)
{
    struct fx *f = *state;

    edit(f, "candidates.csv", "S1,R02,1,4401000726000002", "S1,R02,33,4401000726000002");
    expect_only(f, "candidates.csv", 3, "座位号 33 超出考场 R02 的座位数（32）");
}

static void rule_seat_taken_twice(void **state)
{
    struct fx *f = *state;

    edit(f, "candidates.csv", "S1,R01,3,4401000726000005", "S1,R01,1,4401000726000005");
    expect_only(f, "candidates.csv", 6, "场次 S1 考场 R01 的座位号 1 已被第 2 行的考生占用");
}

static void rule_seat_format(void **state)
{
    struct fx *f = *state;

    edit(f, "candidates.csv", "S1,R02,1,4401000726000002", "S1,R02,A1,4401000726000002");
    expect_only(f, "candidates.csv", 3, "座位号“A1”无效");
}

static void rule_not_enough_seats(void **state)
{
    struct fx *f = *state;

    edit(f, "plan.json", "\"第二考场\",\n   \"seats\": 32", "\"第二考场\",\n   \"seats\": 9");
    assert_int_equal(import(f), ER_PLAN_INVALID);
    assert_int_equal(f->d.n, 2);
    /* Seat 5 goes to ticket 10; ticket 20 is the first left without one. */
    expect_diag(f, 0, "candidates.csv", 21, "场次 S1 考场 R02 的空座位不够：本行起还有 1 名");
    expect_diag(f, 1, "candidates.csv", 41, "场次 S2 考场 R02 的空座位不够");
    assert_int_equal(rows(f), 0);
}

static void rule_photo_missing(void **state)
{
    struct fx *f = *state;
    char path[256];

    path_of(f, "photos/4401000726000007.jpg", path, sizeof(path));
    assert_int_equal(unlink(path), 0);
    expect_only(f, "candidates.csv", 8, "照片文件 photos/4401000726000007.jpg 不存在");
}

static void rule_photo_not_jpeg(void **state)
{
    struct fx *f = *state;
    char path[256], *jpeg, *padded;
    size_t n;

    put(f, "photos/4401000726000009.jpg", "GIF89a\x01\x00\x01\x00");
    path_of(f, "photos/4401000726000011.jpg", path, sizeof(path));
    jpeg = slurp(path, &n);
    spit(path, jpeg, 100); /* cut short: no EOI */
    /* Zero bytes after EOI are accepted. */
    path_of(f, "photos/4401000726000013.jpg", path, sizeof(path));
    free(jpeg);
    jpeg = slurp(path, &n);
    padded = calloc(1, n + 512);
    assert_non_null(padded);
    memcpy(padded, jpeg, n);
    spit(path, padded, n + 512);
    free(padded);
    free(jpeg);
    assert_int_equal(import(f), ER_PLAN_INVALID);
    assert_int_equal(f->d.n, 2);
    expect_diag(f, 0, "candidates.csv", 10, "photos/4401000726000009.jpg 不是 JPEG 图片");
    expect_diag(f, 1, "candidates.csv", 12, "photos/4401000726000011.jpg 不是 JPEG 图片");
    assert_int_equal(rows(f), 0);
}

static void rule_photo_name(void **state)
{
    struct fx *f = *state;

    edit(f, "candidates.csv", "4401000726000002.jpg", "../plan.json");
    expect_only(f, "candidates.csv", 3, "照片文件名“../plan.json”无效");
}

static void rule_key_fits_item_type(void **state)
{
    struct fx *f = *state;
    const char *paper = "papers/computer-operator-4.json";

    edit(f, paper, "\"key\": \"B\"", "\"key\": \"E\"");     /* item 1, single: no option E */
    edit(f, paper, "\"key\": \"ABD\"", "\"key\": \"DBA\""); /* item 9, multiple: not in order */
    edit(f, paper, "\"key\": \"F\"", "\"key\": \"X\"");     /* item 13, judge */
    assert_int_equal(import(f), ER_PLAN_INVALID);
    assert_int_equal(f->d.n, 3);
    expect_diag(f, 0, paper, 17, "单选题 1 的答案“E”不符合题型");
    expect_diag(f, 1, paper, 121, "多选题 9 的答案“DBA”不符合题型");
    expect_diag(f, 2, paper, 168, "判断题 13 的答案“X”不符合题型");
    assert_int_equal(rows(f), 0);
}

static void rule_multiple_needs_two_letters(void **state)
{
    struct fx *f = *state;
    const char *paper = "papers/computer-operator-4.json";

    edit(f, paper, "\"key\": \"ABD\"", "\"key\": \"A\"");
    expect_only(f, paper, 121, "多选题 9 的答案“A”");
}

static void rule_options(void **state)
{
    struct fx *f = *state;
    const char *paper = "papers/computer-operator-4.json";

    edit(f, paper, "\"options\": {},", "\"options\": {\"A\": \"对\"},"); /* item 13, judge */
    edit(f, paper, "\"A\": \"Shift\",", "\"a\": \"Shift\",");            /* item 1 */
    assert_int_equal(import(f), ER_PLAN_INVALID);
    /* Key B of item 1 still fits the options left; a judge key F always does. */
    assert_int_equal(f->d.n, 2);
    expect_diag(f, 0, paper, 12, "选项键“a”无效");
    expect_diag(f, 1, paper, 167, "判断题 13 的 options 应为空对象");
    assert_int_equal(rows(f), 0);
}

static void rule_points(void **state)
{
    struct fx *f = *state;
    const char *paper = "papers/computer-operator-4.json";

    edit(f, paper, "\"points\": 5", "\"points\": 6"); /* item 1 */
    expect_only(f, paper, 6, "试卷总分为 101 分，应为 100 分");
    edit(f, paper, "\"points\": 6", "\"points\": 0");
    expect_only(f, paper, 18, "试题 1 的分值应为正整数");
}

static void rule_item_id_unique(void **state)
{
    struct fx *f = *state;
    const char *paper = "papers/computer-operator-4.json";

    edit(f, paper, "\"id\": \"2\"", "\"id\": \"1\"");
    expect_only(f, paper, 21, "试题编号“1”重复（第 7 行已有）");
}

/* Item ids end up in the answer's URL: the id rule of rooms and sessions. */
static void rule_item_id_format(void **state)
{
    struct fx *f = *state;
    const char *paper = "papers/computer-operator-4.json";

    edit(f, paper, "\"id\": \"2\"", "\"id\": \"2/3\"");
    expect_only(f, paper, 21, "编号“2/3”无效：应为 1 至 32 个字母、数字、- 或 _");
}

static void rule_item_type(void **state)
{
    struct fx *f = *state;
    const char *paper = "papers/e-commerce-4.json";

    edit(f, paper, "\"type\": \"single\"", "\"type\": \"choice\"");
    expect_only(f, paper, 9, "试题类型“choice”无效");
}

static void rule_times_overlap(void **state)
{
    struct fx *f = *state;

    edit(f, "plan.json", "\"start\": \"14:00\"", "\"start\": \"10:00\"");
    expect_only(f, "plan.json", 48,
                "场次 S2（2026-12-05 10:00-15:30）与场次 S1（2026-12-05 09:00-10:30）时间重叠，两场"
                "在考场 R01 都有考生");
    /* [09:00, 10:30) and [10:30, 15:30) do not overlap. */
    edit(f, "plan.json", "\"start\": \"10:00\"", "\"start\": \"10:30\"");
    assert_int_equal(import(f), 0);
}

static void overlap_without_a_shared_room_is_fine(void **state)
{
    struct fx *f = *state;
    char path[256], *text, *p;

    /* Every S2 candidate moves to R02, which S1 has too: still an overlap;
     * then S1's R02 candidates move to R01, and the rooms are apart. */
    edit(f, "plan.json", "\"start\": \"14:00\"", "\"start\": \"10:00\"");
    path_of(f, "candidates.csv", path, sizeof(path));
    text = slurp(path, NULL);
    while ((p = strstr(text, ",S2,R01,")) != NULL)
        memcpy(p, ",S2,R02,", 8);
    while ((p = strstr(text, ",S1,R02,")) != NULL)
        memcpy(p, ",S1,R01,", 8);
    /* Seats collide now; let the arrangement place everyone. */
    for (p = strstr(text, ",S1,R01,"); p != NULL; p = strstr(p + 1, ",S1,R01,")) {
        char *seat = p + 8, *comma = strchr(seat, ',');

        memmove(seat, comma, strlen(comma) + 1);
    }
    for (p = strstr(text, ",S2,R02,"); p != NULL; p = strstr(p + 1, ",S2,R02,")) {
        char *seat = p + 8, *comma = strchr(seat, ',');

        memmove(seat, comma, strlen(comma) + 1);
    }
    spit(path, text, strlen(text));
    free(text);
    assert_int_equal(import(f), 0);
    assert_int_equal(f->sum.arranged, 40);
}

static void rule_timezone(void **state)
{
    struct fx *f = *state;

    edit(f, "plan.json", "Asia/Shanghai", "Europe/Berlin");
    expect_only(f, "plan.json", 7, "不支持的时区“Europe/Berlin”");
    edit(f, "plan.json", "Europe/Berlin", "Asia/Hong_Kong");
    assert_int_equal(import(f), 0);
    assert_int_equal(query_long(f, "SELECT starts_at FROM sessions WHERE id = 'S1'"), 1796432400);
}

static void rule_session_times(void **state)
{
    struct fx *f = *state;

    edit(f, "plan.json", "\"end\": \"10:30\"", "\"end\": \"08:30\"");
    edit(f, "plan.json", "\"date\": \"2026-12-05\",\n   \"start\": \"14:00\"",
         "\"date\": \"2026-02-30\",\n   \"start\": \"14:0\"");
    assert_int_equal(import(f), ER_PLAN_INVALID);
    assert_int_equal(f->d.n, 3);
    expect_diag(f, 0, "plan.json", 30,
                "结束时间 08:30 应晚于开始时间 09:00（跨午夜的场次最长 6 小时）");
    expect_diag(f, 1, "plan.json", 50, "日期“2026-02-30”无效");
    expect_diag(f, 2, "plan.json", 51, "时间“14:0”无效");
    assert_int_equal(rows(f), 0);
}

/* A session may run past midnight, its end the next day, for up to 6
 * hours; an end before the start over a longer span is a typo. */
static void rule_session_overnight(void **state)
{
    struct fx *f = *state;

    edit(f, "plan.json", "\"start\": \"09:00\",\n   \"end\": \"10:30\"",
         "\"start\": \"23:00\",\n   \"end\": \"05:30\"");
    expect_only(f, "plan.json", 30,
                "结束时间 05:30 应晚于开始时间 23:00（跨午夜的场次最长 6 小时）");
    edit(f, "plan.json", "\"end\": \"05:30\"", "\"end\": \"01:00\"");
    assert_int_equal(import(f), 0);
    assert_int_equal(query_long(f, "SELECT ends_at - starts_at FROM sessions WHERE id = 'S1'"),
                     7200);
}

static void rule_session_minutes(void **state)
{
    struct fx *f = *state;

    edit(f, "plan.json", "\"late_admission_minutes\": 15", "\"late_admission_minutes\": 90");
    expect_only(f, "plan.json", 31, "“late_admission_minutes”（90 分钟）应小于考试时长（90 分钟）");
}

static void rule_duplicate_room_and_session(void **state)
{
    struct fx *f = *state;

    edit(f, "plan.json", "\"id\": \"S2\"", "\"id\": \"S1\"");
    edit(f, "plan.json", "\"id\": \"R02\"", "\"id\": \"R01\"");
    assert_int_equal(import(f), ER_PLAN_INVALID);
    expect_diag(f, 0, "plan.json", 18, "考场编号“R01”重复（第 10 行已有）");
    expect_diag(f, 1, "plan.json", 49, "场次编号“S1”重复（第 26 行已有）");
    /* The candidates of R02 name a room that is not there now. */
    expect_diag(f, 2, "candidates.csv", 3, "考场“R02”不在 plan.json 中");
    assert_int_equal(rows(f), 0);
}

static void rule_room_fields(void **state)
{
    struct fx *f = *state;

    edit(f, "plan.json", "\"seats\": 32", "\"seats\": \"32\"");
    edit(f, "plan.json", "\"site\": \"S01\",", "");
    edit(f, "plan.json", "\"id\": \"R02\"", "\"id\": \"R 2\"");
    assert_int_equal(import(f), ER_PLAN_INVALID);
    expect_diag(f, 0, "plan.json", 10, "缺少字段“site”");
    expect_diag(f, 1, "plan.json", 15, "字段“seats”应为整数");
    expect_diag(f, 2, "plan.json", 18, "编号“R 2”无效");
    assert_int_equal(rows(f), 0);
}

static void rule_paper_reference(void **state)
{
    struct fx *f = *state;
    char path[256];

    /* S1's entry for 计算机操作员 names the other occupation's paper. */
    edit(f, "plan.json", "\"paper\": \"papers/computer-operator-4.json\"",
         "\"paper\": \"papers/e-commerce-4.json\"");
    path_of(f, "papers/computer-operator-4.json", path, sizeof(path));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(import(f), ER_PLAN_INVALID);
    assert_int_equal(f->d.n, 2);
    expect_diag(f, 0, "plan.json", 34,
                "试卷 papers/e-commerce-4.json 的职业、等级为“电子商务师 四级”");
    expect_diag(f, 1, "plan.json", 60, "试卷文件 papers/computer-operator-4.json 不存在");
    assert_int_equal(rows(f), 0);
    edit(f, "plan.json", "\"paper\": \"papers/e-commerce-4.json\"", "\"paper\": \"../x.json\"");
    assert_int_equal(import(f), ER_PLAN_INVALID);
    expect_diag(f, 0, "plan.json", 38, "试卷路径“../x.json”无效");
}

static void rule_json_syntax(void **state)
{
    struct fx *f = *state;

    edit(f, "plan.json", "\"pass_mark\": 60,", "\"pass_mark\": 60");
    /* jansson stops at "rooms", the token after the missing comma; the
     * rest of plan.json is not read, candidates.csv still is. */
    expect_only(f, "plan.json", 9, "JSON 格式错误");
}

static void rule_missing_file(void **state)
{
    struct fx *f = *state;
    char path[256];

    path_of(f, "candidates.csv", path, sizeof(path));
    assert_int_equal(unlink(path), 0);
    expect_only(f, "candidates.csv", 0, "找不到文件");
}

static void rule_csv_header(void **state)
{
    struct fx *f = *state;

    edit(f, "candidates.csv", "准考证号,姓名", "准考证,姓名");
    expect_only(f, "candidates.csv", 1, "表头应为：准考证号,姓名,性别");
}

static void rule_csv_quotes(void **state)
{
    struct fx *f = *state;

    edit(f, "candidates.csv", ",彭丽宇,", ",\"彭丽\"宇,");
    expect_only(f, "candidates.csv", 5, "CSV 格式错误");
}

static void rule_csv_fields(void **state)
{
    struct fx *f = *state;

    edit(f, "candidates.csv", "梁杰强,男,", "梁杰强,");
    expect_only(f, "candidates.csv", 6, "有 10 个字段，应为 11 个");
}

static void rule_csv_encoding(void **state)
{
    struct fx *f = *state;

    edit(f, "candidates.csv", "陈芳芳", "\xB3\xC2\xB7\xBC"); /* 陈芳 in GBK */
    expect_only(f, "candidates.csv", 2, "不是 UTF-8 编码");
}

static void rule_candidate_fields(void **state)
{
    struct fx *f = *state;

    edit(f, "candidates.csv", "阿依古丽·买买提,女,", "阿依古丽·买买提,F,");
    expect_only(f, "candidates.csv", 3, "性别“F”无效");
}

/* A quoted field over two lines and a blank line: later rows keep their
 * physical line numbers. */
static void csv_lines_are_physical(void **state)
{
    struct fx *f = *state;

    edit(f, "candidates.csv", ",阿依古丽·买买提,", ",\"阿依古丽\n买买提\",");
    edit(f, "candidates.csv", "S1,R01,3,4401000726000005.jpg\r\n",
         "S1,R01,3,4401000726000005.jpg\r\n\r\n");
    edit(f, "candidates.csv", "李涛,男,", "李涛,X,");
    expect_only(f, "candidates.csv", 10, "性别“X”无效");
}

static void rule_empty_field(void **state)
{
    struct fx *f = *state;

    edit(f, "candidates.csv", "4401000726000004,彭丽宇,", "4401000726000004, ,");
    expect_only(f, "candidates.csv", 5, "“姓名”不能为空");
}

/* Every problem of every file, in file order then line order. */
static void every_problem_is_listed(void **state)
{
    struct fx *f = *state;

    edit(f, "candidates.csv", "S1,R02,1,4401000726000002", "S1,R02,99,4401000726000002");
    edit(f, "papers/e-commerce-4.json", "\"points\": 5", "\"points\": -5");
    edit(f, "plan.json", "\"pass_mark\": 60", "\"pass_mark\": 160");
    edit(f, "candidates.csv", "440111198809288970", "440111198809288971");
    assert_int_equal(import(f), ER_PLAN_INVALID);
    assert_int_equal(f->d.n, 4);
    expect_diag(f, 0, "plan.json", 8, "字段“pass_mark”的值 160 超出范围");
    expect_diag(f, 1, "papers/e-commerce-4.json", 18, "分值应为正整数");
    expect_diag(f, 2, "candidates.csv", 3, "座位号 99");
    expect_diag(f, 3, "candidates.csv", 4, "校验位不符");
    assert_int_equal(rows(f), 0);
}

/* ---- the readers' line numbers ---- */

static void json_positions(void **state)
{
    static const char text[] = "{\n"
                               "  \"a\":\n"
                               "\n"
                               "    [\n"
                               "      1,\n"
                               "      {\"b\":\n"
                               "         2}\n"
                               "    ],\n"
                               "  \"c~/d\": \"x\\\"y\\n\",\n"
                               "  \"\\u00e9\\ud83d\\ude00\": {}, \"e\": [[], [3,\n"
                               "4]]\n"
                               "}\n";
    static const char one[] = "[{\"a\": [1, 2]}, 3]", bad1[] = "{\"a\": [1, 2}",
                      bad2[] = "{\"a\" 1}";
    struct jpos ix;

    (void)state;
    assert_int_equal(jpos_build(text, strlen(text), &ix), 0);
    assert_int_equal(jpos_line(&ix, ""), 1);
    assert_int_equal(jpos_line(&ix, "/a"), 4);
    assert_int_equal(jpos_line(&ix, "/a/0"), 5);
    assert_int_equal(jpos_line(&ix, "/a/1"), 6);
    assert_int_equal(jpos_line(&ix, "/a/1/b"), 7);
    assert_int_equal(jpos_line(&ix, "/c~0~1d"), 9);
    assert_int_equal(jpos_line(&ix, "/\xC3\xA9\xF0\x9F\x98\x80"), 10);
    assert_int_equal(jpos_line(&ix, "/e/0"), 10);
    assert_int_equal(jpos_line(&ix, "/e/1/0"), 10);
    assert_int_equal(jpos_line(&ix, "/e/1/1"), 11);
    /* Not there: the nearest enclosing value. */
    assert_int_equal(jpos_line(&ix, "/a/1/zzz"), 6);
    assert_int_equal(jpos_line(&ix, "/nothing"), 1);
    jpos_free(&ix);
    /* Everything on one line is on line 1; broken text is refused. */
    assert_int_equal(jpos_build(one, strlen(one), &ix), 0);
    assert_int_equal(jpos_line(&ix, "/0/a/1"), 1);
    assert_int_equal(ix.n, 6); /* "", /0, /0/a, /0/a/0, /0/a/1, /1 */
    jpos_free(&ix);
    assert_int_equal(jpos_build(bad1, strlen(bad1), &ix), ER_PLAN_INVALID);
    assert_int_equal(jpos_build(bad2, strlen(bad2), &ix), ER_PLAN_INVALID);
    assert_int_equal(jpos_build("", 0, &ix), ER_PLAN_INVALID);
}

/* The paper reader on a paper written on one line: every problem is on
 * line 1, none on a line that is not there. */
static void compact_paper_lines(void **state)
{
    static const char paper[] =
        "{\"title\":\"t\",\"occupation\":\"o\",\"level\":\"l\",\"subject\":\"s\",\"items\":"
        "[{\"id\":\"1\",\"type\":\"judge\",\"stem\":\"x\",\"options\":{},\"key\":\"Y\","
        "\"points\":100}]}";
    struct plan *p = plan_new();
    struct plan_diags d = {0};

    (void)state;
    assert_int_equal(plan_read_paper(p, "papers/p.json", paper, strlen(paper), &d),
                     ER_PLAN_INVALID);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].line, 1);
    assert_string_equal(d.v[0].file, "papers/p.json");
    assert_non_null(strstr(d.v[0].msg, "判断题 1 的答案“Y”"));
    plan_diags_free(&d);
    plan_free(p);
}

static void csv_reader_lines(void **state)
{
    /* CRLF, a BOM, a record over three lines, rows of empty cells. */
    static const char csv[] =
        "\xEF\xBB\xBF准考证号,姓名,性别,证件类型,证件号码,职业,等级,场次,考场,座位号,照片\r\n"
        "1,\"甲\r\n乙\r\n丙\",男,护照,P1,x,y,S1,R01,,a.jpg\r\n"
        ",,,,,,,,,,\r\n"
        "\r\n"
        "2,丁,男,护照,P2,x,y,S1,R01,0,a.jpg\r\n"
        "3,戊,女,护照,P3,x,y,S1,R01,1,a.jpg";
    static const char mac[] =
        "准考证号,姓名,性别,证件类型,证件号码,职业,等级,场次,考场,座位号,照片\r"
        "1,甲,男,护照,P1,x,y,S1,R01,,a.jpg\r"
        "2,乙,?,护照,P2,x,y,S1,R01,,a.jpg\r";
    static const char unclosed[] = "准考证号\n\"1\n2\n";
    struct plan *p = plan_new();
    struct plan_diags d = {0};

    (void)state;
    assert_int_equal(plan_read_candidates(p, csv, strlen(csv), &d), ER_PLAN_INVALID);
    assert_int_equal(plan_candidate_count(p), 3);
    assert_int_equal(p->candidates[0].line, 2);
    assert_string_equal(p->candidates[0].name, "甲\r\n乙\r\n丙");
    assert_int_equal(p->candidates[1].line, 7);
    assert_int_equal(p->candidates[2].line, 8);
    assert_int_equal(p->candidates[2].seat, 1);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].line, 7);
    assert_non_null(strstr(d.v[0].msg, "座位号“0”无效"));
    plan_diags_free(&d);
    plan_free(p);
    /* Old Mac line ends (a lone CR) are line ends too. */
    p = plan_new();
    assert_int_equal(plan_read_candidates(p, mac, strlen(mac), &d), ER_PLAN_INVALID);
    assert_int_equal(plan_candidate_count(p), 2);
    assert_int_equal(p->candidates[0].line, 2);
    assert_int_equal(p->candidates[1].line, 3);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].line, 3);
    assert_non_null(strstr(d.v[0].msg, "性别“?”无效"));
    plan_diags_free(&d);
    plan_free(p);
    /* An unclosed quote at the end: the record's first line. */
    p = plan_new();
    assert_int_equal(plan_read_candidates(p, unclosed, strlen(unclosed), &d), ER_PLAN_INVALID);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.v[0].line, 1); /* the header */
    assert_int_equal(d.v[1].line, 2); /* the quote that never closes */
    assert_non_null(strstr(d.v[1].msg, "CSV 格式错误"));
    plan_diags_free(&d);
    plan_free(p);
}

/* ---- the command ---- */

/* Runs cmd_plan with stderr in a file; returns its exit status and the
 * text written to stderr in out. */
static int run_cmd(const struct fx *f, char **argv, int argc, char *out, size_t outsz)
{
    struct cli_ctx ctx = {.program = "examcenter", .data_dir = f->data};
    char path[128];
    int fd, saved, rc;
    ssize_t n;

    snprintf(path, sizeof(path), "%s/stderr", f->root);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    saved = dup(STDERR_FILENO);
    assert_true(fd >= 0 && saved >= 0);
    fflush(stderr);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    rc = cmd_plan(&ctx, argc, argv);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    n = pread(fd, out, outsz - 1, 0);
    assert_true(n >= 0);
    out[n] = '\0';
    close(fd);
    return rc;
}

static void command_reports_file_and_line(void **state)
{
    struct fx *f = *state;
    char *import[] = {"plan", "import", f->plan, NULL};
    char want[256], out[4096];

    edit(f, "candidates.csv", "S1,R02,1,4401000726000002", "S1,R02,33,4401000726000002");
    assert_int_equal(run_cmd(f, import, 3, out, sizeof(out)), 1);
    snprintf(want, sizeof(want), "%s/candidates.csv:3: 座位号 33 超出考场 R02 的座位数（32）\n",
             f->plan);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "examcenter: 考试计划有错误，未导入任何内容。"));
    assert_int_equal(rows(f), 0);
    edit(f, "candidates.csv", "S1,R02,33,", "S1,R02,1,");
    assert_int_equal(run_cmd(f, import, 3, out, sizeof(out)), 0);
    assert_int_equal(query_long(f, "SELECT count(*) FROM candidates"), 40);
    assert_int_equal(run_cmd(f, import, 3, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "考试计划 20261205-广东省华立高级技工学校 已存在。"));
}

static void command_writes_samples(void **state)
{
    struct fx *f = *state;
    char dir[128], out[4096];
    char *sample[] = {"plan", "sample", dir, "--candidates", "12", "--rooms", "1", NULL};
    char *zero[] = {"plan", "sample", dir, "--candidates", "0", NULL};
    char *import[] = {"plan", "import", dir, NULL};

    snprintf(dir, sizeof(dir), "%s/cmd-sample", f->root);
    assert_int_equal(run_cmd(f, sample, 7, out, sizeof(out)), 0);
    assert_int_equal(run_cmd(f, import, 3, out, sizeof(out)), 0);
    assert_int_equal(query_long(f, "SELECT count(*) FROM candidates"), 12);
    assert_int_equal(query_long(f, "SELECT count(*) FROM rooms"), 1);
    assert_int_equal(run_cmd(f, zero, 5, out, sizeof(out)), 2);
    assert_non_null(strstr(out, "选项 --candidates 的值“0”应为正整数"));
    assert_int_equal(run_cmd(f, sample, 7, out, sizeof(out)), 2); /* not empty now */
    assert_non_null(strstr(out, "目录须不存在或为空"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(sample_plan_imports, setup, teardown),
        cmocka_unit_test_setup_teardown(sample_plan_unseated_are_arranged, setup, teardown),
        cmocka_unit_test_setup_teardown(arrangement_orders_by_occupation_then_ticket, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(same_plan_twice_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(input_is_normalised, setup, teardown),
        cmocka_unit_test_setup_teardown(generated_plans_import, setup, teardown),
        cmocka_unit_test_setup_teardown(generated_plan_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(generated_plan_is_deterministic, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_plan_id, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_id_number, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_id_type, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_duplicate_ticket, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_duplicate_id, setup, teardown),
        cmocka_unit_test_setup_teardown(same_ticket_in_two_sessions_is_fine, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_unknown_session, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_unknown_room, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_unknown_occupation_level, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_seat_beyond_room, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_seat_taken_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_seat_format, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_not_enough_seats, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_photo_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_photo_not_jpeg, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_photo_name, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_key_fits_item_type, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_multiple_needs_two_letters, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_options, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_points, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_item_id_unique, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_item_id_format, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_item_type, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_times_overlap, setup, teardown),
        cmocka_unit_test_setup_teardown(overlap_without_a_shared_room_is_fine, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_timezone, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_session_times, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_session_overnight, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_session_minutes, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_duplicate_room_and_session, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_room_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_paper_reference, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_json_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_csv_header, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_csv_quotes, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_csv_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_csv_encoding, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_candidate_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(csv_lines_are_physical, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_empty_field, setup, teardown),
        cmocka_unit_test_setup_teardown(every_problem_is_listed, setup, teardown),
        cmocka_unit_test_setup_teardown(command_reports_file_and_line, setup, teardown),
        cmocka_unit_test_setup_teardown(command_writes_samples, setup, teardown),
        cmocka_unit_test(json_positions),
        cmocka_unit_test(compact_paper_lines),
        cmocka_unit_test(csv_reader_lines),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
