/* The room store's schema, its migrations, and the SQL of every statement.
 * Why each table exists is written in docs/architecture.md ("The room store").
 *
 * A migration is appended, never edited: a file at version N has run
 * migrations 1..N exactly as they are written here. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

/* 'EXRM': marks the file as a room store, so another SQLite file is refused. */
#define APPLICATION_ID 0x4558524d

static const char *const migrations[] = {
    /* 1: the tables. */
    "PRAGMA application_id = 1163416141;"
    "CREATE TABLE room ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " name TEXT,"
    " center_url TEXT NOT NULL,"
    " center_key BLOB NOT NULL,"
    " center_ca TEXT,"
    " room_pubkey BLOB,"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL);"
    "CREATE TABLE registrations ("
    " plan_id TEXT PRIMARY KEY,"
    " center_room TEXT NOT NULL,"
    " site TEXT,"
    " credential BLOB,"
    " registered_at INTEGER NOT NULL);"
    "CREATE TABLE packages ("
    " plan_id TEXT NOT NULL,"
    " version INTEGER NOT NULL CHECK (version >= 1),"
    " header_hash BLOB NOT NULL CHECK (length(header_hash) = 32),"
    " path TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('downloading', 'verified', 'rejected')),"
    " updated_at INTEGER NOT NULL,"
    " PRIMARY KEY (plan_id, version));"
    "CREATE TABLE sessions ("
    " id TEXT PRIMARY KEY,"
    " plan_id TEXT NOT NULL,"
    " starts_at INTEGER NOT NULL,"
    " ends_at INTEGER NOT NULL CHECK (ends_at > starts_at),"
    " late_admission_minutes INTEGER NOT NULL DEFAULT 0,"
    " earliest_submit_minutes INTEGER NOT NULL DEFAULT 0,"
    " state TEXT NOT NULL DEFAULT 'locked'"
    "  CHECK (state IN ('locked', 'unlocked', 'running', 'ended')),"
    " sealed_key BLOB);"
    "CREATE TABLE seats ("
    " seat INTEGER PRIMARY KEY CHECK (seat >= 1),"
    " label TEXT,"
    " spare INTEGER NOT NULL DEFAULT 0 CHECK (spare IN (0, 1)));"
    "CREATE TABLE candidates ("
    " id INTEGER PRIMARY KEY,"
    " session_id TEXT NOT NULL REFERENCES sessions(id),"
    " ticket TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " gender TEXT,"
    " id_type TEXT,"
    " id_number TEXT NOT NULL,"
    " occupation TEXT NOT NULL,"
    " level TEXT NOT NULL,"
    " paper_id TEXT NOT NULL,"
    " photo TEXT,"
    " seat INTEGER REFERENCES seats(seat),"
    " state TEXT NOT NULL DEFAULT 'registered'"
    "  CHECK (state IN ('registered', 'signed_in', 'running', 'submitted', 'absent')),"
    " extra_seconds INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE (session_id, ticket));"
    "CREATE TABLE terminals ("
    " id INTEGER PRIMARY KEY,"
    " pairing_code TEXT NOT NULL UNIQUE,"
    " token_hash BLOB UNIQUE CHECK (token_hash IS NULL OR length(token_hash) = 32),"
    " seat INTEGER REFERENCES seats(seat),"
    " state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'revoked')),"
    " created_at INTEGER NOT NULL,"
    " approved_at INTEGER);"
    "CREATE TABLE signins ("
    " id INTEGER PRIMARY KEY,"
    " candidate_id INTEGER NOT NULL REFERENCES candidates(id),"
    " terminal_id INTEGER NOT NULL REFERENCES terminals(id),"
    " seat INTEGER,"
    " token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),"
    " at INTEGER NOT NULL);"
    "CREATE TABLE answers ("
    " candidate_id INTEGER NOT NULL REFERENCES candidates(id),"
    " item TEXT NOT NULL,"
    " answer TEXT NOT NULL,"
    " rev INTEGER NOT NULL CHECK (rev >= 1),"
    " updated_at INTEGER NOT NULL,"
    " PRIMARY KEY (candidate_id, item)) WITHOUT ROWID;"
    "CREATE TABLE answer_log ("
    " seq INTEGER PRIMARY KEY,"
    " candidate_id INTEGER NOT NULL,"
    " item TEXT NOT NULL,"
    " answer TEXT NOT NULL,"
    " rev INTEGER NOT NULL,"
    " at INTEGER NOT NULL);"
    "CREATE TABLE results ("
    " id BLOB PRIMARY KEY CHECK (length(id) = 16),"
    " candidate_id INTEGER NOT NULL UNIQUE REFERENCES candidates(id),"
    " chain_pos INTEGER NOT NULL UNIQUE CHECK (chain_pos >= 1),"
    " prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),"
    " hash BLOB NOT NULL CHECK (length(hash) = 32),"
    " score INTEGER,"
    " sealed BLOB NOT NULL,"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE events ("
    " id BLOB PRIMARY KEY CHECK (length(id) = 16),"
    " kind TEXT NOT NULL CHECK (kind IN ('attendance', 'incident', 'audit')),"
    " candidate_id INTEGER REFERENCES candidates(id),"
    " body TEXT NOT NULL,"
    " at INTEGER NOT NULL);"
    "CREATE TABLE receipts ("
    " id INTEGER PRIMARY KEY,"
    " body BLOB NOT NULL,"
    " received_at INTEGER NOT NULL);"
    "CREATE TABLE outbox ("
    " id BLOB PRIMARY KEY CHECK (length(id) = 16),"
    " kind TEXT NOT NULL CHECK (kind IN ('result', 'event')),"
    " created_at INTEGER NOT NULL,"
    " acked_at INTEGER,"
    " receipt_id INTEGER REFERENCES receipts(id));",

    /* 2: the guarantees, kept by the file itself so no code path (nor a
     * hand-run sqlite3 shell) can break them: every accepted answer change
     * is logged by the same statement; a rev never goes down; the log,
     * results and events are append-only; a seat holds one candidate per
     * session and one approved terminal. And the indexes the reads use;
     * answer_log has none on purpose: an index by candidate would dirty one
     * more page per save in every commit (measured: it halves the group
     * commit's saves/s), and reading one candidate's log is rare (an audit)
     * and a scan in seq order. */
    "CREATE TRIGGER answers_log_insert AFTER INSERT ON answers BEGIN"
    " INSERT INTO answer_log (candidate_id, item, answer, rev, at)"
    " VALUES (NEW.candidate_id, NEW.item, NEW.answer, NEW.rev, NEW.updated_at); END;"
    "CREATE TRIGGER answers_log_update AFTER UPDATE ON answers BEGIN"
    " INSERT INTO answer_log (candidate_id, item, answer, rev, at)"
    " VALUES (NEW.candidate_id, NEW.item, NEW.answer, NEW.rev, NEW.updated_at); END;"
    "CREATE TRIGGER answers_rev_rises BEFORE UPDATE ON answers WHEN NEW.rev <= OLD.rev BEGIN"
    " SELECT RAISE(ABORT, 'an answer rev never goes down'); END;"
    "CREATE TRIGGER answers_kept BEFORE DELETE ON answers BEGIN"
    " SELECT RAISE(ABORT, 'answers are never deleted'); END;"
    "CREATE TRIGGER answer_log_no_update BEFORE UPDATE ON answer_log BEGIN"
    " SELECT RAISE(ABORT, 'the answer log is append-only'); END;"
    "CREATE TRIGGER answer_log_no_delete BEFORE DELETE ON answer_log BEGIN"
    " SELECT RAISE(ABORT, 'the answer log is append-only'); END;"
    "CREATE TRIGGER results_no_update BEFORE UPDATE ON results BEGIN"
    " SELECT RAISE(ABORT, 'results are sealed'); END;"
    "CREATE TRIGGER results_no_delete BEFORE DELETE ON results BEGIN"
    " SELECT RAISE(ABORT, 'results are sealed'); END;"
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN"
    " SELECT RAISE(ABORT, 'events are append-only'); END;"
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN"
    " SELECT RAISE(ABORT, 'events are append-only'); END;"
    "CREATE UNIQUE INDEX candidates_seat ON candidates (session_id, seat) WHERE seat IS NOT NULL;"
    "CREATE UNIQUE INDEX terminals_seat ON terminals (seat) WHERE state = 'approved';"
    "CREATE INDEX events_kind ON events (kind, at);"
    "CREATE INDEX outbox_pending ON outbox (created_at) WHERE acked_at IS NULL;",

    /* 3: sign-in finds a ticket in whichever session holds it, in one
     * indexed read (a room may have twenty sessions in its package). */
    "CREATE INDEX candidates_ticket ON candidates (ticket);",

    /* 4: a terminal's pickup is bound to the terminal that asked: the
     * SHA-256 of the pairing secret it was answered (NULL for a terminal
     * that asked before, which must ask again). */
    ("ALTER TABLE terminals ADD COLUMN secret_hash BLOB"
     " CHECK (secret_hash IS NULL OR length(secret_hash) = 32);"),

    /* 5: a proctor's move or a revoked terminal ends sign-ins: their
     * candidate tokens stop working at once (answers stay). */
    "ALTER TABLE signins ADD COLUMN ended_at INTEGER;",

    /* 6: door check-in (入场核验): when the candidate's ID card was read at
     * the door (NULL: not yet), and the index the reader's lookup by ID
     * number uses. */
    ("ALTER TABLE candidates ADD COLUMN checked_in_at INTEGER;"
     "CREATE INDEX candidates_id_number ON candidates (id_number);"),

    /* 7: an ID card reader at a seat pairs as a terminal does, as a device
     * of its own kind: a seat holds one approved device of each kind (the
     * room PC, and the reader beside it). */
    ("ALTER TABLE terminals ADD COLUMN kind TEXT NOT NULL DEFAULT 'terminal'"
     " CHECK (kind IN ('terminal', 'reader'));"
     "DROP INDEX terminals_seat;"
     "CREATE UNIQUE INDEX terminals_seat ON terminals (seat, kind) WHERE state = 'approved';"),
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == STORE_SCHEMA_VERSION,
               "one migration per schema version");

