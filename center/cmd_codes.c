/* examcenter serial issue --room ROOM | --replace ROOM, and unlock-code
 * --session S: the codes that people carry from the center to the room.
 *
 * A room has one key at a time (docs/protocol.md "Registration"): a serial
 * for a room that a key already holds is issued only with --replace, and
 * when that serial registers, the old key is retired. */
#include "center.h"

#include <stdio.h>
#include <string.h>

#define MSG_SERIAL_FAILED "未能为考场 %s 签发注册码。"
#define MSG_UNLOCK_FAILED "无法取得场次 %s 的开考密码。"
#define MSG_ROOM_REGISTERED                                                                                                            \
    "考场 %s 已由一台考场服务器注册，不能再为它签发普通注册码。如确需更换考场服务器，请改用 " \
    "serial issue --replace "                                                                                                          \
    "%s：新注册码注册成功时，原服务器的密钥即停用（它此前上传的成绩仍然有效）。"

static const char *const code_options[] = {"--room", "--replace", "--plan", "--session", NULL};

int cmd_serial(struct cli_ctx *ctx, int argc, char **argv)
{
    uint8_t code[CODE_BYTES(CODE_SERIAL_BITS)];
    char text[32], plan[PKG_MAX_NAME + 1];
    int bad = 0, rc;
    const char *room = cli_option(argc, argv, "--room", &bad);
    const char *replace = cli_option(argc, argv, "--replace", &bad);
    const char *given = cli_option(argc, argv, "--plan", &bad);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t now;

    if (argc < 2 || strcmp(argv[1], "issue") != 0 || bad || (room == NULL) == (replace == NULL) ||
        cli_check_options(argc, argv, 2, code_options) < 0)
        return cli_fail(ctx, ER_USAGE);
    if (room == NULL)
        room = replace;
    rc = center_now_override(&now);
    if (rc == 0)
        rc = center_db_open(ctx->data_dir, &db);
    if (rc == 0)
        rc = center_resolve_plan(db, given, plan);
    if (rc == 0) {
        rc = center_exists(db, "SELECT 1 FROM rooms WHERE plan_id = ?1 AND id = ?2", plan, room);
        if (rc == 0)
            rc = ER_ROOM_NOT_FOUND;
        else if (rc == 1)
            rc = 0;
    }
    /* A room a key holds: only an explicit replacement. */
    if (rc == 0 && replace == NULL) {
        rc = center_exists(db,
                           "SELECT 1 FROM registrations WHERE plan_id = ?1 AND room_id = ?2 AND "
                           "retired_at IS NULL",
                           plan, room);
        if (rc == 1) {
            sqlite3_close(db);
            return cli_fail_detail(ctx, ER_USAGE, MSG_ROOM_REGISTERED, room, room);
        }
    }
    if (rc == 0)
        rc = code_random(CODE_SERIAL_BITS, code);
    if (rc == 0 && sqlite3_prepare_v2(db,
                                      "INSERT INTO serials (code, plan_id, room_id, issued_at, "
                                      "replaces) VALUES (?1, ?2, ?3, ?4, ?5)",
                                      -1, &st, NULL) != SQLITE_OK)
        rc = ER_CENTER_DB;
    if (rc == 0) {
        sqlite3_bind_blob(st, 1, code, sizeof(code), SQLITE_STATIC);
        sqlite3_bind_text(st, 2, plan, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, room, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now);
        sqlite3_bind_int(st, 5, replace != NULL);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = ER_CENTER_DB;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (rc < 0)
        return cli_fail_detail(ctx, rc, MSG_SERIAL_FAILED, room);
    code_encode(code, CODE_SERIAL_BITS, CODE_SERIAL_GROUP, text, sizeof(text));
    printf("%s\n", text);
    return 0;
}

int center_unlock_code(sqlite3 *db, const char *plan, const char *session,
                       uint8_t code[CODE_BYTES(CODE_UNLOCK_BITS)])
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT unlock_code FROM sessions WHERE plan_id = ?1 AND id = ?2",
                           -1, &st, NULL) != SQLITE_OK)
        return ER_CENTER_DB;
    sqlite3_bind_text(st, 1, plan, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, session, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == CODE_BYTES(CODE_UNLOCK_BITS))
        memcpy(code, sqlite3_column_blob(st, 0), CODE_BYTES(CODE_UNLOCK_BITS));
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? ER_SESSION_NOT_FOUND : ER_CENTER_DB;
}

int cmd_unlock_code(struct cli_ctx *ctx, int argc, char **argv)
{
    uint8_t code[CODE_BYTES(CODE_UNLOCK_BITS)];
    char text[32], plan[PKG_MAX_NAME + 1];
    int bad = 0, rc;
    const char *session = cli_option(argc, argv, "--session", &bad);
    const char *given = cli_option(argc, argv, "--plan", &bad);
    sqlite3 *db = NULL;

    if (bad || session == NULL || cli_check_options(argc, argv, 1, code_options) < 0)
        return cli_fail(ctx, ER_USAGE);
    rc = center_db_open(ctx->data_dir, &db);
    if (rc == 0)
        rc = center_resolve_plan(db, given, plan);
    if (rc == 0)
        rc = center_unlock_code(db, plan, session, code);
    sqlite3_close(db);
    if (rc < 0)
        return cli_fail_detail(ctx, rc, MSG_UNLOCK_FAILED, session);
    code_encode(code, CODE_UNLOCK_BITS, CODE_UNLOCK_GROUP, text, sizeof(text));
    printf("%s\n", text);
    return 0;
}
