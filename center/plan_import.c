/* plan_import(): reads the files of a plan directory, has everything
 * checked, and writes the plan in one transaction, or nothing at all. */
#include "plan_internal.h"
#include "plan_msg.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { FILE_OK, FILE_MISSING, FILE_TOO_LARGE, FILE_ERROR };

/* Reads dir/rel whole (NUL added) when it is a regular file of at most max
 * bytes. */
static int read_file(const char *dir, const char *rel, size_t max, char **buf, size_t *len)
{
    char path[4096];
    struct stat st;
    int fd, rc = FILE_ERROR;
    size_t got = 0;

    *buf = NULL;
    if (snprintf(path, sizeof(path), "%s/%s", dir, rel) >= (int)sizeof(path))
        return FILE_MISSING;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? FILE_MISSING : FILE_ERROR;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        goto out;
    if ((uint64_t)st.st_size > max) {
        rc = FILE_TOO_LARGE;
        goto out;
    }
    *buf = malloc((size_t)st.st_size + 1);
    if (*buf == NULL)
        goto out;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, *buf + got, (size_t)st.st_size - got);

        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got == (size_t)st.st_size) {
        (*buf)[got] = '\0';
        *len = got;
        rc = FILE_OK;
    }
out:
    if (rc != FILE_OK) {
        free(*buf);
        *buf = NULL;
    }
    close(fd);
    return rc;
}

/* Reads one whole plan file; its absence and size are problems of the
 * plan. Returns 1 when buf holds the file. */
static int load_text(const char *dir, const char *rel, char **buf, size_t *len,
                     struct plan_diags *d)
{
    int rc = read_file(dir, rel, PLAN_MAX_FILE, buf, len);

    if (rc == FILE_MISSING)
        plan_diag(d, rel, 0, PM_FILE_MISSING);
    else if (rc == FILE_TOO_LARGE)
        plan_diag(d, rel, 0, PM_FILE_TOO_LARGE, PLAN_MAX_FILE >> 20);
    else if (rc == FILE_ERROR)
        plan_diag(d, rel, 0, PM_FILE_UNREADABLE, strerror(errno));
    return rc == FILE_OK;
}

/* Each paper file once, however many sessions name it. */
static int load_papers(const char *dir, struct plan *p, struct plan_diags *d)
{
    for (size_t i = 0; i < p->nsessions; i++) {
        for (size_t j = 0; j < p->sessions[i].nsittings; j++) {
            const struct plan_sitting *t = &p->sessions[i].sittings[j];
            char *buf;
            size_t len, k;
            int rc;

            if (t->paper == NULL || t->paper[0] == '\0')
                continue;
            for (k = 0; k < p->npapers && strcmp(p->papers[k].path, t->paper) != 0; k++)
                ;
            if (k < p->npapers)
                continue;
            rc = read_file(dir, t->paper, PLAN_MAX_FILE, &buf, &len);
            if (rc == FILE_MISSING) {
                /* Reported at each line that names it. */
                plan_diag(d, PLAN_FILE_JSON, t->paper_line, PM_PAPER_MISSING, t->paper);
                continue;
            }
            if (rc != FILE_OK) {
                load_text(dir, t->paper, &buf, &len, d);
                continue;
            }
            rc = plan_read_paper(p, t->paper, buf, len, d);
            free(buf);
            if (rc == ER_NOMEM)
                return rc;
        }
    }
    return 0;
}

/* A JPEG starts with SOI and a marker (FF D8 FF) and ends with EOI (FF D9).
 * Zero bytes after EOI are allowed: some capture tools pad files to a
 * block size, and decoders stop at EOI. */
static int looks_like_jpeg(const uint8_t *b, size_t n)
{
    while (n > 0 && b[n - 1] == 0)
        n--;
    return n >= 5 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF && b[n - 2] == 0xFF &&
           b[n - 1] == 0xD9;
}

static int load_photos(const char *dir, struct plan *p, struct plan_diags *d)
{
    for (size_t i = 0; i < p->ncandidates; i++) {
        struct plan_candidate *c = &p->candidates[i];
        char rel[1024], *buf;
        size_t len = 0;
        int rc;

        if (c->photo_bad)
            continue;
        snprintf(rel, sizeof(rel), "%s/%s", PLAN_DIR_PHOTOS, c->photo);
        rc = read_file(dir, rel, PLAN_MAX_PHOTO, &buf, &len);
        if (rc == FILE_MISSING)
            plan_diag(d, PLAN_FILE_CANDIDATES, c->line, PM_PHOTO_MISSING, c->photo);
        else if (rc == FILE_TOO_LARGE || (rc == FILE_OK && len == 0))
            plan_diag(d, PLAN_FILE_CANDIDATES, c->line, PM_PHOTO_SIZE, c->photo);
        else if (rc == FILE_ERROR)
            plan_diag(d, rel, 0, PM_FILE_UNREADABLE, strerror(errno));
        else if (!looks_like_jpeg((const uint8_t *)buf, len))
            plan_diag(d, PLAN_FILE_CANDIDATES, c->line, PM_PHOTO_NOT_JPEG, c->photo);
        if (rc == FILE_OK && len > 0 && looks_like_jpeg((const uint8_t *)buf, len)) {
            c->photo_data = (uint8_t *)buf;
            c->photo_len = len;
        } else {
            free(buf);
        }
        if (d->nomem)
            return ER_NOMEM;
    }
    return 0;
}

