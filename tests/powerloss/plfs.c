/* plfs: a test filesystem that forgets what was never synced (issue 17).
 *
 *   plfs BACKING MOUNTPOINT
 *
 * A passthrough on libfuse3 in the spirit of LazyFS. BACKING holds the
 * durable state: what a power cut keeps. The mount shows a working copy,
 * BACKING.upper (made afresh from BACKING at each mount), which every
 * operation reads and writes. Nothing reaches BACKING until a sync covers it:
 *   - fsync/fdatasync of a file copies the ranges written since its last
 *     sync to its durable copy (the file's durable name in BACKING, or, while
 *     its name is not durable yet, a shadow in BACKING.shadow);
 *   - fsync of a directory makes its entries durable: names created or
 *     renamed in it get their file's durable content (what its last fsync
 *     made durable: a file renamed into place unsynced stays empty), names
 *     removed from it go.
 * SIGUSR1 is the power cut: from then on every operation fails with EIO,
 * and BACKING is exactly what the syncs made durable. Unmount and mount
 * again to go on from there.
 *
 *   plfs BACKING MOUNTPOINT CUT_AT
 *
 * cuts the power by itself, exactly at the CUT_AT-th operation that syncs
 * or changes a name (fsync, fsyncdir, create, mkdir, rename, unlink, rmdir,
 * truncate; counted from the mount): that operation is not done, and the
 * process that asked for it is killed (SIGKILL) at the same instant, as the
 * power would. Writes are not counted: only syncs change what a cut keeps,
 * so cutting at 1, 2, 3, ... reaches every state a program's syncs can
 * leave, repeatably. The cut is noted on stderr ("plfs: cut at N").
 *
 * Simplifications, all on the side of keeping more than a disk might (so a
 * test that fails here fails on a disk too, not the other way round): a
 * directory synced whose own entry is not durable yet is created in BACKING
 * with its parents; a file renamed to another directory keeps its old
 * durable name until the old directory is synced. Hard links, symlinks,
 * xattrs and syncfs (the kernel does not pass it on) are not supported.
 * Single-threaded: one operation at a time. */
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define DIRTY_ALL INT64_MAX

/* A regular file of the working copy, by its inode there. */
struct node {
    ino_t ino;
    char *dpath;    /* durable name (relative to BACKING), NULL: none yet */
    int shadow;     /* its durable content is in BACKING.shadow/<ino> */
    int64_t lo, hi; /* written since the last sync: [lo, hi), lo == hi none */
    struct node *next;
};

static char backing[PATH_MAX], upper[PATH_MAX], shadow_dir[PATH_MAX];
static int upper_fd = -1;
static struct node *nodes;
static volatile sig_atomic_t cut;
static long counted, cut_at; /* operations counted; 0: no cut of its own */

/* ---- helpers ------------------------------------------------------------- */

/* Formats a path into out (PATH_MAX bytes); a path too long ends the
 * server (a test's paths are short). */
__attribute__((format(printf, 2, 3))) static void pathf(char *out, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, PATH_MAX, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= PATH_MAX)
        abort();
}

/* The working copy's name of a mount path ("/a/b" -> "a/b", "/" -> "."). */
static const char *rel(const char *path)
{
    return path[1] ? path + 1 : ".";
}

static struct node *find_node(ino_t ino)
{
    for (struct node *n = nodes; n; n = n->next)
        if (n->ino == ino)
            return n;
    return NULL;
}

static struct node *get_node(ino_t ino)
{
    struct node *n = find_node(ino);

    if (n)
        return n;
    n = calloc(1, sizeof(*n));
    if (n == NULL)
        abort();
    n->ino = ino;
    n->next = nodes;
    nodes = n;
    return n;
}

static void shadow_path(ino_t ino, char *out)
{
    pathf(out, "%s/%llu", shadow_dir, (unsigned long long)ino);
}

/* The node forgets any durable content: a new file, or one replaced. */
static void node_reset(struct node *n)
{
    char sp[PATH_MAX];

    free(n->dpath);
    n->dpath = NULL;
    if (n->shadow) {
        shadow_path(n->ino, sp);
        unlink(sp);
        n->shadow = 0;
    }
    n->lo = 0;
    n->hi = DIRTY_ALL;
}

