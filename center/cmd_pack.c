/* examcenter pack [--room ROOM] [--plan P]: builds each registered room's
 * package (docs/package-format.md "Contents") and prints each file's path.
 * A room that has not registered has no key to wrap its package to, so it
 * cannot be packed yet. */
#include "center.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define MSG_PACK_FAILED "考场 %s 的试卷包未能生成。"

struct pack {
    sqlite3 *db;
    const char *plan, *room;
    struct pkg_writer *w;
};

/* Runs sql with ?1 = plan, ?2 = room, ?3 = extra and returns its rows as a
 * JSON array of objects named by the columns; integer columns stay numbers,
 * and a column named "body" is parsed as JSON. */
static json_t *rows(struct pack *p, const char *sql, const char *extra)
{
    json_t *out = json_array();
    sqlite3_stmt *st;

    if (sqlite3_prepare_v2(p->db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("pack: %s", sqlite3_errmsg(p->db));
        json_decref(out);
        return NULL;
    }
    sqlite3_bind_text(st, 1, p->plan, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->room, -1, SQLITE_STATIC);
    if (extra != NULL)
        sqlite3_bind_text(st, 3, extra, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *row = json_object();

        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const char *name = sqlite3_column_name(st, c);
            json_t *v;

            if (sqlite3_column_type(st, c) == SQLITE_INTEGER)
                v = json_integer(sqlite3_column_int64(st, c));
            else if (strcmp(name, "body") == 0)
                v = json_loads((const char *)sqlite3_column_text(st, c), 0, NULL);
            else
                v = json_string((const char *)sqlite3_column_text(st, c));
            json_object_set_new(row, name, v ? v : json_null());
        }
        json_array_append_new(out, row);
    }
    sqlite3_finalize(st);
    return out;
}

static int write_json(struct pack *p, const char *name, const char *session, json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    int rc;

    json_decref(doc);
    if (text == NULL)
        return ER_NOMEM;
    rc = pkg_writer_begin(p->w, name, session);
    if (rc == 0)
        rc = pkg_writer_write(p->w, text, strlen(text));
    if (rc == 0)
        rc = pkg_writer_end(p->w);
    free(text);
    return rc;
}

/* The roster: plan, room, the room's sessions and candidates with seats. */
static int section_room(struct pack *p, json_t *sessions)
{
    json_t *doc = json_object(), *plan, *room;

    plan = rows(p,
                "SELECT id, institution_code, institution_name, timezone, pass_mark "
                "FROM plans WHERE id = ?1 AND ?2 IS NOT NULL",
                NULL);
    room = rows(p,
                "SELECT id, site, site_name, name, seats FROM rooms "
                "WHERE plan_id = ?1 AND id = ?2",
                NULL);
    json_object_set(doc, "plan", json_array_get(plan, 0));
    json_object_set(doc, "room", json_array_get(room, 0));
    json_object_set(doc, "sessions", sessions);
    json_object_set_new(doc, "candidates",
                        rows(p,
                             "SELECT ticket, name, gender, id_type, id_number, occupation, "
                             "level, session_id AS session, seat, photo_name AS photo "
                             "FROM candidates WHERE plan_id = ?1 AND room_id = ?2 "
                             "ORDER BY session_id, seat",
                             NULL));
    json_decref(plan);
    json_decref(room);
    return write_json(p, "room.json", NULL, doc);
}

/* Photos: for each, u16 name length, name, u32 size, the JPEG. */
static int section_photos(struct pack *p)
{
    sqlite3_stmt *st;
    int rc = pkg_writer_begin(p->w, "photos", NULL);

    if (rc < 0)
        return rc;
    if (sqlite3_prepare_v2(p->db,
                           "SELECT DISTINCT photo_name, photo FROM candidates "
                           "WHERE plan_id = ?1 AND room_id = ?2 ORDER BY photo_name",
                           -1, &st, NULL) != SQLITE_OK)
        return ER_CENTER_DB;
    sqlite3_bind_text(st, 1, p->plan, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->room, -1, SQLITE_STATIC);
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        size_t nlen = strlen(name), size = (size_t)sqlite3_column_bytes(st, 1);
        uint8_t head[6] = {(uint8_t)(nlen >> 8), (uint8_t)nlen};

        head[2] = (uint8_t)(size >> 24);
        head[3] = (uint8_t)(size >> 16);
        head[4] = (uint8_t)(size >> 8);
        head[5] = (uint8_t)size;
        rc = pkg_writer_write(p->w, head, 2);
        if (rc == 0)
            rc = pkg_writer_write(p->w, name, nlen);
        if (rc == 0)
            rc = pkg_writer_write(p->w, head + 2, 4);
        if (rc == 0)
            rc = pkg_writer_write(p->w, sqlite3_column_blob(st, 1), size);
    }
    sqlite3_finalize(st);
    return rc == 0 ? pkg_writer_end(p->w) : rc;
}

