/* Logging to stderr, in journald's "<N>" form when stderr is the journal. */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *log_program = "examroom";
static enum log_level log_level_max = LOG_LEVEL_INFO;
static int log_to_journal;

static const char *level_names[] = {
    [LOG_LEVEL_ERROR] = "error", [LOG_LEVEL_WARN] = "warn",   [LOG_LEVEL_NOTICE] = "notice",
    [LOG_LEVEL_INFO] = "info",   [LOG_LEVEL_DEBUG] = "debug",
};

/* systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connected to
 * stderr; the stream is the journal only if stderr is still that file (a
 * child whose stderr was redirected inherits the variable too). */
void log_detect_journal(void)
{
    const char *env = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;

    log_to_journal = 0;
    if (env == NULL || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
        return;
    if (fstat(STDERR_FILENO, &st) != 0)
        return;
    log_to_journal = (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(const char *program)
{
    const char *env = getenv("EXAMROOM_LOG");

    if (program != NULL)
        log_program = program;
    /* A command's output is for a person: routine lines stay out of it
     * unless asked for (--verbose, or EXAMROOM_LOG). Daemons raise it. */
    log_level_max = LOG_LEVEL_NOTICE;
    if (env != NULL) {
        for (int l = LOG_LEVEL_ERROR; l <= LOG_LEVEL_DEBUG; l++)
            if (strcmp(env, level_names[l]) == 0)
                log_level_max = (enum log_level)l;
    }
    log_detect_journal();
}

void log_set_level(enum log_level level)
{
    log_level_max = level;
}

enum log_level log_get_level(void)
{
    return log_level_max;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
    char line[1024];
    int saved_errno = errno;

    if (level < LOG_LEVEL_ERROR)
        level = LOG_LEVEL_ERROR;
    if (level > log_level_max)
        return;
    if (level > LOG_LEVEL_DEBUG)
        level = LOG_LEVEL_DEBUG;
    vsnprintf(line, sizeof(line), fmt, ap);
    if (log_to_journal) {
        /* journald adds its own timestamp and the unit's name. */
        fprintf(stderr, "<%d>%s\n", (int)level, line);
    } else {
        char stamp[32];
        struct timespec ts;
        struct tm tm;

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
        fprintf(stderr, "%s.%03ldZ %s %s: %s\n", stamp, ts.tv_nsec / 1000000L, log_program,
                level_names[level], line);
    }
    errno = saved_errno;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}