static void mark_dirty(struct node *n, int64_t lo, int64_t hi)
{
    if (n->lo == n->hi) {
        n->lo = lo;
        n->hi = hi;
        return;
    }
    if (lo < n->lo)
        n->lo = lo;
    if (hi > n->hi)
        n->hi = hi;
}

static int copy_range(int from, int to, int64_t lo, int64_t hi)
{
    char buf[65536];

    while (lo < hi) {
        size_t want = hi - lo < (int64_t)sizeof(buf) ? (size_t)(hi - lo) : sizeof(buf);
        ssize_t r = pread(from, buf, want, lo);

        if (r < 0)
            return -errno;
        if (r == 0)
            break;
        if (pwrite(to, buf, (size_t)r, lo) != r)
            return -EIO;
        lo += r;
    }
    return 0;
}

/* Copies the file from (an fd) into a new file at path. */
static int copy_to(int from, const char *path)
{
    struct stat st;
    int to, rc;

    if (fstat(from, &st) != 0)
        return -errno;
    to = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 07777);
    if (to < 0)
        return -errno;
    rc = copy_range(from, to, 0, st.st_size);
    if (close(to) != 0 && rc == 0)
        rc = -EIO;
    return rc;
}

static int copy_path(const char *from, const char *to)
{
    int fd = open(from, O_RDONLY | O_CLOEXEC), rc;

    if (fd < 0)
        return -errno;
    rc = copy_to(fd, to);
    close(fd);
    return rc;
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char sub[PATH_MAX];

    if (d == NULL) {
        unlink(path);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        pathf(sub, "%s/%s", path, e->d_name);
        remove_tree(sub);
    }
    closedir(d);
    rmdir(path);
}

/* Copies the tree from into to (which must not exist); each regular file
 * copied is recorded as a node durable under its relative name. */
static int copy_tree(const char *from, const char *to, const char *relname)
{
    DIR *d = opendir(from);
    struct dirent *e;
    struct stat st;
    char a[PATH_MAX], b[PATH_MAX], r[PATH_MAX];
    int rc = 0;

    if (d == NULL || stat(from, &st) != 0 || mkdir(to, st.st_mode & 07777) != 0) {
        if (d)
            closedir(d);
        return -1;
    }
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        pathf(a, "%s/%s", from, e->d_name);
        pathf(b, "%s/%s", to, e->d_name);
        pathf(r, "%s%s%s", relname, *relname ? "/" : "", e->d_name);
        if (lstat(a, &st) != 0)
            rc = -1;
        else if (S_ISDIR(st.st_mode))
            rc = copy_tree(a, b, r);
        else if (S_ISREG(st.st_mode) && copy_path(a, b) == 0 && lstat(b, &st) == 0)
            get_node(st.st_ino)->dpath = strdup(r);
        else
            rc = -1;
    }
    closedir(d);
    return rc;
}

/* ---- syncs --------------------------------------------------------------- */

static int sync_file(int wfd)
{
    struct stat st;
    struct node *n;
    char dp[PATH_MAX], self[64];
    int fd, to, rc;

    /* The file may be open write-only: read it through a descriptor of its
     * own (which also reaches a file already unlinked). */
    snprintf(self, sizeof(self), "/proc/self/fd/%d", wfd);
    fd = open(self, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return 0;
    }
    n = get_node(st.st_ino);
    if (n->dpath)
        pathf(dp, "%s/%s", backing, n->dpath);
    else
        shadow_path(n->ino, dp);
    if (n->dpath == NULL && !n->shadow) {
        rc = copy_to(fd, dp);
        n->shadow = rc == 0;
    } else {
        to = open(dp, O_WRONLY | O_CLOEXEC);
        rc = to < 0 ? -errno : 0;
        if (rc == 0 && ftruncate(to, st.st_size) != 0)
            rc = -errno;
        if (rc == 0 && n->lo < n->hi)
            rc = copy_range(fd, to, n->lo, n->hi < st.st_size ? n->hi : st.st_size);
        if (to >= 0 && close(to) != 0 && rc == 0)
            rc = -EIO;
    }
    close(fd);
    if (rc == 0)
        n->lo = n->hi = 0;
    return rc;
}