/* Every file of the plan into p; problems into d. */
static int read_plan_dir(const char *dir, struct plan *p, struct plan_diags *d)
{
    char *buf;
    size_t len;
    int rc = 0;

    if (load_text(dir, PLAN_FILE_JSON, &buf, &len, d)) {
        rc = plan_read_plan_json(p, buf, len, d);
        free(buf);
    }
    if (rc != ER_NOMEM)
        rc = load_papers(dir, p, d);
    if (rc != ER_NOMEM && load_text(dir, PLAN_FILE_CANDIDATES, &buf, &len, d)) {
        rc = plan_read_candidates(p, buf, len, d);
        free(buf);
    }
    if (rc != ER_NOMEM)
        rc = load_photos(dir, p, d);
    if (rc != ER_NOMEM)
        rc = plan_check(p, d);
    if (rc == ER_NOMEM || d->nomem)
        return ER_NOMEM;
    return d->n > 0 ? ER_PLAN_INVALID : 0;
}

/* ---- writing ---- */

struct writer {
    sqlite3 *db;
    const struct plan *p;
};

static int db_fail(sqlite3 *db, const char *what)
{
    log_error("plan import: %s: %s", what, sqlite3_errmsg(db));
    return ER_CENTER_DB;
}

/* Steps a bound statement once and makes it ready for the next row. */
static int step(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : db_fail(db, what);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK ? 0 : db_fail(db, sql);
}

static int write_header(struct writer *w)
{
    const struct plan *p = w->p;
    sqlite3_stmt *st = NULL;
    int rc = prepare(w->db, "SELECT 1 FROM plans WHERE id = ?", &st);

    if (rc != 0)
        return rc;
    bind_text(st, 1, p->id);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return ER_PLAN_EXISTS;
    if (rc != SQLITE_DONE)
        return db_fail(w->db, "plans");
    rc = prepare(w->db,
                 "INSERT INTO plans (id, institution_code, institution_name, timezone, pass_mark,"
                 " imported_at) VALUES (?, ?, ?, ?, ?, ?)",
                 &st);
    if (rc != 0)
        return rc;
    bind_text(st, 1, p->id);
    bind_text(st, 2, p->institution_code);
    bind_text(st, 3, p->institution_name);
    bind_text(st, 4, p->timezone);
    sqlite3_bind_int(st, 5, p->pass_mark);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)time(NULL));
    rc = step(w->db, st, "plans");
    sqlite3_finalize(st);
    return rc;
}

static int write_rooms(struct writer *w)
{
    const struct plan *p = w->p;
    sqlite3_stmt *st = NULL;
    int rc = prepare(w->db,
                     "INSERT INTO rooms (plan_id, id, site, site_name, name, seats)"
                     " VALUES (?, ?, ?, ?, ?, ?)",
                     &st);

    for (size_t i = 0; rc == 0 && i < p->nrooms; i++) {
        const struct plan_room *r = &p->rooms[i];

        bind_text(st, 1, p->id);
        bind_text(st, 2, r->id);
        bind_text(st, 3, r->site);
        bind_text(st, 4, r->site_name);
        bind_text(st, 5, r->name);
        sqlite3_bind_int(st, 6, r->seats);
        rc = step(w->db, st, "rooms");
    }
    sqlite3_finalize(st);
    return rc;
}