/* One section per session: its papers, answer keys included. */
static int section_papers(struct pack *p, json_t *sessions)
{
    size_t i;
    json_t *s;
    int rc = 0;

    json_array_foreach(sessions, i, s)
    {
        const char *id = json_string_value(json_object_get(s, "id"));
        json_t *doc = json_object();
        char name[PKG_MAX_NAME + 1];

        json_object_set_new(doc, "session", json_string(id));
        json_object_set_new(
            doc, "papers",
            rows(p,
                 "SELECT sp.occupation, sp.level, sp.subject, pa.body FROM session_papers sp "
                 "JOIN papers pa ON pa.plan_id = sp.plan_id AND pa.path = sp.paper_path "
                 "WHERE sp.plan_id = ?1 AND ?2 IS NOT NULL AND sp.session_id = ?3 "
                 "ORDER BY sp.occupation, sp.level",
                 id));
        snprintf(name, sizeof(name), "paper/%s", id);
        rc = write_json(p, name, id, doc);
        if (rc < 0)
            break;
    }
    return rc;
}

/* The room's X25519 key, from its registration (the one not retired). */
static int room_wrap_key(struct pack *p, struct key **out)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(p->db,
                           "SELECT wrap_pub FROM registrations WHERE plan_id = ?1 AND room_id = ?2 "
                           "AND retired_at IS NULL ORDER BY registered_at DESC LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return ER_CENTER_DB;
    sqlite3_bind_text(st, 1, p->plan, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->room, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == KEY_RAW_LEN)
        rc = key_from_raw_public(KEY_X25519, sqlite3_column_blob(st, 0), out);
    else
        rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? ER_ROOM_NOT_REGISTERED : ER_CENTER_DB;
    sqlite3_finalize(st);
    return rc;
}

