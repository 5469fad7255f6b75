/* The center's endpoints (docs/protocol.md). Each answers one request; the
 * plumbing (bodies, gzip, authentication, replies) is in serve.c. */
#include "center.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REPLY_ERROR(api, status, code) api_reply_error((api), (status), (code), NULL)

/* Runs sql binding ?1..?3 to the strings given and returns the first row's
 * columns as a JSON object (integers as numbers), or NULL. */
static json_t *row(sqlite3 *db, const char *sql, const char *a, const char *b, const char *c)
{
    sqlite3_stmt *st;
    json_t *out = NULL;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b != NULL)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    if (c != NULL)
        sqlite3_bind_text(st, 3, c, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        out = json_object();
        for (int i = 0; i < sqlite3_column_count(st); i++)
            json_object_set_new(out, sqlite3_column_name(st, i),
                                sqlite3_column_type(st, i) == SQLITE_INTEGER
                                    ? json_integer(sqlite3_column_int64(st, i))
                                    : json_string((const char *)sqlite3_column_text(st, i)));
    }
    sqlite3_finalize(st);
    return out;
}

static json_t *room_sessions(sqlite3 *db, const char *plan, const char *room)
{
    json_t *out = json_array();
    sqlite3_stmt *st;

    if (sqlite3_prepare_v2(db,
                           "SELECT s.id, s.date, s.start, s.end, s.starts_at, s.ends_at "
                           "FROM sessions s WHERE s.plan_id = ?1 AND EXISTS (SELECT 1 FROM "
                           "candidates c WHERE c.plan_id = ?1 AND c.session_id = s.id AND "
                           "c.room_id = ?2) ORDER BY s.starts_at, s.id",
                           -1, &st, NULL) != SQLITE_OK)
        return out;
    sqlite3_bind_text(st, 1, plan, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, room, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(
            out, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "id", sqlite3_column_text(st, 0),
                           "date", sqlite3_column_text(st, 1), "start", sqlite3_column_text(st, 2),
                           "end", sqlite3_column_text(st, 3), "starts_at",
                           (json_int_t)sqlite3_column_int64(st, 4), "ends_at",
                           (json_int_t)sqlite3_column_int64(st, 5)));
    sqlite3_finalize(st);
    return out;
}

/* What a room learns when it registers (and again on a retried register). */
static enum MHD_Result registered(struct api *api, const char *plan, const char *room)
{
    json_t *body = json_object();

    json_object_set_new(body, "plan",
                        row(api->server->db,
                            "SELECT id, institution_name, timezone, pass_mark FROM plans "
                            "WHERE id = ?1",
                            plan, NULL, NULL));
    json_object_set_new(body, "room",
                        row(api->server->db,
                            "SELECT id, name, site, site_name, seats FROM rooms "
                            "WHERE plan_id = ?1 AND id = ?2",
                            plan, room, NULL));
    json_object_set_new(body, "sessions", room_sessions(api->server->db, plan, room));
    json_object_set_new(body, "center_time", json_integer(api->now));
    {
        char b64[KEY_B64_LEN + 1];

        key_public_b64(api->server->bundle, b64);
        json_object_set_new(body, "bundle_key", json_string(b64));
    }
    /* Signed: the room takes the bundle key from here. */
    return api_reply_json(api, MHD_HTTP_OK, body, PROTO_CTX_REGISTER);
}

/* Retires every key still registered for plan and room: a replacement
 * serial takes the room over. The results they delivered stay. */
static int retire_room_keys(struct api *api, const char *plan, const char *room)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(api->server->db,
                           "UPDATE registrations SET retired_at = ?3 WHERE plan_id = ?1 AND "
                           "room_id = ?2 AND retired_at IS NULL",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, plan, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, room, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, api->now);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

/* Serial use, under one transaction: 0 registered now or before by this
 * key, else the error code to answer with. A room has one key at a time: a
 * serial registers a room that another key holds only when it was issued to
 * replace it (serial issue --replace), and then retires that key. */
