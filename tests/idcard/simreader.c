/* simreader LINK CONTROL: a simulated ID card reader on a pseudo-terminal,
 * for the tests. It makes a pty, points the symlink LINK at its device and
 * answers the SAM protocol (docs/idreader.md) on it. What it does is read
 * from the file CONTROL every 50 ms, lines of key=value:
 *   card=NAME|IDNUMBER   the card on the reader (absent or empty: none)
 *   mode=normal          replies as they should be; or
 *        badsum          every reply with its checksum wrong
 *        split           every reply in pieces of 1-7 bytes, 2 ms apart
 *        merged          every reply with an unasked "no card" reply after
 *                        it, in one write
 *        garbage         noise (with broken preambles) around every reply
 *   plugged=1            plugged in; 0: the pty is closed and LINK removed,
 *                        as a reader pulled out; 1 again: a new pty at LINK
 * Every command it answers is logged to stdout ("cmd 2001 card"). Write
 * CONTROL whole (a temporary file renamed over it). Ends on SIGTERM. */
#define _GNU_SOURCE
#include "idreader.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

struct control {
    char name[256], id[256], mode[256];
    int card, plugged;
};

static void on_term(int sig)
{
    (void)sig;
    stopping = 1;
}

static void read_control(const char *path, struct control *c)
{
    char line[256];
    FILE *f = fopen(path, "r");

    *c = (struct control){.plugged = 1};
    strcpy(c->mode, "normal");
    if (f == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL) {
        char *bar;

        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "card=", 5) == 0 && (bar = strchr(line + 5, '|')) != NULL) {
            *bar = '\0';
            snprintf(c->name, sizeof(c->name), "%s", line + 5);
            snprintf(c->id, sizeof(c->id), "%s", bar + 1);
            c->card = 1;
        } else if (strncmp(line, "mode=", 5) == 0) {
            snprintf(c->mode, sizeof(c->mode), "%s", line + 5);
        } else if (strncmp(line, "plugged=", 8) == 0) {
            c->plugged = atoi(line + 8);
        }
    }
    fclose(f);
}

static int plug(const char *link, int *slave)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    struct termios t;
    char tmp[4096];

    if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0) {
        perror("simreader: pty");
        exit(1);
    }
    /* Our own hold on the slave: raw from the start (no echo), and the
     * master never reads EIO while the daemon has it closed. */
    *slave = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (*slave < 0 || tcgetattr(*slave, &t) < 0) {
        perror("simreader: slave");
        exit(1);
    }
    cfmakeraw(&t);
    tcsetattr(*slave, TCSANOW, &t);
    snprintf(tmp, sizeof(tmp), "%s.new", link);
    unlink(tmp);
    if (symlink(ptsname(m), tmp) < 0 || rename(tmp, link) < 0) {
        perror("simreader: symlink");
        exit(1);
    }
    fcntl(m, F_SETFL, O_NONBLOCK);
    return m;
}

static void put(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EAGAIN) {
            usleep(1000);
            continue;
        }
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* A reply frame: 00 00 sw3 and data. */
static size_t reply(uint8_t sw3, const uint8_t *data, size_t n, uint8_t *out)
{
    size_t len = 3 + n + 1;

    memcpy(out, (const uint8_t[]){0xaa, 0xaa, 0xaa, 0x96, 0x69}, 5);
    out[5] = (uint8_t)(len >> 8);
    out[6] = (uint8_t)len;
    out[7] = out[8] = 0;
    out[9] = sw3;
    if (n > 0)
        memcpy(out + 10, data, n);
    out[10 + n] = idr_xor(out + 5, 5 + n);
    return 11 + n;
}

static void send_reply(int fd, const struct control *c, uint8_t *f, size_t n)
{
    static const uint8_t noise[] = {0x00, 0xaa, 0xaa, 0xaa, 0x96, 0x69, 0x00, 0x13, 0xaa, 0x96};
    uint8_t buf[IDR_FRAME_MAX * 2 + 64];
    size_t k = 0;

    if (strcmp(c->mode, "badsum") == 0)
        f[n - 1] ^= 0x5a;
    if (strcmp(c->mode, "garbage") == 0) {
        memcpy(buf, noise, sizeof(noise));
        k = sizeof(noise);
    }
    memcpy(buf + k, f, n);
    k += n;
    if (strcmp(c->mode, "merged") == 0)
        k += reply(IDR_NO_CARD, NULL, 0, buf + k);
    if (strcmp(c->mode, "garbage") == 0) {
        memcpy(buf + k, noise, 7);
        k += 7;
    }
    if (strcmp(c->mode, "split") == 0) {
        for (size_t i = 0; i < k;) {
            size_t step = (size_t)(rand() % 7) + 1;

            if (step > k - i)
                step = k - i;
            put(fd, buf + i, step);
            i += step;
            usleep(2000);
        }
        return;
    }
    put(fd, buf, k);
}