const char *const store_pkg_states[3] = {"downloading", "verified", "rejected"};
#define STATE_NAME(value, name, zh) [value] = name,
#define STATE_ZH(value, name, zh)   [value] = zh,
const char *const store_session_states[STORE_SESSION_STATE_COUNT] = {
    STORE_SESSION_STATES(STATE_NAME)};
const char *const store_cand_states[STORE_CAND_STATE_COUNT] = {STORE_CAND_STATES(STATE_NAME)};
/* What a proctor reads for each state (zh-CN, in one place). */
static const char *const session_states_zh[STORE_SESSION_STATE_COUNT] = {
    STORE_SESSION_STATES(STATE_ZH)};
static const char *const cand_states_zh[STORE_CAND_STATE_COUNT] = {STORE_CAND_STATES(STATE_ZH)};
#undef STATE_NAME
#undef STATE_ZH

const char *store_session_state_name(enum store_session_state s)
{
    return (unsigned)s < STORE_SESSION_STATE_COUNT ? store_session_states[s] : "?";
}

const char *store_session_state_zh(enum store_session_state s)
{
    return (unsigned)s < STORE_SESSION_STATE_COUNT ? session_states_zh[s] : "?";
}

const char *store_cand_state_name(enum store_cand_state s)
{
    return (unsigned)s < STORE_CAND_STATE_COUNT ? store_cand_states[s] : "?";
}

