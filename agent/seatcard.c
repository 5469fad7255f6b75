/* An ID card reader at a seat (issue 14): a reader on the room PC, driven by
 * examroom card-reader there (cmd_cardreader.c), paired with the room as a
 * device of its own kind for one seat, the proctor approving it as they
 * approve a terminal. The agent keeps, per seat and in memory, the last card
 * read there; the seat's terminal shows it (the ID number masked) to fill in
 * the sign-in form, and a sign-in with "card": true takes its ID number from
 * here, never from the browser (signin.c). A card whose name differs from
 * the roster's leaves the door's incident when its holder first signs in.
 *
 * State, not events: the reader sends the last card it read (and how long
 * ago) at once and then every 5 s, so a lost call or a restarted daemon
 * heals within 5 s. Each read has its own id: a card is good for one
 * sign-in, and the same read sent again does not bring it back. A card is
 * good for SEATCARD_TTL_S after it was read, and only while its reader
 * keeps calling. Taking a card off is not reported: a SAM reader's find
 * does not answer for a card it has just read (ISO 14443 B: the card stays
 * active), so "no card" cannot tell a card taken off from one lying there.
 *
 * Keyed exactly: a reader's token finds its own seat only and writes that
 * seat's card only, and only from the address of that seat's terminal (it
 * runs on the same PC): a reader approved by mistake for a seat whose PC it
 * is not on is refused. A terminal reads its own seat's card only. */
#include "api.h"
#include "http.h"
#include "idreader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEATS           10000 /* seat numbers 1..9999 (the store's limit) */
#define READER_ALIVE_MS 15000 /* a reader calls every 5 s: past this it is gone */

/* What the candidate reads at the terminal and the reader prints (zh-CN, in
 * one place). */
#define MSG_NOT_PAIRED                                                                                                             \
    "这个阅读器尚未配对，或配对已被撤销。请重新运行 examroom card-reader 申请配对，并请监考老师" \
    "批准为本座位的阅读器。"
#define MSG_BODY "阅读器发来的数据无效。请把身份证重新放到阅读器上；仍不行请手工输入证件号码。"
#define MSG_ELSEWHERE                                                                                                                 \
    "这个阅读器不在本座位的考生机上（地址与 %d 号座位的考生机不同），读到的身份证不予采用。" \
    "请监考老师撤销它（examroom pair revoke %d --reader），在正确的座位重新配对。"
#define MSG_NO_TERMINAL                                                                            \
    "%d 号座位的考生机还没有连上考场服务器，暂不能使用阅读器。请先打开考生机的签到页面。"
#define MSG_READY  "已读取身份证：%s。请输入准考证号，然后点击“登录”。"
#define MSG_BAD_ID "身份证号码无法识别。请取下身份证再放一次；仍不行请手工输入证件号码。"
#define MSG_NOT_ON_ROSTER                                                                          \
    "这张身份证（%s）不在本考场的考生名单上。请核对准考证上的考场，或联系监考老师。"
#define MSG_NONE          "阅读器正常，尚未读到身份证。"
#define MSG_TERM_UNPAIRED "这台电脑尚未配对，请联系监考老师。"

struct seat_card {
    char read[API_READ_MAX + 1]; /* this read's id, as the reader named it */
    int64_t at_ms;               /* when it was read (daemon clock) */
    int ready;                   /* its ID number is valid and on the roster */
    int used;                    /* a sign-in took it */
    struct idr_card card;
    char outcome[16];
    char message[400];
};

struct seat_cards {
    int64_t reader_seen_ms[SEATS];
    struct ratelimit_key terminal_addr[SEATS]; /* where each seat's terminal last called from */
    struct seat_card *card[SEATS];
};

static int64_t ttl_ms(void)
{
    static int64_t ms;

    /* A test knob, as EXAMROOM_TEST_SILENT_SECONDS: only tests set it. */
    if (ms == 0) {
        const char *v = getenv("EXAMROOM_TEST_CARD_SECONDS");
        long s = v != NULL ? strtol(v, NULL, 10) : 0;

        ms = (int64_t)SEATCARD_TTL_S * 1000;
        if (s >= 1 && s <= 3600) {
            log_warn("EXAMROOM_TEST_CARD_SECONDS=%ld: a seat's card is good for %ld s (tests only)",
                     s, s);
            ms = (int64_t)s * 1000;
        }
    }
    return ms;
}