/* The name r (relative) becomes durable for node n: its durable content is
 * copied (or the shadow moved) to BACKING/r. */
static int make_durable(struct node *n, const char *r, mode_t mode)
{
    char to[PATH_MAX], from[PATH_MAX];
    int rc;

    pathf(to, "%s/%s", backing, r);
    if (n->dpath) {
        pathf(from, "%s/%s", backing, n->dpath);
        rc = copy_path(from, to);
    } else if (n->shadow) {
        shadow_path(n->ino, from);
        rc = rename(from, to) == 0 ? 0 : -errno;
        n->shadow = 0;
    } else {
        int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        rc = fd < 0 ? -errno : close(fd);
    }
    if (rc == 0 && chmod(to, mode & 07777) != 0)
        rc = -errno;
    if (rc != 0)
        return rc;
    /* Whoever held this durable name before has none now. */
    for (struct node *o = nodes; o; o = o->next)
        if (o != n && o->dpath && strcmp(o->dpath, r) == 0)
            node_reset(o);
    free(n->dpath);
    n->dpath = strdup(r);
    return 0;
}

/* The entries of directory d (relative, "." for the root) become durable. */
static int sync_dir(const char *d)
{
    char up[PATH_MAX], dur[PATH_MAX], r[PATH_MAX], p[PATH_MAX], cmd[PATH_MAX];
    DIR *dir;
    struct dirent *e;
    struct stat st, dst;
    const char *prefix = strcmp(d, ".") == 0 ? "" : d;
    int rc = 0;

    pathf(up, "%s/%s", upper, d);
    pathf(dur, "%s/%s", backing, d);
    if (stat(dur, &dst) != 0) {
        pathf(cmd, "mkdir -p '%s'", dur);
        if (system(cmd) != 0)
            return -EIO;
    }
    /* Names in the working copy: durable with their file's durable content. */
    dir = opendir(up);
    if (dir == NULL)
        return -errno;
    while (rc == 0 && (e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        pathf(r, "%s%s%s", prefix, *prefix ? "/" : "", e->d_name);
        pathf(p, "%s/%s", up, e->d_name);
        if (lstat(p, &st) != 0)
            continue;
        pathf(p, "%s/%s", backing, r);
        if (S_ISDIR(st.st_mode)) {
            if (lstat(p, &dst) == 0 && !S_ISDIR(dst.st_mode))
                remove_tree(p);
            if (lstat(p, &dst) != 0 && mkdir(p, st.st_mode & 07777) != 0)
                rc = -errno;
        } else if (S_ISREG(st.st_mode)) {
            struct node *n = get_node(st.st_ino);

            if (n->dpath == NULL || strcmp(n->dpath, r) != 0) {
                if (lstat(p, &dst) == 0 && S_ISDIR(dst.st_mode))
                    remove_tree(p);
                rc = make_durable(n, r, st.st_mode);
            }
        }
    }
    closedir(dir);
    /* Durable names no longer in the working copy go. */
    dir = opendir(dur);
    if (dir == NULL)
        return rc ? rc : -errno;
    while (rc == 0 && (e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        pathf(p, "%s/%s", up, e->d_name);
        if (lstat(p, &st) == 0)
            continue;
        pathf(r, "%s%s%s", prefix, *prefix ? "/" : "", e->d_name);
        for (struct node *o = nodes; o; o = o->next)
            if (o->dpath && strcmp(o->dpath, r) == 0)
                node_reset(o);
        pathf(p, "%s/%s", dur, e->d_name);
        remove_tree(p);
    }
    closedir(dir);
    return rc;
}

/* ---- operations ---------------------------------------------------------- */

#define CHECK_CUT()                                                                                \
    do {                                                                                           \
        if (cut)                                                                                   \
            return -EIO;                                                                           \
    } while (0)

/* The CUT_AT-th operation that syncs or changes a name: the power goes
 * instead, and with it the process that asked. */
static int cut_here(void)
{
    if (cut_at <= 0 || ++counted < cut_at)
        return 0;
    cut = 1;
    kill(fuse_get_context()->pid, SIGKILL);
    fprintf(stderr, "plfs: cut at %ld\n", counted);
    return 1;
}

#define COUNT_OP()                                                                                 \
    do {                                                                                           \
        CHECK_CUT();                                                                               \
        if (cut_here())                                                                            \
            return -EIO;                                                                           \
    } while (0)

static void *pl_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    (void)conn;
    cfg->use_ino = 1;
    cfg->entry_timeout = 0;
    cfg->attr_timeout = 0;
    cfg->negative_timeout = 0;
    cfg->direct_io = 0;
    cfg->kernel_cache = 0;
    cfg->auto_cache = 0;
    cfg->hard_remove = 1;
    return NULL;
}

static int pl_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    CHECK_CUT();
    if (fi)
        return fstat((int)fi->fh, st) == 0 ? 0 : -errno;
    return fstatat(upper_fd, rel(path), st, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

static int pl_access(const char *path, int mask)
{
    CHECK_CUT();
    return faccessat(upper_fd, rel(path), mask, 0) == 0 ? 0 : -errno;
}

static int pl_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    int fd;
    DIR *d;
    struct dirent *e;

    (void)off;
    (void)fi;
    (void)flags;
    CHECK_CUT();
    fd = openat(upper_fd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return -EIO;
    }
    while ((e = readdir(d)) != NULL) {
        struct stat st = {.st_ino = e->d_ino, .st_mode = (mode_t)(e->d_type << 12)};

        if (fill(buf, e->d_name, &st, 0, 0))
            break;
    }
    closedir(d);
    return 0;
}

static int pl_opendir(const char *path, struct fuse_file_info *fi)
{
    (void)fi;
    CHECK_CUT();
    struct stat st;
    return fstatat(upper_fd, rel(path), &st, 0) == 0 ? 0 : -errno;
}

static int pl_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)datasync;
    (void)fi;
    COUNT_OP();
    return sync_dir(rel(path));
}

