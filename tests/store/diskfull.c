/* Disk-full test of the room store on a real file system that fills up
 * (diskfull.sh mounts a small tmpfs for it): saves fail with ER_STORE_FULL,
 * nothing acknowledged earlier is lost, the file stays sound, and saves
 * succeed again once space is back, also after a restart.
 *
 *   diskfull DIR     DIR on a small, otherwise empty file system */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_CANDS 8
#define BATCH   64
#define ROUNDS  4000

static uv_loop_t loop;
static struct store *st;
static int64_t cand[N_CANDS];
static char dir[256];
static int acked;      /* items f0 .. f(acked-1) are acknowledged */
static int *acked_rev; /* per item, the rev acknowledged */

struct done {
    int called, status;
};

static void fail(const char *what)
{
    fprintf(stderr, "diskfull: FAILED: %s\n", what);
    exit(1);
}

static void on_done(int status, const struct store_ack *ack, void *arg)
{
    struct done *d = arg;

    (void)ack;
    d->called = 1;
    d->status = status;
}

static void wait_for(const int *flag)
{
    while (!*flag)
        if (uv_run(&loop, UV_RUN_ONCE) == 0 && !*flag)
            fail("a callback was lost");
}

static void keep_id(const struct store_candidate *c, void *arg)
{
    *(int64_t *)arg = c->id;
}

static void open_store(int find)
{
    char ticket[16];

    if (store_open(&loop, dir, "room", &st) != 0)
        fail("store_open");
    for (int i = 0; find && i < N_CANDS; i++) {
        snprintf(ticket, sizeof(ticket), "T%d", i);
        if (store_find_candidate(st, "S1", ticket, keep_id, &cand[i]) != 0)
            fail("candidate missing");
    }
}

static void on_closed(void *arg)
{
    *(int *)arg = 1;
}

static void close_store(void)
{
    int closed = 0;

    store_close(st, on_closed, &closed);
    wait_for(&closed);
    st = NULL;
}

static void load_roster(void)
{
    static const struct store_session s = {
        .id = "S1", .plan_id = "P", .starts_at = 1000, .ends_at = 2000};
    static char tickets[N_CANDS][16];
    struct store_candidate c[N_CANDS];
    struct store_roster r = {&s, 1, NULL, 0, c, N_CANDS};
    struct done d = {0};

    for (int i = 0; i < N_CANDS; i++) {
        snprintf(tickets[i], sizeof(tickets[i]), "T%d", i);
        c[i] = (struct store_candidate){.session_id = "S1",
                                        .ticket = tickets[i],
                                        .name = "考生",
                                        .id_number = "X",
                                        .occupation = "电工",
                                        .level = "四级",
                                        .paper_id = "P1"};
    }
    if (store_load_roster(st, &r, on_done, &d) != 0)
        fail("store_load_roster");
    wait_for(&d.called);
    if (d.status != 0)
        fail("roster not loaded");
}

/* Saves rounds of BATCH new items; stops at the first failure and returns it
 * (0 when none), after checking the whole round failed alike. */
static int save_rounds(int rounds, int rev)
{
    static struct done d[BATCH];
    char item[16], answer[STORE_ANSWER_MAX + 1];

    memset(answer, 'B', STORE_ANSWER_MAX);
    answer[STORE_ANSWER_MAX] = '\0';
    for (int round = 0; round < rounds; round++) {
        memset(d, 0, sizeof(d));
        for (int i = 0; i < BATCH; i++) {
            snprintf(item, sizeof(item), "f%d", acked + i);
            if (store_put_answer(st, cand[(acked + i) % N_CANDS], item, answer, rev, on_done,
                                 &d[i]) != 0)
                fail("store_put_answer refused");
        }
        wait_for(&d[BATCH - 1].called);
        for (int i = 0; i < BATCH; i++) {
            if (d[i].status != 0) {
                for (int j = i; j < BATCH; j++)
                    if (d[j].status != d[i].status)
                        fail("a failed transaction acknowledged some of its saves");
                acked += i;
                return d[i].status;
            }
            acked_rev[acked + i] = rev;
        }
        acked += BATCH;
    }
    return 0;
}

