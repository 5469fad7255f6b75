/* examcenter scores [--plan P] [--format csv|json]: the results received
 * (成绩报表). CSV is UTF-8 with a BOM so that Excel opens it as such.
 *
 * What the room's results say: the seat the candidate used (the planned one
 * when the result does not say), an absent candidate as 缺考 (no pass or
 * fail), and two results for one candidate (from two room keys, e.g. after a
 * replacement serial) both listed as 冲突待核 until the center has looked. */
#include "center.h"

#include <stdio.h>
#include <string.h>

#define MSG_HEADER   "计划,场次,准考证号,姓名,职业,等级,成绩,是否合格,状态,考场,座位号,考场密钥\r\n"
#define MSG_PASSED   "合格"
#define MSG_FAILED   "不合格"
#define MSG_ABSENT   "缺考"
#define MSG_CONFLICT "冲突待核"

/* Columns of the query below. */
enum {
    COL_PLAN,
    COL_SESSION,
    COL_TICKET,
    COL_NAME,
    COL_OCCUPATION,
    COL_LEVEL,
    COL_SCORE,
    COL_PASSED,
    COL_STATUS,
    COL_ROOM,
    COL_SEAT,
    COL_KEY,
    COL_CONFLICT,
    N_COLS
};

static const char scores_sql[] =
    "SELECT r.plan_id, r.session_id, r.ticket, c.name, c.occupation, c.level, r.score, "
    "r.score IS NOT NULL AND r.score >= p.pass_mark, r.status, r.room_id, "
    "COALESCE(r.seat, c.seat) AS seat, lower(hex(r.room_key_id)), "
    "EXISTS (SELECT 1 FROM results o WHERE o.plan_id = r.plan_id AND "
    "o.session_id = r.session_id AND o.ticket = r.ticket AND o.rowid != r.rowid) "
    "FROM results r JOIN plans p ON p.id = r.plan_id "
    "LEFT JOIN candidates c ON c.plan_id = r.plan_id AND c.session_id = r.session_id AND "
    "c.ticket = r.ticket "
    "WHERE r.plan_id = ?1 ORDER BY r.session_id, r.room_id, seat, r.ticket, r.received_at, "
    "r.rowid";

/* A CSV field, quoted when it needs to be. */
static void csv_field(FILE *out, const char *s, int last)
{
    if (strpbrk(s, ",\"\r\n") != NULL) {
        fputc('"', out);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', out);
            fputc(*s, out);
        }
        fputc('"', out);
    } else {
        fputs(s, out);
    }
    fputs(last ? "\r\n" : ",", out);
}

/* 是否合格 of one row: held, absent, or by the pass mark. */
static const char *outcome(sqlite3_stmt *st)
{
    if (sqlite3_column_int(st, COL_CONFLICT))
        return MSG_CONFLICT;
    if (sqlite3_column_type(st, COL_STATUS) == SQLITE_TEXT &&
        strcmp((const char *)sqlite3_column_text(st, COL_STATUS), "absent") == 0)
        return MSG_ABSENT;
    return sqlite3_column_int(st, COL_PASSED) ? MSG_PASSED : MSG_FAILED;
}

static json_t *json_row(sqlite3_stmt *st, const char *col[N_COLS])
{
    const char *out = outcome(st);
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "plan", col[COL_PLAN],
                  "session", col[COL_SESSION], "ticket", col[COL_TICKET], "name", col[COL_NAME],
                  "occupation", col[COL_OCCUPATION], "level", col[COL_LEVEL], "status",
                  col[COL_STATUS], "room", col[COL_ROOM], "room_key", col[COL_KEY], "outcome", out,
                  "conflict", sqlite3_column_int(st, COL_CONFLICT));

    json_object_set_new(o, "score",
                        sqlite3_column_type(st, COL_SCORE) != SQLITE_NULL
                            ? json_integer(sqlite3_column_int64(st, COL_SCORE))
                            : json_null());
    /* Pass or fail only for a result that stands: not for one held for
     * review, nor for an absent candidate. */
    json_object_set_new(o, "passed",
                        strcmp(out, MSG_PASSED) == 0   ? json_true()
                        : strcmp(out, MSG_FAILED) == 0 ? json_false()
                                                       : json_null());
    json_object_set_new(o, "seat",
                        sqlite3_column_type(st, COL_SEAT) == SQLITE_NULL
                            ? json_null()
                            : json_integer(sqlite3_column_int64(st, COL_SEAT)));
    return o;
}

int cmd_scores(struct cli_ctx *ctx, int argc, char **argv)
{
    static const char *const names[] = {"--plan", "--format", NULL};
    int bad = 0, rc, json = ctx->json;
    const char *given = cli_option(argc, argv, "--plan", &bad);
    const char *format = cli_option(argc, argv, "--format", &bad);
    char plan[PKG_MAX_NAME + 1];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    json_t *list = json_array();

    if (format != NULL && strcmp(format, "json") == 0)
        json = 1;
    else if (format != NULL && strcmp(format, "csv") != 0)
        bad = 1;
    if (bad || cli_check_options(argc, argv, 1, names) < 0) {
        json_decref(list);
        return cli_fail(ctx, ER_USAGE);
    }
    rc = center_db_open(ctx->data_dir, &db);
    if (rc == 0)
        rc = center_resolve_plan(db, given, plan);
    if (rc == 0 && sqlite3_prepare_v2(db, scores_sql, -1, &st, NULL) != SQLITE_OK)
        rc = ER_CENTER_DB;
    if (rc < 0) {
        json_decref(list);
        sqlite3_close(db);
        return cli_fail(ctx, rc);
    }
    sqlite3_bind_text(st, 1, plan, -1, SQLITE_STATIC);
    if (!json)
        fputs("\xEF\xBB\xBF" MSG_HEADER, stdout);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *col[N_COLS], *out = outcome(st);

        for (int i = 0; i < N_COLS; i++)
            col[i] = sqlite3_column_type(st, i) == SQLITE_NULL
                         ? ""
                         : (const char *)sqlite3_column_text(st, i);
        if (json) {
            json_array_append_new(list, json_row(st, col));
            continue;
        }
        col[COL_PASSED] = out;
        for (int i = 0; i < COL_CONFLICT; i++)
            csv_field(stdout, col[i], i == COL_CONFLICT - 1);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (json) {
        json_dumpf(list, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
    }
    json_decref(list);
    return 0;
}
