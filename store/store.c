/* Opening and closing the room store, and the group commit.
 *
 * Writes queue on the loop. When no transaction is in flight, the queue
 * becomes the next batch: one BEGIN IMMEDIATE ... COMMIT on the libuv thread
 * pool (uv_queue_work), so the fsync never blocks the loop. Writes that arrive
 * meanwhile wait in the queue and become the batch after it: under load every
 * fsync carries as many writes as arrived during the previous one. Callbacks
 * run on the loop in after_batch(), which is only reached once COMMIT has
 * returned: with synchronous=FULL in WAL mode, COMMIT returns after the WAL
 * is fsynced, so a callback never runs before its write is durable. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000
/* Truncate the WAL back to this after a checkpoint, so one burst does not
 * keep a large file. */
#define WAL_SIZE_LIMIT "PRAGMA journal_size_limit = 16777216"

static int valid_name(const char *name)
{
    size_t n = name != NULL ? strlen(name) : 0;

    if (n == 0 || n > 64 || name[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

/* The data directory is 0700 and the file 0600 (SECURITY.md, at rest);
 * SQLite gives the -wal and -shm files the mode of the database file. */
static int prepare_files(const char *dir, const char *path)
{
    struct stat st;
    int fd;

    /* A new directory is made durable in its parent: a power cut must not
     * take the room's store with it. */
    if (mkdir(dir, 0700) == 0 ? fs_sync_dir(dir) < 0 : errno != EEXIST) {
        log_error("store: cannot create %s: %s", dir, strerror(errno));
        return ER_STORE_OPEN;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        log_error("store: %s is not a directory", dir);
        return ER_STORE_OPEN;
    }
    if ((st.st_mode & 077) != 0 && chmod(dir, 0700) != 0) {
        log_error("store: cannot restrict %s to 0700: %s", dir, strerror(errno));
        return ER_STORE_OPEN;
    }
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_error("store: cannot open %s: %s", path, strerror(errno));
        return ER_STORE_OPEN;
    }
    if (fstat(fd, &st) != 0 || ((st.st_mode & 077) != 0 && fchmod(fd, 0600) != 0)) {
        log_error("store: cannot restrict %s to 0600: %s", path, strerror(errno));
        close(fd);
        return ER_STORE_OPEN;
    }
    close(fd);
    return 0;
}

static int open_conn(const char *path, sqlite3 **out)
{
    /* NOMUTEX: each connection is used by one thread at a time, handed over
     * by libuv (uv_queue_work and its after callback order the accesses). */
    int rc = sqlite3_open_v2(path, out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc != SQLITE_OK) {
        log_error("store: cannot open %s: %s", path,
                  *out != NULL ? sqlite3_errmsg(*out) : sqlite3_errstr(rc));
        return store_map_rc(rc);
    }
    sqlite3_extended_result_codes(*out, 1);
    sqlite3_busy_timeout(*out, BUSY_TIMEOUT_MS);
    return 0;
}

/* The file checks first (they only read, so a refused file is left exactly
 * as it was), then WAL and the settings, then the migrations. */
static int setup_writer(sqlite3 *db)
{
    sqlite3_stmt *s = NULL;
    int err = store_check_file(db), rc;

    if (err != 0)
        return err;
    rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(s, 0), "wal") != 0) {
        log_error("store: the file system does not allow WAL mode");
        rc = SQLITE_IOERR;
    } else if (rc == SQLITE_ROW) {
        rc = SQLITE_OK;
    } else {
        log_error("store: journal_mode: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(s);
    err = store_map_rc(rc);
    if (err == 0)
        err = store_exec(db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;" WAL_SIZE_LIMIT);
    if (err == 0)
        err = store_migrate(db, STORE_SCHEMA_VERSION);
    return err;
}

/* The writer's PRAGMA data_version: on the thread pool while busy, else on
 * the loop. -1 when it cannot be read. */
static int64_t data_version(struct store *st)
{
    sqlite3_stmt *s = st->ws[W_DATA_VERSION];
    int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;

    sqlite3_reset(s);
    return v;
}

/* Has another process committed since the last look? */
static int foreign_commit(struct store *st)
{
    int64_t v = data_version(st);

    if (v == st->data_version)
        return 0;
    st->data_version = v;
    return 1;
}

static int prepare_all(sqlite3 *db, const char *const *sql, sqlite3_stmt **out, int n)
{
    for (int i = 0; i < n; i++) {
        int rc = sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &out[i], NULL);

        if (rc != SQLITE_OK) {
            log_error("store: %s: %s", sql[i], sqlite3_errmsg(db));
            return store_map_rc(rc) != 0 ? store_map_rc(rc) : ER_INTERNAL;
        }
    }
    return 0;
}

static void close_conn(sqlite3 **db, sqlite3_stmt **stmts, int n)
{
    for (int i = 0; i < n; i++) {
        sqlite3_finalize(stmts[i]);
        stmts[i] = NULL;
    }
    if (*db != NULL && sqlite3_close(*db) != SQLITE_OK)
        log_error("store: close: %s", sqlite3_errmsg(*db));
    *db = NULL;
}

static void store_free(struct store *st)
{
    close_conn(&st->r, st->rs, R_COUNT);
    close_conn(&st->w, st->ws, W_COUNT);
    if (st->commit_log != NULL)
        fclose(st->commit_log);
    free(st);
}

static _Atomic uint64_t stores_opened;

int store_open(uv_loop_t *loop, const char *data_dir, const char *name, struct store **out)
{
    struct store *st = NULL;
    char path[4096];
    int err;

    if (loop == NULL || data_dir == NULL || out == NULL || !valid_name(name))
        return ER_USAGE;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s.db", data_dir, name) >= sizeof(path))
        return ER_USAGE;
    err = prepare_files(data_dir, path);
    if (err != 0)
        goto out;
    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        err = ER_NOMEM;
        goto out;
    }
    st->loop = loop;
    st->pending_tail = &st->pending;
    st->batch_max = STORE_BATCH_LIMIT;
    /* Each store's generations its own: what was kept of a store closed
     * and opened again (the fuzz harness does) is never taken for current. */
    st->generation = (atomic_fetch_add(&stores_opened, 1) + 1) << 32;
    err = open_conn(path, &st->w);
    if (err == 0)
        err = setup_writer(st->w);
    if (err == 0)
        err = prepare_all(st->w, store_wsql, st->ws, W_COUNT);
    /* The loop's own connection: query_only, so no write can ever run on
     * the loop by mistake; a WAL reader never waits for the writer. */
    if (err == 0)
        err = open_conn(path, &st->r);
    if (err == 0)
        err = store_exec(st->r, "PRAGMA query_only = ON");
    if (err == 0)
        err = prepare_all(st->r, store_rsql, st->rs, R_COUNT);
    if (err == 0)
        st->data_version = data_version(st);
out:
    if (err != 0) {
        if (st != NULL)
            store_free(st);
        return err;
    }
    *out = st;
    return 0;
}

int store_set_batch_max(struct store *st, unsigned n)
{
    if (n < 1 || n > STORE_BATCH_LIMIT)
        return ER_USAGE;
    st->batch_max = n;
    return 0;
}

void store_get_stats(const struct store *st, struct store_stats *out)
{
    *out = st->stats;
}

int store_log_commits(struct store *st, const char *path)
{
    int fd;

    /* Not while a batch runs: the writer's thread reads commit_log. */
    if (st->commit_log != NULL || path == NULL || st->busy)
        return ER_USAGE;
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0 || (st->commit_log = fdopen(fd, "a")) == NULL) {
        log_error("store: cannot open %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return ER_IO;
    }
    /* A line each: whoever reads it meanwhile sees whole lines. */
    setvbuf(st->commit_log, NULL, _IOLBF, 0);
    return 0;
}

static double monotonic_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t store_limit_pages(struct store *st, int64_t max_pages)
{
    char sql[64];
    sqlite3_stmt *s = NULL;
    int64_t v = -1;

    if (st->busy)
        return ER_STORE_BUSY;
    if (max_pages > 0)
        snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld", (long long)max_pages);
    else
        snprintf(sql, sizeof(sql), "PRAGMA page_count");
    if (sqlite3_prepare_v2(st->w, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* ---- the group commit ---- */

static int step_simple(struct store *st, int stmt)
{
    sqlite3_stmt *s = st->ws[stmt];
    int rc = sqlite3_step(s);

    sqlite3_reset(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        log_error("store: %s: %s", store_wsql[stmt], sqlite3_errmsg(st->w));
    return store_map_rc(rc);
}

/* On the thread pool: the whole batch in one transaction. */
static void run_batch(uv_work_t *req)
{
    struct store *st = req->data;
    double began = st->commit_log != NULL ? monotonic_s() : 0;
    int fatal;

    /* A rollback that failed with the last batch's error (the disk gone
     * bad) left a transaction open: end it before starting anew. */
    if (!sqlite3_get_autocommit(st->w))
        step_simple(st, W_ROLLBACK);
    fatal = step_simple(st, W_BEGIN);
    /* Another process's commits came before this one (it holds the lock
     * now): what the loop keeps is read again (after_batch). */
    if (fatal == 0 && foreign_commit(st))
        st->foreign = 1;
    for (struct op *op = st->batch; fatal == 0 && op != NULL; op = op->next) {
        op->status = store_op_exec(st, op);
        if (store_is_fatal(op->status))
            fatal = op->status;
    }
    if (fatal == 0)
        fatal = step_simple(st, W_COMMIT);
    if (fatal != 0) {
        /* Disk full, I/O error: SQLite may already have rolled back; if not,
         * do it, so the file is as it was before the batch. */
        if (!sqlite3_get_autocommit(st->w))
            step_simple(st, W_ROLLBACK);
        for (struct op *op = st->batch; op != NULL; op = op->next) {
            op->status = fatal;
            memset(&op->ack, 0, sizeof(op->ack));
        }
    }
    st->batch_status = fatal;
    if (st->commit_log != NULL)
        fprintf(st->commit_log, "%.6f %.3f %zu\n", began, (monotonic_s() - began) * 1000.0,
                st->batch_size);
}

/* The generation of what a write of this scope changes moves on. */
static void touch(struct store *st, int64_t scope)
{
    if (scope > 0)
        st->cand_generation[(uint64_t)scope % STORE_CAND_BUCKETS]++;
    else if (scope != OP_SCOPE_NONE)
        st->generation++;
}

static void after_batch(uv_work_t *req, int status);
static void after_close(uv_work_t *req, int status);

static void close_writer(uv_work_t *req)
{
    struct store *st = req->data;

    /* The last connection to close checkpoints the WAL into the file and
     * removes it: disk work, so here and not on the loop. */
    close_conn(&st->w, st->ws, W_COUNT);
}

/* Starts the next transaction, or the close once nothing is left. */
static void kick(struct store *st)
{
    struct op **link = &st->pending;
    size_t n = 0;

    /* Inside after_batch()'s callbacks: wait for them all, so that the
     * writes they make go together, and a close waits for the last one. */
    if (st->busy || st->in_callbacks)
        return;
    if (st->pending == NULL) {
        if (st->closing) {
            st->busy = 1;
            close_conn(&st->r, st->rs, R_COUNT);
            st->work.data = st;
            uv_queue_work(st->loop, &st->work, close_writer, after_close);
        }
        return;
    }
    while (*link != NULL && n < st->batch_max) {
        link = &(*link)->next;
        n++;
    }
    st->batch = st->pending;
    st->pending = *link;
    *link = NULL;
    if (st->pending == NULL)
        st->pending_tail = &st->pending;
    st->batch_size = n;
    st->busy = 1;
    st->work.data = st;
    uv_queue_work(st->loop, &st->work, run_batch, after_batch);
}

static void after_batch(uv_work_t *req, int status)
{
    struct store *st = req->data;
    struct op *done = st->batch;
    int foreign;

    (void)status; /* never cancelled */
    st->batch = NULL;
    st->busy = 0;
    if (st->batch_status == 0)
        st->stats.commits++;
    else
        st->stats.failed++;
    st->stats.writes += st->batch_size;
    if (st->batch_size > st->stats.max_batch)
        st->stats.max_batch = st->batch_size;
    /* This batch's sighting of another process's commit, taken before the
     * next batch (which sets its own) starts on the thread pool. */
    foreign = st->foreign;
    st->foreign = 0;
    /* What queued meanwhile goes to disk while these callbacks run. */
    if (st->pending != NULL)
        kick(st);
    /* Committed (or rolled back): what the loop kept of the rows these
     * writes touch is read again, before anyone hears of them. */
    for (struct op *op = done; op != NULL; op = op->next)
        touch(st, op->scope);
    if (foreign)
        st->generation++;
    st->in_callbacks = 1;
    while (done != NULL) {
        struct op *next = done->next;

        done->cb(done->status, &done->ack, done->arg);
        store_op_free(done);
        done = next;
    }
    st->in_callbacks = 0;
    kick(st);
}

static void after_close(uv_work_t *req, int status)
{
    struct store *st = req->data;
    store_close_cb cb = st->close_cb;
    void *arg = st->close_arg;

    (void)status;
    if (st->commit_log != NULL)
        fclose(st->commit_log);
    free(st);
    if (cb != NULL)
        cb(arg);
}

int store_submit(struct store *st, struct op *op)
{
    if (st->closing) {
        store_op_free(op);
        return ER_STORE_CLOSED;
    }
    touch(st, op->scope); /* and again once it is committed (after_batch) */
    op->next = NULL;
    *st->pending_tail = op;
    st->pending_tail = &op->next;
    kick(st);
    return 0;
}

void store_look_outside(struct store *st)
{
    /* Another process's commit (the CLI's offline unlock): seen here while
     * no batch is in flight, else by the batch (run_batch). */
    if (!st->busy && st->w != NULL && foreign_commit(st))
        st->generation++;
}

uint64_t store_generation(struct store *st)
{
    /* Not once the reads' snapshot is taken: rows read from it would be
     * kept under a generation that counts a commit they do not show.
     * read_step() looks just before the snapshot is taken instead. */
    if (!st->read_open)
        store_look_outside(st);
    return st->generation;
}

uint64_t store_candidate_generation(const struct store *st, int64_t candidate_id)
{
    return st->cand_generation[(uint64_t)candidate_id % STORE_CAND_BUCKETS];
}

void store_close(struct store *st, store_close_cb cb, void *arg)
{
    st->closing = 1;
    st->close_cb = cb;
    st->close_arg = arg;
    kick(st);
}
