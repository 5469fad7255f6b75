/* examroom fetch [--from FILE]: downloads (or takes from a USB stick) the
 * room's package, verifies it completely with the center's key and the
 * room's key, and only then records it and loads its roster. An interrupted
 * download resumes where it stopped (Range + If-Range). */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define ATTEMPTS_MAX   50
#define BACKOFF_MAX_MS 30000

/* Detail lines (zh-CN) beside the error's own sentence. */
#define MSG_MANIFEST_ROOM "考试中心的试卷包清单写的是考场 %s，本机注册的是考场 %s。"
#define MSG_MANIFEST_PLAN "考试中心的试卷包清单写的是考试计划 %s，本机注册的是考试计划 %s。"
#define MSG_MISSING       "试卷包中缺少%s。"
#define MSG_REPLACED                                                                               \
    "考试中心把第 %lld 版试卷包换成了另一份，本机已有场次解锁或开考，仍使用原来的一份。"
#define MSG_UP_TO_DATE "试卷包已是最新（第 %lld 版），无需下载。\n"
#define MSG_REPLACING                                                                              \
    "考试中心换发了第 %lld 版试卷包（内容与本机的不同），本机尚无场次开始，下载新的一份。\n"

struct plan_ref {
    char plan[PKG_MAX_NAME + 1], room[PKG_MAX_NAME + 1];
    int found;
};

static void first_registration(const struct store_registration *reg, void *arg)
{
    struct plan_ref *p = arg;

    /* The newest registration is the current exam. */
    snprintf(p->plan, sizeof(p->plan), "%s", reg->plan_id);
    snprintf(p->room, sizeof(p->room), "%s", reg->center_room);
    p->found = 1;
}

struct latest {
    int64_t version;
    uint8_t header_hash[STORE_HASH_LEN];
    char path[ROOM_PATH_MAX];
};

static void keep_latest(const struct store_package *pkg, void *arg)
{
    struct latest *l = arg;

    l->version = pkg->version;
    memcpy(l->header_hash, pkg->header_hash, STORE_HASH_LEN);
    snprintf(l->path, sizeof(l->path), "%s", pkg->path);
}

/* ---- replacing a package under the same version ---- */

struct started {
    int64_t now;
    int any;
};

static void session_started(const struct store_session *s, void *arg)
{
    struct started *st = arg;

    if (s->state != STORE_SESSION_LOCKED || s->starts_at <= st->now)
        st->any = 1;
}

/* Has any session of the installed package been unlocked, or reached its
 * start time (by the center's clock when we know it)? Then its package is
 * in use and is never swapped for another under the same version. */
static int exam_started(struct room *r)
{
    struct pkg_trust t;
    struct started st = {0};

    room_package_trust(r, 0, &t);
    st.now = t.now;
    store_foreach_session(r->st, session_started, &st);
    return st.any;
}

/* ---- progress ---- */

