/* powerloss_files: the room's files written "atomically" survive a power
 * cut, on plfs (issue 17). A file replaced by rename is durable only once
 * its directory is fsync'd; kill -9 tests cannot see the difference.
 *
 *   powerloss_files PLFS     exit 0 when all held, 77 (skip) without FUSE */
#define _GNU_SOURCE
#include "crypto.h"
#include "plmount.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct plmount m;
static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "powerloss_files:%d: failed: %s\n", __LINE__, #cond);                  \
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

static void cycle(void)
{
    if (pl_power_cycle(&m) != 0) {
        fprintf(stderr, "powerloss_files: could not mount again\n");
        exit(1);
    }
}

int main(int argc, char **argv)
{
    struct key *k = NULL, *back = NULL;
    struct stat st;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: powerloss_files PLFS\n");
        return 2;
    }
    rc = pl_setup(&m, argv[1]);
    if (rc != 0)
        return rc == PL_SKIP ? PL_SKIP : 1;

    /* Directories made for the data (a room's packages/, a center's data
     * dir) are there after the cut, and what was synced in them. */
    CHECK(fs_mkdir_p(at("room/packages"), 0700) == 0);
    CHECK(fs_write_atomic(at("room/packages/a"), "A", 1, 0600) == 0);
    cycle();
    CHECK(stat(at("room/packages"), &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(strcmp(get("room/packages/a"), "A") == 0);

    /* fs_write_atomic (the exam clock's anchor, reports): the new content
     * once it returned, never the old one nor a part. */
    CHECK(fs_write_atomic(at("room/anchor"), "first", 5, 0600) == 0);
    cycle();
    CHECK(strcmp(get("room/anchor"), "first") == 0);
    CHECK(fs_write_atomic(at("room/anchor"), "second", 6, 0600) == 0);
    cycle();
    CHECK(strcmp(get("room/anchor"), "second") == 0);

    /* A private key saved (the room's, the center's). */
    CHECK(key_generate(KEY_ED25519, &k) == 0);
    CHECK(k != NULL && key_save_private(k, at("room/room.key")) == 0);
    cycle();
    CHECK(key_load_private(KEY_ED25519, at("room/room.key"), &back) == 0);

    /* A USB bundle's file. */
    CHECK(usb_write_file(at("room/bundle"), (const uint8_t *)"B", 1) == 0);
    cycle();
    CHECK(strcmp(get("room/bundle"), "B") == 0);

    key_free(k);
    key_free(back);
    pl_teardown(&m);
    if (failures) {
        fprintf(stderr, "powerloss_files: %d checks failed\n", failures);
        return 1;
    }
    printf("powerloss_files: every file kept across 5 power cuts\n");
    return 0;
}