const char *store_cand_state_zh(enum store_cand_state s)
{
    return (unsigned)s < STORE_CAND_STATE_COUNT ? cand_states_zh[s] : "?";
}

static int index_of(const char *const *names, int n, const char *s)
{
    for (int i = 0; s != NULL && i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

int store_cand_state_from(const char *name)
{
    return index_of(store_cand_states, STORE_CAND_STATE_COUNT, name);
}

int store_session_state_from(const char *name)
{
    return index_of(store_session_states, STORE_SESSION_STATE_COUNT, name);
}
const char *const store_term_states[3] = {"pending", "approved", "revoked"};
const char *const store_term_kinds[2] = {"terminal", "reader"};
const char *const store_event_kinds[3] = {"attendance", "incident", "audit"};
const char *const store_outbox_kinds[2] = {"result", "event"};

int store_state_index(const char *const *names, int n, const char *s)
{
    for (int i = 0; s != NULL && i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return 0;
}

const char *const store_wsql[W_COUNT] = {
    [W_BEGIN] = "BEGIN IMMEDIATE",
    [W_COMMIT] = "COMMIT",
    [W_ROLLBACK] = "ROLLBACK",
    [W_SAVEPOINT] = "SAVEPOINT op",
    [W_RELEASE] = "RELEASE op",
    [W_ROLLBACK_TO] = "ROLLBACK TO op",
    [W_ROOM_UPSERT] = "INSERT INTO room (id, name, center_url, center_key, center_ca, room_pubkey,"
                      " created_at, updated_at) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?6)"
                      " ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
                      " center_url = excluded.center_url, center_key = excluded.center_key,"
                      " center_ca = excluded.center_ca, room_pubkey = excluded.room_pubkey,"
                      " updated_at = excluded.updated_at",
    [W_REG_INSERT] = "INSERT INTO registrations (plan_id, center_room, site, credential,"
                     " registered_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [W_PKG_MAX_VERIFIED] = "SELECT max(version) FROM packages"
                           " WHERE plan_id = ?1 AND state = 'verified'",
    [W_PKG_UPSERT] = "INSERT INTO packages (plan_id, version, header_hash, path, state,"
                     " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                     " ON CONFLICT (plan_id, version) DO UPDATE SET"
                     " header_hash = excluded.header_hash, path = excluded.path,"
                     " state = excluded.state, updated_at = excluded.updated_at"
                     " WHERE packages.header_hash = excluded.header_hash"
                     " OR packages.state <> 'verified'",
    [W_SESSION_UPSERT] = "INSERT INTO sessions (id, plan_id, starts_at, ends_at,"
                         " late_admission_minutes, earliest_submit_minutes)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET"
                         " plan_id = excluded.plan_id, starts_at = excluded.starts_at,"
                         " ends_at = excluded.ends_at,"
                         " late_admission_minutes = excluded.late_admission_minutes,"
                         " earliest_submit_minutes = excluded.earliest_submit_minutes",
    [W_SEAT_UPSERT] = "INSERT INTO seats (seat, label, spare) VALUES (?1, ?2, ?3)"
                      " ON CONFLICT (seat) DO UPDATE SET label = excluded.label,"
                      " spare = excluded.spare",
    /* A refreshed package moves only candidates the exam day has not touched:
     * a proctor's move to a spare seat stands. */
    [W_CAND_UPSERT] = "INSERT INTO candidates (session_id, ticket, name, gender, id_type,"
                      " id_number, occupation, level, paper_id, photo, seat)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                      " ON CONFLICT (session_id, ticket) DO UPDATE SET name = excluded.name,"
                      " gender = excluded.gender, id_type = excluded.id_type,"
                      " id_number = excluded.id_number, occupation = excluded.occupation,"
                      " level = excluded.level, paper_id = excluded.paper_id,"
                      " photo = excluded.photo, seat = CASE WHEN candidates.state = 'registered'"
                      " THEN excluded.seat ELSE candidates.seat END",
    [W_SESSION_STATE] = "UPDATE sessions SET state = ?2, sealed_key = coalesce(?3, sealed_key)"
                        " WHERE id = ?1",
    [W_CAND_UPDATE] = "UPDATE candidates SET state = ?2, seat = coalesce(?3, seat),"
                      " extra_seconds = extra_seconds + ?4 WHERE id = ?1",
    [W_CAND_MOVE] = "UPDATE candidates SET seat = ?2 WHERE id = ?1",
    /* Neither writes back a state the handler read: a sign-in or a result
     * queued meanwhile is never undone. */
    [W_CAND_ADD_TIME] = "UPDATE candidates SET extra_seconds = extra_seconds + ?2 WHERE id = ?1",
    [W_CAND_RUNNING] = "UPDATE candidates SET state = 'running' WHERE id = ?1"
                       " AND state = 'signed_in'",
    [W_SIGNIN_END_CAND] = "UPDATE signins SET ended_at = ?2"
                          " WHERE candidate_id = ?1 AND ended_at IS NULL",
    [W_SIGNIN_END_TERM] = "UPDATE signins SET ended_at = ?2"
                          " WHERE terminal_id = ?1 AND ended_at IS NULL",
    [W_TERM_INSERT] = "INSERT INTO terminals (pairing_code, created_at, secret_hash, kind)"
                      " VALUES (?1, ?2, ?3, ?4)",
    [W_TERM_APPROVE] = "UPDATE terminals SET state = 'approved', token_hash = ?2, seat = ?3,"
                       " approved_at = ?4 WHERE pairing_code = ?1 AND state = 'pending'",
    [W_TERM_REVOKE] = "UPDATE terminals SET state = 'revoked' WHERE id = ?1 AND state = 'approved'",
    [W_TERM_REJECT] = "UPDATE terminals SET state = 'revoked'"
                      " WHERE pairing_code = ?1 AND state = 'pending'",
    [W_TERM_ISSUE] = "UPDATE terminals SET token_hash = ?2"
                     " WHERE id = ?1 AND state = 'approved' AND token_hash IS NULL",
    /* Only while the candidate is still at that seat (not moved away, not
     * recorded absent) and the terminal still approved, as committed: the
     * handler read both before a move or a revoke queued ahead of this
     * sign-in was committed, and that one ended the sign-ins there were. */
    [W_SIGNIN_INSERT] =
        "INSERT INTO signins (candidate_id, terminal_id, seat, token_hash, at)"
        " SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM candidates"
        " WHERE id = ?1 AND seat IS ?3 AND state <> 'absent')"
        " AND EXISTS (SELECT 1 FROM terminals WHERE id = ?2 AND state = 'approved')",
    [W_CAND_SIGNED_IN] = "UPDATE candidates SET state = 'signed_in'"
                         " WHERE id = ?1 AND state = 'registered'",
    /* A result's state only from the state it was decided on: "absent" only
     * for a candidate still registered (a sign-in may have come first), a
     * submit only for one signed in or running. */
    [W_CAND_RESULT_STATE] = "UPDATE candidates SET state = ?2"
                            " WHERE id = ?1 AND (state = ?3 OR state = ?4)",
    /* The WHERE makes a stale rev change nothing (sqlite3_changes() = 0). */
    [W_ANSWER_UPSERT] = "INSERT INTO answers (candidate_id, item, answer, rev, updated_at)"
                        " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (candidate_id, item)"
                        " DO UPDATE SET answer = excluded.answer, rev = excluded.rev,"
                        " updated_at = excluded.updated_at WHERE excluded.rev > answers.rev",
    [W_ANSWER_GET] = "SELECT rev, answer FROM answers WHERE candidate_id = ?1 AND item = ?2",
    [W_CHAIN_HEAD] = "SELECT chain_pos, hash FROM results ORDER BY chain_pos DESC LIMIT 1",
    [W_RESULT_INSERT] = "INSERT INTO results (id, candidate_id, chain_pos, prev_hash, hash, score,"
                        " sealed, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [W_EVENT_INSERT] = "INSERT INTO events (id, kind, candidate_id, body, at)"
                       " VALUES (?1, ?2, ?3, ?4, ?5)",
    [W_OUTBOX_INSERT] = "INSERT INTO outbox (id, kind, created_at) VALUES (?1, ?2, ?3)",
    [W_RECEIPT_INSERT] = "INSERT INTO receipts (body, received_at) VALUES (?1, ?2)",
    /* The first read at the door stands: a card read again changes nothing. */
    [W_CAND_CHECK_IN] = "UPDATE candidates SET checked_in_at = ?2"
                        " WHERE id = ?1 AND checked_in_at IS NULL",
    [W_OUTBOX_ACK] = "UPDATE outbox SET acked_at = ?2, receipt_id = ?3"
                     " WHERE id = ?1 AND acked_at IS NULL",
    /* Changes only when another connection (another process: the CLI's
     * offline unlock) commits: the writer never sees its own commits here. */
    [W_DATA_VERSION] = "PRAGMA data_version",
};

/* A session row as session_row() (read.c) reads it. */
#define SESSION_COLS                                                                               \
    "id, plan_id, starts_at, ends_at, late_admission_minutes, earliest_submit_minutes, state,"     \
    " sealed_key"
/* The outbox rows still waiting for a receipt, oldest first, with the bytes
 * they carry. */
#define OUTBOX_PENDING                                                                             \
    "SELECT o.id, o.kind, coalesce(r.sealed, CAST(e.body AS BLOB)), o.created_at, o.acked_at,"     \
    " o.receipt_id FROM outbox o LEFT JOIN results r ON r.id = o.id"                               \
    " LEFT JOIN events e ON e.id = o.id WHERE o.acked_at IS NULL ORDER BY o.created_at, o.rowid"
/* A sign-in as signin_row() (read.c) reads it. */
#define SIGNIN_SELECT                                                                              \
    "SELECT s.id, s.candidate_id, s.terminal_id, s.seat, s.token_hash, s.at, s.ended_at, c.seat,"  \
    " s.id = (SELECT max(id) FROM signins WHERE candidate_id = s.candidate_id) FROM signins s"     \
    " JOIN candidates c ON c.id = s.candidate_id"
#define CAND_COLS                                                                                  \
    "id, session_id, ticket, name, gender, id_type, id_number, occupation, level, paper_id,"       \
    " photo, seat, state, extra_seconds, checked_in_at"

const char *const store_rsql[R_COUNT] = {
    [R_ROOM] = "SELECT name, center_url, center_key, center_ca, room_pubkey, created_at"
               " FROM room WHERE id = 1",
    [R_REG_ALL] = "SELECT plan_id, center_room, site, credential, registered_at FROM registrations"
                  " ORDER BY registered_at, plan_id",
    [R_REG] = "SELECT plan_id, center_room, site, credential, registered_at FROM registrations"
              " WHERE plan_id = ?1",
    [R_PKG_LATEST] = "SELECT plan_id, version, header_hash, path, state, updated_at FROM packages"
                     " WHERE plan_id = ?1 AND state = 'verified' ORDER BY version DESC LIMIT 1",
    [R_SESSION] = "SELECT " SESSION_COLS " FROM sessions WHERE id = ?1",
    [R_CAND_FIND] = "SELECT " CAND_COLS " FROM candidates WHERE session_id = ?1 AND ticket = ?2",
    [R_CAND_TICKET] = "SELECT " CAND_COLS " FROM candidates WHERE ticket = ?1 ORDER BY session_id",
    [R_CAND_IDNUM] = "SELECT " CAND_COLS " FROM candidates WHERE id_number = ?1"
                     " ORDER BY session_id",
    [R_CAND_ALL] = "SELECT " CAND_COLS " FROM candidates ORDER BY session_id, seat, ticket",
    [R_CAND_SESSION] = "SELECT " CAND_COLS " FROM candidates WHERE session_id = ?1"
                       " ORDER BY seat, ticket",
    /* Only the candidate's latest sign-in counts: signing in again ends the
     * token of the browser before. */
    [R_CAND_TOKEN] = "SELECT " CAND_COLS " FROM candidates WHERE id ="
                     " (SELECT s.candidate_id FROM signins s WHERE s.token_hash = ?1"
                     " AND s.ended_at IS NULL AND s.id ="
                     " (SELECT max(id) FROM signins WHERE candidate_id = s.candidate_id))",
    [R_SEATS] = "SELECT seat, label, spare FROM seats ORDER BY seat",
    [R_TERM_ALL] = "SELECT id, pairing_code, token_hash, seat, state, created_at, secret_hash,"
                   " kind FROM terminals"
                   " ORDER BY state = 'revoked', seat, created_at",
    [R_TERM_FIND] = "SELECT id, pairing_code, token_hash, seat, state, created_at, secret_hash,"
                    " kind FROM terminals"
                    " WHERE token_hash = ?1 AND state = 'approved'",
    [R_SIGNIN_FIND] = SIGNIN_SELECT " WHERE s.token_hash = ?1",
    [R_SIGNIN_LAST] = SIGNIN_SELECT " WHERE s.candidate_id = ?1 ORDER BY s.id DESC LIMIT 1",
    [R_ANSWER_GET] = "SELECT answer, rev FROM answers WHERE candidate_id = ?1 AND item = ?2",
    [R_ANSWERS] = "SELECT candidate_id, item, answer, rev, updated_at FROM answers"
                  " WHERE candidate_id = ?1 ORDER BY item",
    [R_ANSWER_LOG] = "SELECT candidate_id, item, answer, rev, at FROM answer_log"
                     " WHERE candidate_id = ?1 ORDER BY seq",
    [R_CHAIN_HEAD] = "SELECT chain_pos, hash FROM results ORDER BY chain_pos DESC LIMIT 1",
    [R_RESULT] = "SELECT id, candidate_id, chain_pos, prev_hash, hash, score, sealed, created_at"
                 " FROM results WHERE candidate_id = ?1",
    [R_EVENTS] = "SELECT id, kind, candidate_id, body, at FROM events WHERE kind = ?1"
                 " ORDER BY at, rowid",
    [R_OUTBOX_ALL] = "SELECT o.id, o.kind, coalesce(r.sealed, CAST(e.body AS BLOB)), o.created_at,"
                     " o.acked_at, o.receipt_id FROM outbox o"
                     " LEFT JOIN results r ON r.id = o.id LEFT JOIN events e ON e.id = o.id"
                     " ORDER BY o.created_at, o.rowid",
    [R_OUTBOX_PENDING] = OUTBOX_PENDING,
    [R_OUTBOX_FIRST] = OUTBOX_PENDING " LIMIT ?1",
    [R_SESSIONS] = "SELECT " SESSION_COLS " FROM sessions ORDER BY starts_at, id",
    [R_OUTBOX_COUNT] = "SELECT count(*) FROM outbox WHERE acked_at IS NULL",
    [R_OUTBOX_ANY] = "SELECT 1 FROM outbox WHERE acked_at IS NULL LIMIT 1",
    [R_BEGIN] = "BEGIN",
    [R_END] = "COMMIT",
};

int store_map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return 0;
    case SQLITE_FULL:
        return ER_STORE_FULL;
    case SQLITE_IOERR:
        return rc == SQLITE_IOERR_NOMEM ? ER_NOMEM : ER_STORE_IO;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return ER_STORE_DAMAGED;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ER_STORE_BUSY;
    case SQLITE_NOMEM:
        return ER_NOMEM;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return ER_STORE_OPEN;
    case SQLITE_READONLY:
        return ER_STORE_IO;
    case SQLITE_CONSTRAINT:
        /* A foreign key names a row that is not there (an unknown candidate). */
        return rc == SQLITE_CONSTRAINT_FOREIGNKEY ? ER_STORE_NOT_FOUND : ER_STORE_CONFLICT;
    default:
        return ER_INTERNAL;
    }
}

int store_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK)
        log_error("store: %s", msg != NULL ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return store_map_rc(rc);
}

