/* ID card readers at the door (examroom serve --id-reader DEVICE): each
 * reader is a serial device (a UART or a USB serial port) opened
 * non-blocking in raw mode (115200 8N1) and driven from the loop: one
 * uv_poll_t on its descriptor and one uv_timer_t, no thread. After a SAM
 * reset it cycles find card -> select card -> read text every POLL_MS
 * while idle (docs/idreader.md); a card read goes to the door check
 * (idreader_door.c). A reader that is pulled out (EOF, EIO, hang-up) is
 * closed (its poll handle freed in the close callback) and opened again
 * every RETRY_MS; a reader that does not answer within REPLY_MS is reset.
 * Each reader's state is in GET /admin/v1/room ("id_readers") and so in
 * examroom status.
 *
 * The same driver runs a seat's reader in examroom card-reader (on the room
 * PC, cmd_cardreader.c): what a card read does is the set's callbacks. */
#define _DEFAULT_SOURCE /* cfmakeraw */
#include "http.h"
#include "idreader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define POLL_MS  300  /* between two find-card cycles while idle */
#define RETRY_MS 1000 /* between two tries to open an absent reader */
#define REPLY_MS 1000 /* a reply later than this is none */

/* What a proctor reads of a reader (zh-CN, in one place). */
#define MSG_CONNECTED "已连接，请把身份证放在阅读器上"
#define MSG_NO_DEVICE "未连接：找不到设备 %s。请检查阅读器的 USB 线是否插好。"
#define MSG_OPEN_FAIL "无法打开设备 %s（%s）。请检查设备权限或更换 USB 口。"
#define MSG_NOT_TTY   "设备 %s 不是串口，不能作为身份证阅读器。请检查 --id-reader 的设置。"
#define MSG_UNPLUGGED "阅读器已断开（%s）。请重新插好 USB 线，系统每秒自动重试。"
#define MSG_NO_REPLY  "阅读器无应答（已 %llu 次）。请检查阅读器电源和连接线。"
#define MSG_BAD_FRAME "阅读器的应答已损坏（校验错误 %llu 次）。请检查连接线，或更换阅读器。"
#define MSG_SAM_FAIL  "阅读器安全模块复位失败（状态码 %02X）。请重新插拔阅读器。"

enum reader_state { READER_ABSENT, READER_CONNECTED, READER_ERROR };
static const char *const state_names[] = {"absent", "connected", "error"};

enum step { STEP_IDLE, STEP_RESET, STEP_FIND, STEP_SELECT, STEP_READ };

struct reader {
    struct idreaders *set;
    char path[256];
    int fd;
    uv_poll_t *poll; /* NULL while closed; freed in its close callback */
    uv_timer_t timer;
    enum step step; /* the reply awaited (STEP_IDLE: none) */
    int need_reset; /* reset the SAM before the next find */
    int have_reply; /* a reply arrived in this read */
    uint8_t sw3;    /* its status */
    struct idr_card card;
    uint8_t text[IDR_TEXT_LEN]; /* the card's text block as read */
    int card_ok;
    char last_id[sizeof(((struct idr_card *)0)->id_number)]; /* the card on it, handled */
    enum reader_state state;
    char message[320];
    struct idr_parser parser;
    uint64_t timeouts;
    json_t *last; /* the last card's outcome at the door */
};

#define READERS_MAX 8

struct idreaders {
    uv_loop_t *loop;
    const struct idr_events *ev;
    void *ctx;
    size_t n;
    int open_handles, stopping;
    struct reader r[READERS_MAX];
};

static void reader_tick(uv_timer_t *t);

static void set_state(struct reader *r, enum reader_state s, const char *message)
{
    if (r->state != s || strcmp(r->message, message) != 0)
        log_notice("id reader %s: %s (%s)", r->path, state_names[s], message);
    r->state = s;
    snprintf(r->message, sizeof(r->message), "%.*s", (int)sizeof(r->message) - 1, message);
}

static void arm(struct reader *r, uint64_t ms)
{
    if (!r->set->stopping)
        uv_timer_start(&r->timer, reader_tick, ms, 0);
}

/* ---- the device ---- */

static void on_poll_closed(uv_handle_t *h)
{
    struct reader *r = h->data;

    close(r->fd);
    r->fd = -1;
    free(h);
    r->set->open_handles--;
}

/* Pulled out, or failed: close it and try again every RETRY_MS. */
static void unplug(struct reader *r, const char *why)
{
    char message[320];

    if (r->poll != NULL) {
        uv_poll_stop(r->poll);
        uv_close((uv_handle_t *)r->poll, on_poll_closed);
        r->poll = NULL;
    }
    snprintf(message, sizeof(message), MSG_UNPLUGGED, why);
    set_state(r, READER_ABSENT, message);
    r->step = STEP_IDLE;
    r->last_id[0] = '\0';
    idr_parser_reset(&r->parser);
    arm(r, RETRY_MS);
}

