/* notifyd SOCKET OUT [SECONDS]: stands in for systemd's end of the notify
 * protocol. Binds a datagram socket at SOCKET (mode 0777: the daemon under
 * test runs as another user), then writes the first datagram it receives to
 * OUT, within SECONDS (30). For tests/deb/deb.sh, which checks that
 * `examroom serve` says READY=1 once it listens. Exit 1 on any error or
 * on the timeout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct timeval tv = {.tv_sec = argc > 3 ? atoi(argv[3]) : 30};
    char buf[4096];
    ssize_t n;
    FILE *out;
    int fd;

    if (argc < 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "usage: notifyd SOCKET OUT [SECONDS]\n");
        return 2;
    }
    memcpy(sa.sun_path, argv[1], strlen(argv[1]));
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(argv[1], 0777) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
        perror("notifyd");
        return 1;
    }
    n = recv(fd, buf, sizeof(buf), 0);
    close(fd);
    if (n < 0) {
        perror("notifyd: nothing received");
        return 1;
    }
    out = fopen(argv[2], "w");
    if (out == NULL || fwrite(buf, 1, (size_t)n, out) != (size_t)n || fclose(out) != 0) {
        perror("notifyd");
        return 1;
    }
    return 0;
}
