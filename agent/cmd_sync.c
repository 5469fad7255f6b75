/* examroom sync [--wait]: uploads what the outbox holds now. With --wait it
 * keeps trying, backing off, until nothing is left unacknowledged, and
 * returns 0 only then; a refusal that retrying cannot fix (a conflict, a
 * broken chain, a bad signature) stops it at once. */
#include "agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS   60000

struct registration {
    char plan[PKG_MAX_NAME + 1], room[PKG_MAX_NAME + 1];
};

static void take_registration(const struct store_registration *reg, void *arg)
{
    struct registration *r = arg;

    snprintf(r->plan, sizeof(r->plan), "%s", reg->plan_id);
    snprintf(r->room, sizeof(r->room), "%s", reg->center_room);
}

struct pass_wait {
    int done;
    struct sync_outcome out;
};

static void on_pass(const struct sync_outcome *o, void *arg)
{
    struct pass_wait *w = arg;

    w->out = *o;
    w->done = 1;
}

/* Full jitter: a random wait up to the backoff, so rooms that lost the
 * network together do not all come back in the same second. */
static unsigned jitter(unsigned ms)
{
    uint8_t b[4];

    if (crypto_random(b, sizeof(b)) < 0)
        return ms;
    return ms / 2 + ((unsigned)b[0] << 8 | b[1]) % (ms / 2 + 1);
}

int cmd_sync(struct cli_ctx *ctx, int argc, char **argv)
{
    int wait = argc == 2 && strcmp(argv[1], "--wait") == 0, rc;
    struct registration reg = {0};
    struct sync_client *c = NULL;
    struct sync_engine *e = NULL;
    unsigned backoff = BACKOFF_FIRST_MS;
    int64_t uploaded = 0;
    struct room r;

    if (argc > 2 || (argc == 2 && !wait))
        return cli_fail(ctx, ER_USAGE);
    rc = room_open(ctx, &r, 1);
    if (rc == 0 && store_foreach_registration(r.st, take_registration, &reg) >= 0 &&
        reg.plan[0] == '\0')
        rc = ER_NOT_REGISTERED;
    if (rc == 0)
        rc = room_sync_new(&r, &c);
    if (rc == 0) {
        /* EXAMROOM_SYNC_BATCH: smaller batches, for tests (default 500). */
        const char *batch = getenv("EXAMROOM_SYNC_BATCH");
        const struct sync_engine_config cfg = {.client = c,
                                               .store = r.st,
                                               .room = r.sign,
                                               .center = r.center,
                                               .plan = reg.plan,
                                               .room_id = reg.room,
                                               .batch_max = batch ? (size_t)atol(batch) : 0};

        rc = sync_engine_new(&cfg, &e);
    }
    while (rc == 0) {
        struct pass_wait w = {0};

        rc = sync_engine_pass(e, on_pass, &w);
        while (rc == 0 && !w.done && uv_run(&r.loop, UV_RUN_ONCE) != 0)
            ;
        if (rc < 0)
            break;
        uploaded += w.out.uploaded;
        if (w.out.status == 0)
            room_note_contact(&r, time(NULL) + sync_clock_offset(c));
        if (w.out.status == 0 && (!wait || w.out.pending == 0)) {
            printf("已上传并得到考试中心确认：%lld 条；尚待上传：%lld 条。\n", (long long)uploaded,
                   (long long)w.out.pending);
            break;
        }
        if (w.out.status != 0 && (!wait || !sync_transient(w.out.status))) {
            rc = w.out.status;
            printf("本次已确认 %lld 条，尚待上传 %lld 条。\n", (long long)uploaded,
                   (long long)w.out.pending);
            break;
        }
        if (w.out.status != 0) {
            unsigned ms = jitter(backoff);

            printf("上传中断（%s），%.1f 秒后重试；已确认 %lld 条，尚待 %lld 条。\n",
                   er_strerror(w.out.status), ms / 1000.0, (long long)uploaded,
                   (long long)w.out.pending);
            fflush(stdout);
            uv_sleep(ms);
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
        } else {
            backoff = BACKOFF_FIRST_MS; /* progress: new rows came meanwhile */
        }
    }
    sync_engine_free(e);
    if (c != NULL)
        room_sync_close(&r, c);
    room_close(&r);
    return rc < 0 ? cli_fail(ctx, rc) : 0;
}
