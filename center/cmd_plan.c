/* examcenter plan import DIR | plan sample DIR [--candidates N] [--rooms N]
 * [--sessions N] [--start-in MINUTES] [--seed N] [--photo-kib N]: the exam
 * plan, in and out. */
#include "center.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What this command says to the center's staff (zh-CN). */
#define MSG_IMPORTED                                                                                         \
    "已导入考试计划 %s：%zu 个考场，%zu 个场次，%zu 份试卷，%zu 名考生（其中 %zu " \
    "名由系统编排座位）\n"
#define MSG_SAMPLE_WRITTEN "已生成模拟考试计划：%s（%u 名考生）\n"
#define MSG_BAD_NUMBER     "选项 %s 的值“%s”应为正整数。"
#define MSG_PLAN_EXISTS    "考试计划 %s 已存在。"
#define MSG_SAMPLE_FAILED                                                                          \
    "无法在 %s 生成模拟计划：目录须不存在或为空，考生须能坐进考场"     \
    "（每考场每场次最多 999 座，可用 --sessions 分成更多场次）。"

/* "DIR/FILE:LINE: message", the form editors and people both read. */
static void print_diags(const char *dir, const struct plan_diags *d)
{
    size_t n = strlen(dir);

    while (n > 1 && dir[n - 1] == '/')
        n--;
    for (size_t i = 0; i < d->n; i++) {
        if (d->v[i].line > 0)
            fprintf(stderr, "%.*s/%s:%d: %s\n", (int)n, dir, d->v[i].file, d->v[i].line,
                    d->v[i].msg);
        else
            fprintf(stderr, "%.*s/%s: %s\n", (int)n, dir, d->v[i].file, d->v[i].msg);
    }
}

static int print_json(struct cli_ctx *ctx, const struct plan_summary *sum)
{
    json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "plan", sum->id, "rooms",
                          (json_int_t)sum->rooms, "sessions", (json_int_t)sum->sessions, "papers",
                          (json_int_t)sum->papers, "candidates", (json_int_t)sum->candidates,
                          "arranged", (json_int_t)sum->arranged);
    int rc = o != NULL ? json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) : -1;

    json_decref(o);
    if (rc != 0)
        return cli_fail(ctx, ER_NOMEM);
    putchar('\n');
    return 0;
}

static int run_import(struct cli_ctx *ctx, const char *dir)
{
    struct plan_diags d = {0};
    struct plan_summary sum;
    sqlite3 *db = NULL;
    int rc = center_db_open(ctx->data_dir, &db);

    if (rc != 0)
        return cli_fail(ctx, rc);
    rc = plan_import(db, dir, &d, &sum);
    sqlite3_close(db);
    print_diags(dir, &d);
    plan_diags_free(&d);
    if (rc == ER_PLAN_EXISTS)
        return cli_fail_detail(ctx, rc, MSG_PLAN_EXISTS, sum.id);
    if (rc != 0)
        return cli_fail(ctx, rc);
    if (ctx->json)
        return print_json(ctx, &sum);
    printf(MSG_IMPORTED, sum.id, sum.rooms, sum.sessions, sum.papers, sum.candidates, sum.arranged);
    return 0;
}

/* A positive integer option value, at most max. */
static int option_uint(struct cli_ctx *ctx, const char *name, const char *v, unsigned max,
                       unsigned *out)
{
    char *end;
    unsigned long n;

    if (v == NULL || v[0] < '0' || v[0] > '9')
        goto bad;
    n = strtoul(v, &end, 10);
    if (*end != '\0' || n == 0 || n > max)
        goto bad;
    *out = (unsigned)n;
    return 0;
bad:
    fprintf(stderr, "%s: " MSG_BAD_NUMBER "\n", ctx->program, name, v != NULL ? v : "");
    return ER_USAGE;
}

static int run_sample(struct cli_ctx *ctx, int argc, char **argv)
{
    struct plan_sample_opts o = {.candidates = 60, .start_in_minutes = 60, .seed = 1};
    const char *dir = NULL;
    unsigned seed = 1;
    int rc = 0;

    for (int i = 2; i < argc && rc == 0; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(argv[i], "--candidates") == 0)
            rc = option_uint(ctx, argv[i], v, 1000000, &o.candidates), i++;
        else if (strcmp(argv[i], "--rooms") == 0)
            rc = option_uint(ctx, argv[i], v, 999, &o.rooms), i++;
        else if (strcmp(argv[i], "--sessions") == 0) /* what one room's package can carry */
            rc = option_uint(ctx, argv[i], v, PKG_MAX_SESSIONS, &o.sessions), i++;
        else if (strcmp(argv[i], "--start-in") == 0)
            rc = option_uint(ctx, argv[i], v, 60 * 24 * 365, &o.start_in_minutes), i++;
        else if (strcmp(argv[i], "--seed") == 0)
            rc = option_uint(ctx, argv[i], v, 0xFFFFFFFFu, &seed), i++;
        else if (strcmp(argv[i], "--photo-kib") == 0) /* up to the import's 2 MiB */
            rc = option_uint(ctx, argv[i], v, 2040, &o.photo_kib), i++;
        else if (argv[i][0] == '-' || dir != NULL)
            rc = ER_USAGE;
        else
            dir = argv[i];
    }
    if (rc != 0 || dir == NULL)
        return cli_fail(ctx, ER_USAGE);
    o.seed = seed;
    o.now = (int64_t)time(NULL);
    rc = plan_sample_write(dir, &o);
    if (rc != 0)
        return cli_fail_detail(ctx, rc, MSG_SAMPLE_FAILED, dir);
    printf(MSG_SAMPLE_WRITTEN, dir, o.candidates);
    return 0;
}

int cmd_plan(struct cli_ctx *ctx, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "import") == 0) {
        if (argc != 3)
            return cli_fail(ctx, ER_USAGE);
        return run_import(ctx, argv[2]);
    }
    if (argc >= 3 && strcmp(argv[1], "sample") == 0)
        return run_sample(ctx, argc, argv);
    return cli_fail(ctx, ER_USAGE);
}