static struct seat_cards *cards_of(struct daemon *d)
{
    if (d->seat_cards == NULL)
        d->seat_cards = calloc(1, sizeof(*d->seat_cards));
    return d->seat_cards;
}

void seatcard_free(struct daemon *d)
{
    if (d->seat_cards == NULL)
        return;
    for (size_t i = 0; i < SEATS; i++)
        free(d->seat_cards->card[i]);
    free(d->seat_cards);
    d->seat_cards = NULL;
}

static int seat_ok(int seat)
{
    return seat > 0 && seat < SEATS;
}

void seatcard_reader_gone(struct daemon *d, int seat)
{
    if (d->seat_cards == NULL || !seat_ok(seat))
        return;
    free(d->seat_cards->card[seat]);
    d->seat_cards->card[seat] = NULL;
    d->seat_cards->reader_seen_ms[seat] = 0;
}

static int reader_alive(struct daemon *d, int seat, int64_t now)
{
    return d->seat_cards != NULL && d->seat_cards->reader_seen_ms[seat] > 0 &&
           now - d->seat_cards->reader_seen_ms[seat] < READER_ALIVE_MS;
}

/* The card on seat's reader that a sign-in may still take, or NULL. */
static struct seat_card *usable(struct daemon *d, int seat)
{
    int64_t now = daemon_now_ms();
    struct seat_card *c;

    if (d->seat_cards == NULL || !seat_ok(seat) || !reader_alive(d, seat, now))
        return NULL;
    c = d->seat_cards->card[seat];
    if (c == NULL || c->used || now - c->at_ms >= ttl_ms())
        return NULL;
    return c;
}

int seatcard_get(struct daemon *d, int seat, struct idr_card *card)
{
    struct seat_card *c = usable(d, seat);

    if (c == NULL || !c->ready)
        return ER_STORE_NOT_FOUND;
    *card = c->card;
    return 0;
}

void seatcard_used(struct daemon *d, int seat)
{
    struct seat_card *c = usable(d, seat);

    if (c != NULL)
        c->used = 1;
}

void seatcard_terminal_call(struct http_req *q, int seat)
{
    struct ratelimit_key key;
    struct seat_cards *s;

    if (!seat_ok(seat) || http_client_key(q->conn, &key) < 0 || (s = cards_of(q->d)) == NULL)
        return;
    s->terminal_addr[seat] = key;
}

/* ---- the tokens ---- */

struct device_found {
    enum store_term_kind kind;
    int seat, found;
};

static void take_device(const struct store_terminal *t, void *arg)
{
    struct device_found *f = arg;

    if (t->kind == f->kind && seat_ok(t->seat)) {
        f->seat = t->seat;
        f->found = 1;
    }
}

/* The seat of the approved device of kind holding the request's token, or 0. */
static int seat_of_token(struct http_req *q, enum store_term_kind kind)
{
    struct device_found f = {.kind = kind};
    const char *token = http_bearer(q->conn);
    uint8_t hash[STORE_HASH_LEN];

    if (token == NULL)
        return 0;
    sha256(token, strlen(token), hash);
    store_find_terminal(q->d->r.st, hash, take_device, &f);
    return f.found ? f.seat : 0;
}

/* ---- the reader's call ---- */

static void count_one(const struct store_candidate *c, void *arg)
{
    (void)c;
    (*(int *)arg)++;
}

/* What a card read at seat is: ready (its ID number is on the roster:
 * which session and whether its sign-in is open is sign-in's to say, with
 * the ticket), bad_card, or not_on_roster. */
static void judge(struct daemon *d, struct seat_card *c)
{
    char id[IDNUM_LEN + 1];
    int n = 0;

    c->ready = 0;
    if (idnum_check(c->card.id_number, id) < 0) {
        snprintf(c->outcome, sizeof(c->outcome), "bad_card");
        snprintf(c->message, sizeof(c->message), "%s", MSG_BAD_ID);
        return;
    }
    snprintf(c->card.id_number, sizeof(c->card.id_number), "%s", id);
    store_find_candidates_by_id(d->r.st, id, count_one, &n);
    if (n == 0) {
        snprintf(c->outcome, sizeof(c->outcome), "not_on_roster");
        snprintf(c->message, sizeof(c->message), MSG_NOT_ON_ROSTER, c->card.name);
        return;
    }
    c->ready = 1;
    snprintf(c->outcome, sizeof(c->outcome), "ready");
    snprintf(c->message, sizeof(c->message), MSG_READY, c->card.name);
}

