/* examroom verify [FILE]: the day-before check, offline. Re-verifies the
 * stored package completely (or a package file, e.g. on a USB stick): the
 * center's signature, this room, expiry, version, every chunk. */
#include "agent.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

struct latest {
    char plan[PKG_MAX_NAME + 1], path[ROOM_PATH_MAX];
    int64_t version;
};

static void take_registration(const struct store_registration *reg, void *arg)
{
    struct latest *l = arg;

    snprintf(l->plan, sizeof(l->plan), "%s", reg->plan_id);
}

static void take_package(const struct store_package *pkg, void *arg)
{
    struct latest *l = arg;

    l->version = pkg->version;
    snprintf(l->path, sizeof(l->path), "%s", pkg->path);
}

static void describe(const struct pkg_info *info)
{
    char expires[32];
    time_t t = (time_t)info->expires_at + 8 * 3600; /* Beijing time */
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(expires, sizeof(expires), "%Y-%m-%d %H:%M", &tm);
    printf("试卷包校验通过：计划 %s，考场 %s，第 %llu 版，%zu 个场次，有效期至 %s（北京时间）。\n",
           info->plan_id, info->room_id, (unsigned long long)info->version, info->n_sessions,
           expires);
}

int cmd_verify(struct cli_ctx *ctx, int argc, char **argv)
{
    struct latest l = {0};
    struct pkg_reader *rd = NULL;
    const char *path;
    struct room r;
    int rc;

    if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
        return cli_fail(ctx, ER_USAGE);
    rc = room_open(ctx, &r, 1);
    if (rc == 0) {
        /* A file is judged against the installed version too: an older
         * package on a USB stick must not pass the day-before check. */
        store_foreach_registration(r.st, take_registration, &l);
        if (l.plan[0] == '\0')
            rc = argc == 1 ? ER_NOT_REGISTERED : 0;
        else if (store_latest_package(r.st, l.plan, take_package, &l) < 0 && argc == 1)
            rc = ER_SYNC_NO_PACKAGE;
    }
    path = argc == 2 ? argv[1] : l.path;
    if (rc == 0)
        rc = room_open_package(&r, path, l.version, &rd);
    if (rc == 0) {
        describe(pkg_get_info(rd));
        pkg_close(rd);
    }
    room_close(&r);
    if (rc < 0)
        return cli_fail_detail(ctx, rc, "试卷包 %s 未通过校验。", path[0] ? path : "（无）");
    return 0;
}