static int64_t next_version(struct pack *p)
{
    sqlite3_stmt *st;
    int64_t v = 1;

    if (sqlite3_prepare_v2(p->db,
                           "SELECT COALESCE(MAX(version), 0) + 1 FROM packages "
                           "WHERE plan_id = ?1 AND room_id = ?2",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, p->plan, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->room, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int record(struct pack *p, int64_t version, const char *path, int64_t now)
{
    sqlite3_stmt *st;
    struct stat sb;
    uint8_t id[32];
    int rc;

    rc = pkg_package_id(path, id);
    if (rc < 0 || stat(path, &sb) != 0)
        return rc < 0 ? rc : ER_IO;
    if (sqlite3_prepare_v2(p->db,
                           "INSERT INTO packages (plan_id, room_id, version, path, package_id, "
                           "size, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                           -1, &st, NULL) != SQLITE_OK)
        return ER_CENTER_DB;
    sqlite3_bind_text(st, 1, p->plan, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->room, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, version);
    sqlite3_bind_text(st, 4, path, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, id, sizeof(id), SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (int64_t)sb.st_size);
    sqlite3_bind_int64(st, 7, now);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : ER_CENTER_DB;
    sqlite3_finalize(st);
    return rc;
}

#define SESSION_COLUMNS                                                                            \
    "SELECT s.id, s.date, s.start, s.end, s.starts_at, s.ends_at, s.late_admission_minutes, "      \
    "s.earliest_submit_minutes FROM sessions s WHERE s.plan_id = ?1 AND EXISTS (SELECT 1 FROM "    \
    "candidates c WHERE c.plan_id = s.plan_id AND c.session_id = s.id AND c.room_id = ?2) "        \
    "ORDER BY s.starts_at, s.id"

static int pack_room(const struct cli_ctx *ctx, struct pack *p, const struct key *center,
                     int64_t now)
{
    struct pkg_session_spec specs[PKG_MAX_SESSIONS];
    uint8_t codes[PKG_MAX_SESSIONS][CODE_BYTES(CODE_UNLOCK_BITS)];
    struct pkg_writer_params params = {
        .plan_id = p->plan, .room_id = p->room, .created_at = now, .center_key = center};
    char path[CENTER_PATH_MAX], dir[CENTER_PATH_MAX];
    struct key *room_key = NULL;
    json_t *sessions = rows(p, SESSION_COLUMNS, NULL), *s;
    int64_t version = next_version(p), last_end = now;
    size_t i;
    int rc = sessions == NULL || version < 0 ? ER_CENTER_DB : room_wrap_key(p, &room_key);

    json_array_foreach(sessions, i, s)
    {
        if (rc < 0 || i == PKG_MAX_SESSIONS)
            break;
        specs[i].id = json_string_value(json_object_get(s, "id"));
        specs[i].starts_at = json_integer_value(json_object_get(s, "starts_at"));
        specs[i].ends_at = json_integer_value(json_object_get(s, "ends_at"));
        specs[i].unlock_code = codes[i];
        if (specs[i].ends_at > last_end)
            last_end = specs[i].ends_at;
        rc = center_unlock_code(p->db, p->plan, specs[i].id, codes[i]);
    }
    params.version = (uint64_t)version;
    params.expires_at = last_end + CENTER_PACKAGE_GRACE;
    params.room_key = room_key;
    params.sessions = specs;
    params.n_sessions = json_array_size(sessions);
    if (rc == 0 && (center_path(ctx, "packages", dir) < 0 ||
                    snprintf(path, sizeof(path), "%s/%s.%s.v%lld.pkg", dir, p->plan, p->room,
                             (long long)version) >= (int)sizeof(path)))
        rc = ER_USAGE;
    if (rc == 0 && mkdir(dir, 0700) != 0 && errno != EEXIST)
        rc = ER_IO;
    if (rc == 0)
        rc = pkg_writer_new(&params, path, &p->w);
    if (rc == 0)
        rc = section_room(p, sessions);
    if (rc == 0)
        rc = section_photos(p);
    if (rc == 0)
        rc = section_papers(p, sessions);
    if (rc == 0)
        rc = pkg_writer_finish(p->w);
    pkg_writer_free(p->w);
    p->w = NULL;
    if (rc == 0)
        rc = record(p, version, path, now);
    if (rc == 0)
        printf("%s\n", path);
    json_decref(sessions);
    key_free(room_key);
    return rc;
}

int cmd_pack(struct cli_ctx *ctx, int argc, char **argv)
{
    static const char *const names[] = {"--room", "--plan", NULL};
    char plan[PKG_MAX_NAME + 1], key_path[CENTER_PATH_MAX], failed[PKG_MAX_NAME + 1] = "";
    int bad = 0, rc, packed = 0;
    const char *room = cli_option(argc, argv, "--room", &bad);
    const char *given = cli_option(argc, argv, "--plan", &bad);
    struct pack p = {0};
    struct key *center = NULL;
    json_t *rooms = NULL, *r;
    int64_t now;
    size_t i;

    if (bad || cli_check_options(argc, argv, 1, names) < 0)
        return cli_fail(ctx, ER_USAGE);
    rc = center_now_override(&now);
    if (rc == 0)
        rc = center_path(ctx, "center-key.pem", key_path);
    if (rc == 0)
        rc = key_load_private(KEY_ED25519, key_path, &center);
    if (rc == 0)
        rc = center_db_open(ctx->data_dir, &p.db);
    if (rc == 0)
        rc = center_resolve_plan(p.db, given, plan);
    if (rc < 0)
        goto out;
    p.plan = plan;
    p.room = room != NULL ? room : "";
    /* The rooms to pack: the one asked for, or every registered room. */
    rooms = rows(&p,
                 room != NULL ? "SELECT id FROM rooms WHERE plan_id = ?1 AND id = ?2"
                              : "SELECT DISTINCT room_id AS id FROM registrations "
                                "WHERE plan_id = ?1 AND ?2 IS NOT NULL AND retired_at IS NULL "
                                "ORDER BY room_id",
                 NULL);
    if (rooms == NULL || (room != NULL && json_array_size(rooms) == 0)) {
        rc = rooms == NULL ? ER_CENTER_DB : ER_ROOM_NOT_FOUND;
        goto out;
    }
    json_array_foreach(rooms, i, r)
    {
        p.room = json_string_value(json_object_get(r, "id"));
        rc = pack_room(ctx, &p, center, now);
        if (rc < 0) {
            /* Kept by value: p.room points into rooms, freed below. */
            snprintf(failed, sizeof(failed), "%s", p.room);
            break;
        }
        packed++;
    }
    if (rc == 0 && packed == 0)
        rc = ER_ROOM_NOT_REGISTERED;
out:
    if (failed[0] == '\0' && room != NULL)
        snprintf(failed, sizeof(failed), "%s", room);
    json_decref(rooms);
    key_free(center);
    sqlite3_close(p.db);
    if (rc < 0 && failed[0] != '\0')
        return cli_fail_detail(ctx, rc, MSG_PACK_FAILED, failed);
    return rc < 0 ? cli_fail(ctx, rc) : 0;
}
