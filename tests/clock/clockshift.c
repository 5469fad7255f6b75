/* LD_PRELOAD'd into a program under test: its wall clock (CLOCK_REALTIME)
 * runs ahead by the seconds written in the file CLOCKSHIFT_FILE, read at
 * each call, so a test can make the system's time jump while the program
 * runs. The monotonic clock is left alone. With SLOWSYNC_MS set, each fsync
 * and fdatasync first sleeps that long, so a test can stop the program while
 * a write is on its way. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void nap(void)
{
    const char *ms = getenv("SLOWSYNC_MS");

    if (ms != NULL)
        usleep((useconds_t)atoi(ms) * 1000);
}

int fsync(int fd)
{
    static int (*real)(int);

    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "fsync");
    nap();
    return real(fd);
}

int fdatasync(int fd)
{
    static int (*real)(int);

    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "fdatasync");
    nap();
    return real(fd);
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    static int (*real)(clockid_t, struct timespec *);
    const char *path;
    long long shift = 0;
    FILE *f;
    int rc;

    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "clock_gettime");
    rc = real(id, ts);
    if (rc != 0 || id != CLOCK_REALTIME || (path = getenv("CLOCKSHIFT_FILE")) == NULL ||
        (f = fopen(path, "r")) == NULL)
        return rc;
    if (fscanf(f, "%lld", &shift) != 1)
        shift = 0;
    fclose(f);
    ts->tv_sec += (time_t)shift;
    return rc;
}