static enum MHD_Result told(struct http_req *q, int seat, const char *outcome, const char *message)
{
    return daemon_reply(
        q->conn, MHD_HTTP_OK,
        json_pack("{s:i, s:s, s:s}", "seat", seat, "outcome", outcome, "message", message));
}

enum MHD_Result http_reader_card(struct http_req *q)
{
    int seat = seat_of_token(q, STORE_TERM_READER), none;
    uint8_t text[API_CARD_TEXT];
    char read[API_READ_MAX + 1], message[400];
    struct ratelimit_key from;
    struct seat_cards *s;
    struct seat_card *c, *was;
    int64_t age, now = daemon_now_ms();

    if (seat == 0)
        return daemon_error(q->conn, MHD_HTTP_UNAUTHORIZED, "not_paired", MSG_NOT_PAIRED);
    if (api_card_body(q->body, q->len, text, read, &age, &none) < 0)
        return daemon_error(q->conn, MHD_HTTP_BAD_REQUEST, "bad_card_data", MSG_BODY);
    if ((s = cards_of(q->d)) == NULL)
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "nomem", er_strerror(ER_NOMEM));
    /* From the seat's own PC only: the address its terminal calls from. */
    if (s->terminal_addr[seat].len == 0) {
        snprintf(message, sizeof(message), MSG_NO_TERMINAL, seat);
        return daemon_error(q->conn, MHD_HTTP_CONFLICT, "terminal_unseen", message);
    }
    if (http_client_key(q->conn, &from) < 0 || from.len != s->terminal_addr[seat].len ||
        memcmp(from.bytes, s->terminal_addr[seat].bytes, from.len) != 0) {
        snprintf(message, sizeof(message), MSG_ELSEWHERE, seat, seat);
        return daemon_error(q->conn, MHD_HTTP_FORBIDDEN, "reader_elsewhere", message);
    }
    s->reader_seen_ms[seat] = now;
    was = s->card[seat];
    if (none)
        return told(q, seat, "none", MSG_NONE);
    /* The same read again (the 5 s repeat): as it was. */
    if (was != NULL && strcmp(was->read, read) == 0)
        return told(q, seat, was->outcome, was->message);
    if (age >= ttl_ms())
        return told(q, seat, "none", MSG_NONE);
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "nomem", er_strerror(ER_NOMEM));
    snprintf(c->read, sizeof(c->read), "%s", read);
    c->at_ms = now - age;
    idr_decode_text(text, &c->card);
    judge(q->d, c);
    free(was);
    s->card[seat] = c;
    log_notice("seat %d: card read: %s", seat, c->outcome);
    return told(q, seat, c->outcome, c->message);
}

/* ---- the terminal's ---- */

/* "440106********5398": what the page shows of the ID number (the sign-in
 * takes the whole one from here; the page never needs it). */
static void mask(const char *id, char out[IDNUM_LEN + 1])
{
    size_t n = strnlen(id, IDNUM_LEN);

    memcpy(out, id, n);
    out[n] = '\0';
    for (size_t i = 6; n > 10 && i < n - 4; i++)
        out[i] = '*';
}

enum MHD_Result http_terminal_card(struct http_req *q)
{
    int seat = seat_of_token(q, STORE_TERM_TERMINAL);
    struct seat_card *c;
    char masked[IDNUM_LEN + 1];
    json_t *card = json_null();

    if (seat == 0)
        return daemon_error(q->conn, MHD_HTTP_UNAUTHORIZED, "not_paired", MSG_TERM_UNPAIRED);
    seat_seen(q->d, seat);
    seatcard_terminal_call(q, seat);
    c = usable(q->d, seat);
    if (c != NULL) {
        mask(c->card.id_number, masked);
        card = json_pack("{s:s, s:s, s:s, s:s, s:s?}", "read", c->read, "outcome", c->outcome,
                         "message", c->message, "name", c->card.name, "id_masked",
                         c->ready ? masked : NULL);
    }
    return daemon_reply(q->conn, MHD_HTTP_OK,
                        json_pack("{s:i, s:b, s:o}", "seat", seat, "card_reader",
                                  reader_alive(q->d, seat, daemon_now_ms()), "card", card));
}
