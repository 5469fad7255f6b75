/* The room store's durable answer saves (PERFORMANCE.md P1, the store's
 * share): 256 writers, each with one save in flight, through the
 * asynchronous API; a save counts when its callback reports it durable.
 * Group commit beside one transaction per save (store_set_batch_max 1:
 * the same code, every save paying its own fsync), in the same run, on the
 * same file system. P1's 25,000 saves/s end to end need the store to do
 * well beyond that, since HTTP comes on top.
 *
 *   bench_store [SECONDS]     the data lands in $TMPDIR (else /var/tmp) */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WRITERS 256
#define ITEMS   100
#define MAX_LAT (8 * 1024 * 1024)

struct run {
    uv_loop_t *loop;
    struct store *st;
    int64_t ids[WRITERS];
    int64_t revs[WRITERS];
    uint64_t start[WRITERS];
    uint64_t t0, until;
    long saves, failed;
    uint32_t *lat_us;
    long n_lat;
    int active;
};

static struct run run;

static void save(int w);

static void on_saved(int status, const struct store_ack *ack, void *arg)
{
    int w = (int)(intptr_t)arg;
    uint64_t now = uv_hrtime();

    (void)ack;
    if (status != 0)
        run.failed++;
    else
        run.saves++;
    if (run.n_lat < MAX_LAT)
        run.lat_us[run.n_lat++] = (uint32_t)((now - run.start[w]) / 1000);
    if (now < run.until)
        save(w);
    else
        run.active--;
}

static void save(int w)
{
    char item[16];
    int64_t rev = ++run.revs[w];

    snprintf(item, sizeof(item), "q%03d", (int)(rev % ITEMS));
    run.start[w] = uv_hrtime();
    if (store_put_answer(run.st, run.ids[w], item, "ACD", rev, on_saved, (void *)(intptr_t)w) !=
        0) {
        fprintf(stderr, "bench_store: store_put_answer refused\n");
        exit(1);
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

struct figures {
    double per_s, p50_ms, p99_ms, per_commit;
};

static struct figures measure(unsigned batch_max, double seconds)
{
    struct store_stats before, after;
    struct figures f;
    double elapsed;

    store_set_batch_max(run.st, batch_max);
    store_get_stats(run.st, &before);
    run.saves = run.failed = run.n_lat = 0;
    run.t0 = uv_hrtime();
    run.until = run.t0 + (uint64_t)(seconds * 1e9);
    run.active = WRITERS;
    for (int w = 0; w < WRITERS; w++)
        save(w);
    while (run.active > 0)
        uv_run(run.loop, UV_RUN_ONCE);
    elapsed = (double)(uv_hrtime() - run.t0) / 1e9;
    store_get_stats(run.st, &after);
    if (run.failed > 0) {
        fprintf(stderr, "bench_store: %ld saves failed\n", run.failed);
        exit(1);
    }
    qsort(run.lat_us, (size_t)run.n_lat, sizeof(run.lat_us[0]), cmp_u32);
    f.per_s = (double)run.saves / elapsed;
    f.p50_ms = run.lat_us[run.n_lat / 2] / 1000.0;
    f.p99_ms = run.lat_us[run.n_lat * 99 / 100] / 1000.0;
    f.per_commit =
        (double)(after.writes - before.writes) / (double)(after.commits - before.commits);
    return f;
}

static void on_done(int status, const struct store_ack *ack, void *arg)
{
    (void)ack;
    *(int *)arg = status == 0 ? 1 : -1;
}

static void on_closed(void *arg)
{
    *(int *)arg = 1;
}

static void keep_id(const struct store_candidate *c, void *arg)
{
    *(int64_t *)arg = c->id;
}

static void setup(uv_loop_t *loop, const char *dir)
{
    static const struct store_session s = {
        .id = "S1", .plan_id = "P", .starts_at = 1000, .ends_at = 2000};
    static struct store_candidate c[WRITERS];
    static char tickets[WRITERS][16];
    struct store_roster r = {&s, 1, NULL, 0, c, WRITERS};
    int done = 0;

    for (int i = 0; i < WRITERS; i++) {
        snprintf(tickets[i], sizeof(tickets[i]), "T%04d", i);
        c[i] = (struct store_candidate){.session_id = "S1",
                                        .ticket = tickets[i],
                                        .name = "考生",
                                        .id_number = "X",
                                        .occupation = "电工",
                                        .level = "四级",
                                        .paper_id = "P1"};
    }
    run.loop = loop;
    if (store_open(loop, dir, "bench", &run.st) != 0 ||
        store_load_roster(run.st, &r, on_done, &done) != 0) {
        fprintf(stderr, "bench_store: cannot set up the store in %s\n", dir);
        exit(1);
    }
    while (done == 0)
        uv_run(loop, UV_RUN_ONCE);
    for (int i = 0; i < WRITERS && done == 1; i++)
        store_find_candidate(run.st, "S1", tickets[i], keep_id, &run.ids[i]);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 3.0;
    const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/var/tmp";
    char dir[256], path[300];
    struct figures group, single;
    uv_loop_t loop;
    int closed = 0;

    log_set_level(LOG_LEVEL_WARN);
    snprintf(dir, sizeof(dir), "%s/examroom-bench-XXXXXX", tmp);
    run.lat_us = malloc(MAX_LAT * sizeof(run.lat_us[0]));
    if (run.lat_us == NULL || mkdtemp(dir) == NULL || uv_loop_init(&loop) != 0)
        return 1;
    setup(&loop, dir);
    measure(STORE_BATCH_LIMIT, 0.3); /* warm-up */
    single = measure(1, seconds);
    group = measure(STORE_BATCH_LIMIT, seconds);
    store_close(run.st, on_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);

    printf("\n## room store: durable answer saves (%d writers, %.0f s each, %s)\n\n", WRITERS,
           seconds, tmp);
    printf("| how | saves/s | p50 ms | p99 ms | saves per fsync |\n|---|---|---|---|---|\n");
    printf("| group commit (store_put_answer) | %.0f | %.2f | %.2f | %.1f |\n", group.per_s,
           group.p50_ms, group.p99_ms, group.per_commit);
    printf("| baseline: one transaction per save | %.0f | %.2f | %.2f | %.1f |\n", single.per_s,
           single.p50_ms, single.p99_ms, single.per_commit);
    printf("\ngroup commit / baseline: %.1fx\n", group.per_s / single.per_s);

    snprintf(path, sizeof(path), "%s/bench.db", dir);
    remove(path);
    rmdir(dir);
    free(run.lat_us);
    return 0;
}
