/* The room of the HTTP harness (fuzz_http.h), made the way a room is made
 * on exam day, with the agent's own commands wherever there is one:
 * cmd_init, then the registration the center would have answered, a package
 * packed as center/cmd_pack.c packs one (from tests/fixtures/sample-plan,
 * with session times moved to now), cmd_fetch --from and cmd_unlock; then
 * terminals and sign-ins with known tokens straight into the store. The
 * store as made is kept beside it (room.db.pristine) to start over from. */
#define _GNU_SOURCE
#include "fuzz_http.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PLAN_ROOM   "R01"
#define S1_STARTED  (40 * 60) /* seconds before now: running, no more late admission */
#define SESSION_GAP (60 * 60) /* S2 starts this long after S1: its sign-in is open */

/* ---- the fixture ---- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n = 0;

    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    FUZZ_CHECK(buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static void fixture_path(const char *name, char out[ROOM_PATH_MAX])
{
    snprintf(out, ROOM_PATH_MAX, "%s/tests/fixtures/sample-plan/%s", EXAMROOM_SOURCE_DIR, name);
}

/* candidates.csv's lines of the room, as room.json lists them. */
static json_t *load_candidates(void)
{
    char path[ROOM_PATH_MAX], *text, *line, *save = NULL;
    json_t *list = json_array();
    size_t len;
    int header = 1;

    fixture_path("candidates.csv", path);
    text = read_file(path, &len);
    for (line = strtok_r(text, "\r\n", &save); line != NULL; line = strtok_r(NULL, "\r\n", &save)) {
        char *f[11], *p = line;
        int n = 0;

        if (header) {
            header = 0;
            continue;
        }
        while (n < 11 && p != NULL) {
            f[n++] = p;
            p = strchr(p, ',');
            if (p != NULL)
                *p++ = '\0';
        }
        FUZZ_CHECK(n == 11);
        if (strcmp(f[8], PLAN_ROOM) != 0)
            continue;
        json_array_append_new(list,
                              json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s}",
                                        "ticket", f[0], "name", f[1], "gender", f[2], "id_type",
                                        f[3], "id_number", f[4], "occupation", f[5], "level", f[6],
                                        "session", f[7], "seat", atoi(f[9]), "photo", f[10]));
    }
    free(text);
    return list;
}

static int minutes(const json_t *hhmm)
{
    int h = 0, m = 0;

    FUZZ_CHECK(sscanf(json_string_value(hhmm), "%d:%d", &h, &m) == 2);
    return h * 60 + m;
}

/* A session of plan.json as room.json lists it, starting at starts_at. */
static json_t *session_doc(const json_t *s, int64_t starts_at)
{
    int64_t length =
        (int64_t)(minutes(json_object_get(s, "end")) - minutes(json_object_get(s, "start"))) * 60;

    return json_pack("{s:O, s:O, s:O, s:O, s:I, s:I, s:O, s:O}", "id", json_object_get(s, "id"),
                     "date", json_object_get(s, "date"), "start", json_object_get(s, "start"),
                     "end", json_object_get(s, "end"), "starts_at", (json_int_t)starts_at,
                     "ends_at", (json_int_t)(starts_at + length), "late_admission_minutes",
                     json_object_get(s, "late_admission_minutes"), "earliest_submit_minutes",
                     json_object_get(s, "earliest_submit_minutes"));
}

/* paper/SESSION: the session's papers, keys included. */
static json_t *papers_doc(const json_t *s)
{
    json_t *doc = json_pack("{s:O, s:[]}", "session", json_object_get(s, "id"), "papers");
    const json_t *p;
    size_t i;

    json_array_foreach(json_object_get(s, "papers"), i, p)
    {
        char path[ROOM_PATH_MAX];
        json_t *body;

        fixture_path(json_string_value(json_object_get(p, "paper")), path);
        body = json_load_file(path, 0, NULL);
        FUZZ_CHECK(body != NULL);
        json_array_append_new(json_object_get(doc, "papers"),
                              json_pack("{s:O, s:O, s:O, s:o}", "occupation",
                                        json_object_get(p, "occupation"), "level",
                                        json_object_get(p, "level"), "subject",
                                        json_object_get(p, "subject"), "body", body));
    }
    return doc;
}

struct fixture {
    json_t *roster; /* room.json */
    json_t *papers[PKG_MAX_SESSIONS];
    struct pkg_session_spec specs[PKG_MAX_SESSIONS];
    uint8_t codes[PKG_MAX_SESSIONS][CODE_BYTES(CODE_UNLOCK_BITS)];
    size_t n;
};