struct progress {
    uint64_t base, total, last_bytes;
    double started, last_print;
    int tty;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void show(void *arg, uint64_t received)
{
    struct progress *p = arg;
    double t = now_s(), rate;
    uint64_t have = p->base + received;

    if (!p->tty || t - p->last_print < 0.2)
        return;
    p->last_print = t;
    rate = (double)(have - p->base) / (t - p->started + 1e-9);
    printf("\r下载 %.1f / %.1f MiB  %.1f MiB/s  剩余约 %.0f 秒   ", have / 1048576.0,
           p->total / 1048576.0, rate / 1048576.0,
           rate > 0 ? (double)(p->total - (have < p->total ? have : p->total)) / rate : 0.0);
    fflush(stdout);
}

/* ---- download, resumed across failures ---- */

static int transient(int rc)
{
    return rc == ER_SYNC_NETWORK || rc == ER_SYNC_TIMEOUT || rc == ER_SYNC_UNREACHABLE ||
           rc == ER_SYNC_SERVER;
}

/* Besides the package, room for the store to take its roster. */
#define FETCH_MARGIN (8u << 20)

/* What a download found missing, for the failure's detail line. */
static uint64_t short_need, short_avail;

/* Is there room for need more bytes (and the margin) beside part? When the
 * file system cannot say, try anyway. */
static int room_for(const char *part, uint64_t need)
{
    char dir[ROOM_PATH_MAX];
    struct statvfs v;
    char *slash;

    snprintf(dir, sizeof(dir), "%s", part);
    slash = strrchr(dir, '/');
    if (slash != NULL)
        *slash = '\0';
    if (statvfs(dir, &v) != 0)
        return 1;
    short_need = need + FETCH_MARGIN;
    short_avail = (uint64_t)v.f_bavail * v.f_frsize;
    return short_avail >= short_need;
}

static int download(struct room *r, struct sync_client *c, const char *path, uint64_t size,
                    const char *etag, const char *part)
{
    struct progress p = {.total = size, .tty = isatty(STDOUT_FILENO)};
    unsigned backoff_ms = 500;
    int rc = 0;

    for (int attempt = 0; attempt < ATTEMPTS_MAX; attempt++) {
        struct sync_response resp = {0};
        struct stat st;
        uint64_t have = stat(part, &st) == 0 ? (uint64_t)st.st_size : 0;
        char range[48];
        int fd;

        if (have == size)
            return 0;
        /* Said before a byte is written, not found out halfway. */
        if (!room_for(part, size > have ? size - have : size))
            return ER_DISK_FULL;
        fd = open(part, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0)
            return ER_IO;
        if (have > size && (ftruncate(fd, 0) != 0 || (have = 0) != 0)) {
            close(fd);
            return ER_IO;
        }
        snprintf(range, sizeof(range), "bytes=%llu-", (unsigned long long)have);
        {
            const struct sync_request req = {.method = "GET",
                                             .path = path,
                                             .sign = 1,
                                             .fd = fd,
                                             .range = have > 0 ? range : NULL,
                                             .if_range = have > 0 ? etag : NULL,
                                             .progress = show};

            p.base = have;
            p.started = now_s();
            rc = room_call(r, c, &req, &resp);
        }
        /* The bytes are durable before the package is renamed into place
         * and recorded verified: a power cut must not leave a verified
         * package that is a part. */
        if (rc == 0 && fsync(fd) != 0)
            rc = ER_IO;
        close(fd);
        free(resp.body);
        if (rc == 0) {
            uint64_t now_have = stat(part, &st) == 0 ? (uint64_t)st.st_size : 0;

            /* A complete answer that leaves the file too long, or brings
             * nothing, does not match the manifest: say so, do not loop. */
            if (now_have > size || now_have == have) {
                truncate(part, 0);
                return ER_SYNC_PROTOCOL;
            }
            continue; /* the size check above decides */
        }
        if (resp.error == 0 && resp.status == 416) {
            truncate(part, 0); /* our part is not a prefix of this file */
            continue;
        }
        if (!transient(rc))
            return rc;
        /* Progress made: the link works, it just breaks; go on at once. */
        if (stat(part, &st) == 0 && (uint64_t)st.st_size > have) {
            backoff_ms = 500;
            continue;
        }
        if (p.tty)
            printf("\n");
        printf("下载中断（%s），%.1f 秒后从 %.1f MiB 处继续。\n", er_strerror(rc),
               backoff_ms / 1000.0, (stat(part, &st) == 0 ? (double)st.st_size : 0) / 1048576.0);
        fflush(stdout);
        uv_sleep(backoff_ms);
        backoff_ms = backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff_ms * 2;
    }
    return rc < 0 ? rc : ER_SYNC_NETWORK;
}

/* ---- the manifest ---- */

struct wanted {
    int64_t version;
    uint64_t size;
    char path[64], etag[80], id[65];
    char plan[PKG_MAX_NAME + 1], room[PKG_MAX_NAME + 1]; /* as the manifest says */
};

/* The signed manifest names the plan and room it is for: another's is
 * refused before anything is downloaded. */
static int manifest_for_us(const struct plan_ref *reg, json_t *doc, struct wanted *want)
{
    const char *plan = json_string_value(json_object_get(doc, "plan"));
    const char *room = json_string_value(json_object_get(doc, "room"));

    snprintf(want->plan, sizeof(want->plan), "%s", plan ? plan : "");
    snprintf(want->room, sizeof(want->room), "%s", room ? room : "");
    if (plan == NULL || room == NULL)
        return ER_SYNC_PROTOCOL;
    if (strcmp(plan, reg->plan) != 0 || strcmp(room, reg->room) != 0)
        return ER_SYNC_MANIFEST_OTHER;
    return 0;
}

static int read_manifest(struct room *r, struct sync_client *c, const struct plan_ref *reg,
                         struct wanted *want)
{
    const struct sync_request req = {
        .method = "GET", .path = "/v1/manifest", .sign = 1, .answer = PROTO_CTX_MANIFEST, .fd = -1};
    struct sync_response resp = {0};
    json_t *doc = NULL, *pkg;
    size_t i;
    int rc = room_call(r, c, &req, &resp);

