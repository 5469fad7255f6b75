/* The center's own SQLite database: the imported plans, and what the center
 * knows of each room (serials, registrations, packages, results). One file,
 * center.db, in the data directory; schema versioned with user_version. */
#include "center.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Version 1. Plan tables mirror the plan directory (PRODUCT.md §5); times
 * are kept both as given (local to the plan's timezone) and as UTC seconds. */
static const char schema_v1[] =
    "CREATE TABLE plans ("
    "  id TEXT PRIMARY KEY," /* 20261205-机构名称 */
    "  institution_code TEXT NOT NULL,"
    "  institution_name TEXT NOT NULL,"
    "  timezone TEXT NOT NULL,"
    "  pass_mark INTEGER NOT NULL,"
    "  imported_at INTEGER NOT NULL);"
    "CREATE TABLE rooms ("
    "  plan_id TEXT NOT NULL REFERENCES plans(id),"
    "  id TEXT NOT NULL, site TEXT NOT NULL, site_name TEXT NOT NULL, name TEXT NOT NULL,"
    "  seats INTEGER NOT NULL,"
    "  PRIMARY KEY (plan_id, id));"
    "CREATE TABLE sessions ("
    "  plan_id TEXT NOT NULL REFERENCES plans(id),"
    "  id TEXT NOT NULL,"
    "  date TEXT NOT NULL, start TEXT NOT NULL, end TEXT NOT NULL," /* local, as given */
    "  starts_at INTEGER NOT NULL, ends_at INTEGER NOT NULL,"       /* UTC seconds */
    "  late_admission_minutes INTEGER NOT NULL,"
    "  earliest_submit_minutes INTEGER NOT NULL,"
    "  unlock_code BLOB NOT NULL," /* 12 bytes, CODE_UNLOCK_BITS; one per session */
    "  PRIMARY KEY (plan_id, id));"
    "CREATE TABLE papers ("
    "  plan_id TEXT NOT NULL REFERENCES plans(id),"
    "  path TEXT NOT NULL," /* papers/computer-operator-4.json */
    "  title TEXT NOT NULL, occupation TEXT NOT NULL, level TEXT NOT NULL, subject TEXT NOT NULL,"
    "  body TEXT NOT NULL," /* the paper's JSON, keys included */
    "  PRIMARY KEY (plan_id, path));"
    "CREATE TABLE session_papers ("
    "  plan_id TEXT NOT NULL, session_id TEXT NOT NULL,"
    "  occupation TEXT NOT NULL, level TEXT NOT NULL, subject TEXT NOT NULL,"
    "  paper_path TEXT NOT NULL,"
    "  PRIMARY KEY (plan_id, session_id, occupation, level),"
    "  FOREIGN KEY (plan_id, session_id) REFERENCES sessions(plan_id, id),"
    "  FOREIGN KEY (plan_id, paper_path) REFERENCES papers(plan_id, path));"
    "CREATE TABLE candidates ("
    "  plan_id TEXT NOT NULL, session_id TEXT NOT NULL, ticket TEXT NOT NULL,"
    "  name TEXT NOT NULL, gender TEXT NOT NULL, id_type TEXT NOT NULL,"
    "  id_number TEXT NOT NULL," /* normalised for 居民身份证 */
    "  occupation TEXT NOT NULL, level TEXT NOT NULL,"
    "  room_id TEXT NOT NULL, seat INTEGER NOT NULL," /* arranged at import when not given */
    "  seat_arranged INTEGER NOT NULL DEFAULT 0,"     /* 1: the seat was given by rule */
    "  photo_name TEXT NOT NULL, photo BLOB NOT NULL,"
    "  PRIMARY KEY (plan_id, session_id, ticket),"
    "  UNIQUE (plan_id, session_id, room_id, seat),"
    "  FOREIGN KEY (plan_id, session_id) REFERENCES sessions(plan_id, id),"
    "  FOREIGN KEY (plan_id, room_id) REFERENCES rooms(plan_id, id));"
    /* Rooms, from the center's side. */
    "CREATE TABLE serials ("
    "  code BLOB PRIMARY KEY," /* CODE_SERIAL_BITS, 10 bytes */
    "  plan_id TEXT NOT NULL, room_id TEXT NOT NULL,"
    "  issued_at INTEGER NOT NULL, used_at INTEGER, used_by BLOB,"
    "  FOREIGN KEY (plan_id, room_id) REFERENCES rooms(plan_id, id));"
    "CREATE TABLE registrations ("
    "  room_key_id BLOB PRIMARY KEY," /* SHA-256 of the room's Ed25519 public key */
    "  plan_id TEXT NOT NULL, room_id TEXT NOT NULL,"
    "  sign_pub BLOB NOT NULL, wrap_pub BLOB NOT NULL, name TEXT,"
    "  registered_at INTEGER NOT NULL,"
    "  FOREIGN KEY (plan_id, room_id) REFERENCES rooms(plan_id, id));"
    "CREATE TABLE packages ("
    "  plan_id TEXT NOT NULL, room_id TEXT NOT NULL, version INTEGER NOT NULL,"
    "  path TEXT NOT NULL, package_id BLOB NOT NULL, size INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (plan_id, room_id, version));"
    "CREATE TABLE nonces ("
    "  room_key_id BLOB NOT NULL, nonce BLOB NOT NULL, seen_at INTEGER NOT NULL,"
    "  PRIMARY KEY (room_key_id, nonce));"
    "CREATE INDEX nonces_by_age ON nonces (seen_at);"
    "CREATE TABLE results ("
    "  id TEXT NOT NULL," /* given by the room when the result was sealed */
    "  room_key_id BLOB NOT NULL, plan_id TEXT NOT NULL, room_id TEXT NOT NULL,"
    "  session_id TEXT NOT NULL, ticket TEXT NOT NULL, score INTEGER, status TEXT NOT NULL,"
    "  chain_pos INTEGER NOT NULL, hash BLOB NOT NULL, prev BLOB NOT NULL,"
    "  payload BLOB NOT NULL, sig BLOB NOT NULL,"
    "  source TEXT NOT NULL," /* online | usb */
    "  received_at INTEGER NOT NULL,"
    /* Ids are each room's own: another room's id can never collide. */
    "  PRIMARY KEY (room_key_id, id),"
    "  UNIQUE (room_key_id, chain_pos),"
    "  UNIQUE (plan_id, session_id, ticket));" /* one result per candidate */
    /* The newest signed head of each room's result chain. */
    "CREATE TABLE chains ("
    "  room_key_id BLOB PRIMARY KEY, pos INTEGER NOT NULL, hash BLOB NOT NULL,"
    "  sig TEXT NOT NULL);"
    "CREATE TABLE events ("
    "  id TEXT NOT NULL, room_key_id BLOB NOT NULL, kind TEXT NOT NULL,"
    "  payload BLOB NOT NULL, source TEXT NOT NULL, received_at INTEGER NOT NULL,"
    "  PRIMARY KEY (room_key_id, id));";

/* Version 2 (issue 11): a serial issued to replace a room's registration,
 * registrations retired by such a replacement, and results no longer unique
 * per candidate: a second result for one ticket (from another room key) is
 * kept beside the first and held for the center's review, never refused nor
 * silently dropped. Results also keep the seat the room says the candidate
 * used (NULL: the room did not say). */
static const char schema_v2[] =
    "ALTER TABLE serials ADD COLUMN replaces INTEGER NOT NULL DEFAULT 0;" /* 1: --replace */
    "ALTER TABLE registrations ADD COLUMN retired_at INTEGER;" /* NULL while the key is the room's
                                                                */
    "CREATE TABLE results_v2 ("
    "  id TEXT NOT NULL, room_key_id BLOB NOT NULL, plan_id TEXT NOT NULL, room_id TEXT NOT NULL,"
    "  session_id TEXT NOT NULL, ticket TEXT NOT NULL, score INTEGER, status TEXT NOT NULL,"
    "  seat INTEGER," /* the seat used, from the sealed payload */
    "  chain_pos INTEGER NOT NULL, hash BLOB NOT NULL, prev BLOB NOT NULL,"
    "  payload BLOB NOT NULL, sig BLOB NOT NULL, source TEXT NOT NULL,"
    "  received_at INTEGER NOT NULL,"
    "  PRIMARY KEY (room_key_id, id),"
    "  UNIQUE (room_key_id, chain_pos));"
    "INSERT INTO results_v2 (id, room_key_id, plan_id, room_id, session_id, ticket, score, status,"
    "  chain_pos, hash, prev, payload, sig, source, received_at)"
    "  SELECT id, room_key_id, plan_id, room_id, session_id, ticket, score, status, chain_pos,"
    "  hash, prev, payload, sig, source, received_at FROM results;"
    "DROP TABLE results;"
    "ALTER TABLE results_v2 RENAME TO results;"
    "CREATE INDEX results_by_ticket ON results (plan_id, session_id, ticket);"
    "CREATE INDEX registrations_by_room ON registrations (plan_id, room_id);";

int center_db_open(const char *data_dir, sqlite3 **out)
{
    char path[4096];
    sqlite3 *db = NULL;
    int version = 0, rc;
    sqlite3_stmt *st;

    if (snprintf(path, sizeof(path), "%s/center.db", data_dir) >= (int)sizeof(path))
        return ER_USAGE;
    if (fs_mkdir_p(data_dir, 0700) < 0)
        return ER_IO;
    rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK)
        goto fail;
    chmod(path, 0600);
    sqlite3_busy_timeout(db, 5000);
    rc = sqlite3_exec(db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                      "PRAGMA foreign_keys=ON;",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        goto fail;
    rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        goto fail;
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > CENTER_DB_VERSION) {
        sqlite3_close(db);
        return ER_CENTER_DB_NEWER;
    }
    if (version < CENTER_DB_VERSION) {
        rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc == SQLITE_OK && version < 1)
            rc = sqlite3_exec(db, schema_v1, NULL, NULL, NULL);
        if (rc == SQLITE_OK && version < 2)
            rc = sqlite3_exec(db, schema_v2, NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, "PRAGMA user_version = 2; COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            log_error("center.db: %s", sqlite3_errmsg(db));
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            goto fail;
        }
    }
    *out = db;
    return 0;
fail:
    if (db != NULL)
        log_error("center.db: %s", sqlite3_errmsg(db));
    sqlite3_close(db);
    return ER_CENTER_DB;
}