static void load_fixture(struct fixture *fx, int64_t now)
{
    char path[ROOM_PATH_MAX];
    json_t *plan, *sessions = json_array(), *room = NULL, *r, *s;
    size_t i;

    fixture_path("plan.json", path);
    plan = json_load_file(path, 0, NULL);
    FUZZ_CHECK(plan != NULL);
    json_array_foreach(json_object_get(plan, "rooms"), i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "id")), PLAN_ROOM) == 0)
            room = r;
    }
    FUZZ_CHECK(room != NULL);
    json_array_foreach(json_object_get(plan, "sessions"), i, s)
    {
        FUZZ_CHECK(i < PKG_MAX_SESSIONS);
        json_array_append_new(sessions,
                              session_doc(s, now - S1_STARTED + (int64_t)i * SESSION_GAP));
        fx->papers[i] = papers_doc(s);
        fx->n = i + 1;
    }
    fx->roster = json_pack(
        "{s:{s:O, s:O, s:O, s:O, s:O}, s:O, s:o, s:o}", "plan", "id", json_object_get(plan, "id"),
        "institution_code", json_object_get(json_object_get(plan, "institution"), "code"),
        "institution_name", json_object_get(json_object_get(plan, "institution"), "name"),
        "timezone", json_object_get(plan, "timezone"), "pass_mark",
        json_object_get(plan, "pass_mark"), "room", room, "sessions", sessions, "candidates",
        load_candidates());
    FUZZ_CHECK(fx->roster != NULL);
    json_decref(plan);
}

static void free_fixture(struct fixture *fx)
{
    json_decref(fx->roster);
    for (size_t i = 0; i < fx->n; i++)
        json_decref(fx->papers[i]);
}

/* ---- the package ---- */

static void write_json(struct pkg_writer *w, const char *name, const char *session,
                       const json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);

    FUZZ_CHECK(text != NULL);
    FUZZ_CHECK(pkg_writer_begin(w, name, session) == 0);
    FUZZ_CHECK(pkg_writer_write(w, text, strlen(text)) == 0);
    FUZZ_CHECK(pkg_writer_end(w) == 0);
    free(text);
}

/* photos: for each, u16 name length, name, u32 size, the JPEG. */
static void write_photos(struct pkg_writer *w, const json_t *candidates)
{
    const json_t *c;
    size_t i;

    FUZZ_CHECK(pkg_writer_begin(w, "photos", NULL) == 0);
    json_array_foreach(candidates, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "photo"));
        char path[ROOM_PATH_MAX], rel[PKG_MAX_NAME + 8], *jpeg;
        size_t nlen = strlen(name), size;
        uint8_t head[6];

        snprintf(rel, sizeof(rel), "photos/%s", name);
        fixture_path(rel, path);
        jpeg = read_file(path, &size);
        head[0] = (uint8_t)(nlen >> 8);
        head[1] = (uint8_t)nlen;
        head[2] = (uint8_t)(size >> 24);
        head[3] = (uint8_t)(size >> 16);
        head[4] = (uint8_t)(size >> 8);
        head[5] = (uint8_t)size;
        FUZZ_CHECK(pkg_writer_write(w, head, 2) == 0 && pkg_writer_write(w, name, nlen) == 0);
        FUZZ_CHECK(pkg_writer_write(w, head + 2, 4) == 0 && pkg_writer_write(w, jpeg, size) == 0);
        free(jpeg);
    }
    FUZZ_CHECK(pkg_writer_end(w) == 0);
}

/* Packed for the room's wrapping key, signed by the center's key; scrypt
 * at the cheapest cost a reader accepts (a test package). */