    /* room_call() returned 0: signed by the pinned center key, for this
     * request (sync_verify_answer()). */
    if (rc == 0 && (doc = json_loads((const char *)resp.body, 0, NULL)) == NULL)
        rc = ER_SYNC_PROTOCOL;
    if (rc == 0)
        rc = manifest_for_us(reg, doc, want);
    want->version = 0;
    json_array_foreach(json_object_get(doc, "packages"), i, pkg)
    {
        int64_t v = json_integer_value(json_object_get(pkg, "version"));
        const char *path = json_string_value(json_object_get(pkg, "path"));
        const char *id = json_string_value(json_object_get(pkg, "package_id"));

        if (rc < 0 || v <= want->version || path == NULL || id == NULL || strlen(path) >= 64 ||
            strlen(id) != 64)
            continue;
        want->version = v;
        want->size = (uint64_t)json_integer_value(json_object_get(pkg, "size"));
        snprintf(want->path, sizeof(want->path), "%s", path);
        snprintf(want->etag, sizeof(want->etag), "\"%.64s\"", id);
        snprintf(want->id, sizeof(want->id), "%s", id);
    }
    if (rc == 0 && want->version == 0)
        rc = ER_SYNC_NO_PACKAGE;
    json_decref(doc);
    free(resp.body);
    return rc;
}

/* ---- installing a verified package ---- */

static int copy_file(const char *from, const char *to)
{
    char buf[65536];
    int in = open(from, O_RDONLY | O_CLOEXEC), out, rc = 0;
    ssize_t n;

    if (in < 0)
        return ER_IO;
    out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return ER_IO;
    }
    while (rc == 0 && (n = read(in, buf, sizeof(buf))) != 0)
        rc = n < 0 || write(out, buf, (size_t)n) != n ? ER_IO : 0;
    if (rc == 0 && fsync(out) != 0)
        rc = ER_IO;
    if (rc == ER_IO && (errno == ENOSPC || errno == EDQUOT))
        rc = ER_DISK_FULL;
    close(in);
    if (close(out) != 0 && rc == 0)
        rc = ER_IO;
    return rc;
}

static void count_one(const struct store_candidate *c, void *arg)
{
    (void)c;
    (void)arg;
}

static int put_package(struct room *r, const struct pkg_info *info, const uint8_t *hash,
                       const char *path, enum store_pkg_state state)
{
    struct store_package pkg = {
        .plan_id = info->plan_id, .version = (int64_t)info->version, .path = path, .state = state};
    struct room_wait w = {0};

    memcpy(pkg.header_hash, hash, STORE_HASH_LEN);
    return room_write_wait(r, store_put_package(r->st, &pkg, room_done, &w), &w);
}