static const char *use_serial(struct api *api, const uint8_t *serial, const uint8_t id[32],
                              const struct key *sign, const struct key *wrap, const char *name,
                              char plan[PKG_MAX_NAME + 1], char room[PKG_MAX_NAME + 1])
{
    sqlite3 *db = api->server->db;
    sqlite3_stmt *st;
    uint8_t sign_raw[32], wrap_raw[32];
    const char *err = NULL;
    int rc, mine = 0, used = 0, replaces = 0;

    if (sqlite3_prepare_v2(
            db, "SELECT plan_id, room_id, used_by, replaces FROM serials WHERE code = ?1", -1, &st,
            NULL) != SQLITE_OK)
        return "internal";
    sqlite3_bind_blob(st, 1, serial, CODE_BYTES(CODE_SERIAL_BITS), SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        snprintf(plan, PKG_MAX_NAME + 1, "%s", sqlite3_column_text(st, 0));
        snprintf(room, PKG_MAX_NAME + 1, "%s", sqlite3_column_text(st, 1));
        used = sqlite3_column_type(st, 2) != SQLITE_NULL;
        mine = used && sqlite3_column_bytes(st, 2) == 32 &&
               memcmp(sqlite3_column_blob(st, 2), id, 32) == 0;
        replaces = sqlite3_column_int(st, 3);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? "serial_unknown" : "internal";
    if (mine) {
        /* The same room again, e.g. after a lost answer; unless a
         * replacement has retired its key since. */
        rc = center_exists(db,
                           "SELECT 1 FROM registrations WHERE hex(room_key_id) = upper(?1) AND "
                           "retired_at IS NOT NULL",
                           api->room_hex, NULL);
        return rc == 0 ? NULL : rc == 1 ? "room_key_retired" : "internal";
    }
    if (used)
        return "serial_used";
    rc = center_exists(db, "SELECT 1 FROM registrations WHERE hex(room_key_id) = upper(?1)",
                       api->room_hex, NULL);
    if (rc != 0)
        return rc == 1 ? "room_key_in_use" : "internal";
    rc = center_exists(db,
                       "SELECT 1 FROM registrations WHERE plan_id = ?1 AND room_id = ?2 AND "
                       "retired_at IS NULL",
                       plan, room);
    if (rc < 0)
        return "internal";
    if (rc == 1 && !replaces)
        return "room_registered";
    if (rc == 1 && retire_room_keys(api, plan, room) < 0)
        return "internal";
    key_public_raw(sign, sign_raw);
    key_public_raw(wrap, wrap_raw);
    rc = sqlite3_prepare_v2(db,
                            "INSERT INTO registrations (room_key_id, plan_id, room_id, sign_pub, "
                            "wrap_pub, name, registered_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                            -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, plan, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, room, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 4, sign_raw, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 5, wrap_raw, 32, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, api->now);
        if (sqlite3_step(st) != SQLITE_DONE)
            err = "internal";
        sqlite3_finalize(st);
    }
    if (err == NULL && sqlite3_prepare_v2(db,
                                          "UPDATE serials SET used_at = ?1, used_by = ?2 "
                                          "WHERE code = ?3",
                                          -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, api->now);
        sqlite3_bind_blob(st, 2, id, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, serial, CODE_BYTES(CODE_SERIAL_BITS), SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            err = "internal";
        sqlite3_finalize(st);
    }
    return err;
}

static enum MHD_Result do_register(struct api *api)
{
    json_t *doc = json_loadb((const char *)api->data, api->len, 0, NULL);
    const char *serial_text = json_string_value(json_object_get(doc, "serial"));
    const char *sign_b64 = json_string_value(json_object_get(doc, "sign_pub"));
    const char *wrap_b64 = json_string_value(json_object_get(doc, "wrap_pub"));
    const char *name = json_string_value(json_object_get(doc, "name"));
    struct key *sign = NULL, *wrap = NULL;
    char plan[PKG_MAX_NAME + 1], room[PKG_MAX_NAME + 1];
    uint8_t serial[CODE_BYTES(CODE_SERIAL_BITS)], id[32];
    struct proto_auth auth;
    const char *err = NULL;
    enum MHD_Result result;

    if (serial_text == NULL || sign_b64 == NULL || wrap_b64 == NULL ||
        key_parse_public(KEY_ED25519, sign_b64, &sign) < 0 ||
        key_parse_public(KEY_X25519, wrap_b64, &wrap) < 0) {
        result = REPLY_ERROR(api, MHD_HTTP_BAD_REQUEST, "bad_json");
        goto out;
    }
    key_id(sign, id);
    hex_encode(id, sizeof(id), api->room_hex);
    if (api_read_auth(api, &auth) < 0 || strcmp(auth.room, api->room_hex) != 0) {
        result = REPLY_ERROR(api, MHD_HTTP_UNAUTHORIZED, "bad_signature");
        goto out;
    }
    /* The room proves it holds the key it registers: it signs this request. */
    if (api_check_signed(api, &auth, sign, id) != 0) {
        result = api->result;
        goto out;
    }
    if (code_decode(serial_text, CODE_SERIAL_BITS, serial) < 0) {
        result = REPLY_ERROR(api, MHD_HTTP_BAD_REQUEST, "serial_typo");
        goto out;
    }
    sqlite3_exec(api->server->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    err = use_serial(api, serial, id, sign, wrap, name ? name : "", plan, room);
    sqlite3_exec(api->server->db, err ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    if (err == NULL)
        result = registered(api, plan, room);
    else
        result = REPLY_ERROR(api,
                             strcmp(err, "serial_unknown") == 0     ? MHD_HTTP_NOT_FOUND
                             : strcmp(err, "internal") == 0         ? MHD_HTTP_INTERNAL_SERVER_ERROR
                             : strcmp(err, "room_key_retired") == 0 ? MHD_HTTP_FORBIDDEN
                                                                    : MHD_HTTP_CONFLICT,
                             err);
out:
    json_decref(doc);
    key_free(sign);
    key_free(wrap);
    return result;
}

static enum MHD_Result do_manifest(struct api *api)
{
    json_t *body = json_object(), *list = json_array();
    sqlite3_stmt *st;

    if (sqlite3_prepare_v2(api->server->db,
                           "SELECT version, size, package_id FROM packages "
                           "WHERE plan_id = ?1 AND room_id = ?2 ORDER BY version",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, api->room.plan, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, api->room.room, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            char hex[65], path[64];
            int64_t v = sqlite3_column_int64(st, 0);

            if (sqlite3_column_bytes(st, 2) != 32)
                continue;
            hex_encode(sqlite3_column_blob(st, 2), 32, hex);
            snprintf(path, sizeof(path), "/v1/packages/%lld", (long long)v);
            json_array_append_new(list, json_pack("{s:I, s:I, s:s, s:s}", "version", (json_int_t)v,
                                                  "size", (json_int_t)sqlite3_column_int64(st, 1),
                                                  "package_id", hex, "path", path));
        }
        sqlite3_finalize(st);
    }
    json_object_set_new(body, "plan", json_string(api->room.plan));
    json_object_set_new(body, "room", json_string(api->room.room));
    json_object_set_new(body, "packages", list);
    json_object_set_new(body, "center_time", json_integer(api->now));
    return api_reply_json(api, MHD_HTTP_OK, body, PROTO_CTX_MANIFEST);
}

/* "bytes=A-B", "bytes=A-" or "bytes=-N" against size: 0 with [*from, *to]
 * inclusive, 1 unsatisfiable, -1 not a single byte range (then ignored). */
static int parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
    unsigned long long a = 0, b = 0;
    const char *dash;
    char *end;

    if (strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL || (dash = strchr(h, '-')) == NULL)
        return -1;
    if (dash == h + 6) {
        b = strtoull(dash + 1, &end, 10);
        if (*end != '\0' || dash[1] == '\0')
            return -1;
        if (b == 0 || size == 0)
            return 1;
        *from = b >= size ? 0 : size - b;
        *to = size - 1;
        return 0;
    }
    a = strtoull(h + 6, &end, 10);
    if (end != dash)
        return -1;
    if (dash[1] != '\0') {
        b = strtoull(dash + 1, &end, 10);
        if (*end != '\0' || b < a)
            return -1;
    } else {
        b = size ? size - 1 : 0;
    }
    if (a >= size)
        return 1;
    *from = a;
    *to = b >= size ? size - 1 : b;
    return 0;
}

static enum MHD_Result do_package(struct api *api, const char *version)
{
    json_t *pkg = row(api->server->db,
                      "SELECT path, hex(package_id) AS id FROM packages "
                      "WHERE plan_id = ?1 AND room_id = ?2 AND version = ?3",
                      api->room.plan, api->room.room, version);
    const char *range = MHD_lookup_connection_value(api->conn, MHD_HEADER_KIND, "Range");
    const char *if_range = MHD_lookup_connection_value(api->conn, MHD_HEADER_KIND, "If-Range");
    uint64_t from = 0, to = 0, size;
    char etag[80], content_range[96];
    struct MHD_Response *r;
    struct stat st;
    enum MHD_Result ok;
    int fd, partial = 0;

    if (pkg == NULL)
        return REPLY_ERROR(api, MHD_HTTP_NOT_FOUND, "no_such_package");
    fd = open(json_string_value(json_object_get(pkg, "path")), O_RDONLY | O_CLOEXEC);
    /* A strong ETag: the package id names these exact bytes. */
    snprintf(etag, sizeof(etag), "\"%s\"", json_string_value(json_object_get(pkg, "id")));
    json_decref(pkg);
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return REPLY_ERROR(api, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal");
    }
    size = (uint64_t)st.st_size;
    for (char *p = etag; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    /* If-Range names the copy the room has part of: another copy means the
     * whole new file, not a range of it. */
    if (range != NULL && (if_range == NULL || strcmp(if_range, etag) == 0)) {
        int pr = parse_range(range, size, &from, &to);

        if (pr == 1) {
            close(fd);
            snprintf(content_range, sizeof(content_range), "bytes */%llu",
                     (unsigned long long)size);
            r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
            api->status = MHD_HTTP_RANGE_NOT_SATISFIABLE;
            ok = MHD_queue_response(api->conn, api->status, r);
            MHD_destroy_response(r);
            return ok;
        }
        partial = pr == 0;
    }
    if (!partial) {
        from = 0;
        to = size ? size - 1 : 0;
    }
    r = MHD_create_response_from_fd_at_offset64(size ? to - from + 1 : 0, fd, from);
    if (r == NULL) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    if (partial) {
        snprintf(content_range, sizeof(content_range), "bytes %llu-%llu/%llu",
                 (unsigned long long)from, (unsigned long long)to, (unsigned long long)size);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
    }
    api->status = partial ? MHD_HTTP_PARTIAL_CONTENT : MHD_HTTP_OK;
    ok = MHD_queue_response(api->conn, api->status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result do_session_key(struct api *api, const char *session)
{
    json_t *s = row(api->server->db,
                    "SELECT starts_at, ends_at FROM sessions WHERE plan_id = ?1 AND id = ?2",
                    api->room.plan, session, NULL);
    uint8_t code[CODE_BYTES(CODE_UNLOCK_BITS)];
    char text[32];
    int64_t opens;

    if (s == NULL)
        return REPLY_ERROR(api, MHD_HTTP_NOT_FOUND, "no_such_session");
    opens = json_integer_value(json_object_get(s, "starts_at")) - api->server->key_lead;
    json_decref(s);
    if (center_exists(api->server->db,
                      "SELECT 1 FROM candidates c JOIN registrations r ON r.plan_id = c.plan_id "
                      "AND r.room_id = c.room_id WHERE c.session_id = ?1 AND "
                      "hex(r.room_key_id) = upper(?2)",
                      session, api->room_hex) != 1)
        return REPLY_ERROR(api, MHD_HTTP_FORBIDDEN, "not_your_session");
    if (api->now < opens) {
        json_t *extra = json_object();

        json_object_set_new(extra, "opens_at", json_integer(opens));
        json_object_set_new(extra, "center_time", json_integer(api->now));
        return api_reply_error(api, MHD_HTTP_FORBIDDEN, "too_early", extra);
    }
    if (center_unlock_code(api->server->db, api->room.plan, session, code) < 0)
        return REPLY_ERROR(api, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal");
    code_encode(code, CODE_UNLOCK_BITS, CODE_UNLOCK_GROUP, text, sizeof(text));
    return api_reply_json(api, MHD_HTTP_OK,
                          json_pack("{s:s, s:s, s:I}", "session", session, "unlock_code", text,
                                    "center_time", (json_int_t)api->now),
                          PROTO_CTX_SESSION_KEY);
}

/* ---- uploads: results and events ---- */

struct sealed {
    const char *id;
    uint8_t *payload;
    size_t len;
    json_t *doc;
    uint8_t hash[32], prev[32];
    int64_t pos;
    int64_t seat; /* the seat the room says was used; 0 when it does not say */
    int known;    /* already stored, byte for byte */
};

static int field_is(json_t *doc, const char *name, const char *want)
{
    const char *v = json_string_value(json_object_get(doc, name));

    return v != NULL && strcmp(v, want) == 0;
}

/* Checks one uploaded record: its signature by the room, and that its
 * payload names itself, this plan and this room. */
static const char *open_sealed(struct api *api, json_t *item, const char *context, struct sealed *s)
{
    const char *payload = json_string_value(json_object_get(item, "payload"));
    const char *sig = json_string_value(json_object_get(item, "sig"));

    s->id = json_string_value(json_object_get(item, "id"));
    if (s->id == NULL || payload == NULL || sig == NULL || strlen(s->id) > 128 ||
        base64_decode(payload, &s->payload, &s->len) < 0)
        return "bad_json";
    if (proto_verify_body(api->room.sign, context, s->payload, s->len, sig) < 0)
        return "bad_signature";
    s->doc = json_loadb((const char *)s->payload, s->len, 0, NULL);
    if (!json_is_object(s->doc) || !field_is(s->doc, "id", s->id) ||
        !field_is(s->doc, "plan", api->room.plan) || !field_is(s->doc, "room", api->room.room))
        return "bad_json";
    sha256(s->payload, s->len, s->hash);
    return NULL;
}

/* Compares an uploaded record with what is stored under its id:
 * 0 new, 1 the same bytes, -1 different bytes (a conflict). */
static int compare_stored(sqlite3 *db, const char *table, const uint8_t key_id[32],
                          const struct sealed *s)
{
    char sql[128];
    sqlite3_stmt *st;
    int rc, out = 0;

    /* Within this room only: ids are each room's own. */
    snprintf(sql, sizeof(sql), "SELECT payload FROM %s WHERE room_key_id = ?2 AND id = ?1", table);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, key_id, 32, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        out = (size_t)sqlite3_column_bytes(st, 0) == s->len &&
                      memcmp(sqlite3_column_blob(st, 0), s->payload, s->len) == 0
                  ? 1
                  : -1;
    sqlite3_finalize(st);
    return out;
}

static json_t *blob_at(sqlite3 *db, const char *sql, const uint8_t key_id[32], int64_t pos)
{
    sqlite3_stmt *st;
    json_t *out = NULL;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_blob(st, 1, key_id, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, pos);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
        char hex[65];

        hex_encode(sqlite3_column_blob(st, 0), 32, hex);
        out = json_string(hex);
    }
    sqlite3_finalize(st);
    return out;
}

/* 1 when stored neighbours of s agree with its links, 0 when not. */
static int links_agree(sqlite3 *db, const uint8_t key_id[32], const struct sealed *s)
{
    char hash[65], prev[65];
    json_t *before =
        blob_at(db, "SELECT hash FROM results WHERE room_key_id = ?1 AND chain_pos = ?2", key_id,
                s->pos - 1);
    json_t *after =
        blob_at(db, "SELECT prev FROM results WHERE room_key_id = ?1 AND chain_pos = ?2", key_id,
                s->pos + 1);
    int ok = 1;
    static const uint8_t zero[32];

    hex_encode(s->hash, 32, hash);
    hex_encode(s->prev, 32, prev);
    /* Positions start at 1; the first result follows the empty chain. */
    if (s->pos == 1 && memcmp(s->prev, zero, 32) != 0)
        ok = 0;
    if (before != NULL && strcmp(json_string_value(before), prev) != 0)
        ok = 0;
    if (after != NULL && strcmp(json_string_value(after), hash) != 0)
        ok = 0;
    json_decref(before);
    json_decref(after);
    return ok;
}

/* Stores one new result: NULL, or the error code. Another result for the
 * same candidate is no reason to refuse it (see held()); a second record at
 * one chain position of this key is. */
static const char *insert_result(struct api *api, const struct sealed *s, const char *sig)
{
    sqlite3_stmt *st;
    json_t *score = json_object_get(s->doc, "score");
    const char *err = NULL;

    if (sqlite3_prepare_v2(api->server->db,
                           "INSERT INTO results (id, room_key_id, plan_id, room_id, session_id, "
                           "ticket, score, status, chain_pos, hash, prev, payload, sig, source, "
                           "received_at, seat) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                           "?11, ?12, ?13, ?15, ?14, ?16)",
                           -1, &st, NULL) != SQLITE_OK)
        return "internal";
    sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, api->room.key_id, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, api->room.plan, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, api->room.room, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, json_string_value(json_object_get(s->doc, "session")), -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 6, json_string_value(json_object_get(s->doc, "ticket")), -1,
                      SQLITE_STATIC);
    if (json_is_integer(score))
        sqlite3_bind_int64(st, 7, json_integer_value(score));
    sqlite3_bind_text(st, 8, json_string_value(json_object_get(s->doc, "status")), -1,
                      SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, s->pos);
    sqlite3_bind_blob(st, 10, s->hash, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 11, s->prev, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 12, s->payload, (int)s->len, SQLITE_STATIC);
    sqlite3_bind_text(st, 13, sig, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 14, api->now);
    sqlite3_bind_text(st, 15, api->source, -1, SQLITE_STATIC);
    if (s->seat > 0)
        sqlite3_bind_int64(st, 16, s->seat);
    if (sqlite3_step(st) != SQLITE_DONE)
        err = sqlite3_extended_errcode(api->server->db) == SQLITE_CONSTRAINT_UNIQUE ||
                      sqlite3_extended_errcode(api->server->db) == SQLITE_CONSTRAINT_PRIMARYKEY
                  ? "chain_broken"
                  : "internal";
    sqlite3_finalize(st);
    return err;
}

/* 1 when another result than s is stored for s's candidate (plan, session,
 * ticket): two results for one candidate are both kept and held for the
 * center's review. 0 when not, -1 on a database error. */
static int held(struct api *api, const struct sealed *s)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(api->server->db,
                           "SELECT 1 FROM results WHERE plan_id = ?1 AND session_id = ?2 AND "
                           "ticket = ?3 AND NOT (room_key_id = ?4 AND id = ?5)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, api->room.plan, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, json_string_value(json_object_get(s->doc, "session")), -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 3, json_string_value(json_object_get(s->doc, "ticket")), -1,
                      SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, api->room.key_id, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, s->id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* The fields of a result's payload that the center reads; the candidate
 * must be one this room seats in that session, so that no room can speak
 * for another's candidates. */
static int result_fields(struct api *api, struct sealed *s)
{
    json_t *d = s->doc, *score = json_object_get(d, "score"),
           *pos = json_object_get(d, "chain_pos"), *seat = json_object_get(d, "seat");
    const char *prev = json_string_value(json_object_get(d, "prev"));
    sqlite3_stmt *st;
    int rc;

    if (!json_is_string(json_object_get(d, "session")) ||
        !json_is_string(json_object_get(d, "ticket")) ||
        !json_is_string(json_object_get(d, "status")) || !json_is_integer(pos) ||
        json_integer_value(pos) < 1 || (!json_is_null(score) && !json_is_integer(score)) ||
        prev == NULL || hex_decode(prev, s->prev, 32) < 0)
        return -1;
    /* The seat used: optional (older rooms do not say; null for a candidate
     * who sat nowhere), else a seat number. */
    if (seat != NULL && !json_is_null(seat) &&
        (!json_is_integer(seat) || json_integer_value(seat) < 1 ||
         json_integer_value(seat) > 100000))
        return -1;
    s->seat = json_is_integer(seat) ? json_integer_value(seat) : 0;
    s->pos = json_integer_value(pos);
    if (sqlite3_prepare_v2(api->server->db,
                           "SELECT 1 FROM candidates WHERE plan_id = ?1 AND session_id = ?2 "
                           "AND ticket = ?3 AND room_id = ?4",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, api->room.plan, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, json_string_value(json_object_get(d, "session")), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, json_string_value(json_object_get(d, "ticket")), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, api->room.room, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* The signed head of the room's chain: checked, and kept when it is the
 * newest. */
static const char *check_head(struct api *api, json_t *head, json_t **receipt_head)
{
    json_t *pos = json_object_get(head, "pos");
    const char *hash = json_string_value(json_object_get(head, "hash"));
    const char *sig = json_string_value(json_object_get(head, "sig"));
    uint8_t raw[32];
    char text[96];
    json_t *stored_pos, *at;
    sqlite3_stmt *st;
    int64_t p;

    if (!json_is_integer(pos) || (p = json_integer_value(pos)) < 0 || hash == NULL || sig == NULL ||
        hex_decode(hash, raw, 32) < 0)
        return "bad_json";
    snprintf(text, sizeof(text), "%lld\n%s", (long long)p, hash);
    if (proto_verify_body(api->room.sign, PROTO_CTX_CHAIN, text, strlen(text), sig) < 0)
        return "bad_signature";
    at = blob_at(api->server->db,
                 "SELECT hash FROM results WHERE room_key_id = ?1 AND chain_pos = ?2",
                 api->room.key_id, p);
    if (at != NULL && strcmp(json_string_value(at), hash) != 0) {
        json_decref(at);
        return "chain_broken";
    }
    /* A head the center has seen at this very position must not change. */
    stored_pos =
        blob_at(api->server->db, "SELECT hash FROM chains WHERE room_key_id = ?1 AND pos = ?2",
                api->room.key_id, p);
    if (stored_pos != NULL) {
        char want[65];

        hex_encode(raw, 32, want);
        if (strcmp(json_string_value(stored_pos), want) != 0) {
            json_decref(stored_pos);
            json_decref(at);
            return "chain_broken";
        }
        json_decref(stored_pos);
    }
    stored_pos =
        blob_at(api->server->db, "SELECT hash FROM chains WHERE room_key_id = ?1 AND pos > ?2",
                api->room.key_id, p);
    if (stored_pos != NULL) {
        json_decref(stored_pos);
        /* Online, an older head means the room's history was cut short. A USB
         * bundle written before an online upload carries an older head too:
         * that is fine when it agrees with what the center holds there. */
        if (strcmp(api->source, "usb") != 0 || at == NULL) {
            json_decref(at);
            return "chain_rollback";
        }
        json_decref(at);
        *receipt_head = json_pack("{s:O, s:s}", "pos", pos, "hash", hash);
        return NULL;
    }
    json_decref(at);
    if (sqlite3_prepare_v2(api->server->db,
                           "INSERT INTO chains (room_key_id, pos, hash, sig) VALUES (?1, ?2, ?3, "
                           "?4) ON CONFLICT (room_key_id) DO UPDATE SET pos = excluded.pos, "
                           "hash = excluded.hash, sig = excluded.sig WHERE excluded.pos >= pos",
                           -1, &st, NULL) != SQLITE_OK)
        return "internal";
    sqlite3_bind_blob(st, 1, api->room.key_id, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, p);
    sqlite3_bind_blob(st, 3, raw, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, sig, -1, SQLITE_STATIC);
    p = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    if (p < 0)
        return "internal";
    *receipt_head = json_pack("{s:O, s:s}", "pos", pos, "hash", hash);
    return NULL;
}

static int insert_event(struct api *api, const struct sealed *s)
{
    sqlite3_stmt *st;
    int rc;

    if (!json_is_string(json_object_get(s->doc, "kind")) ||
        sqlite3_prepare_v2(api->server->db,
                           "INSERT INTO events (id, room_key_id, kind, payload, source, "
                           "received_at) VALUES (?1, ?2, ?3, ?4, ?6, ?5)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, api->room.key_id, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, json_string_value(json_object_get(s->doc, "kind")), -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, s->payload, (int)s->len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, api->now);
    sqlite3_bind_text(st, 6, api->source, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* A new array of the strings of list, sorted. */
static json_t *sorted(json_t *list)
{
    size_t n = json_array_size(list);
    json_t *out = json_array(), **v = calloc(n ? n : 1, sizeof(*v));

    for (size_t i = 0; i < n && v != NULL; i++)
        v[i] = json_array_get(list, i);
    if (v != NULL)
        qsort(v, n, sizeof(*v), by_id);
    for (size_t i = 0; i < n && v != NULL; i++)
        json_array_append(out, v[i]);
    free(v);
    return out;
}

/* The receipt: what this upload's ids now are at the center, and which of
 * them are held for review. The same upload gets the same bytes (and so the
 * same signature), as long as no conflict arose in between. */
static json_t *receipt(struct api *api, const char *kind, struct sealed *s, size_t n, json_t *head,
                       json_t *held_ids)
{
    json_t *ids = json_array(), *body;

    for (size_t i = 0; i < n; i++)
        json_array_append_new(ids, json_string(s[i].id));
    body = json_pack("{s:s, s:s, s:o}", "kind", kind, "room", api->room_hex, "stored", sorted(ids));
    json_decref(ids);
    if (head != NULL)
        json_object_set_new(body, "head", head);
    /* Events are not chained: the receipt says which bytes it holds under
     * each id (the SHA-256 of the payload), as the USB receipt does. */
    if (head == NULL && strcmp(kind, "events") == 0) {
        json_t *hashes = json_object();

        for (size_t i = 0; i < n; i++) {
            char hex[65];

            hex_encode(s[i].hash, 32, hex);
            json_object_set_new(hashes, s[i].id, json_string(hex));
        }
        json_object_set_new(body, "hashes", hashes);
    }
    /* Only when there are any: receipts without conflicts stay as they were. */
    if (json_array_size(held_ids) > 0)
        json_object_set_new(body, "held", sorted(held_ids));
    return body;
}

/* Stores what doc uploads: everything checked, then all stored in one
 * transaction, or nothing. On success *out is the receipt body; on a
 * conflict the error is "conflict" and *out lists the ids. */
static const char *store_batch(struct api *api, json_t *doc, int results, struct sealed *s,
                               size_t n, json_t **out)
{
    const char *err = NULL, *table = results ? "results" : "events";
    json_t *items = json_object_get(doc, table), *conflicts = json_array(), *head = NULL,
           *held_ids = json_array();
    size_t i;

    /* A savepoint: its own transaction for an upload, a part of the
     * import's transaction for a USB bundle (refused whole). */
    sqlite3_exec(api->server->db, "SAVEPOINT batch", NULL, NULL, NULL);
    for (i = 0; i < n; i++) {
        int c = compare_stored(api->server->db, table, api->room.key_id, &s[i]);

        s[i].known = c == 1;
        if (c < 0)
            json_array_append_new(conflicts, json_string(s[i].id));
    }
    if (json_array_size(conflicts) > 0)
        err = "conflict";
    for (i = 0; i < n && err == NULL; i++) {
        if (s[i].known)
            continue;
        if (results)
            err = insert_result(
                api, &s[i], json_string_value(json_object_get(json_array_get(items, i), "sig")));
        else if (insert_event(api, &s[i]) != 0)
            err = "bad_json";
    }
    for (i = 0; results && i < n && err == NULL; i++)
        if (!links_agree(api->server->db, api->room.key_id, &s[i]))
            err = "chain_broken";
    if (results && err == NULL)
        err = check_head(api, json_object_get(doc, "head"), &head);
    /* Every id of this upload that shares its candidate with another result
     * (of another key, or another id): stored, and held for review. */
    for (i = 0; results && i < n && err == NULL; i++) {
        int h = held(api, &s[i]);

        if (h < 0)
            err = "internal";
        else if (h == 1)
            json_array_append_new(held_ids, json_string(s[i].id));
    }
    if (err == NULL &&
        sqlite3_exec(api->server->db, "RELEASE batch", NULL, NULL, NULL) != SQLITE_OK)
        err = "internal";
    if (err != NULL) {
        sqlite3_exec(api->server->db, "ROLLBACK TO batch; RELEASE batch", NULL, NULL, NULL);
        json_decref(head);
        *out = strcmp(err, "conflict") == 0 ? json_pack("{s:O}", "ids", conflicts) : NULL;
    } else {
        *out = receipt(api, table, s, n, head, held_ids);
    }
    json_decref(conflicts);
    json_decref(held_ids);
    return err;
}

const char *center_ingest(struct api *api, json_t *doc, int results, json_t **out)
{
    json_t *items = json_object_get(doc, results ? "results" : "events"), *item;
    size_t n = json_array_size(items), i;
    struct sealed *s;
    const char *err = NULL;

    *out = NULL;
    if (!json_is_array(items) || n > API_BATCH_MAX ||
        (results && !json_is_object(json_object_get(doc, "head"))))
        return "bad_json";
    s = calloc(n ? n : 1, sizeof(*s));
    if (s == NULL)
        return "internal";
    json_array_foreach(items, i, item)
    {
        err = open_sealed(api, item, results ? PROTO_CTX_RESULT : PROTO_CTX_EVENT, &s[i]);
        if (err == NULL && results && result_fields(api, &s[i]) < 0)
            err = "bad_json";
        if (err != NULL)
            break;
    }
    if (err == NULL)
        err = store_batch(api, doc, results, s, n, out);
    for (i = 0; i < n; i++) {
        free(s[i].payload);
        json_decref(s[i].doc);
    }
    free(s);
    return err;
}

unsigned center_error_status(const char *err)
{
    if (strcmp(err, "bad_json") == 0)
        return MHD_HTTP_BAD_REQUEST;
    if (strcmp(err, "bad_signature") == 0)
        return MHD_HTTP_UNAUTHORIZED;
    if (strcmp(err, "internal") == 0)
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    return MHD_HTTP_CONFLICT;
}

/* POST /v1/results and /v1/events. */
static enum MHD_Result do_upload(struct api *api, int results)
{
    json_t *doc = json_loadb((const char *)api->data, api->len, 0, NULL), *out;
    const char *err = center_ingest(api, doc, results, &out);
    enum MHD_Result r;

    json_decref(doc);
    if (err == NULL)
        return api_reply_json(api, MHD_HTTP_OK, out, PROTO_CTX_RECEIPT);
    r = api_reply_error(api, center_error_status(err), err, out);
    return r;
}

/* ---- routing ---- */

enum MHD_Result api_dispatch(struct api *api)
{
    const char *url = api->url;
    int get = strcmp(api->method, "GET") == 0, post = strcmp(api->method, "POST") == 0;
    char part[PKG_MAX_NAME + 1];

    if (strcmp(url, "/v1/time") == 0)
        return get ? api_reply_json(api, MHD_HTTP_OK,
                                    json_pack("{s:I}", "time", (json_int_t)api->now), NULL)
                   : REPLY_ERROR(api, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed");
    if (strcmp(url, "/v1/register") == 0)
        return post ? do_register(api)
                    : REPLY_ERROR(api, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed");
    if (strncmp(url, "/v1/", 4) != 0)
        return REPLY_ERROR(api, MHD_HTTP_NOT_FOUND, "not_found");
    /* Everything else is a registered room's. */
    if (api_authenticate(api) != 0)
        return api->result;
    if (strcmp(url, "/v1/manifest") == 0 && get)
        return do_manifest(api);
    if (sscanf(url, "/v1/packages/%255[0-9]", part) == 1 &&
        strlen(url) == strlen("/v1/packages/") + strlen(part) && get)
        return do_package(api, part);
    if (sscanf(url, "/v1/sessions/%255[^/]/key", part) == 1 &&
        strlen(url) == strlen("/v1/sessions//key") + strlen(part) && get)
        return do_session_key(api, part);
    if (strcmp(url, "/v1/results") == 0 && post)
        return do_upload(api, 1);
    if (strcmp(url, "/v1/events") == 0 && post)
        return do_upload(api, 0);
    return REPLY_ERROR(api, MHD_HTTP_NOT_FOUND, "not_found");
}
