/* plfs's own tests (powerloss_fs): what a power cut keeps and what it
 * forgets, as a disk would.
 *
 *   test_plfs PLFS      exit 0 when all held, 77 (skip) without FUSE */
#define _GNU_SOURCE
#include "plmount.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct plmount m;
static int failures;
static const char *current = "";

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "test_plfs:%d: %s: failed: %s\n", __LINE__, current, #cond);           \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static const char *at(const char *name)
{
    static char p[4][256];
    static int i;

    i = (i + 1) % 4;
    snprintf(p[i], sizeof(p[i]), "%s/%s", m.mnt, name);
    return p[i];
}

/* Writes text to name (created or truncated), fsync'd when sync says. */
static int put(const char *name, const char *text, int sync)
{
    int fd = open(at(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);

    ok = ok && (!sync || fsync(fd) == 0);
    if (fd >= 0)
        close(fd);
    return ok ? 0 : -1;
}

/* The file's content, "" when empty, "(none)" when missing. */
static const char *get(const char *name)
{
    static char buf[256];
    int fd = open(at(name), O_RDONLY);
    ssize_t n;

    if (fd < 0)
        return "(none)";
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static int sync_dir(const char *name)
{
    int fd = open(at(name), O_RDONLY | O_DIRECTORY);
    int rc = fd >= 0 && fsync(fd) == 0 ? 0 : -1;

    if (fd >= 0)
        close(fd);
    return rc;
}

static void cycle(void)
{
    if (pl_power_cycle(&m) != 0) {
        fprintf(stderr, "test_plfs: could not mount again\n");
        exit(1);
    }
}

/* A durable file f holding "old" to start from. */
static void durable_old(const char *f)
{
    CHECK(put(f, "old", 1) == 0);
    CHECK(sync_dir(".") == 0);
}

static void test_write(void)
{
    int fd;

    current = "a write without fsync is gone";
    durable_old("w");
    fd = open(at("w"), O_WRONLY);
    CHECK(fd >= 0 && pwrite(fd, "NEW", 3, 0) == 3);
    close(fd);
    CHECK(strcmp(get("w"), "NEW") == 0);
    cycle();
    CHECK(strcmp(get("w"), "old") == 0);

    current = "a write with fsync stays";
    fd = open(at("w"), O_WRONLY);
    CHECK(fd >= 0 && pwrite(fd, "NEW", 3, 1) == 3 && fsync(fd) == 0);
    CHECK(fd >= 0 && pwrite(fd, "X", 1, 0) == 1); /* after the fsync: lost */
    close(fd);
    cycle();
    CHECK(strcmp(get("w"), "oNEW") == 0);

    current = "a truncate without fsync is undone";
    fd = open(at("w"), O_WRONLY);
    CHECK(fd >= 0 && ftruncate(fd, 1) == 0);
    close(fd);
    cycle();
    CHECK(strcmp(get("w"), "oNEW") == 0);
}

static void test_rename(void)
{
    current = "a rename without the directory's fsync is undone";
    durable_old("r");
    CHECK(put("r.tmp", "new", 1) == 0);
    CHECK(rename(at("r.tmp"), at("r")) == 0);
    cycle();
    CHECK(strcmp(get("r"), "old") == 0);
    CHECK(strcmp(get("r.tmp"), "(none)") == 0);

    current = "a rename with the directory's fsync is kept";
    CHECK(put("r.tmp", "new", 1) == 0);
    CHECK(rename(at("r.tmp"), at("r")) == 0);
    CHECK(sync_dir(".") == 0);
    cycle();
    CHECK(strcmp(get("r"), "new") == 0);
    CHECK(strcmp(get("r.tmp"), "(none)") == 0);

    current = "a file renamed into place unsynced is empty";
    CHECK(put("r.tmp", "newer", 0) == 0);
    CHECK(rename(at("r.tmp"), at("r")) == 0);
    CHECK(sync_dir(".") == 0);
    cycle();
    CHECK(strcmp(get("r"), "") == 0);
}

static void test_create_unlink(void)
{
    current = "a created file without the directory's fsync is gone";
    CHECK(put("c", "data", 1) == 0);
    cycle();
    CHECK(strcmp(get("c"), "(none)") == 0);

    current = "a created file with the directory's fsync stays";
    CHECK(put("c", "data", 1) == 0);
    CHECK(sync_dir(".") == 0);
    cycle();
    CHECK(strcmp(get("c"), "data") == 0);

    current = "an unlink without the directory's fsync is undone";
    CHECK(unlink(at("c")) == 0);
    cycle();
    CHECK(strcmp(get("c"), "data") == 0);

    current = "an unlink with the directory's fsync stays";
    CHECK(unlink(at("c")) == 0);
    CHECK(sync_dir(".") == 0);
    cycle();
    CHECK(strcmp(get("c"), "(none)") == 0);

    current = "a subdirectory's entries follow its own fsync";
    CHECK(mkdir(at("d"), 0700) == 0);
    CHECK(sync_dir(".") == 0);
    CHECK(put("d/x", "x", 1) == 0);
    CHECK(put("d/y", "y", 1) == 0);
    CHECK(sync_dir("d") == 0);
    CHECK(put("d/z", "z", 1) == 0);
    cycle();
    CHECK(strcmp(get("d/x"), "x") == 0 && strcmp(get("d/y"), "y") == 0);
    CHECK(strcmp(get("d/z"), "(none)") == 0);
}

static void test_eio(void)
{
    struct stat st;
    char c;
    int fd;

    current = "I/O after a cut fails with EIO until remounted";
    durable_old("e");
    fd = open(at("e"), O_RDWR);
    CHECK(fd >= 0);
    pl_cut(&m);
    usleep(50000);
    errno = 0;
    CHECK(pwrite(fd, "x", 1, 0) < 0 && errno == EIO);
    errno = 0;
    CHECK(fsync(fd) < 0 && errno == EIO);
    errno = 0;
    CHECK(open(at("e"), O_RDONLY) < 0 && errno == EIO);
    errno = 0;
    CHECK(stat(at("e"), &st) < 0 && errno == EIO);
    errno = 0;
    CHECK(open(at("new"), O_WRONLY | O_CREAT, 0600) < 0 && errno == EIO);
    close(fd);
    pl_unmount(&m);
    CHECK(pl_mount(&m) == 0);
    fd = open(at("e"), O_RDONLY);
    CHECK(fd >= 0 && read(fd, &c, 1) == 1 && c == 'o');
    if (fd >= 0)
        close(fd);
}

int main(int argc, char **argv)
{
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: test_plfs PLFS\n");
        return 2;
    }
    rc = pl_setup(&m, argv[1]);
    if (rc != 0)
        return rc == PL_SKIP ? PL_SKIP : 1;
    test_write();
    test_rename();
    test_create_unlink();
    test_eio();
    pl_teardown(&m);
    if (failures) {
        fprintf(stderr, "test_plfs: %d checks failed\n", failures);
        return 1;
    }
    printf("test_plfs: every check held\n");
    return 0;
}