static void write_package(struct fixture *fx, const struct key *center, const struct key *wrap,
                          const char *path, int64_t now)
{
    const json_t *plan = json_object_get(fx->roster, "plan");
    struct pkg_writer_params p = {.plan_id = json_string_value(json_object_get(plan, "id")),
                                  .room_id = PLAN_ROOM,
                                  .version = 1,
                                  .created_at = now,
                                  .expires_at = now + 30 * 86400,
                                  .center_key = center,
                                  .room_key = wrap,
                                  .sessions = fx->specs,
                                  .n_sessions = fx->n,
                                  .scrypt_log2_n = 10};
    struct pkg_writer *w;
    const json_t *s;
    size_t i;

    json_array_foreach(json_object_get(fx->roster, "sessions"), i, s)
    {
        fx->specs[i].id = json_string_value(json_object_get(s, "id"));
        fx->specs[i].starts_at = json_integer_value(json_object_get(s, "starts_at"));
        fx->specs[i].ends_at = json_integer_value(json_object_get(s, "ends_at"));
        FUZZ_CHECK(code_random(CODE_UNLOCK_BITS, fx->codes[i]) == 0);
        fx->specs[i].unlock_code = fx->codes[i];
    }
    FUZZ_CHECK(pkg_writer_new(&p, path, &w) == 0);
    write_json(w, "room.json", NULL, fx->roster);
    write_photos(w, json_object_get(fx->roster, "candidates"));
    for (i = 0; i < fx->n; i++) {
        char name[PKG_MAX_NAME + 8];

        snprintf(name, sizeof(name), "paper/%s", fx->specs[i].id);
        write_json(w, name, fx->specs[i].id, fx->papers[i]);
    }
    FUZZ_CHECK(pkg_writer_finish(w) == 0);
    pkg_writer_free(w);
}

/* ---- the room, with the agent's commands ---- */

static void run(struct fuzz_room *room, int (*cmd)(struct cli_ctx *, int, char **), int argc,
                char **argv)
{
    int status = cmd(&room->ctx, argc, argv);

    if (status != 0)
        fprintf(stderr, "fuzz_http: examroom %s failed (%d)\n", argv[0], status);
    FUZZ_CHECK(status == 0);
}

static void init_room(struct fuzz_room *room, const struct key *center)
{
    char b64[KEY_B64_LEN + 1], pw[ROOM_PATH_MAX + 16];
    char *argv[] = {
        "init", "--center", "https://127.0.0.1:9", "--center-key", b64, "--proctor-password-file",
        pw};
    FILE *f;

    key_public_b64(center, b64);
    snprintf(pw, sizeof(pw), "%s/password", room->dir);
    f = fopen(pw, "w");
    FUZZ_CHECK(f != NULL && fputs(FUZZ_PROCTOR_PASSWORD "\n", f) >= 0 && fclose(f) == 0);
    run(room, cmd_init, 7, argv);
}

/* What `examroom register` keeps of the center's answer, and the package
 * the center would then have packed for the room. */
static void register_and_pack(struct fuzz_room *room, struct fixture *fx, const struct key *center,
                              const char *path, int64_t now)
{
    const char *credential = "{\"fuzz\":true}";
    const struct store_registration reg = {
        .plan_id = json_string_value(json_object_get(json_object_get(fx->roster, "plan"), "id")),
        .center_room = PLAN_ROOM,
        .site = "S01",
        .credential = (const uint8_t *)credential,
        .credential_len = strlen(credential)};
    struct room_wait w = {0};
    struct key *wrap = NULL;
    uint8_t raw[KEY_RAW_LEN];
    struct room r;

    FUZZ_CHECK(room_open(&room->ctx, &r, 1) == 0);
    FUZZ_CHECK(room_write_wait(&r, store_add_registration(r.st, &reg, room_done, &w), &w) == 0);
    key_public_raw(r.wrap, raw);
    FUZZ_CHECK(key_from_raw_public(KEY_X25519, raw, &wrap) == 0);
    write_package(fx, center, wrap, path, now);
    key_free(wrap);
    room_close(&r);
}

/* ---- terminals and candidates, straight into the store ---- */

static void write_wait(struct room *r, int rc, struct room_wait *w)
{
    *w = (struct room_wait){0};
    FUZZ_CHECK(room_write_wait(r, rc, w) == 0);
}

static int64_t add_terminal(struct room *r, const char *code, int seat)
{
    struct room_wait w;
    uint8_t hash[STORE_HASH_LEN];
    char token[64];
    int64_t id;

    sha256(FUZZ_PAIRING_SECRET, strlen(FUZZ_PAIRING_SECRET), hash);
    write_wait(r, store_add_terminal(r->st, code, hash, STORE_TERM_TERMINAL, room_done, &w), &w);
    id = w.ack.id;
    if (seat == 0)
        return id;
    snprintf(token, sizeof(token), FUZZ_TERMINAL_TOKEN "%d", seat);
    sha256(token, strlen(token), hash);
    write_wait(r, store_approve_terminal(r->st, code, hash, seat, room_done, &w), &w);
    return id;
}

static void take_candidate(const struct store_candidate *c, void *arg)
{
    *(struct store_candidate *)arg = (struct store_candidate){.id = c->id, .seat = c->seat};
}

/* A sign-in at the candidate's seat with token, kept under its key (or,
 * plain, under its SHA-256 as before keys were ordered); the candidate left
 * in state. */
