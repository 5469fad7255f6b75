/* Mounting plfs (the filesystem that forgets what was never synced) for a
 * power-cut test: mount, cut, unmount, mount again. */
#ifndef EXAMROOM_PLMOUNT_H
#define EXAMROOM_PLMOUNT_H

#include <sys/types.h>

#define PL_SKIP 77 /* ctest's SKIP_RETURN_CODE */

struct plmount {
    char plfs[512];    /* the plfs program */
    char top[64];      /* a fresh directory under /tmp holding the two below */
    char backing[128]; /* what a power cut keeps */
    char mnt[128];     /* the mount point */
    pid_t pid;         /* the plfs server while mounted, else 0 */
    pid_t owner;       /* the process that set it up (and tears it down) */
};

/* Makes the directories and mounts; returns 0, or PL_SKIP after printing
 * why (not root, no /dev/fuse, a mount refused), or -1 on another error. */
int pl_setup(struct plmount *m, const char *plfs);
int pl_mount(struct plmount *m);
/* The power cut: from now on every operation on the mount fails (EIO). */
void pl_cut(struct plmount *m);
/* Unmounts (lazily: processes that still hold files may be dying) and waits
 * for the server. */
void pl_unmount(struct plmount *m);
/* Cut, unmount, mount again: the mount now shows only what was synced. */
int pl_power_cycle(struct plmount *m);
/* Unmounts and removes every file of the test. */
void pl_teardown(struct plmount *m);

#endif