/* One integer from a pragma or a query; ER_* on failure. */
static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);

    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(s, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_OK)
        log_error("store: %s: %s", sql, sqlite3_errmsg(db));
    return store_map_rc(rc);
}

int store_migrate(sqlite3 *db, int to)
{
    int64_t version = 0;
    int err = query_int(db, "PRAGMA user_version", &version);

    if (err != 0)
        return err;
    if (version > STORE_SCHEMA_VERSION)
        return ER_STORE_SCHEMA_NEWER;
    /* One transaction per step: a step that fails leaves the last good
     * version, and the user_version change commits with its step. */
    for (int v = (int)version + 1; v <= to && v <= STORE_SCHEMA_VERSION; v++) {
        char set[64];

        snprintf(set, sizeof(set), "PRAGMA user_version = %d", v);
        err = store_exec(db, "BEGIN IMMEDIATE");
        if (err != 0)
            return err;
        err = store_exec(db, migrations[v - 1]);
        if (err == 0)
            err = store_exec(db, set);
        if (err == 0)
            err = store_exec(db, "COMMIT");
        if (err != 0) {
            if (!sqlite3_get_autocommit(db))
                store_exec(db, "ROLLBACK");
            log_error("store: migration to schema version %d failed", v);
            /* A step that cannot apply (an object already there) means the
             * file is not the version it says it is. */
            return err == ER_INTERNAL || err == ER_STORE_CONFLICT ? ER_STORE_DAMAGED : err;
        }
        log_info("store: schema migrated to version %d", v);
    }
    return 0;
}