static int64_t sign_in(struct room *r, const int64_t terminals[], const char *session,
                       const char *ticket, enum store_cand_state state, const char *token,
                       int plain)
{
    struct store_candidate c = {0};
    struct room_wait w;
    uint8_t hash[STORE_HASH_LEN];

    FUZZ_CHECK(store_find_candidate(r->st, session, ticket, take_candidate, &c) == 0);
    FUZZ_CHECK(c.id > 0 && c.seat >= 1 && c.seat <= 3);
    if (plain)
        sha256(token, strlen(token), hash);
    else
        crypto_token_key(token, hash);
    write_wait(
        r, store_add_signin(r->st, c.id, terminals[c.seat], c.seat, hash, NULL, room_done, &w), &w);
    write_wait(r, store_update_candidate(r->st, c.id, state, 0, 0, room_done, &w), &w);
    return c.id;
}

static void seat_people(struct fuzz_room *room)
{
    int64_t terminals[4] = {0}, first;
    struct room_wait w;
    struct room r;

    FUZZ_CHECK(room_open(&room->ctx, &r, 1) == 0);
    terminals[1] = add_terminal(&r, "SEAT-001", 1);
    terminals[2] = add_terminal(&r, "SEAT-002", 2);
    terminals[3] = add_terminal(&r, "SEAT-003", 3);
    add_terminal(&r, FUZZ_PENDING_CODE_1, 0);
    add_terminal(&r, FUZZ_PENDING_CODE_2, 0);
    first = sign_in(&r, terminals, "S1", "4401000726000001", STORE_CAND_RUNNING,
                    FUZZ_CANDIDATE_TOKEN "1", 0);
    sign_in(&r, terminals, "S1", "4401000726000003", STORE_CAND_SIGNED_IN, FUZZ_CANDIDATE_TOKEN_3,
            0);
    sign_in(&r, terminals, "S2", "4401000726000023", STORE_CAND_SIGNED_IN, FUZZ_CANDIDATE_TOKEN_23,
            1);
    write_wait(&r, store_put_answer(r.st, first, "1", "B", 3, room_done, &w), &w);
    room_close(&r);
}

/* ---- files ---- */

static void copy_file(const char *from, const char *to)
{
    size_t len;
    char *data = read_file(from, &len);
    int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    FUZZ_CHECK(fd >= 0 && write(fd, data, len) == (ssize_t)len && close(fd) == 0);
    free(data);
}