/* Verifies part completely, then makes it the room's package: recorded as
 * downloading, its roster loaded, renamed to its final name, and only then
 * recorded as verified. A package whose roster does not load is recorded as
 * rejected (status and verify never show it; the next fetch tries again).
 * Another package under the installed version replaces it only while no
 * session has started (ER_PKG_REPLACED after); one that fails to install
 * leaves the old one in place and verified. */
static int install(struct room *r, const struct plan_ref *reg, const struct latest *latest,
                   const char *part)
{
    char final[ROOM_PATH_MAX], name[PKG_MAX_NAME + 64];
    struct pkg_reader *rd = NULL;
    const struct pkg_info *info;
    int rc = room_open_package(r, part, latest->version, &rd), recorded = 0, replacing = 0;
    int renamed = 0;

    if (rc < 0)
        return rc;
    info = pkg_get_info(rd);
    if (strcmp(info->plan_id, reg->plan) != 0 || strcmp(info->room_id, reg->room) != 0)
        rc = ER_PKG_OTHER_ROOM;
    snprintf(name, sizeof(name), "packages/%s.v%llu.pkg", info->plan_id,
             (unsigned long long)info->version);
    if (rc == 0)
        rc = room_path(r, name, final);
    if (rc == 0 && (int64_t)info->version == latest->version &&
        memcmp(info->package_id, latest->header_hash, STORE_HASH_LEN) != 0) {
        /* The center replaced the package under this version. */
        rc = exam_started(r)
                 ? ER_PKG_REPLACED
                 : put_package(r, info, latest->header_hash, latest->path, STORE_PKG_REJECTED);
        replacing = rc == 0;
    }
    /* The store first: if it refuses (an older version, another package
     * under a verified version), the file in place stays as it was. */
    if (rc == 0)
        rc = put_package(r, info, info->package_id, final, STORE_PKG_DOWNLOADING);
    recorded = rc == 0;
    if (rc == 0)
        rc = room_load_roster(r, rd);
    if (rc == 0 && strcmp(part, final) != 0 && rename(part, final) != 0)
        rc = ER_IO;
    if (rc == 0)
        rc = fs_sync_dir(final);
    renamed = rc == 0;
    if (rc == 0)
        rc = put_package(r, info, info->package_id, final, STORE_PKG_VERIFIED);
    if (rc < 0 && recorded)
        put_package(r, info, info->package_id, final, STORE_PKG_REJECTED);
    /* The old file was not touched: it stays the room's package. */
    if (rc < 0 && replacing && !renamed)
        put_package(r, info, latest->header_hash, latest->path, STORE_PKG_VERIFIED);
    if (rc == 0) {
        int n = store_foreach_candidate(r->st, NULL, count_one, NULL);

        printf("试卷包第 %llu 版已校验通过并保存：%zu 个场次，%d 名考生。\n",
               (unsigned long long)info->version, info->n_sessions, n < 0 ? 0 : n);
    }
    pkg_close(rd);
    return rc;
}

static int same_package(const struct latest *latest, const struct wanted *want)
{
    char hex[2 * STORE_HASH_LEN + 1];

    hex_encode(latest->header_hash, STORE_HASH_LEN, hex);
    return strcasecmp(hex, want->id) == 0;
}