static int send_command(struct reader *r, enum idr_command c, enum step next)
{
    uint8_t f[16];
    size_t n = idr_build(c, NULL, 0, f, sizeof(f));

    /* What is left of an earlier reply (a frame nobody asked for) is not
     * this command's answer. */
    tcflush(r->fd, TCIFLUSH);
    idr_parser_reset(&r->parser);
    if (write(r->fd, f, n) != (ssize_t)n) {
        unplug(r, errno != 0 ? strerror(errno) : "write");
        return -1;
    }
    r->step = next;
    arm(r, REPLY_MS);
    return 0;
}

static void take_reply(const struct idr_reply *rep, void *arg)
{
    struct reader *r = arg;

    if (r->have_reply)
        return; /* one answer a command: the rest of this read is stale */
    r->have_reply = 1;
    r->sw3 = rep->sw3;
    r->card_ok = r->step == STEP_READ && rep->sw3 == IDR_OK && idr_decode_read(rep, &r->card) == 0;
    if (r->card_ok) /* idr_decode_read checked: the lengths, then the text */
        memcpy(r->text, rep->data + 4, IDR_TEXT_LEN);
}

/* A reply to the command in flight: on to the next step. */
static void advance(struct reader *r)
{
    enum step was = r->step;

    uv_timer_stop(&r->timer);
    r->step = STEP_IDLE;
    if (!(was == STEP_RESET && r->sw3 != IDR_OK))
        set_state(r, READER_CONNECTED, MSG_CONNECTED);
    if (was == STEP_RESET) {
        if (r->sw3 != IDR_OK) {
            char message[160];

            snprintf(message, sizeof(message), MSG_SAM_FAIL, r->sw3);
            set_state(r, READER_ERROR, message);
            arm(r, RETRY_MS);
            return;
        }
        r->need_reset = 0;
    } else if (was == STEP_FIND && r->sw3 == IDR_FOUND) {
        send_command(r, IDR_SELECT_CARD, STEP_SELECT);
        return;
    } else if (was == STEP_FIND) {
        r->last_id[0] = '\0'; /* no card: the next one is new, even the same */
    } else if (was == STEP_SELECT && r->sw3 == IDR_OK) {
        send_command(r, IDR_READ_TEXT, STEP_READ);
        return;
    } else if (was == STEP_READ && r->card_ok) {
        /* Once per card put down: it stays on the reader for a while. */
        if (strcmp(r->card.id_number, r->last_id) != 0) {
            snprintf(r->last_id, sizeof(r->last_id), "%s", r->card.id_number);
            json_decref(r->last);
            r->last = r->set->ev->card(r->set->ctx, r->path, &r->card, r->text);
        }
    }
    arm(r, POLL_MS);
}

static void on_readable(uv_poll_t *p, int status, int events)
{
    struct reader *r = p->data;
    uint64_t bad = r->parser.bad_checksum;
    uint8_t buf[4096];
    ssize_t n;

    if (status < 0) {
        unplug(r, uv_strerror(status));
        return;
    }
    r->have_reply = 0;
    for (;;) {
        n = read(r->fd, buf, sizeof(buf));
        if (n > 0) {
            idr_feed(&r->parser, buf, (size_t)n, take_reply, r);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        break;
    }
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        unplug(r, n == 0 ? "EOF" : strerror(errno));
        return;
    }
    if ((events & UV_DISCONNECT) != 0) {
        unplug(r, "hang-up");
        return;
    }
    if (r->have_reply && r->step != STEP_IDLE)
        advance(r);
    else if (r->parser.bad_checksum > bad && r->step != STEP_IDLE) {
        char message[200];

        snprintf(message, sizeof(message), MSG_BAD_FRAME,
                 (unsigned long long)r->parser.bad_checksum);
        set_state(r, READER_ERROR, message);
    }
}

/* Opens the device raw at 115200 8N1. 0, or -1 with the state set. */
static int open_device(struct reader *r)
{
    struct termios t;
    char message[400];
    int fd = open(r->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0) {
        if (errno == ENOENT)
            snprintf(message, sizeof(message), MSG_NO_DEVICE, r->path);
        else
            snprintf(message, sizeof(message), MSG_OPEN_FAIL, r->path, strerror(errno));
        set_state(r, errno == ENOENT ? READER_ABSENT : READER_ERROR, message);
        return -1;
    }
    if (tcgetattr(fd, &t) < 0) {
        snprintf(message, sizeof(message), MSG_NOT_TTY, r->path);
        set_state(r, READER_ERROR, message);
        close(fd);
        return -1;
    }
    cfmakeraw(&t);
    cfsetispeed(&t, B115200);
    cfsetospeed(&t, B115200);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB);
    /* VMIN 1 (cfmakeraw's): with O_NONBLOCK, no data is EAGAIN; with VMIN
     * 0 it would be a read of 0, which is how a hang-up shows. */
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    tcsetattr(fd, TCSANOW, &t);
    r->poll = malloc(sizeof(*r->poll));
    if (r->poll == NULL || uv_poll_init(r->set->loop, r->poll, fd) < 0) {
        free(r->poll);
        r->poll = NULL;
        close(fd);
        set_state(r, READER_ERROR, er_strerror(ER_NOMEM));
        return -1;
    }
    r->fd = fd;
    r->poll->data = r;
    r->set->open_handles++;
    uv_poll_start(r->poll, UV_READABLE | UV_DISCONNECT, on_readable);
    r->need_reset = 1;
    log_notice("id reader %s: opened", r->path);
    return 0;
}

