/* examcenter scores [--plan P] [--format csv|json]: the results received
 * (成绩报表). CSV is UTF-8 with a BOM so that Excel opens it as such. */
#include "center.h"

#include <stdio.h>
#include <string.h>

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
    if (rc == 0 &&
        sqlite3_prepare_v2(db,
                           "SELECT r.plan_id, r.session_id, r.ticket, c.name, c.occupation, "
                           "c.level, r.score, r.score IS NOT NULL AND r.score >= p.pass_mark, "
                           "r.status, r.room_id, c.seat FROM results r "
                           "JOIN plans p ON p.id = r.plan_id "
                           "LEFT JOIN candidates c ON c.plan_id = r.plan_id AND "
                           "c.session_id = r.session_id AND c.ticket = r.ticket "
                           "WHERE r.plan_id = ?1 ORDER BY r.session_id, r.room_id, c.seat, "
                           "r.ticket",
                           -1, &st, NULL) != SQLITE_OK)
        rc = ER_CENTER_DB;
    if (rc < 0) {
        json_decref(list);
        sqlite3_close(db);
        return cli_fail(ctx, rc);
    }
    sqlite3_bind_text(st, 1, plan, -1, SQLITE_STATIC);
    if (!json)
        fputs("\xEF\xBB\xBF"
              "计划,场次,准考证号,姓名,职业,等级,成绩,是否合格,状态,考场,座位号\r\n",
              stdout);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *col[11];
        int has_score = sqlite3_column_type(st, 6) != SQLITE_NULL;

        for (int i = 0; i < 11; i++)
            col[i] = sqlite3_column_type(st, i) == SQLITE_NULL
                         ? ""
                         : (const char *)sqlite3_column_text(st, i);
        if (json) {
            json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s}", "plan", col[0],
                                  "session", col[1], "ticket", col[2], "name", col[3], "occupation",
                                  col[4], "level", col[5], "passed", sqlite3_column_int(st, 7),
                                  "status", col[8], "room", col[9]);

            json_object_set_new(
                o, "score", has_score ? json_integer(sqlite3_column_int64(st, 6)) : json_null());
            json_object_set_new(o, "seat",
                                sqlite3_column_type(st, 10) == SQLITE_NULL
                                    ? json_null()
                                    : json_integer(sqlite3_column_int64(st, 10)));
            json_array_append_new(list, o);
        } else {
            for (int i = 0; i < 11; i++)
                csv_field(stdout, i == 7 ? (sqlite3_column_int(st, 7) ? "合格" : "不合格") : col[i],
                          i == 10);
        }
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