/* The first line quick_check reports, "ok" for a sound file. */
static int quick_check(sqlite3 *db)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL);
    int err = 0;

    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const char *line = (const char *)sqlite3_column_text(s, 0);

        if (line == NULL || strcmp(line, "ok") != 0) {
            log_error("store: quick_check: %s", line != NULL ? line : "(no answer)");
            err = ER_STORE_DAMAGED;
        }
    } else {
        log_error("store: quick_check: %s", sqlite3_errmsg(db));
        err = store_map_rc(rc);
        if (err == 0)
            err = ER_STORE_DAMAGED;
    }
    sqlite3_finalize(s);
    return err;
}

int store_check_file(sqlite3 *db)
{
    int64_t app = 0, version = 0, tables = 0;
    int err = quick_check(db);

    if (err == 0)
        err = query_int(db, "PRAGMA application_id", &app);
    if (err == 0)
        err = query_int(db, "PRAGMA user_version", &version);
    if (err == 0)
        err = query_int(db, "SELECT count(*) FROM sqlite_schema", &tables);
    if (err != 0)
        return err;
    /* Another program's SQLite file: never migrate over it. */
    if ((app != 0 && app != APPLICATION_ID) || (version == 0 && tables != 0)) {
        log_error("store: the file is not a room store (application_id %lld)", (long long)app);
        return ER_STORE_DAMAGED;
    }
    if (version > STORE_SCHEMA_VERSION) {
        log_error("store: schema version %lld is newer than %d", (long long)version,
                  STORE_SCHEMA_VERSION);
        return ER_STORE_SCHEMA_NEWER;
    }
    return 0;
}