static void reader_tick(uv_timer_t *t)
{
    struct reader *r = t->data;

    if (r->poll == NULL) {
        if (open_device(r) < 0) {
            arm(r, RETRY_MS);
            return;
        }
    } else if (r->step != STEP_IDLE) {
        /* No (valid) answer in time: the reader is reset before the next
         * find. */
        char message[200];

        r->timeouts++;
        if (r->parser.bad_checksum > 0)
            snprintf(message, sizeof(message), MSG_BAD_FRAME,
                     (unsigned long long)r->parser.bad_checksum);
        else
            snprintf(message, sizeof(message), MSG_NO_REPLY, (unsigned long long)r->timeouts);
        set_state(r, READER_ERROR, message);
        r->step = STEP_IDLE;
        r->need_reset = 1;
        arm(r, POLL_MS);
        return;
    }
    if (r->need_reset)
        send_command(r, IDR_RESET_SAM, STEP_RESET);
    else
        send_command(r, IDR_FIND_CARD, STEP_FIND);
}

/* ---- the set ---- */

int idr_set_start(uv_loop_t *loop, char *const *paths, size_t n, const struct idr_events *ev,
                  void *ctx, struct idreaders **out)
{
    struct idreaders *s;

    *out = NULL;
    if (n == 0)
        return 0;
    if (n > READERS_MAX)
        return ER_USAGE;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ER_NOMEM;
    s->loop = loop;
    s->ev = ev;
    s->ctx = ctx;
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        struct reader *r = &s->r[i];

        r->set = s;
        r->fd = -1;
        snprintf(r->path, sizeof(r->path), "%s", paths[i]);
        idr_parser_init(&r->parser);
        uv_timer_init(loop, &r->timer);
        r->timer.data = r;
        s->open_handles++;
        uv_timer_start(&r->timer, reader_tick, 0, 0);
    }
    *out = s;
    return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    struct reader *r = h->data;

    r->set->open_handles--;
}

void idr_set_stop(struct idreaders *s)
{
    if (s == NULL || s->stopping)
        return;
    s->stopping = 1;
    for (size_t i = 0; i < s->n; i++) {
        struct reader *r = &s->r[i];

        if (r->poll != NULL) {
            uv_poll_stop(r->poll);
            uv_close((uv_handle_t *)r->poll, on_poll_closed);
            r->poll = NULL;
        }
        uv_timer_stop(&r->timer);
        uv_close((uv_handle_t *)&r->timer, on_timer_closed);
    }
}

void idr_set_free(struct idreaders *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        json_decref(s->r[i].last);
    free(s);
}

json_t *idr_set_json(struct idreaders *s)
{
    json_t *list = json_array();

    for (size_t i = 0; s != NULL && i < s->n; i++) {
        struct reader *r = &s->r[i];

        json_array_append_new(list,
                              json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:O?}", "device",
                                        r->path, "state", state_names[r->state], "message",
                                        r->message, "frames", (json_int_t)r->parser.frames,
                                        "bad_checksum", (json_int_t)r->parser.bad_checksum,
                                        "bad_length", (json_int_t)r->parser.bad_length, "garbage",
                                        (json_int_t)r->parser.garbage, "timeouts",
                                        (json_int_t)r->timeouts, "last", r->last));
    }
    return list;
}

/* ---- the door's readers (serve --id-reader) ---- */

static json_t *at_door(void *ctx, const char *device, const struct idr_card *card,
                       const uint8_t text[IDR_TEXT_LEN])
{
    (void)text;
    return door_card(ctx, device, card);
}

static const struct idr_events door_events = {.card = at_door};

int idreaders_start(struct daemon *d, char *const *paths, size_t n)
{
    return idr_set_start(&d->r.loop, paths, n, &door_events, d, &d->readers);
}

void idreaders_stop(struct daemon *d)
{
    idr_set_stop(d->readers);
}

void idreaders_free(struct daemon *d)
{
    idr_set_free(d->readers);
    d->readers = NULL;
}

json_t *idreaders_json(struct daemon *d)
{
    return idr_set_json(d->readers);
}