static int pl_mkdir(const char *path, mode_t mode)
{
    COUNT_OP();
    return mkdirat(upper_fd, rel(path), mode) == 0 ? 0 : -errno;
}

static int pl_rmdir(const char *path)
{
    COUNT_OP();
    return unlinkat(upper_fd, rel(path), AT_REMOVEDIR) == 0 ? 0 : -errno;
}

static int pl_unlink(const char *path)
{
    COUNT_OP();
    return unlinkat(upper_fd, rel(path), 0) == 0 ? 0 : -errno;
}

static int pl_rename(const char *from, const char *to, unsigned int flags)
{
    COUNT_OP();
    if (flags)
        return -EINVAL;
    return renameat(upper_fd, rel(from), upper_fd, rel(to)) == 0 ? 0 : -errno;
}

static int pl_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    CHECK_CUT();
    if (fi)
        return fchmod((int)fi->fh, mode) == 0 ? 0 : -errno;
    return fchmodat(upper_fd, rel(path), mode, 0) == 0 ? 0 : -errno;
}

static int pl_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
    CHECK_CUT();
    if (fi)
        return fchown((int)fi->fh, uid, gid) == 0 ? 0 : -errno;
    return fchownat(upper_fd, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

static int pl_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
    CHECK_CUT();
    if (fi)
        return futimens((int)fi->fh, tv) == 0 ? 0 : -errno;
    return utimensat(upper_fd, rel(path), tv, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

static int pl_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    struct stat st;
    int fd, rc;

    COUNT_OP();
    fd = fi ? (int)fi->fh : openat(upper_fd, rel(path), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    rc = fstat(fd, &st) == 0 && ftruncate(fd, size) == 0 ? 0 : -errno;
    if (rc == 0)
        mark_dirty(get_node(st.st_ino), size, DIRTY_ALL);
    if (!fi)
        close(fd);
    return rc;
}

static int pl_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    struct stat st;
    int flags = fi->flags | O_CLOEXEC;
    int fd;

    COUNT_OP();
    /* Made here: a new file, with no durable content yet (its inode may be
     * one a removed file had). */
    fd = openat(upper_fd, rel(path), flags | O_EXCL, mode);
    if (fd >= 0 && fstat(fd, &st) == 0)
        node_reset(get_node(st.st_ino));
    if (fd < 0 && errno == EEXIST && !(fi->flags & O_EXCL))
        fd = openat(upper_fd, rel(path), flags & ~O_CREAT, mode);
    if (fd < 0)
        return -errno;
    if ((flags & O_TRUNC) && fstat(fd, &st) == 0)
        mark_dirty(get_node(st.st_ino), 0, DIRTY_ALL);
    fi->fh = (uint64_t)fd;
    return 0;
}

static int pl_open(const char *path, struct fuse_file_info *fi)
{
    struct stat st;
    int fd;

    CHECK_CUT();
    fd = openat(upper_fd, rel(path), (fi->flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if ((fi->flags & O_TRUNC) && fstat(fd, &st) == 0)
        mark_dirty(get_node(st.st_ino), 0, DIRTY_ALL);
    fi->fh = (uint64_t)fd;
    return 0;
}

static int pl_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    ssize_t r;

    (void)path;
    CHECK_CUT();
    r = pread((int)fi->fh, buf, size, off);
    return r < 0 ? -errno : (int)r;
}

static int pl_write(const char *path, const char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    struct stat st;
    ssize_t r;

    (void)path;
    CHECK_CUT();
    r = pwrite((int)fi->fh, buf, size, off);
    if (r < 0)
        return -errno;
    if (fstat((int)fi->fh, &st) == 0)
        mark_dirty(get_node(st.st_ino), off, off + r);
    return (int)r;
}

static int pl_statfs(const char *path, struct statvfs *st)
{
    CHECK_CUT();
    (void)path;
    return fstatvfs(upper_fd, st) == 0 ? 0 : -errno;
}

static int pl_flush(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    (void)fi;
    CHECK_CUT();
    return 0;
}

static int pl_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    close((int)fi->fh);
    return 0;
}

static int pl_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)datasync;
    COUNT_OP();
    (void)path;
    return sync_file((int)fi->fh);
}

