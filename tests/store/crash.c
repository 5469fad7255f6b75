/* Crash test of the room store (make test): no acknowledged answer is ever
 * lost to kill -9. Built with POWERLOSS it is the power-cut test
 * (powerloss_store, issue 17): the store is on plfs (tests/powerloss/plfs.c),
 * and where a kill -9 leaves the kernel's page cache whole, here every write
 * not yet fsync'd (with its directory) is lost at each cut, which comes with
 * the kill.
 *
 * A child process saves answers through the asynchronous API as fast as it
 * can (64 writers in flight) and, from each callback, reports the
 * acknowledged save (candidate, item, rev) to the parent over a pipe. The
 * parent kills it with SIGKILL at a random moment, KILLS times. After each
 * kill the parent opens the file itself: integrity_check must say "ok", and
 * every save ever acknowledged must be there at or above its acknowledged
 * rev, with its change in the answer log. The next child starts from the
 * file the last one left (so each start also recovers a crashed WAL).
 *
 *   crash [KILLS [SEED]]                  prints the figures; exit 0 when
 *   powerloss_store PLFS [CUTS [SEED]]    all held (77: no FUSE here) */
#include "internal.h"

#ifdef POWERLOSS
#include "plmount.h"
#define NAME "powerloss_store"
#define LOSS "cut"
static struct plmount m;
#else
#define NAME "crash"
#define LOSS "kill"
#endif

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N_CANDS   32
#define N_ITEMS   16
#define N_WRITERS 64
#define REV_STEP  100000000LL /* each child's revs start above all earlier ones */

struct record {
    int32_t cand, item;
    int64_t rev;
};

static char dir[128], path[160];
static int64_t acked[N_CANDS][N_ITEMS]; /* the highest rev acknowledged */
static int logged[N_CANDS][N_ITEMS];    /* that rev was seen in the answer log */
static int64_t log_seen;                /* the answer log's rows read so far */