int cmd_fetch(struct cli_ctx *ctx, int argc, char **argv)
{
    static const char *const names[] = {"--from", NULL};
    int bad = 0, rc, replaced = 0;
    const char *from = cli_option(argc, argv, "--from", &bad);
    struct plan_ref reg = {0};
    struct latest latest = {0};
    struct sync_client *c = NULL;
    struct wanted want = {0};
    char part[ROOM_PATH_MAX], dir[ROOM_PATH_MAX], name[PKG_MAX_NAME + 64];
    struct room r;

    if (bad || cli_check_options(argc, argv, 1, names) < 0)
        return cli_fail(ctx, ER_USAGE);
    rc = room_open(ctx, &r, 1);
    if (rc == 0 && store_foreach_registration(r.st, first_registration, &reg) >= 0 && !reg.found)
        rc = ER_NOT_REGISTERED;
    if (rc == 0)
        store_latest_package(r.st, reg.plan, keep_latest, &latest);
    if (rc == 0 && room_path(&r, "packages", dir) == 0 && fs_mkdir_p(dir, 0700) < 0)
        rc = ER_IO;
    if (rc == 0 && from != NULL) {
        struct stat st;

        /* From a USB stick: copy first, so the stick can go. */
        snprintf(name, sizeof(name), "packages/%s.usb.part", reg.plan);
        rc = room_path(&r, name, part);
        if (rc == 0 && stat(from, &st) == 0 && !room_for(part, (uint64_t)st.st_size))
            rc = ER_DISK_FULL;
        if (rc == 0)
            rc = copy_file(from, part);
        if (rc == 0)
            rc = install(&r, &reg, &latest, part);
        if (rc < 0)
            unlink(part);
    } else if (rc == 0) {
        rc = room_sync_new(&r, &c);
        if (rc == 0)
            rc = read_manifest(&r, c, &reg, &want);
        if (rc == 0 && want.version < latest.version)
            rc = ER_PKG_OLD_VERSION;
        replaced = rc == 0 && want.version == latest.version && !same_package(&latest, &want);
        if (replaced && exam_started(&r))
            rc = ER_PKG_REPLACED; /* refused before a byte is downloaded */
        else if (replaced)
            printf(MSG_REPLACING, (long long)latest.version);
        if (rc == 0 && !replaced && want.version == latest.version &&
            access(latest.path, R_OK) == 0) {
            printf(MSG_UP_TO_DATE, (long long)latest.version);
            /* An earlier fetch may have stopped before the roster was in. */
            if (store_foreach_candidate(r.st, NULL, count_one, NULL) <= 0)
                rc = install(&r, &reg, &latest, latest.path);
        } else if (rc == 0) {
            snprintf(name, sizeof(name), "packages/%s.v%lld.pkg.part", reg.plan,
                     (long long)want.version);
            rc = room_path(&r, name, part);
            if (rc == 0)
                rc = download(&r, c, want.path, want.size, want.etag, part);
            if (isatty(STDOUT_FILENO))
                printf("\n");
            if (rc == 0)
                rc = install(&r, &reg, &latest, part);
            /* A complete file that fails verification is no use to resume. */
            if (rc < 0 && rc != ER_IO && rc != ER_DISK_FULL && !transient(rc) &&
                rc != ER_SYNC_CANCELLED)
                unlink(part);
        }
    }
    if (c != NULL)
        room_sync_close(&r, c);
    room_close(&r);
    if (rc == ER_DISK_FULL && short_need > 0)
        return cli_fail_detail(ctx, rc, "下载试卷包还需要约 %.1f MB 的磁盘空间，现在只有 %.1f MB。",
                               (double)short_need / 1048576.0, (double)short_avail / 1048576.0);
    if (rc == ER_SYNC_MANIFEST_OTHER && strcmp(want.room, reg.room) != 0)
        return cli_fail_detail(ctx, rc, MSG_MANIFEST_ROOM, want.room, reg.room);
    if (rc == ER_SYNC_MANIFEST_OTHER)
        return cli_fail_detail(ctx, rc, MSG_MANIFEST_PLAN, want.plan, reg.plan);
    if (rc == ER_PKG_NO_SECTION && room_package_missing()[0] != '\0')
        return cli_fail_detail(ctx, rc, MSG_MISSING, room_package_missing());
    if (rc == ER_PKG_REPLACED)
        return cli_fail_detail(ctx, rc, MSG_REPLACED, (long long)latest.version);
    return rc < 0 ? cli_fail(ctx, rc) : 0;
}
