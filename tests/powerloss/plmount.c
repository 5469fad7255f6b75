/* See plmount.h. */
#define _GNU_SOURCE
#include "plmount.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FUSE_SUPER_MAGIC 0x65735546

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static int is_mounted(const char *mnt)
{
    struct statfs sf;

    return statfs(mnt, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC;
}

int pl_mount(struct plmount *m)
{
    int status;

    fflush(NULL);
    m->pid = fork();
    if (m->pid < 0)
        return -1;
    if (m->pid == 0) {
        /* Not the test's stdout: a pipe read to its end must not wait for
         * a server left behind. */
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        execl(m->plfs, m->plfs, m->backing, m->mnt, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        if (is_mounted(m->mnt))
            return 0;
        if (waitpid(m->pid, &status, WNOHANG) == m->pid) {
            m->pid = 0;
            return -1;
        }
        sleep_ms(10);
    }
    kill(m->pid, SIGKILL);
    waitpid(m->pid, &status, 0);
    m->pid = 0;
    return -1;
}

void pl_cut(struct plmount *m)
{
    if (m->pid > 0)
        kill(m->pid, SIGUSR1);
}

void pl_unmount(struct plmount *m)
{
    int status;

    if (m->pid <= 0)
        return;
    umount2(m->mnt, MNT_DETACH);
    for (int i = 0; i < 300; i++) {
        if (waitpid(m->pid, &status, WNOHANG) == m->pid) {
            m->pid = 0;
            return;
        }
        if (i == 100)
            kill(m->pid, SIGTERM);
        sleep_ms(10);
    }
    kill(m->pid, SIGKILL);
    waitpid(m->pid, &status, 0);
    m->pid = 0;
}

int pl_power_cycle(struct plmount *m)
{
    pl_cut(m);
    /* The flag is set by a signal handler: an operation on the mount that
     * fails tells it is in force before the unmount. */
    for (int i = 0; i < 200; i++) {
        struct stat st;

        if (stat(m->mnt, &st) != 0 && errno == EIO)
            break;
        sleep_ms(5);
    }
    pl_unmount(m);
    return pl_mount(m);
}

static struct plmount *at_exit;

static void teardown_at_exit(void)
{
    if (at_exit)
        pl_teardown(at_exit);
}

int pl_setup(struct plmount *m, const char *plfs)
{
    memset(m, 0, sizeof(*m));
    if (geteuid() != 0) {
        printf("SKIP: a FUSE mount needs root here\n");
        return PL_SKIP;
    }
    if (access("/dev/fuse", R_OK | W_OK) != 0) {
        printf("SKIP: /dev/fuse is not usable: %s\n", strerror(errno));
        return PL_SKIP;
    }
    snprintf(m->plfs, sizeof(m->plfs), "%s", plfs);
    m->owner = getpid();
    snprintf(m->top, sizeof(m->top), "/tmp/examroom-pl-XXXXXX");
    if (mkdtemp(m->top) == NULL)
        return -1;
    snprintf(m->backing, sizeof(m->backing), "%s/disk", m->top);
    snprintf(m->mnt, sizeof(m->mnt), "%s/mnt", m->top);
    if (mkdir(m->backing, 0755) != 0 || mkdir(m->mnt, 0755) != 0)
        return -1;
    if (pl_mount(m) != 0) {
        printf("SKIP: plfs could not mount %s (FUSE unusable in this container?)\n", m->mnt);
        pl_teardown(m);
        return PL_SKIP;
    }
    /* A test that dies (exit) leaves nothing mounted behind. */
    at_exit = m;
    atexit(teardown_at_exit);
    return 0;
}

void pl_teardown(struct plmount *m)
{
    char cmd[128];

    if (getpid() != m->owner)
        return; /* a child's exit */

    pl_unmount(m);
    if (m->top[0] == '\0')
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", m->top);
    if (system(cmd) != 0)
        fprintf(stderr, "plmount: could not remove %s\n", m->top);
    m->top[0] = '\0';
}
