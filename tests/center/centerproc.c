/* The reference center run from the center tests (centerproc.h). */
#include "centerproc.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int centerproc_vrun(const char *examcenter, const char *data, char *out, size_t outsz,
                    const char *fmt, va_list ap)
{
    char args[512], cmd[1024], line[512] = "";
    FILE *p;
    int status;

    vsnprintf(args, sizeof(args), fmt, ap);
    snprintf(cmd, sizeof(cmd), "%s --data %s %s", examcenter, data, args);
    p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    if (fgets(line, sizeof(line), p) != NULL)
        line[strcspn(line, "\n")] = '\0';
    while (fgetc(p) != EOF)
        ;
    status = pclose(p);
    if (out != NULL)
        snprintf(out, outsz, "%s", line);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

pid_t centerproc_start(const char *examcenter, const char *data, const char *extra, char *url,
                       size_t urlsz)
{
    int fds[2];
    pid_t pid;
    char line[256] = "";
    FILE *f;

    if (pipe(fds) != 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        char cmd[512];

        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        snprintf(cmd, sizeof(cmd), "exec %s --data %s serve --listen 127.0.0.1:0 %s", examcenter,
                 data, extra);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        return -1;
    }
    f = fdopen(fds[0], "r");
    if (f == NULL || fgets(line, sizeof(line), f) == NULL ||
        strstr(line, "listening on https://127.0.0.1:") == NULL) {
        if (f != NULL)
            fclose(f);
        return -1;
    }
    fclose(f);
    snprintf(url, urlsz, "https://localhost:%s", strrchr(line, ':') + 1);
    url[strcspn(url, "\n")] = '\0';
    return pid;
}
