/* examroom report signin|scores|attendance --session S [--format csv|html]
 * [--output FILE]: a session's report (report.c) on stdout, or written to
 * FILE atomically (a reader, or a pulled USB stick, sees the old file or
 * the new one). Reads the store (the daemon may be running: a reader does
 * not stop it) and the package. */
#include "agent.h"

#include <stdio.h>
#include <string.h>

/* What the proctor reads (zh-CN, in one place). */
#define MSG_KIND       "报表种类只能是 signin（签到表）、scores（成绩报表）或 attendance（考勤表）。"
#define MSG_FORMAT     "--format 只能是 csv 或 html。"
#define MSG_SESSION    "请用 --session 指定场次（场次编号见 examroom status）。"
#define MSG_NO_SESSION "本考场没有场次“%s”。请核对场次编号（examroom status 可查）。"
#define MSG_NO_PACKAGE "本考场还没有试卷包，无法生成报表。请先执行 examroom fetch 下载试卷包。"
#define MSG_WRITE      "无法写入 %s。请检查路径和磁盘空间后重试。"
#define MSG_WRITTEN    "%s已写入 %s\n"

int cmd_report(struct cli_ctx *ctx, int argc, char **argv)
{
    static const char *const names[] = {"--session", "--format", "--output", NULL};
    int bad = 0, kind, fmt, rc;
    const char *session, *format, *output;
    char path[ROOM_PATH_MAX];
    int64_t version = 0;
    struct pkg_trust trust;
    json_t *data = NULL;
    struct dynbuf b;
    struct room r;

    if (argc < 2)
        return cli_fail(ctx, ER_USAGE);
    session = cli_option(argc, argv, "--session", &bad);
    format = cli_option(argc, argv, "--format", &bad);
    output = cli_option(argc, argv, "--output", &bad);
    if (bad || cli_check_options(argc, argv, 2, names) < 0)
        return cli_fail(ctx, ER_USAGE);
    kind = report_kind_of(argv[1]);
    if (kind < 0)
        return cli_fail_detail(ctx, ER_USAGE, "%s", MSG_KIND);
    fmt = report_format_of(format);
    if (fmt < 0)
        return cli_fail_detail(ctx, ER_USAGE, "%s", MSG_FORMAT);
    if (session == NULL || session[0] == '\0')
        return cli_fail_detail(ctx, ER_USAGE, "%s", MSG_SESSION);
    rc = room_open(ctx, &r, 1);
    if (rc == 0)
        rc = report_package(r.st, path, &version);
    if (rc == ER_SYNC_NO_PACKAGE || rc == ER_NOT_REGISTERED) {
        room_close(&r);
        return cli_fail_detail(ctx, rc, "%s", MSG_NO_PACKAGE);
    }
    if (rc == 0) {
        room_package_trust(&r, version, &trust);
        store_read_begin(r.st);
        rc = report_gather(r.st, session, &data);
        store_read_end(r.st);
    }
    /* The trust holds the room's keys: the package is read before they go. */
    if (rc == 0)
        rc = report_add_package(data, path, &trust, kind == REPORT_SIGNIN && fmt == REPORT_HTML);
    room_close(&r);
    if (rc == ER_SESSION_NOT_FOUND)
        return cli_fail_detail(ctx, rc, MSG_NO_SESSION, session);
    dynbuf_init(&b, (size_t)1 << 30);
    if (rc == 0)
        rc = report_render(data, kind, fmt, &b);
    json_decref(data);
    if (rc < 0) {
        dynbuf_free(&b);
        return cli_fail(ctx, rc);
    }
    if (output != NULL) {
        rc = fs_write_atomic(output, b.buf, b.len, 0600);
        dynbuf_free(&b);
        if (rc < 0)
            return cli_fail_detail(ctx, rc, MSG_WRITE, output);
        fprintf(stderr, MSG_WRITTEN, report_kind_zh(kind), output);
        return 0;
    }
    rc = fwrite(b.buf, 1, b.len, stdout) == b.len && fflush(stdout) == 0 ? 0 : ER_IO;
    dynbuf_free(&b);
    return rc < 0 ? cli_fail(ctx, rc) : 0;
}
