/* Unit tests of store/: opening (permissions, damage, a newer schema),
 * migrations from the first schema version, and the operations of the room,
 * registrations, packages, roster (sessions, seats, candidates), terminals
 * and sign-ins. Answers, results, events, the outbox and receipts are in
 * tests/store/test_records.c; the group commit in tests/store/test_commit.c.
 * Real SQLite files in a temporary directory. */
#include "../store/fixture.h"

/* ---- open ---- */

static void open_creates_private_wal_files(void **state)
{
    struct fx *f = *state;
    struct stat sb;
    char path[160], text[64];
    struct done d;
    sqlite3 *db;

    open_store(f);
    load_roster(f);
    assert_int_equal(put(f, cand_id(f, "S1", "T001"), "q1", "B", 1, &d), 0);
    assert_int_equal(stat(f->dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    snprintf(path, sizeof(path), "%s-wal", f->path);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    snprintf(path, sizeof(path), "%s-shm", f->path);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    /* The writer commits durably (FULL = 2) and checks foreign keys; the
     * loop's reader cannot write. */
    assert_int_equal(raw_int(f->st->w, "PRAGMA synchronous"), 2);
    assert_int_equal(raw_int(f->st->w, "PRAGMA foreign_keys"), 1);
    assert_int_equal(raw_int(f->st->r, "PRAGMA query_only"), 1);
    db = raw(f);
    assert_string_equal(raw_text(db, "PRAGMA journal_mode", text, sizeof(text)), "wal");
    assert_int_equal(raw_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    assert_int_equal(raw_int(db, "PRAGMA application_id"), 0x4558524d);
    sqlite3_close(db);
}

static void open_tightens_loose_modes(void **state)
{
    struct fx *f = *state;
    struct stat sb;
    FILE *fp;

    assert_int_equal(mkdir(f->dir, 0755), 0);
    assert_int_equal(chmod(f->dir, 0755), 0);
    fp = fopen(f->path, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(chmod(f->path, 0644), 0);
    open_store(f);
    assert_int_equal(stat(f->dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
}

static void open_checks_arguments(void **state)
{
    struct fx *f = *state;
    struct store *st = NULL;

    assert_int_equal(store_open(&f->loop, f->dir, "", &st), ER_USAGE);
    assert_int_equal(store_open(&f->loop, f->dir, "../x", &st), ER_USAGE);
    assert_int_equal(store_open(&f->loop, f->dir, ".hidden", &st), ER_USAGE);
    assert_int_equal(store_open(NULL, f->dir, "room", &st), ER_USAGE);
    assert_null(st);
    assert_int_equal(store_open(&f->loop, "/nonexistent-dir/sub", "room", &st), ER_STORE_OPEN);
    assert_null(st);
}

static size_t read_file(const char *path, unsigned char *buf, size_t n)
{
    FILE *fp = fopen(path, "rb");
    size_t got;

    assert_non_null(fp);
    got = fread(buf, 1, n, fp);
    fclose(fp);
    return got;
}

static void write_at(const char *path, long off, const void *data, size_t n)
{
    FILE *fp = fopen(path, "r+b");

    assert_non_null(fp);
    assert_int_equal(fseek(fp, off, SEEK_SET), 0);
    assert_int_equal(fwrite(data, 1, n, fp), n);
    fclose(fp);
}

/* The file is refused and left exactly as it was. */
static void assert_refused(struct fx *f, int want)
{
    static unsigned char before[1 << 20], after[1 << 20];
    size_t n1 = read_file(f->path, before, sizeof(before)), n2;
    struct store *st = NULL;

    assert_int_equal(store_open(&f->loop, f->dir, "room", &st), want);
    assert_null(st);
    n2 = read_file(f->path, after, sizeof(after));
    assert_int_equal(n1, n2);
    assert_memory_equal(before, after, n1);
}

static void open_refuses_a_damaged_file(void **state)
{
    struct fx *f = *state;
    unsigned char junk[4096];
    struct done d;
    int64_t id, root;

    /* Not a database at all. */
    assert_int_equal(mkdir(f->dir, 0700), 0);
    memset(junk, 'x', sizeof(junk));
    fclose(fopen(f->path, "wb"));
    write_at(f->path, 0, junk, sizeof(junk));
    assert_refused(f, ER_STORE_DAMAGED);
    assert_int_equal(remove(f->path), 0);

    /* A real store whose answer table pages were overwritten. */
    open_store(f);
    load_roster(f);
    id = cand_id(f, "S1", "T001");
    for (int i = 0; i < 300; i++) {
        char item[16];

        snprintf(item, sizeof(item), "q%03d", i);
        assert_int_equal(put(f, id, item, "ABCD", 1, &d), 0);
    }
    close_store(f); /* checkpoints the WAL into the file */
    {
        sqlite3 *db = raw(f);

        root = raw_int(db, "SELECT rootpage FROM sqlite_schema WHERE name = 'answer_log'");
        assert_int_equal(raw_int(db, "PRAGMA page_size"), sizeof(junk));
        sqlite3_close(db);
    }
    assert_true(root > 1);
    /* The log's root page (pages count from 1), header and cells. */
    memset(junk, 0x5a, sizeof(junk));
    write_at(f->path, (long)(root - 1) * 4096, junk, sizeof(junk));
    assert_refused(f, ER_STORE_DAMAGED);
}

static void open_refuses_another_programs_file(void **state)
{
    struct fx *f = *state;
    sqlite3 *db = NULL;

    assert_int_equal(mkdir(f->dir, 0700), 0);
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1)", 0, 0, 0),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_refused(f, ER_STORE_DAMAGED);
}

static void open_refuses_a_newer_schema(void **state)
{
    struct fx *f = *state;
    sqlite3 *db;

    open_store(f);
    close_store(f);
    db = raw(f);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", 0, 0, 0), SQLITE_OK);
    sqlite3_close(db);
    assert_refused(f, ER_STORE_SCHEMA_NEWER);
}

/* ---- migrations ---- */

static void count_cand(const struct store_candidate *c, void *arg)
{
    (void)c;
    (void)arg;
}

/* A file as the first schema version left it, with data in it. */
static void make_version_1(struct fx *f)
{
    sqlite3 *db = NULL;

    assert_int_equal(mkdir(f->dir, 0700), 0);
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(store_exec(db, "PRAGMA journal_mode = WAL"), 0);
    assert_int_equal(store_migrate(db, 1), 0);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 1);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO sessions (id, plan_id, starts_at, ends_at) VALUES"
                                  " ('S1', 'P', 100, 200);"
                                  "INSERT INTO seats (seat) VALUES (1);"
                                  "INSERT INTO candidates (id, session_id, ticket, name, id_number,"
                                  " occupation, level, paper_id, seat)"
                                  " VALUES (7, 'S1', 'T001', '李娜', 'X', '电工', '四级', 'P1', 1);"
                                  "INSERT INTO answers VALUES (7, 'q1', 'AC', 5, 1000);"
                                  "INSERT INTO answer_log (candidate_id, item, answer, rev, at)"
                                  " VALUES (7, 'q1', 'AC', 5, 1000);",
                                  0, 0, 0),
                     SQLITE_OK);
    sqlite3_close(db);
}

static void migrates_from_the_first_version(void **state)
{
    struct fx *f = *state;
    char answer[STORE_ANSWER_MAX + 1];
    int64_t rev = 0;
    struct done d;
    sqlite3 *db;

    make_version_1(f);
    open_store(f);
    db = raw(f);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    /* The data of version 1 is there... */
    assert_int_equal(store_get_answer(f->st, 7, "q1", answer, &rev), 0);
    assert_string_equal(answer, "AC");
    assert_int_equal(rev, 5);
    assert_int_equal(cand_id(f, "S1", "T001"), 7);
    /* ...and the guarantees of version 2 hold for it. */
    assert_int_equal(put(f, 7, "q1", "B", 5, &d), ER_STORE_STALE_REV);
    assert_int_equal(d.ack.rev, 5);
    assert_int_equal(put(f, 7, "q1", "B", 6, &d), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM answer_log WHERE candidate_id = 7"), 2);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE answers SET rev = 1", 0, 0, 0), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM answer_log", 0, 0, 0), SQLITE_OK);
    /* ...and version 3's index finds a ticket in any session. */
    assert_int_equal(
        raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'candidates_ticket'"), 1);
    assert_int_equal(store_find_candidate(f->st, NULL, "T001", count_cand, NULL), 1);
    assert_int_equal(store_find_candidate(f->st, NULL, "T999", count_cand, NULL),
                     ER_STORE_NOT_FOUND);
    /* ...and version 6's check-in column, empty, and its index. */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM candidates WHERE checked_in_at IS NULL"), 1);
    assert_int_equal(
        raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'candidates_id_number'"), 1);
    assert_int_equal(store_find_candidates_by_id(f->st, "X", count_cand, NULL), 1);
    sqlite3_close(db);
}

static void a_failed_migration_keeps_the_last_version(void **state)
{
    struct fx *f = *state;
    struct store *st = NULL;
    sqlite3 *db;

    make_version_1(f);
    /* An object migration 2 would create is already there: the step fails. */
    db = raw(f);
    assert_int_equal(sqlite3_exec(db, "CREATE INDEX events_kind ON events (kind)", 0, 0, 0),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(&f->loop, f->dir, "room", &st), ER_STORE_DAMAGED);
    assert_null(st);
    db = raw(f);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 1);
    /* Nothing of the failed step stayed (it ran in one transaction). */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM answers"), 1);
    sqlite3_close(db);
}

/* ---- the room, registrations, packages ---- */

static void copy_room(const struct store_room *r, void *arg)
{
    struct store_room *out = arg;

    *out = *r;
    out->name = strdup(r->name);
    out->center_url = strdup(r->center_url);
    assert_int_equal(r->center_key_len, 32);
    assert_int_equal(r->center_key[31], 0xee);
    assert_null(r->center_ca);
    out->center_key = NULL;
    out->room_pubkey = NULL;
}

static void room_row(void **state)
{
    struct fx *f = *state;
    uint8_t key[32];
    struct store_room room = {"考场一", "https://center.example", key, 32, NULL, NULL, 0, 0}, got;
    struct done d = {0};
    int64_t first;

    memset(key, 0xee, sizeof(key));
    open_store(f);
    assert_int_equal(store_get_room(f->st, copy_room, &got), ER_STORE_NOT_FOUND);
    assert_int_equal(store_set_room(f->st, &room, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    assert_int_equal(store_get_room(f->st, copy_room, &got), 0);
    assert_string_equal(got.name, "考场一");
    assert_string_equal(got.center_url, "https://center.example");
    first = got.created_at;
    assert_true(first > 0);
    free((char *)got.name);
    free((char *)got.center_url);

    room.center_url = "https://center2.example";
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_set_room(f->st, &room, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    assert_int_equal(store_get_room(f->st, copy_room, &got), 0);
    assert_string_equal(got.center_url, "https://center2.example");
    assert_int_equal(got.created_at, first);
    free((char *)got.name);
    free((char *)got.center_url);
    /* No key, no room: refused before anything is queued. */
    room.center_key = NULL;
    assert_int_equal(store_set_room(f->st, &room, on_done, &d), ER_USAGE);
}

static void copy_reg(const struct store_registration *r, void *arg)
{
    snprintf(arg, 64, "%s|%s|%.*s", r->center_room, r->site ? r->site : "-", (int)r->credential_len,
             (const char *)r->credential);
}

static void registrations(void **state)
{
    struct fx *f = *state;
    struct store_registration reg = {"20261205-华立",         "R07", "考点一",
                                     (const uint8_t *)"cred", 4,     0};
    char got[64];
    struct done d = {0};

    open_store(f);
    assert_int_equal(store_add_registration(f->st, &reg, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    assert_int_equal(store_get_registration(f->st, reg.plan_id, copy_reg, got), 0);
    assert_string_equal(got, "R07|考点一|cred");
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_add_registration(f->st, &reg, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), ER_STORE_CONFLICT);
    assert_int_equal(store_get_registration(f->st, "other", copy_reg, got), ER_STORE_NOT_FOUND);
}

static void copy_pkg(const struct store_package *p, void *arg)
{
    *(struct store_package *)arg = *p;
    ((struct store_package *)arg)->plan_id = NULL;
    ((struct store_package *)arg)->path = NULL;
}

static int put_pkg(struct fx *f, int64_t version, uint8_t hash_byte, enum store_pkg_state state)
{
    struct store_package p = {.plan_id = "P", .version = version, .path = "/x", .state = state};
    struct done d = {0};

    memset(p.header_hash, hash_byte, STORE_HASH_LEN);
    assert_int_equal(store_put_package(f->st, &p, on_done, &d), 0);
    return wait_for(f, &d);
}

static void packages(void **state)
{
    struct fx *f = *state;
    struct store_package got;

    open_store(f);
    assert_int_equal(store_latest_package(f->st, "P", copy_pkg, &got), ER_STORE_NOT_FOUND);
    assert_int_equal(put_pkg(f, 1, 0x11, STORE_PKG_DOWNLOADING), 0);
    assert_int_equal(store_latest_package(f->st, "P", copy_pkg, &got), ER_STORE_NOT_FOUND);
    assert_int_equal(put_pkg(f, 1, 0x11, STORE_PKG_VERIFIED), 0);
    assert_int_equal(store_latest_package(f->st, "P", copy_pkg, &got), 0);
    assert_int_equal(got.version, 1);
    assert_int_equal(put_pkg(f, 3, 0x33, STORE_PKG_VERIFIED), 0);
    /* Rollback to an older version than the last accepted one: refused. */
    assert_int_equal(put_pkg(f, 2, 0x22, STORE_PKG_DOWNLOADING), ER_PKG_OLD_VERSION);
    /* The same version with another header: refused. */
    assert_int_equal(put_pkg(f, 3, 0x44, STORE_PKG_VERIFIED), ER_STORE_CONFLICT);
    assert_int_equal(store_latest_package(f->st, "P", copy_pkg, &got), 0);
    assert_int_equal(got.version, 3);
    assert_int_equal(got.header_hash[0], 0x33);
    assert_int_equal(got.state, STORE_PKG_VERIFIED);
    assert_int_equal(put_pkg(f, 3, 0x33, STORE_PKG_REJECTED), 0);
    assert_int_equal(store_latest_package(f->st, "P", copy_pkg, &got), 0);
    assert_int_equal(got.version, 1);
    /* A version no longer verified (rejected) takes another header: the
     * center replaced the package under that version. */
    assert_int_equal(put_pkg(f, 3, 0x44, STORE_PKG_DOWNLOADING), 0);
    assert_int_equal(put_pkg(f, 3, 0x44, STORE_PKG_VERIFIED), 0);
    assert_int_equal(store_latest_package(f->st, "P", copy_pkg, &got), 0);
    assert_int_equal(got.version, 3);
    assert_int_equal(got.header_hash[0], 0x44);
    assert_int_equal(put_pkg(f, 3, 0x33, STORE_PKG_DOWNLOADING), ER_STORE_CONFLICT);
    /* A bad argument is returned and the callback never runs. */
    {
        struct store_package p = {.plan_id = "P", .version = 0, .path = "/x"};
        struct done d = {0};

        assert_int_equal(store_put_package(f->st, &p, on_done, &d), ER_USAGE);
        uv_run(&f->loop, UV_RUN_NOWAIT);
        assert_int_equal(d.called, 0);
    }
}

/* ---- the roster ---- */

static void list_cand(const struct store_candidate *c, void *arg)
{
    struct seen *s = arg;
    size_t len = strlen(s->text);

    snprintf(s->text + len, sizeof(s->text) - len, "%s/%s/%s/%d/%s/%d;", c->session_id, c->ticket,
             c->name, c->seat, store_cand_states[c->state], c->extra_seconds);
    s->n++;
}

static void list_seat(const struct store_seat *seat, void *arg)
{
    struct seen *s = arg;
    size_t len = strlen(s->text);

    snprintf(s->text + len, sizeof(s->text) - len, "%d%s%s;", seat->seat, seat->label,
             seat->spare ? "*" : "");
    s->n++;
}

static void copy_session(const struct store_session *r, void *arg)
{
    struct store_session *out = arg;

    *out = *r;
    out->id = out->plan_id = NULL;
    out->sealed_key = NULL;
}

static void roster(void **state)
{
    struct fx *f = *state;
    struct seen s = {0};
    struct store_session got;

    open_store(f);
    load_roster(f);
    assert_int_equal(store_foreach_candidate(f->st, "S1", list_cand, &s), 3);
    assert_string_equal(s.text, "S1/T001/李娜/1/registered/0;S1/T002/王芳/2/registered/0;"
                                "S1/T003/陈静/3/registered/0;");
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_foreach_candidate(f->st, NULL, list_cand, &s), 4);
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_foreach_seat(f->st, list_seat, &s), 4);
    assert_string_equal(s.text, "1A1;2A2;3A3;9备用*;");
    assert_int_equal(store_get_session(f->st, "S1", copy_session, &got), 0);
    assert_int_equal(got.starts_at, 1764900000);
    assert_int_equal(got.late_admission_minutes, 15);
    assert_int_equal(got.state, STORE_SESSION_LOCKED);
    assert_int_equal(store_get_session(f->st, "S9", copy_session, &got), ER_STORE_NOT_FOUND);
    assert_int_equal(store_find_candidate(f->st, "S1", "T999", keep_id, &(int64_t){0}),
                     ER_STORE_NOT_FOUND);
}

static void roster_load_is_all_or_nothing(void **state)
{
    struct fx *f = *state;
    static const struct store_candidate bad_session[] = {CAND("S1", "T100", "甲", 0),
                                                         CAND("S7", "T101", "乙", 0)};
    static const struct store_candidate same_seat[] = {CAND("S1", "T100", "甲", 2)};
    struct store_roster r = {NULL, 0, NULL, 0, bad_session, 2};
    struct seen s = {0};
    struct done d = {0};

    open_store(f);
    load_roster(f);
    assert_int_equal(store_load_roster(f->st, &r, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), ER_STORE_NOT_FOUND);
    /* T100 was valid, but its load failed as a whole. */
    assert_int_equal(store_foreach_candidate(f->st, "S1", list_cand, &s), 3);
    r.candidates = same_seat;
    r.n_candidates = 1;
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_load_roster(f->st, &r, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), ER_STORE_CONFLICT);
}

static void sessions_and_candidates_change(void **state)
{
    struct fx *f = *state;
    struct store_session got;
    struct seen s = {0};
    struct done d = {0};
    int64_t t1, t2;

    open_store(f);
    load_roster(f);
    t1 = cand_id(f, "S1", "T001");
    t2 = cand_id(f, "S1", "T002");
    assert_int_equal(store_set_session_state(f->st, "S1", STORE_SESSION_UNLOCKED,
                                             (const uint8_t *)"sealed", 6, on_done, &d),
                     0);
    assert_int_equal(wait_for(f, &d), 0);
    assert_int_equal(store_get_session(f->st, "S1", copy_session, &got), 0);
    assert_int_equal(got.state, STORE_SESSION_UNLOCKED);
    assert_int_equal(got.sealed_key_len, 6);
    memset(&d, 0, sizeof(d));
    assert_int_equal(
        store_set_session_state(f->st, "S9", STORE_SESSION_RUNNING, NULL, 0, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), ER_STORE_NOT_FOUND);

    /* Extra time adds up; a move to the spare seat; a taken seat refused. */
    for (int i = 0; i < 2; i++) {
        memset(&d, 0, sizeof(d));
        assert_int_equal(store_update_candidate(f->st, t1, STORE_CAND_RUNNING, 0, 300, on_done, &d),
                         0);
        assert_int_equal(wait_for(f, &d), 0);
    }
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_update_candidate(f->st, t1, STORE_CAND_RUNNING, 9, 0, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_update_candidate(f->st, t2, STORE_CAND_RUNNING, 9, 0, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), ER_STORE_CONFLICT);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_update_candidate(f->st, 999, STORE_CAND_ABSENT, 0, 0, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), ER_STORE_NOT_FOUND);
    /* A refreshed package does not undo the exam day. */
    load_roster(f);
    assert_int_equal(store_foreach_candidate(f->st, "S1", list_cand, &s), 3);
    assert_string_equal(s.text, "S1/T002/王芳/2/registered/0;S1/T003/陈静/3/registered/0;"
                                "S1/T001/李娜/9/running/600;");
}

/* ---- terminals and sign-ins ---- */

static void copy_term(const struct store_terminal *t, void *arg)
{
    *(struct store_terminal *)arg = *t;
    ((struct store_terminal *)arg)->pairing_code = NULL;
    ((struct store_terminal *)arg)->token_hash = NULL;
    ((struct store_terminal *)arg)->secret_hash = NULL;
}

/* The hash of the terminal's pairing secret (schema 4), or 32 bytes of 0xee. */
static void copy_secret(const struct store_terminal *t, void *arg)
{
    memset(arg, 0xee, STORE_HASH_LEN);
    if (t->secret_hash != NULL)
        memcpy(arg, t->secret_hash, STORE_HASH_LEN);
}

/* The id of the approved terminal "Q9Z1". */
static void last_term(const struct store_terminal *t, void *arg)
{
    if (strcmp(t->pairing_code, "Q9Z1") == 0)
        *(int64_t *)arg = t->id;
}

static void terminals(void **state)
{
    struct fx *f = *state;
    uint8_t h1[STORE_HASH_LEN], h2[STORE_HASH_LEN], h3[STORE_HASH_LEN], secret[STORE_HASH_LEN];
    struct store_terminal got;
    struct done d = {0};
    int64_t id;

    memset(h1, 1, sizeof(h1));
    memset(h2, 2, sizeof(h2));
    memset(h3, 3, sizeof(h3));
    open_store(f);
    load_roster(f);
    assert_int_equal(store_add_terminal(f->st, "K7M2", h3, STORE_TERM_TERMINAL, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    id = d.ack.id;
    assert_true(id > 0);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_add_terminal(f->st, "K7M2", NULL, STORE_TERM_TERMINAL, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), ER_STORE_CONFLICT);
    assert_int_equal(store_find_terminal(f->st, h1, copy_term, &got), ER_STORE_NOT_FOUND);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_approve_terminal(f->st, "K7M2", h1, 2, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    assert_int_equal(store_find_terminal(f->st, h1, copy_term, &got), 0);
    assert_int_equal(got.id, id);
    assert_int_equal(got.seat, 2);
    assert_int_equal(got.state, STORE_TERM_APPROVED);
    /* The hash of its pairing secret, as it asked. */
    assert_int_equal(store_find_terminal(f->st, h1, copy_secret, secret), 0);
    assert_memory_equal(secret, h3, STORE_HASH_LEN);
    /* Approved once only; one approved terminal per seat. */
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_approve_terminal(f->st, "K7M2", h2, 3, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), ER_STORE_NOT_FOUND);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_add_terminal(f->st, "Q9Z1", NULL, STORE_TERM_TERMINAL, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_approve_terminal(f->st, "Q9Z1", h2, 2, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), ER_STORE_CONFLICT);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_revoke_terminal(f->st, id, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    assert_int_equal(store_find_terminal(f->st, h1, copy_term, &got), ER_STORE_NOT_FOUND);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_revoke_terminal(f->st, id, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), ER_STORE_NOT_FOUND);

    /* Approved without a token; the token's hash kept at pickup, once. */
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_approve_terminal(f->st, "Q9Z1", NULL, 2, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    assert_int_equal(store_find_terminal(f->st, h2, copy_term, &got), ER_STORE_NOT_FOUND);
    id = got.id = 0;
    store_foreach_terminal(f->st, last_term, &id);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_issue_terminal_token(f->st, id, h2, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    assert_int_equal(store_find_terminal(f->st, h2, copy_term, &got), 0);
    assert_int_equal(got.seat, 2);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_issue_terminal_token(f->st, id, h1, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), ER_STORE_NOT_FOUND);

    /* An ID card reader pairs beside the seat's terminal: one of each kind
     * per seat, found with its kind; a second reader there is refused. */
    memset(h3, 9, sizeof(h3));
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_add_terminal(f->st, "R1D1", NULL, STORE_TERM_READER, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_approve_terminal(f->st, "R1D1", h3, 2, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    assert_int_equal(store_find_terminal(f->st, h3, copy_term, &got), 0);
    assert_int_equal(got.kind, STORE_TERM_READER);
    assert_int_equal(got.seat, 2);
    assert_int_equal(store_find_terminal(f->st, h2, copy_term, &got), 0);
    assert_int_equal(got.kind, STORE_TERM_TERMINAL);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_add_terminal(f->st, "R2D2", NULL, STORE_TERM_READER, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    memset(&d, 0, sizeof(d));
    memset(h1, 10, sizeof(h1));
    assert_int_equal(store_approve_terminal(f->st, "R2D2", h1, 2, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), ER_STORE_CONFLICT);
    assert_int_equal(store_add_terminal(f->st, "R3D3", NULL, 2, on_done, &d), ER_USAGE);
}

static void copy_signin(const struct store_signin *g, void *arg)
{
    *(struct store_signin *)arg = *g;
    ((struct store_signin *)arg)->token_hash = NULL;
}

static void signins(void **state)
{
    struct fx *f = *state;
    uint8_t th[STORE_HASH_LEN], ch[STORE_HASH_LEN];
    struct store_signin got;
    struct done d = {0};
    int64_t term, cand;

    memset(th, 7, sizeof(th));
    memset(ch, 8, sizeof(ch));
    open_store(f);
    load_roster(f);
    cand = cand_id(f, "S1", "T002");
    assert_int_equal(store_add_terminal(f->st, "K7M2", NULL, STORE_TERM_TERMINAL, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    term = d.ack.id;
    /* Only at an approved terminal. */
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_add_signin(f->st, cand, term, 2, ch, NULL, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), ER_STORE_NOT_FOUND);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_approve_terminal(f->st, "K7M2", th, 2, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_add_signin(f->st, cand, term, 2, ch, NULL, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    assert_true(d.ack.id > 0);
    assert_int_equal(store_find_signin(f->st, ch, copy_signin, &got), 0);
    assert_int_equal(got.candidate_id, cand);
    assert_int_equal(got.terminal_id, term);
    assert_int_equal(got.seat, 2);
    assert_int_equal(store_find_signin(f->st, th, copy_signin, &got), ER_STORE_NOT_FOUND);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_add_signin(f->st, 999, term, 2, th, NULL, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), ER_STORE_NOT_FOUND);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_add_signin(f->st, cand, term, 2, ch, NULL, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), ER_STORE_CONFLICT);
}

static void take_cand_id(const struct store_candidate *c, void *arg)
{
    *(int64_t *)arg = c->id;
}

/* A candidate token finds its candidate until a later sign-in replaces it. */
static void candidate_tokens(void **state)
{
    struct fx *f = *state;
    uint8_t h1[STORE_HASH_LEN], h2[STORE_HASH_LEN], other[STORE_HASH_LEN];
    struct done d = {0};
    int64_t term, cand, got = 0;

    memset(h1, 1, sizeof(h1));
    memset(h2, 2, sizeof(h2));
    memset(other, 3, sizeof(other));
    open_store(f);
    load_roster(f);
    cand = cand_id(f, "S1", "T002");
    assert_int_equal(store_add_terminal(f->st, "K7M2", NULL, STORE_TERM_TERMINAL, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    term = d.ack.id;
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_approve_terminal(f->st, "K7M2", other, 2, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_add_signin(f->st, cand, term, 2, h1, NULL, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    assert_int_equal(store_candidate_by_token(f->st, h1, take_cand_id, &got), 0);
    assert_int_equal(got, cand);
    assert_int_equal(store_candidate_by_token(f->st, other, take_cand_id, &got),
                     ER_STORE_NOT_FOUND);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_add_signin(f->st, cand, term, 2, h2, NULL, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    got = 0;
    assert_int_equal(store_candidate_by_token(f->st, h2, take_cand_id, &got), 0);
    assert_int_equal(got, cand);
    assert_int_equal(store_candidate_by_token(f->st, h1, take_cand_id, &got), ER_STORE_NOT_FOUND);
}

/* A move ends the candidate's sign-ins with the seat change, atomically; a
 * revoke ends those made at the terminal. The candidate signs in again. */
static void moves_and_revokes_end_candidate_tokens(void **state)
{
    struct fx *f = *state;
    uint8_t h1[STORE_HASH_LEN], h2[STORE_HASH_LEN], h3[STORE_HASH_LEN];
    struct store_signin g = {0};
    struct done d = {0};
    int64_t term, cand, other, got = 0;

    memset(h1, 1, sizeof(h1));
    memset(h2, 2, sizeof(h2));
    memset(h3, 3, sizeof(h3));
    open_store(f);
    load_roster(f);
    cand = cand_id(f, "S1", "T002");
    other = cand_id(f, "S1", "T001");
    assert_int_equal(store_add_terminal(f->st, "K7M2", NULL, STORE_TERM_TERMINAL, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    term = d.ack.id;
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_approve_terminal(f->st, "K7M2", h3, 2, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_add_signin(f->st, cand, term, 2, h1, NULL, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_add_signin(f->st, other, term, 1, h2, NULL, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);

    /* A seat taken: nothing changes, the token still works. */
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_move_candidate(f->st, cand, 3, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), ER_STORE_CONFLICT);
    assert_int_equal(store_candidate_by_token(f->st, h1, take_cand_id, &got), 0);
    assert_int_equal(got, cand);

    memset(&d, 0, sizeof(d));
    assert_int_equal(store_move_candidate(f->st, cand, 9, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    assert_int_equal(store_candidate_by_token(f->st, h1, take_cand_id, &got), ER_STORE_NOT_FOUND);
    assert_int_equal(store_find_signin(f->st, h1, copy_signin, &g), 0);
    assert_true(g.ended_at > 0);
    assert_int_equal(g.seat, 2);
    assert_int_equal(g.candidate_seat, 9);
    assert_int_equal(g.latest, 1);
    assert_int_equal(store_last_signin(f->st, cand, copy_signin, &g), 0);
    assert_true(g.ended_at > 0);
    /* Another candidate's token is not touched by the move. */
    assert_int_equal(store_candidate_by_token(f->st, h2, take_cand_id, &got), 0);
    assert_int_equal(got, other);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_move_candidate(f->st, 999, 9, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), ER_STORE_NOT_FOUND);

    /* The revoke ends what was signed in at the terminal. */
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_revoke_terminal(f->st, term, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    assert_int_equal(store_candidate_by_token(f->st, h2, take_cand_id, &got), ER_STORE_NOT_FOUND);
    assert_int_equal(store_find_signin(f->st, h2, copy_signin, &g), 0);
    assert_true(g.ended_at > 0);
    assert_int_equal(g.candidate_seat, 1);
}

static void take_cand_state(const struct store_candidate *c, void *arg)
{
    *(int *)arg = (int)c->state;
}

static int cand_state(struct fx *f, const char *session, const char *ticket)
{
    int state = -1;

    assert_int_equal(store_find_candidate(f->st, session, ticket, take_cand_state, &state), 0);
    return state;
}

/* An approved terminal at seat, with token hash th: its id. */
static int64_t approved_terminal(struct fx *f, const char *code, int seat, const uint8_t *th)
{
    struct done d = {0};
    int64_t id;

    assert_int_equal(store_add_terminal(f->st, code, NULL, STORE_TERM_TERMINAL, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    id = d.ack.id;
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_approve_terminal(f->st, code, th, seat, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    return id;
}

/* The sign-in handler reads the committed store; a move or a revoke may be
 * queued, not yet committed, when it queues its sign-in. The store refuses
 * that sign-in: no live candidate token at the old seat, or from the revoked
 * terminal, whatever the handler read. */
static void signin_after_a_queued_move_or_revoke_is_refused(void **state)
{
    struct fx *f = *state;
    uint8_t t1[STORE_HASH_LEN], t2[STORE_HASH_LEN], h1[STORE_HASH_LEN], h2[STORE_HASH_LEN];
    struct store_signin g;
    struct done d1 = {0}, d2 = {0};
    int64_t term1, term2, cand, other, got = 0;

    memset(t1, 0x11, sizeof(t1));
    memset(t2, 0x22, sizeof(t2));
    memset(h1, 0x31, sizeof(h1));
    memset(h2, 0x32, sizeof(h2));
    open_store(f);
    load_roster(f);
    cand = cand_id(f, "S1", "T002");  /* seat 2 */
    other = cand_id(f, "S1", "T001"); /* seat 1 */
    term2 = approved_terminal(f, "K7M2", 2, t2);
    term1 = approved_terminal(f, "Q9Z1", 1, t1);

    /* Moved to 9, then (read before the move) a sign-in at seat 2. */
    assert_int_equal(store_move_candidate(f->st, cand, 9, on_done, &d1), 0);
    assert_int_equal(store_add_signin(f->st, cand, term2, 2, h1, NULL, on_done, &d2), 0);
    assert_int_equal(wait_for(f, &d1), 0);
    assert_int_equal(wait_for(f, &d2), ER_STORE_NOT_FOUND);
    assert_int_equal(store_candidate_by_token(f->st, h1, take_cand_id, &got), ER_STORE_NOT_FOUND);
    assert_int_equal(store_find_signin(f->st, h1, copy_signin, &g), ER_STORE_NOT_FOUND);
    assert_int_equal(cand_state(f, "S1", "T002"), STORE_CAND_REGISTERED);

    /* Seat 1's terminal revoked, then (read before the revoke) a sign-in at it. */
    memset(&d1, 0, sizeof(d1));
    memset(&d2, 0, sizeof(d2));
    assert_int_equal(store_revoke_terminal(f->st, term1, on_done, &d1), 0);
    assert_int_equal(store_add_signin(f->st, other, term1, 1, h2, NULL, on_done, &d2), 0);
    assert_int_equal(wait_for(f, &d1), 0);
    assert_int_equal(wait_for(f, &d2), ER_STORE_NOT_FOUND);
    assert_int_equal(store_candidate_by_token(f->st, h2, take_cand_id, &got), ER_STORE_NOT_FOUND);
    assert_int_equal(store_find_signin(f->st, h2, copy_signin, &g), ER_STORE_NOT_FOUND);
}

/* The proctor's "absent" (or the no-show marking at the end) read the
 * candidate registered while their sign-in was queued: once the sign-in is
 * committed, the absent result is refused whole (no result, no outbox row,
 * the state stays signed in). A registered candidate is still recorded
 * absent, and then cannot sign in. */
static void absent_after_a_signin_is_refused(void **state)
{
    struct fx *f = *state;
    uint8_t t2[STORE_HASH_LEN], t3[STORE_HASH_LEN], h1[STORE_HASH_LEN], h2[STORE_HASH_LEN];
    uint8_t zero[STORE_HASH_LEN] = {0};
    struct store_result r = {.chain_pos = 1, .score = -1, .state = STORE_CAND_ABSENT};
    struct done d = {0};
    int64_t term2, term3, cand, noshow;
    sqlite3 *db;

    memset(t2, 0x22, sizeof(t2));
    memset(t3, 0x23, sizeof(t3));
    memset(h1, 0x31, sizeof(h1));
    memset(h2, 0x32, sizeof(h2));
    open_store(f);
    load_roster(f);
    cand = cand_id(f, "S1", "T002");   /* seat 2 */
    noshow = cand_id(f, "S1", "T003"); /* seat 3 */
    term2 = approved_terminal(f, "K7M2", 2, t2);
    term3 = approved_terminal(f, "Q9Z1", 3, t3);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_add_signin(f->st, cand, term2, 2, h1, NULL, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    /* The sign-in set the state, in its own transaction. */
    assert_int_equal(cand_state(f, "S1", "T002"), STORE_CAND_SIGNED_IN);

    r.candidate_id = cand;
    memcpy(r.prev_hash, zero, STORE_HASH_LEN);
    r.sealed = (const uint8_t *)"absent";
    r.sealed_len = 6;
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_add_result(f->st, &r, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), ER_STORE_NOT_FOUND);
    assert_int_equal(cand_state(f, "S1", "T002"), STORE_CAND_SIGNED_IN);
    db = raw(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM results"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM outbox"), 0);

    /* A registered candidate: recorded absent; then no sign-in. */
    r.candidate_id = noshow;
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_add_result(f->st, &r, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    assert_int_equal(cand_state(f, "S1", "T003"), STORE_CAND_ABSENT);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM results"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM outbox"), 1);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_add_signin(f->st, noshow, term3, 3, h2, NULL, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), ER_STORE_NOT_FOUND);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM signins WHERE candidate_id = (SELECT id"
                                 " FROM candidates WHERE session_id = 'S1' AND ticket = 'T003')"),
                     0);
    sqlite3_close(db);
}

/* Extra time queued behind a sign-in (the proctor's handler read the
 * candidate as registered) adds the time and keeps the sign-in; the running
 * mark never undoes a result sealed meanwhile. */
static void time_and_running_never_undo_a_state(void **state)
{
    struct fx *f = *state;
    uint8_t t2[STORE_HASH_LEN], h1[STORE_HASH_LEN], zero[STORE_HASH_LEN] = {0};
    struct store_result r = {.chain_pos = 1, .score = -1, .state = STORE_CAND_ABSENT};
    struct done d1 = {0}, d2 = {0};
    int64_t term2, cand, noshow;
    sqlite3 *db;

    memset(t2, 0x22, sizeof(t2));
    memset(h1, 0x31, sizeof(h1));
    open_store(f);
    load_roster(f);
    cand = cand_id(f, "S1", "T002");
    noshow = cand_id(f, "S1", "T003");
    term2 = approved_terminal(f, "K7M2", 2, t2);
    assert_int_equal(store_add_signin(f->st, cand, term2, 2, h1, NULL, on_done, &d1), 0);
    assert_int_equal(store_add_time(f->st, cand, 600, on_done, &d2), 0);
    assert_int_equal(wait_for(f, &d1), 0);
    assert_int_equal(wait_for(f, &d2), 0);
    assert_int_equal(cand_state(f, "S1", "T002"), STORE_CAND_SIGNED_IN);
    db = raw(f);
    assert_int_equal(raw_int(db, "SELECT extra_seconds FROM candidates WHERE session_id = 'S1'"
                                 " AND ticket = 'T002'"),
                     600);
    memset(&d1, 0, sizeof(d1));
    assert_int_equal(store_add_time(f->st, cand, 0, on_done, &d1), ER_USAGE);

    r.candidate_id = noshow;
    memcpy(r.prev_hash, zero, STORE_HASH_LEN);
    r.sealed = (const uint8_t *)"absent";
    r.sealed_len = 6;
    memset(&d1, 0, sizeof(d1));
    memset(&d2, 0, sizeof(d2));
    assert_int_equal(store_add_result(f->st, &r, on_done, &d1), 0);
    assert_int_equal(store_mark_running(f->st, noshow, on_done, &d2), 0);
    assert_int_equal(wait_for(f, &d1), 0);
    assert_int_equal(wait_for(f, &d2), 0);
    assert_int_equal(cand_state(f, "S1", "T003"), STORE_CAND_ABSENT);
    memset(&d1, 0, sizeof(d1));
    assert_int_equal(store_mark_running(f->st, cand, on_done, &d1), 0);
    assert_int_equal(wait_for(f, &d1), 0);
    assert_int_equal(cand_state(f, "S1", "T002"), STORE_CAND_RUNNING);
    sqlite3_close(db);
}

static void take_checkin(const struct store_candidate *c, void *arg)
{
    int64_t *at = arg;

    at[c->ticket[3] - '0'] = c->checked_in_at;
}

/* Door check-in (schema 6): found by ID number in every session, the first
 * read's time stands, a refreshed roster keeps it. */
static void door_check_in(void **state)
{
    struct fx *f = *state;
    struct store_roster again = {sessions, 2, seats, 4, cands, 4};
    int64_t at[10] = {0}, cand;
    struct done d = {0};

    open_store(f);
    load_roster(f);
    assert_int_equal(store_find_candidates_by_id(f->st, "44030419960428242X", take_checkin, at), 4);
    assert_int_equal(store_find_candidates_by_id(f->st, "440304199604282421", take_checkin, at),
                     ER_STORE_NOT_FOUND);
    assert_int_equal(at[1], 0);
    cand = cand_id(f, "S1", "T002");
    assert_int_equal(store_check_in(f->st, cand, 0, on_done, &d), ER_USAGE);
    assert_int_equal(store_check_in(f->st, cand, 1764899000, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_check_in(f->st, cand, 1764899500, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_load_roster(f->st, &again, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
    assert_int_equal(store_foreach_candidate(f->st, "S1", take_checkin, at), 3);
    assert_int_equal(at[2], 1764899000);
    assert_int_equal(at[1], 0);
    assert_int_equal(at[3], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(open_creates_private_wal_files),
        T(time_and_running_never_undo_a_state),
        T(door_check_in),
        T(open_tightens_loose_modes),
        T(open_checks_arguments),
        T(open_refuses_a_damaged_file),
        T(open_refuses_another_programs_file),
        T(open_refuses_a_newer_schema),
        T(migrates_from_the_first_version),
        T(a_failed_migration_keeps_the_last_version),
        T(room_row),
        T(registrations),
        T(packages),
        T(roster),
        T(roster_load_is_all_or_nothing),
        T(sessions_and_candidates_change),
        T(terminals),
        T(signins),
        T(candidate_tokens),
        T(moves_and_revokes_end_candidate_tokens),
        T(signin_after_a_queued_move_or_revoke_is_refused),
        T(absent_after_a_signin_is_refused),
#undef T
    };

    /* The refusals below log on purpose; keep the output to the results. */
    log_set_level(LOG_LEVEL_ERROR - 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
