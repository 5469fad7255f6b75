/* Small shared steps of the center's commands: which plan, which room,
 * which session, and option parsing. */
#include "center.h"

#include <stdio.h>
#include <string.h>

int center_resolve_plan(sqlite3 *db, const char *given, char plan[PKG_MAX_NAME + 1])
{
    sqlite3_stmt *st;
    int rc;

    /* Without --plan: the plan imported last (usually the only one). */
    rc = sqlite3_prepare_v2(db,
                            given ? "SELECT id FROM plans WHERE id = ?1"
                                  : "SELECT id FROM plans ORDER BY imported_at DESC, rowid DESC "
                                    "LIMIT 1",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return ER_CENTER_DB;
    if (given)
        sqlite3_bind_text(st, 1, given, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(plan, PKG_MAX_NAME + 1, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? ER_PLAN_NOT_FOUND : ER_CENTER_DB;
}

int center_exists(sqlite3 *db, const char *sql, const char *a, const char *b)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return ER_CENTER_DB;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b != NULL)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : ER_CENTER_DB;
}

int center_now_override(int64_t *now)
{
    /* Tests move the center's clock with EXAMCENTER_NOW (Unix seconds); the
     * variable is named for what it does and read nowhere else. */
    const char *env = getenv("EXAMCENTER_NOW");

    *now = env != NULL ? proto_parse_time(env) : (int64_t)time(NULL);
    return *now < 0 ? ER_USAGE : 0;
}

int center_find_room(sqlite3 *db, struct api_room *room)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db,
                           "SELECT plan_id, room_id, sign_pub, COALESCE(MAX(retired_at, 1), 0) "
                           "FROM registrations "
                           "WHERE room_key_id = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return ER_CENTER_DB;
    sqlite3_bind_blob(st, 1, room->key_id, 32, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 2) == KEY_RAW_LEN) {
        snprintf(room->plan, sizeof(room->plan), "%s", sqlite3_column_text(st, 0));
        snprintf(room->room, sizeof(room->room), "%s", sqlite3_column_text(st, 1));
        room->retired_at = sqlite3_column_int64(st, 3);
        rc = key_from_raw_public(KEY_ED25519, sqlite3_column_blob(st, 2), &room->sign);
    } else {
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? ER_ROOM_NOT_REGISTERED : ER_CENTER_DB;
    }
    sqlite3_finalize(st);
    return rc;
}