static void answer(int fd, unsigned cmd, const struct control *c)
{
    uint8_t f[IDR_FRAME_MAX], data[4 + IDR_TEXT_LEN + IDR_PHOTO_LEN] = {0};
    struct idr_card card = {0};
    size_t n;

    switch (cmd) {
    case IDR_RESET_SAM:
    case IDR_SAM_STATUS:
        n = reply(IDR_OK, NULL, 0, f);
        break;
    case IDR_FIND_CARD:
        n = c->card ? reply(IDR_FOUND, data, 4, f) : reply(IDR_NO_CARD, NULL, 0, f);
        break;
    case IDR_SELECT_CARD:
        n = c->card ? reply(IDR_OK, data, 8, f) : reply(IDR_SELECT_FAIL, NULL, 0, f);
        break;
    case IDR_READ_TEXT:
        if (strlen(c->name) >= sizeof(card.name) || strlen(c->id) >= sizeof(card.id_number)) {
            n = reply(IDR_READ_FAIL, NULL, 0, f);
            break;
        }
        memcpy(card.name, c->name, strlen(c->name) + 1);
        memcpy(card.id_number, c->id, strlen(c->id) + 1);
        strcpy(card.sex, "1");
        strcpy(card.nation, "01");
        strcpy(card.birth, "19900101");
        strcpy(card.address, "北京市东城区测试街1号");
        strcpy(card.issuer, "北京市公安局东城分局");
        strcpy(card.valid_from, "20200101");
        strcpy(card.valid_to, "20400101");
        data[0] = IDR_TEXT_LEN >> 8;
        data[2] = IDR_PHOTO_LEN >> 8;
        if (!c->card || idr_encode_text(&card, data + 4) < 0) {
            n = reply(IDR_READ_FAIL, NULL, 0, f);
            break;
        }
        n = reply(IDR_OK, data, sizeof(data), f);
        break;
    default:
        n = reply(IDR_BAD_COMMAND, NULL, 0, f);
    }
    printf("cmd %04x %s %s\n", cmd, c->card ? "card" : "none", c->mode);
    fflush(stdout);
    send_reply(fd, c, f, n);
}

/* Takes every whole command frame out of buf (n bytes). */
static size_t commands(int fd, uint8_t *buf, size_t n, const struct control *c)
{
    size_t i = 0;

    while (n - i >= 10) {
        if (memcmp(buf + i, "\xaa\xaa\xaa\x96\x69\x00\x03", 7) != 0 ||
            idr_xor(buf + i + 5, 4) != buf[i + 9]) {
            i++;
            continue;
        }
        answer(fd, (unsigned)buf[i + 7] << 8 | buf[i + 8], c);
        i += 10;
    }
    memmove(buf, buf + i, n - i);
    return n - i;
}

int main(int argc, char **argv)
{
    struct control c;
    uint8_t buf[4096];
    size_t have = 0;
    int m = -1, slave = -1;

    if (argc != 3) {
        fprintf(stderr, "usage: simreader LINK CONTROL\n");
        return 2;
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    srand((unsigned)time(NULL));
    while (!stopping) {
        struct pollfd p = {.fd = m, .events = POLLIN};

        read_control(argv[2], &c);
        if (c.plugged && m < 0) {
            m = plug(argv[1], &slave);
            have = 0;
            printf("plugged\n");
            fflush(stdout);
        } else if (!c.plugged && m >= 0) {
            unlink(argv[1]);
            close(slave);
            close(m);
            m = slave = -1;
            printf("unplugged\n");
            fflush(stdout);
        }
        if (poll(&p, m >= 0 ? 1 : 0, 50) > 0 && (p.revents & POLLIN)) {
            ssize_t r = read(m, buf + have, sizeof(buf) - have);

            if (r > 0)
                have = commands(m, buf, have + (size_t)r, &c);
        }
    }
    if (m >= 0)
        unlink(argv[1]);
    return 0;
}