static int write_sessions(struct writer *w)
{
    const struct plan *p = w->p;
    sqlite3_stmt *st = NULL;
    int rc = prepare(w->db,
                     "INSERT INTO sessions (plan_id, id, date, start, end, starts_at, ends_at,"
                     " late_admission_minutes, earliest_submit_minutes, unlock_code)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     &st);

    for (size_t i = 0; rc == 0 && i < p->nsessions; i++) {
        const struct plan_session *s = &p->sessions[i];
        uint8_t code[CODE_BYTES(CODE_UNLOCK_BITS)];

        rc = code_random(CODE_UNLOCK_BITS, code);
        if (rc != 0)
            break;
        bind_text(st, 1, p->id);
        bind_text(st, 2, s->id);
        bind_text(st, 3, s->date);
        bind_text(st, 4, s->start);
        bind_text(st, 5, s->end);
        sqlite3_bind_int64(st, 6, s->starts_at);
        sqlite3_bind_int64(st, 7, s->ends_at);
        sqlite3_bind_int(st, 8, s->late_admission);
        sqlite3_bind_int(st, 9, s->earliest_submit);
        sqlite3_bind_blob(st, 10, code, sizeof(code), SQLITE_TRANSIENT);
        rc = step(w->db, st, "sessions");
    }
    sqlite3_finalize(st);
    return rc;
}

static int write_papers(struct writer *w)
{
    const struct plan *p = w->p;
    sqlite3_stmt *st = NULL, *sp = NULL;
    int rc = prepare(w->db,
                     "INSERT INTO papers (plan_id, path, title, occupation, level, subject, body)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)",
                     &st);

    for (size_t i = 0; rc == 0 && i < p->npapers; i++) {
        const struct plan_paper *pp = &p->papers[i];

        bind_text(st, 1, p->id);
        bind_text(st, 2, pp->path);
        bind_text(st, 3, pp->title);
        bind_text(st, 4, pp->occupation);
        bind_text(st, 5, pp->level);
        bind_text(st, 6, pp->subject);
        bind_text(st, 7, pp->body);
        rc = step(w->db, st, "papers");
    }
    if (rc == 0)
        rc = prepare(w->db,
                     "INSERT INTO session_papers (plan_id, session_id, occupation, level, subject,"
                     " paper_path) VALUES (?, ?, ?, ?, ?, ?)",
                     &sp);
    for (size_t i = 0; rc == 0 && i < p->nsessions; i++) {
        for (size_t j = 0; rc == 0 && j < p->sessions[i].nsittings; j++) {
            const struct plan_sitting *t = &p->sessions[i].sittings[j];

            bind_text(sp, 1, p->id);
            bind_text(sp, 2, p->sessions[i].id);
            bind_text(sp, 3, t->occupation);
            bind_text(sp, 4, t->level);
            bind_text(sp, 5, t->subject);
            bind_text(sp, 6, t->paper);
            rc = step(w->db, sp, "session_papers");
        }
    }
    sqlite3_finalize(st);
    sqlite3_finalize(sp);
    return rc;
}

static int write_candidates(struct writer *w)
{
    const struct plan *p = w->p;
    sqlite3_stmt *st = NULL;
    int rc = prepare(w->db,
                     "INSERT INTO candidates (plan_id, session_id, ticket, name, gender, id_type,"
                     " id_number, occupation, level, room_id, seat, seat_arranged, photo_name,"
                     " photo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     &st);

    for (size_t i = 0; rc == 0 && i < p->ncandidates; i++) {
        const struct plan_candidate *c = &p->candidates[i];

        bind_text(st, 1, p->id);
        bind_text(st, 2, c->session);
        bind_text(st, 3, c->ticket);
        bind_text(st, 4, c->name);
        bind_text(st, 5, c->gender);
        bind_text(st, 6, c->id_type);
        bind_text(st, 7, c->id_number);
        bind_text(st, 8, c->occupation);
        bind_text(st, 9, c->level);
        bind_text(st, 10, c->room);
        sqlite3_bind_int(st, 11, c->seat);
        sqlite3_bind_int(st, 12, c->arranged);
        bind_text(st, 13, c->photo);
        sqlite3_bind_blob(st, 14, c->photo_data, (int)c->photo_len, SQLITE_STATIC);
        rc = step(w->db, st, "candidates");
    }
    sqlite3_finalize(st);
    return rc;
}

static int write_plan(sqlite3 *db, const struct plan *p)
{
    struct writer w = {.db = db, .p = p};
    int rc;

    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(db, "BEGIN");
    rc = write_header(&w);
    if (rc == 0)
        rc = write_rooms(&w);
    if (rc == 0)
        rc = write_sessions(&w);
    if (rc == 0)
        rc = write_papers(&w);
    if (rc == 0)
        rc = write_candidates(&w);
    if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(db, "COMMIT");
    if (rc != 0)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static void summarise(const struct plan *p, struct plan_summary *sum)
{
    memset(sum, 0, sizeof(*sum));
    snprintf(sum->id, sizeof(sum->id), "%s", p->id != NULL ? p->id : "");
    sum->rooms = p->nrooms;
    sum->sessions = p->nsessions;
    sum->papers = p->npapers;
    sum->candidates = p->ncandidates;
    for (size_t i = 0; i < p->ncandidates; i++)
        sum->arranged += (size_t)p->candidates[i].arranged;
}

int plan_import(sqlite3 *db, const char *dir, struct plan_diags *d, struct plan_summary *sum)
{
    struct plan *p = plan_new();
    int rc;

    if (p == NULL)
        return ER_NOMEM;
    rc = read_plan_dir(dir, p, d);
    plan_diags_sort(d);
    if (rc == 0)
        rc = write_plan(db, p);
    if (sum != NULL)
        summarise(p, sum); /* the id, for ER_PLAN_EXISTS too */
    plan_free(p);
    return rc;
}
