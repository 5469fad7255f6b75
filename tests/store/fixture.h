/* What the store's cmocka tests share: a store in a temporary directory on
 * its own loop (setup/teardown close every handle, so ASan sees no leak), a
 * small roster, and a connection of the test's own to look at the file. */
#ifndef EXAMROOM_TESTS_STORE_FIXTURE_H
#define EXAMROOM_TESTS_STORE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "internal.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fx {
    uv_loop_t loop;
    struct store *st;
    char dir[64];
    char path[128];
};

struct done {
    int called;
    int status;
    struct store_ack ack;
    pthread_t thread;
};

static inline void on_done(int status, const struct store_ack *ack, void *arg)
{
    struct done *d = arg;

    d->called++;
    d->status = status;
    d->ack = *ack;
    d->thread = pthread_self();
}

/* Runs the loop until d's callback ran; returns its status. */
static inline int wait_for(struct fx *f, struct done *d)
{
    while (!d->called) {
        int active = uv_run(&f->loop, UV_RUN_ONCE);

        /* Nothing left to run and still no callback: it was lost. */
        if (!d->called)
            assert_int_not_equal(active, 0);
    }
    assert_int_equal(d->called, 1);
    return d->status;
}

/* Removes dir and the files in it (the store makes no subdirectories). */
static inline void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];

    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        remove(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
}

static inline int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/examroom-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    /* The store's own directory, created by store_open. */
    strcat(f->dir, "/data");
    snprintf(f->path, sizeof(f->path), "%s/room.db", f->dir);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    *state = f;
    return 0;
}

static inline void on_closed(void *arg)
{
    (*(int *)arg)++;
}

static inline void close_store(struct fx *f)
{
    int closed = 0;

    if (f->st == NULL)
        return;
    store_close(f->st, on_closed, &closed);
    while (!closed)
        uv_run(&f->loop, UV_RUN_ONCE);
    f->st = NULL;
}

static inline int teardown(void **state)
{
    struct fx *f = *state;
    char *slash;

    close_store(f);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    remove_dir(f->dir);
    slash = strrchr(f->dir, '/');
    *slash = '\0';
    remove_dir(f->dir);
    free(f);
    return 0;
}

static inline void open_store(struct fx *f)
{
    assert_int_equal(store_open(&f->loop, f->dir, "room", &f->st), 0);
}

/* A connection of the test's own, to look at the file behind the store. */
static inline sqlite3 *raw(struct fx *f)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static inline int64_t raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t v;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static inline char *raw_text(sqlite3 *db, const char *sql, char *out, size_t outsz)
{
    sqlite3_stmt *s = NULL;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    snprintf(out, outsz, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return out;
}

/* ---- a small roster ---- */

static const struct store_session sessions[] = {
    {.id = "S1",
     .plan_id = "20261205-华立",
     .starts_at = 1764900000,
     .ends_at = 1764905400,
     .late_admission_minutes = 15,
     .earliest_submit_minutes = 30},
    {.id = "S2", .plan_id = "20261205-华立", .starts_at = 1764910000, .ends_at = 1764915400},
};
static const struct store_seat seats[] = {{1, "A1", 0}, {2, "A2", 0}, {3, "A3", 0}, {9, "备用", 1}};

#define CAND(sess, tk, nm, st)                                                                     \
    {                                                                                              \
        .session_id = sess, .ticket = tk, .name = nm, .gender = "女", .id_type = "居民身份证",     \
        .id_number = "44030419960428242X", .occupation = "电工", .level = "四级",                  \
        .paper_id = "P-电工-4", .photo = tk ".jpg", .seat = st                                     \
    }

static const struct store_candidate cands[] = {
    CAND("S1", "T001", "李娜", 1),
    CAND("S1", "T002", "王芳", 2),
    CAND("S1", "T003", "陈静", 3),
    CAND("S2", "T001", "李娜", 1),
};

static inline void load_roster(struct fx *f)
{
    struct store_roster r = {sessions, 2, seats, 4, cands, 4};
    struct done d = {0};

    assert_int_equal(store_load_roster(f->st, &r, on_done, &d), 0);
    assert_int_equal(wait_for(f, &d), 0);
}

static inline void keep_id(const struct store_candidate *c, void *arg)
{
    *(int64_t *)arg = c->id;
}

static inline int64_t cand_id(struct fx *f, const char *session, const char *ticket)
{
    int64_t id = 0;

    assert_int_equal(store_find_candidate(f->st, session, ticket, keep_id, &id), 0);
    assert_true(id > 0);
    return id;
}

static inline int put(struct fx *f, int64_t cand, const char *item, const char *answer, int64_t rev,
                      struct done *d)
{
    memset(d, 0, sizeof(*d));
    assert_int_equal(store_put_answer(f->st, cand, item, answer, rev, on_done, d), 0);
    return wait_for(f, d);
}

struct seen {
    int n;
    char text[512];
};

#endif