static void die(const char *what)
{
    fprintf(stderr, NAME ": %s\n", what);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the child ---- */

struct writer {
    struct store *st;
    int64_t *ids;
    int fd;
    int key;      /* cand * N_ITEMS + item, this writer's current key */
    int64_t *rev; /* per key, the next rev to write */
};

static void save(struct writer *w);

static void on_saved(int status, const struct store_ack *ack, void *arg)
{
    struct writer *w = arg;
    struct record r = {w->key / N_ITEMS, w->key % N_ITEMS, ack->rev};

    if (status != 0) {
        fprintf(stderr, NAME " child: save failed: %s\n", er_name(status));
        _exit(3);
    }
    /* Reported only now: the callback runs after the commit is durable. */
    if (write(w->fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
        _exit(4);
    w->key = (w->key + N_WRITERS) % (N_CANDS * N_ITEMS);
    save(w);
}

static void save(struct writer *w)
{
    char item[16], answer[32];
    int64_t rev = ++w->rev[w->key];

    snprintf(item, sizeof(item), "q%02d", w->key % N_ITEMS);
    snprintf(answer, sizeof(answer), "%lld", (long long)rev);
    if (store_put_answer(w->st, w->ids[w->key / N_ITEMS], item, answer, rev, on_saved, w) != 0)
        _exit(5);
}

static void keep_id(const struct store_candidate *c, void *arg)
{
    *(int64_t *)arg = c->id;
}

static int open_child_store(uv_loop_t *loop, struct store **st, int64_t ids[N_CANDS])
{
    char ticket[16];

    if (uv_loop_init(loop) != 0 || store_open(loop, dir, "room", st) != 0)
        return -1;
    for (int i = 0; i < N_CANDS; i++) {
        snprintf(ticket, sizeof(ticket), "T%03d", i);
        if (store_find_candidate(*st, "S1", ticket, keep_id, &ids[i]) != 0)
            return -1;
    }
    return 0;
}

static void child(int fd, int round)
{
    static int64_t revs[N_CANDS * N_ITEMS];
    static struct writer w[N_WRITERS];
    int64_t ids[N_CANDS];
    struct store *st;
    uv_loop_t loop;

    if (open_child_store(&loop, &st, ids) != 0)
        _exit(2);
    for (int k = 0; k < N_CANDS * N_ITEMS; k++)
        revs[k] = (int64_t)(round + 1) * REV_STEP;
    for (int i = 0; i < N_WRITERS; i++) {
        w[i] = (struct writer){st, ids, fd, i, revs};
        save(&w[i]);
    }
    uv_run(&loop, UV_RUN_DEFAULT); /* until killed */
    _exit(6);
}

static void on_loaded(int status, const struct store_ack *ack, void *arg)
{
    (void)ack;
    *(int *)arg = status == 0 ? 1 : -1;
}

static void on_closed(void *arg)
{
    *(int *)arg = 1;
}

/* In a child of its own, so that the parent never starts libuv's threads
 * before it forks. */
static void make_store(void)
{
    static struct store_candidate c[N_CANDS];
    static char tickets[N_CANDS][16];
    static const struct store_session s = {
        .id = "S1", .plan_id = "P", .starts_at = 1000, .ends_at = 2000};
    struct store_roster r = {&s, 1, NULL, 0, c, N_CANDS};
    struct store *st;
    uv_loop_t loop;
    int loaded = 0, closed = 0;

    for (int i = 0; i < N_CANDS; i++) {
        snprintf(tickets[i], sizeof(tickets[i]), "T%03d", i);
        c[i] = (struct store_candidate){.session_id = "S1",
                                        .ticket = tickets[i],
                                        .name = "考生",
                                        .id_number = "X",
                                        .occupation = "电工",
                                        .level = "四级",
                                        .paper_id = "P1"};
    }
    if (uv_loop_init(&loop) != 0 || store_open(&loop, dir, "room", &st) != 0 ||
        store_load_roster(st, &r, on_loaded, &loaded) != 0)
        _exit(2);
    while (loaded == 0)
        uv_run(&loop, UV_RUN_ONCE);
    store_close(st, on_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    _exit(loaded == 1 && closed && uv_loop_close(&loop) == 0 ? 0 : 2);
}

/* ---- the parent ---- */

static long drain(int fd, double until, int *eof)
{
    struct record r[256];
    long n = 0;

    for (;;) {
        double left = until - now_s();
        struct pollfd p = {fd, POLLIN, 0};
        int ms = left > 0 ? (int)(left * 1000) : 0;
        ssize_t got;

        if (poll(&p, 1, ms) <= 0)
            return n;
        got = read(fd, r, sizeof(r));
        if (got <= 0) {
            *eof = 1;
            return n;
        }
        if (got % (ssize_t)sizeof(r[0]) != 0)
            die("a torn record on the pipe");
        for (ssize_t i = 0; i < got / (ssize_t)sizeof(r[0]); i++) {
            if (r[i].cand < 0 || r[i].cand >= N_CANDS || r[i].item < 0 || r[i].item >= N_ITEMS)
                die("a record out of range");
            if (r[i].rev > acked[r[i].cand][r[i].item]) {
                acked[r[i].cand][r[i].item] = r[i].rev;
                logged[r[i].cand][r[i].item] = 0;
            }
            n++;
        }
    }
}

static void prepare(sqlite3 *db, const char *sql, sqlite3_stmt **s)
{
    if (sqlite3_prepare_v2(db, sql, -1, s, NULL) != SQLITE_OK)
        die(sqlite3_errmsg(db));
}

/* Reads the answer log's new rows (it is append-only, so rows read once
 * need no second look) and notes which acknowledged revs it holds. */
static void read_log(sqlite3 *db)
{
    sqlite3_stmt *s = NULL;

    prepare(db,
            "SELECT l.seq, c.ticket, l.item, l.rev FROM answer_log l JOIN candidates c"
            " ON c.id = l.candidate_id WHERE l.seq > ?1 ORDER BY l.seq",
            &s);
    sqlite3_bind_int64(s, 1, log_seen);
    while (sqlite3_step(s) == SQLITE_ROW) {
        int c = atoi((const char *)sqlite3_column_text(s, 1) + 1);
        int i = atoi((const char *)sqlite3_column_text(s, 2) + 1);

        log_seen = sqlite3_column_int64(s, 0);
        if (c >= 0 && c < N_CANDS && i >= 0 && i < N_ITEMS &&
            sqlite3_column_int64(s, 3) == acked[c][i])
            logged[c][i] = 1;
    }
    sqlite3_finalize(s);
}

/* Returns how many acknowledged saves were checked; dies on a lost one. */
static long verify(void)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *check = NULL, *get = NULL;
    long checked = 0;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        die("cannot open the store after the " LOSS);
    prepare(db, "PRAGMA integrity_check", &check);
    if (sqlite3_step(check) != SQLITE_ROW ||
        strcmp((const char *)sqlite3_column_text(check, 0), "ok") != 0)
        die("integrity_check failed after the " LOSS);
    read_log(db);
    prepare(db,
            "SELECT a.rev, a.answer FROM answers a JOIN candidates c ON c.id = a.candidate_id"
            " WHERE c.ticket = ?1 AND a.item = ?2",
            &get);
    for (int c = 0; c < N_CANDS; c++) {
        for (int i = 0; i < N_ITEMS; i++) {
            char ticket[16], item[16], want[32];
            const char *text;
            int64_t rev = -1;

            if (acked[c][i] == 0)
                continue;
            snprintf(ticket, sizeof(ticket), "T%03d", c);
            snprintf(item, sizeof(item), "q%02d", i);
            sqlite3_bind_text(get, 1, ticket, -1, SQLITE_STATIC);
            sqlite3_bind_text(get, 2, item, -1, SQLITE_STATIC);
            if (sqlite3_step(get) == SQLITE_ROW)
                rev = sqlite3_column_int64(get, 0);
            text = rev >= 0 ? (const char *)sqlite3_column_text(get, 1) : "";
            snprintf(want, sizeof(want), "%lld", (long long)rev);
            /* At or above the acknowledged rev, and the row is whole. */
            if (rev < acked[c][i] || strcmp(text, want) != 0) {
                fprintf(stderr, NAME ": %s %s: acknowledged rev %lld, stored %lld (%s)\n", ticket,
                        item, (long long)acked[c][i], (long long)rev, text);
                die("an acknowledged answer was lost");
            }
            sqlite3_reset(get);
            if (!logged[c][i]) {
                fprintf(stderr, NAME ": %s %s: rev %lld not in the log\n", ticket, item,
                        (long long)acked[c][i]);
                die("an acknowledged change is missing from the answer log");
            }
            checked++;
        }
    }
    sqlite3_finalize(check);
    sqlite3_finalize(get);
    sqlite3_close(db);
    return checked;
}

static void run_make_store(void)
{
    int status;
    pid_t pid;

    fflush(stdout);
    pid = fork();

    if (pid < 0)
        die("fork");
    if (pid == 0)
        make_store();
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("could not create the store");
}

/* One child, killed at a random moment; returns the saves it acknowledged. */
static long one_round(int round, unsigned *seed, int *early)
{
    int fds[2], status, eof = 0;
    long n = 0;
    pid_t pid;
    double t0, delay;

    if (pipe(fds) != 0)
        die("pipe");
    fflush(stdout);
    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        close(fds[0]);
        child(fds[1], round);
    }
    close(fds[1]);
    t0 = now_s();
    /* Most kills land while saves flow (after the first acknowledgement);
     * every sixth lands anywhere from the start, open and WAL recovery
     * included. */
    *early = round % 6 == 5;
    delay = (double)(rand_r(seed) % 1000) / 1000.0 * (*early ? 0.03 : 0.12);
    if (!*early) {
        while (n == 0 && !eof && now_s() - t0 < 10)
            n += drain(fds[0], now_s() + 0.01, &eof);
        t0 = now_s();
    }
    if (!eof)
        n += drain(fds[0], t0 + delay, &eof);
#ifdef POWERLOSS
    pl_cut(&m); /* the power fails: the file system and the process at once */
#endif
    kill(pid, SIGKILL);
    if (waitpid(pid, &status, 0) != pid)
        die("waitpid");
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
        fprintf(stderr, NAME ": the child ended by itself (status %d)\n", status);
        die("the writer failed before the " LOSS);
    }
    while (!eof)
        n += drain(fds[0], now_s() + 1, &eof);
    close(fds[0]);
#ifdef POWERLOSS
    pl_unmount(&m);
    if (pl_mount(&m) != 0)
        die("could not mount again after the cut");
#endif
    return n;
}

int main(int argc, char **argv)
{
#ifdef POWERLOSS
    const int a = 2; /* argv[1] is plfs */
    int rc;
#else
    const int a = 1;
#endif
    int kills = argc > a ? atoi(argv[a]) : 30, busy_rounds = 0;
    unsigned seed =
        argc > a + 1 ? (unsigned)atoi(argv[a + 1]) : (unsigned)time(NULL) ^ (unsigned)getpid();
    long total = 0, checked = 0;
    double t0 = now_s();

    log_set_level(LOG_LEVEL_ERROR);
#ifdef POWERLOSS
    if (argc < 2) {
        fprintf(stderr, "usage: powerloss_store PLFS [CUTS [SEED]]\n");
        return 2;
    }
    rc = pl_setup(&m, argv[1]);
    if (rc != 0)
        return rc == PL_SKIP ? PL_SKIP : 1;
    snprintf(dir, sizeof(dir), "%s", m.mnt);
#else
    snprintf(dir, sizeof(dir), "/tmp/examroom-crash-XXXXXX");
    if (mkdtemp(dir) == NULL)
        die("mkdtemp");
#endif
    snprintf(path, sizeof(path), "%s/room.db", dir);
    printf(NAME ": %d " LOSS "s, seed %u, store %s\n", kills, seed, path);
    run_make_store();
    for (int round = 0; round < kills; round++) {
        int early;
        long n = one_round(round, &seed, &early);
        long c = verify();

        total += n;
        checked += c;
        busy_rounds += n > 0;
        printf(NAME ": " LOSS " %2d%s: %6ld saves acknowledged, %4ld keys checked: all there\n",
               round + 1, early ? " (early)" : "        ", n, c);
    }
    printf(NAME ": %d " LOSS "s in %.1f s; %ld acknowledged saves, %ld key checks; none lost\n",
           kills, now_s() - t0, total, checked);
    /* A run where the writer hardly wrote would prove nothing. */
    if (busy_rounds < kills * 2 / 3 || total < 1000)
        die("too few acknowledged saves to judge");
#ifdef POWERLOSS
    pl_teardown(&m);
#else
    {
        char p2[192];

        snprintf(p2, sizeof(p2), "%s-wal", path);
        remove(p2);
        snprintf(p2, sizeof(p2), "%s-shm", path);
        remove(p2);
        remove(path);
        rmdir(dir);
    }
#endif
    return 0;
}