static const struct fuse_operations ops = {
    .init = pl_init,
    .getattr = pl_getattr,
    .access = pl_access,
    .readdir = pl_readdir,
    .opendir = pl_opendir,
    .fsyncdir = pl_fsyncdir,
    .mkdir = pl_mkdir,
    .rmdir = pl_rmdir,
    .unlink = pl_unlink,
    .rename = pl_rename,
    .chmod = pl_chmod,
    .chown = pl_chown,
    .utimens = pl_utimens,
    .truncate = pl_truncate,
    .create = pl_create,
    .open = pl_open,
    .read = pl_read,
    .write = pl_write,
    .statfs = pl_statfs,
    .flush = pl_flush,
    .release = pl_release,
    .fsync = pl_fsync,
};

static void on_cut(int sig)
{
    (void)sig;
    cut = 1;
}

int main(int argc, char **argv)
{
    struct sigaction sa = {.sa_handler = on_cut};
    char *fargs[] = {argv[0], "-f", "-s", "-o", "fsname=plfs,subtype=plfs", NULL, NULL};

    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: plfs BACKING MOUNTPOINT [CUT_AT]\n");
        return 2;
    }
    if (argc == 4)
        cut_at = atol(argv[3]);
    if (realpath(argv[1], backing) == NULL) {
        perror("plfs: backing");
        return 1;
    }
    pathf(upper, "%s.upper", backing);
    pathf(shadow_dir, "%s.shadow", backing);
    remove_tree(upper);
    remove_tree(shadow_dir);
    if (mkdir(shadow_dir, 0700) != 0 || copy_tree(backing, upper, "") != 0) {
        fprintf(stderr, "plfs: cannot make the working copy %s\n", upper);
        return 1;
    }
    upper_fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (upper_fd < 0)
        return 1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    fargs[5] = argv[2];
    return fuse_main(6, fargs, &ops, NULL);
}