/* Every acknowledged save is there at its rev; the next item is not. */
static void check_acked(void)
{
    char item[16], answer[STORE_ANSWER_MAX + 1];
    int64_t rev;

    for (int i = 0; i < acked; i++) {
        snprintf(item, sizeof(item), "f%d", i);
        if (store_get_answer(st, cand[i % N_CANDS], item, answer, &rev) != 0 ||
            rev != acked_rev[i] || strlen(answer) != STORE_ANSWER_MAX)
            fail("an acknowledged save is missing");
    }
}

static void check_integrity(void)
{
    char path[300];
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;

    snprintf(path, sizeof(path), "%s/room.db", dir);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK ||
        sqlite3_step(s) != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(s, 0), "ok"))
        fail("integrity_check");
    sqlite3_finalize(s);
    sqlite3_close(db);
}

/* Fills the file system with a ballast file; returns its size. */
static long fill_disk(const char *ballast)
{
    static char block[4096];
    int fd = open(ballast, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    long n = 0;

    if (fd < 0)
        fail("cannot create the ballast");
    memset(block, 'x', sizeof(block));
    while (write(fd, block, sizeof(block)) == (ssize_t)sizeof(block))
        n += sizeof(block);
    if (errno != ENOSPC)
        fail("the ballast stopped for another reason than a full disk");
    close(fd);
    return n;
}

int main(int argc, char **argv)
{
    char ballast[300];
    int err, before;
    long size;

    if (argc != 2)
        return 2;
    log_set_level(LOG_LEVEL_ERROR - 1);
    setvbuf(stdout, NULL, _IOLBF, 0);
    snprintf(dir, sizeof(dir), "%s/data", argv[1]);
    snprintf(ballast, sizeof(ballast), "%s/ballast", argv[1]);
    acked_rev = calloc(BATCH * (ROUNDS + 1), sizeof(*acked_rev));
    if (acked_rev == NULL || uv_loop_init(&loop) != 0)
        fail("setup");
    open_store(0);
    load_roster();
    close_store();
    open_store(1);
    if (save_rounds(4, 1) != 0)
        fail("saves before the disk was full");
    before = acked;

    size = fill_disk(ballast);
    /* Leave a little room, so the disk fills while saves flow. */
    if (truncate(ballast, size - 192 * 1024) != 0)
        fail("cannot shrink the ballast");
    printf("diskfull: %d saves acknowledged; a ballast of %ld KiB leaves 192 KiB free\n", acked,
           size / 1024 - 192);
    err = save_rounds(ROUNDS, 1);
    if (err != ER_STORE_FULL) {
        fprintf(stderr, "diskfull: got %s\n", er_name(err));
        fail("no ER_STORE_FULL from a full disk");
    }
    if (acked == before)
        fail("no save went through in the room left");
    printf("diskfull: full after %d more saves: ER_STORE_FULL (%s)\n", acked - before,
           er_strerror(err));
    check_acked();
    check_integrity();
    /* Still full: still refused, still nothing lost. */
    if (save_rounds(1, 1) != ER_STORE_FULL)
        fail("a save succeeded on a full disk, or failed otherwise");
    check_acked();

    if (unlink(ballast) != 0)
        fail("cannot remove the ballast");
    before = acked;
    err = save_rounds(20, 1);
    if (err != 0) {
        fprintf(stderr, "diskfull: got %s\n", er_name(err));
        fail("saves after space came back");
    }
    printf("diskfull: space back: %d more saves acknowledged\n", acked - before);
    close_store();
    check_integrity();
    open_store(1);
    check_acked();
    close_store();
    if (uv_run(&loop, UV_RUN_DEFAULT) != 0 || uv_loop_close(&loop) != 0)
        fail("a handle left open");
    free(acked_rev);
    printf("diskfull: %d acknowledged saves all there after a restart; file sound\n", acked);
    return 0;
}