static char made_dir[64];

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* At exit: the room is in memory (/dev/shm) when it can be. */
static void remove_room(void)
{
    if (made_dir[0] != '\0')
        nftw(made_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- the daemon ---- */

struct found {
    struct daemon *d;
    char path[ROOM_PATH_MAX];
    int64_t version;
};

static void take_registration(const struct store_registration *reg, void *arg)
{
    struct daemon *d = ((struct found *)arg)->d;

    snprintf(d->plan, sizeof(d->plan), "%s", reg->plan_id);
    snprintf(d->room_id, sizeof(d->room_id), "%s", reg->center_room);
}

static void take_package(const struct store_package *pkg, void *arg)
{
    struct found *f = arg;

    f->version = pkg->version;
    snprintf(f->path, sizeof(f->path), "%s", pkg->path);
}

/* The sessions of the roster, in the order background.c finds them. */
static void take_session(const struct store_candidate *c, void *arg)
{
    struct daemon *d = ((struct found *)arg)->d;

    for (size_t i = 0; i < d->n_sessions; i++)
        if (strcmp(d->sessions[i], c->session_id) == 0)
            return;
    if (d->n_sessions < PKG_MAX_SESSIONS)
        snprintf(d->sessions[d->n_sessions++], sizeof(d->sessions[0]), "%s", c->session_id);
}

/* What serve's start-up does before HTTP (background_start()), without
 * the center link: the verified package, its photos, the sessions. */
static struct daemon *open_daemon(struct fuzz_room *room)
{
    struct daemon *d = calloc(1, sizeof(*d));
    struct found f = {.d = d};

    FUZZ_CHECK(d != NULL);
    FUZZ_CHECK(room_open(&room->ctx, &d->r, 1) == 0);
    store_foreach_registration(d->r.st, take_registration, &f);
    FUZZ_CHECK(store_latest_package(d->r.st, d->plan, take_package, &f) == 0);
    FUZZ_CHECK(room_open_package(&d->r, f.path, f.version, &d->pkg) == 0);
    photos_start(d, f.path, f.version); /* the index, on the thread pool */
    while (d->photos_state > 0)
        uv_run(&d->r.loop, UV_RUN_ONCE);
    FUZZ_CHECK(d->photos_state == 0);
    store_foreach_candidate(d->r.st, NULL, take_session, &f);
    FUZZ_CHECK(d->n_sessions == 2);
    snprintf(d->admin_token, sizeof(d->admin_token), "%s", FUZZ_ADMIN_TOKEN);
    return d;
}

struct daemon *fuzz_room_make(struct fuzz_room *room)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    char pkg[ROOM_PATH_MAX + 16], code[64];
    char *fetch[] = {"fetch", "--from", pkg}, *unlock[] = {"unlock", "S1", code};
    struct fixture fx = {0};
    struct key *center;
    int64_t now = time(NULL);

    /* Errors only: the handlers log what the fuzzer makes them refuse. */
    log_set_level(LOG_LEVEL_ERROR);
    snprintf(room->dir, sizeof(room->dir), "%s/examroom-fuzz-http-XXXXXX", base);
    FUZZ_CHECK(mkdtemp(room->dir) != NULL);
    snprintf(made_dir, sizeof(made_dir), "%s", room->dir);
    atexit(remove_room);
    room->ctx = (struct cli_ctx){.program = "examroom", .data_dir = room->dir};
    snprintf(room->db, sizeof(room->db), "%s/room.db", room->dir);
    snprintf(room->pristine, sizeof(room->pristine), "%s/room.db.pristine", room->dir);
    snprintf(pkg, sizeof(pkg), "%s/package.pkg", room->dir);

    FUZZ_CHECK(key_generate(KEY_ED25519, &center) == 0);
    load_fixture(&fx, now);
    init_room(room, center);
    register_and_pack(room, &fx, center, pkg, now);
    run(room, cmd_fetch, 3, fetch);
    FUZZ_CHECK(code_encode(fx.codes[0], CODE_UNLOCK_BITS, CODE_UNLOCK_GROUP, code, sizeof(code)) ==
               0);
    run(room, cmd_unlock, 3, unlock);
    seat_people(room);
    copy_file(room->db, room->pristine);
    free_fixture(&fx);
    key_free(center);
    return open_daemon(room);
}

/* ---- between inputs ---- */

static void on_store_closed(void *arg)
{
    *(int *)arg = 1;
}

static void reset_store(struct fuzz_room *room, struct daemon *d)
{
    char extra[ROOM_PATH_MAX + 8];
    int closed = 0;

    store_close(d->r.st, on_store_closed, &closed);
    while (!closed)
        uv_run(&d->r.loop, UV_RUN_ONCE);
    d->r.st = NULL;
    snprintf(extra, sizeof(extra), "%s-wal", room->db);
    unlink(extra);
    snprintf(extra, sizeof(extra), "%s-shm", room->db);
    unlink(extra);
    copy_file(room->pristine, room->db);
    FUZZ_CHECK(store_open(&d->r.loop, room->dir, "room", &d->r.st) == 0);
    room->writes = 0;
}

void fuzz_room_settle(struct fuzz_room *room, struct daemon *d)
{
    struct room_wait w = {0};
    struct store_stats stats;

    /* A write that changes nothing (there is no candidate 0): writes are
     * answered in order, so once it is, every write before it has been. */
    FUZZ_CHECK(room_write_wait(
                   &d->r,
                   store_update_candidate(d->r.st, 0, STORE_CAND_REGISTERED, 0, 0, room_done, &w),
                   &w) == ER_STORE_NOT_FOUND);
    store_get_stats(d->r.st, &stats);
    if (stats.writes == room->writes + 1)
        room->writes = stats.writes;
    else
        reset_store(room, d);
    memset(&d->signin_fails, 0, sizeof(d->signin_fails));
    memset(d->proctors, 0, sizeof(d->proctors));
    sha256(FUZZ_PROCTOR_TOKEN, strlen(FUZZ_PROCTOR_TOKEN), d->proctors[0].hash);
    d->proctors[0].expires_at = INT64_MAX;
    memset(&d->login_fails, 0, sizeof(d->login_fails));
    d->login_busy = 0;
    memset(&d->pair_asks, 0, sizeof(d->pair_asks));
    memset(&d->pair_polls, 0, sizeof(d->pair_polls));
    memset(d->scan_done, 0, sizeof(d->scan_done));
    for (size_t i = 0; i < PKG_MAX_SESSIONS; i++) {
        json_decref(d->papers[i]);
        d->papers[i] = NULL;
    }
}
