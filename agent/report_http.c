/* GET /admin/v1/reports/{kind}?session=S&format=csv|html: the reports of
 * report.c for the proctor's console (ADMIN). The store is read on the
 * loop, in the request's read snapshot; the package (room.json, photos) and
 * the rendering run on the thread pool, and the connection is resumed with
 * the finished page or file. */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What the proctor reads (zh-CN, in one place). */
#define MSG_HTTP_KIND    "没有这种报表。报表只有签到表、成绩报表和考勤表。"
#define MSG_HTTP_FORMAT  "报表格式只能是 csv 或 html。"
#define MSG_HTTP_SESSION "本考场没有这个场次。请刷新页面后重新选择场次。"
#define MSG_HTTP_PACKAGE "本考场还没有试卷包，无法生成报表。请先下载试卷包（examroom fetch）。"
#define MSG_HTTP_FAILED                                                                            \
    "报表生成失败（试卷包无法读取）。请在考场服务器上执行 examroom verify 检查试卷包。"

/* ---- GET /admin/v1/reports/{kind}?session=S&format=csv|html ---- */

/* A report page may style itself inline and show its photos as data: URIs,
 * and nothing else: no script at all, nothing fetched. */
#define REPORT_CSP                                                                                 \
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; "       \
    "base-uri 'none'; form-action 'none'"

struct report_job {
    uv_work_t work;
    struct http_req *q;
    json_t *data;
    char path[ROOM_PATH_MAX];
    struct pkg_trust trust;
    enum report_kind kind;
    enum report_format fmt;
    struct dynbuf out;
    int rc;
};

static void report_work(uv_work_t *w)
{
    struct report_job *j = w->data;

    j->rc = report_add_package(j->data, j->path, &j->trust,
                               j->kind == REPORT_SIGNIN && j->fmt == REPORT_HTML);
    if (j->rc == 0)
        j->rc = report_render(j->data, j->kind, j->fmt, &j->out);
}

/* "attachment; filename=...": an ASCII name, and the Chinese one (RFC
 * 6266/5987), of the session's report. */
static void disposition(const struct report_job *j, char *out, size_t outsz)
{
    static const char *const ascii[] = {"signin", "scores", "attendance"};
    const char *session = json_string_value(json_object_get(j->data, "session"));
    const char *zh = report_kind_zh(j->kind);
    char safe[PKG_MAX_NAME + 1], enc[256];
    size_t k = 0, e = 0;

    for (const char *p = session ? session : ""; *p && k + 1 < sizeof(safe); p++)
        safe[k++] = (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') ||
                            (*p >= 'a' && *p <= 'z') || *p == '-' || *p == '_'
                        ? *p
                        : '_';
    safe[k] = '\0';
    for (const unsigned char *p = (const unsigned char *)zh; *p && e + 4 < sizeof(enc); p++)
        e += (size_t)snprintf(enc + e, sizeof(enc) - e, "%%%02X", *p);
    snprintf(out, outsz, "attachment; filename=\"%s-%s.csv\"; filename*=UTF-8''%s-%s.csv",
             ascii[j->kind], safe, enc, safe);
}

static void report_done(uv_work_t *w, int status)
{
    struct report_job *j = w->data;
    struct http_req *q = j->q;
    struct MHD_Response *r = NULL;
    size_t len = 0;
    char *body, cd[1024];

    if (status == 0 && j->rc == 0 && (body = dynbuf_take(&j->out, &len)) != NULL) {
        r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        if (r == NULL)
            free(body);
    }
    if (r != NULL) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                j->fmt == REPORT_CSV ? "text/csv; charset=utf-8"
                                                     : "text/html; charset=utf-8");
        MHD_add_response_header(r, "Content-Security-Policy", REPORT_CSP);
        MHD_add_response_header(r, "X-Frame-Options", "DENY");
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        if (j->fmt == REPORT_CSV) {
            disposition(j, cd, sizeof(cd));
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, cd);
        }
        q->response = r;
        answer_later(q, MHD_HTTP_OK, NULL);
    } else {
        log_error("report: %s", er_name(j->rc < 0 ? j->rc : ER_INTERNAL));
        answer_later(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                     json_pack("{s:s, s:s}", "error", "report", "message", MSG_HTTP_FAILED));
    }
    json_decref(j->data);
    dynbuf_free(&j->out);
    free(j);
}

/* The store is read here, on the loop, in the request's read snapshot (a
 * full room: a few ms); the package and the rendering go to the pool. */
static double ms_between(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

enum MHD_Result http_report(struct http_req *q, const char *kind_name)
{
    struct daemon *d = q->d;
    const char *session = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "session");
    const char *format = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "format");
    int kind = report_kind_of(kind_name), fmt = report_format_of(format), rc;
    struct report_job *j;
    int64_t version = 0;
    struct timespec t0, t1, c0, c1;

    if (kind < 0)
        return daemon_error(q->conn, MHD_HTTP_NOT_FOUND, "no_report", MSG_HTTP_KIND);
    if (fmt < 0)
        return daemon_error(q->conn, MHD_HTTP_BAD_REQUEST, "bad_format", MSG_HTTP_FORMAT);
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        return MHD_NO;
    rc = report_package(d->r.st, j->path, &version);
    if (rc < 0) {
        free(j);
        return daemon_error(q->conn, MHD_HTTP_NOT_FOUND, "no_package", MSG_HTTP_PACKAGE);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    rc = report_gather(d->r.st, session != NULL ? session : "", &j->data);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc < 0) {
        free(j);
        return daemon_error(q->conn, MHD_HTTP_NOT_FOUND, "no_session", MSG_HTTP_SESSION);
    }
    /* What the loop spent on it (the thread pool does the rest). */
    log_info("report %s of %s: %zu candidates read in %.1f ms (%.1f ms of CPU)", kind_name, session,
             json_array_size(json_object_get(j->data, "rows")), ms_between(&t0, &t1),
             ms_between(&c0, &c1));
    room_package_trust(&d->r, version, &j->trust);
    j->q = q;
    j->kind = (enum report_kind)kind;
    j->fmt = (enum report_format)fmt;
    j->work.data = j;
    dynbuf_init(&j->out, (size_t)1 << 30);
    if (uv_queue_work(&d->r.loop, &j->work, report_work, report_done) != 0) {
        json_decref(j->data);
        free(j);
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "report", MSG_HTTP_FAILED);
    }
    return http_suspend(q);
}
