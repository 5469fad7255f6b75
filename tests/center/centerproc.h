/* The reference center run from the center tests (test_protocol.c,
 * test_room_answers.c): a command, or `serve` on an ephemeral port. */
#ifndef EXAMROOM_TESTS_CENTERPROC_H
#define EXAMROOM_TESTS_CENTERPROC_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

/* Runs "EXAMCENTER --data DATA ARGS" (ARGS from fmt, through the shell):
 * its first line of stdout into out (may be NULL); its exit status, or -1. */
int centerproc_vrun(const char *examcenter, const char *data, char *out, size_t outsz,
                    const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* Starts "EXAMCENTER --data DATA serve --listen 127.0.0.1:0 EXTRA" and reads
 * its port from the ready line: url is "https://localhost:PORT". The pid,
 * or -1 when it did not say it was listening. */
pid_t centerproc_start(const char *examcenter, const char *data, const char *extra, char *url,
                       size_t urlsz);

#endif
