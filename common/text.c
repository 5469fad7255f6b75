/* Text normalisation for what people type, and directories. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int text_fold_fullwidth(const char *in, char *out, size_t outsz)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t n = 0;

    while (*p != '\0') {
        unsigned char c = *p;
        size_t take = 1;

        /* U+FF01..U+FF5E is EF BC 81..EF BC BF and EF BD 80..EF BD 9E;
         * U+3000 is E3 80 80. */
        if (p[0] == 0xEF && p[1] == 0xBC && p[2] >= 0x81 && p[2] <= 0xBF) {
            c = (unsigned char)(p[2] - 0x81 + 0x21);
            take = 3;
        } else if (p[0] == 0xEF && p[1] == 0xBD && p[2] >= 0x80 && p[2] <= 0x9E) {
            c = (unsigned char)(p[2] - 0x80 + 0x60);
            take = 3;
        } else if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) {
            c = ' ';
            take = 3;
        }
        if (n + 1 >= outsz)
            return ER_USAGE;
        out[n++] = (char)c;
        p += take;
    }
    if (n >= outsz)
        return ER_USAGE;
    out[n] = '\0';
    return (int)n;
}

int fs_sync_dir(const char *path)
{
    char dir[4096];
    size_t len = strlen(path);
    const char *slash;
    size_t n;
    int fd, rc = 0;

    /* "a/b/" names b, as "a/b" does. */
    while (len > 1 && path[len - 1] == '/')
        len--;
    n = len;
    while (n > 0 && path[n - 1] != '/')
        n--;
    slash = n > 0 ? path + n - 1 : NULL;
    n = slash ? (size_t)(slash - path) : 0;
    if (n >= sizeof(dir))
        return ER_IO;
    if (slash == NULL)
        strcpy(dir, ".");
    else if (n == 0)
        strcpy(dir, "/");
    else {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return ER_IO;
    if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP && errno != EROFS)
        rc = ER_IO;
    close(fd);
    return rc;
}

/* Makes one directory; a new one's entry is made durable in its parent. */
static int mkdir_durable(const char *path, unsigned mode)
{
    if (mkdir(path, (mode_t)mode) == 0)
        return fs_sync_dir(path);
    return errno == EEXIST ? 0 : ER_IO;
}

int fs_mkdir_p(const char *path, unsigned mode)
{
    char buf[4096];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(buf))
        return ER_IO;
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir_durable(buf, mode) < 0)
            return ER_IO;
        *p = '/';
    }
    if (mkdir_durable(buf, mode) < 0)
        return ER_IO;
    return 0;
}

int fs_write_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
    char tmp[4096 + 8];
    const char *p = data;
    int fd, ok = 1;

    if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
        return ER_IO;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
    if (fd < 0)
        return ER_IO;
    while (ok && len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        if (ok) {
            p += n;
            len -= (size_t)n;
        }
    }
    ok = ok && fsync(fd) == 0;
    ok = close(fd) == 0 && ok && rename(tmp, path) == 0;
    if (!ok)
        unlink(tmp);
    return ok ? fs_sync_dir(path) : ER_IO;
}

void hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hex_decode(const char *text, uint8_t *out, size_t n)
{
    if (strlen(text) != 2 * n)
        return ER_USAGE;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return ER_USAGE;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}
