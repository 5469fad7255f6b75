/* An ID card reader at a seat (issue 14): a reader on the room PC, driven by
 * examroom card-reader there (cmd_cardreader.c), paired with the room as a
 * device of its own kind for one seat, the proctor approving it as they
 * approve a terminal. It sends each card put on it (the card's text block,
 * decoded here, by the same code as the door's) and each card taken off.
 * The agent keeps, per seat and in memory, the card lying on the reader
 * now; the seat's terminal reads it to fill in the sign-in form's ID
 * number, and a sign-in with "card": true takes its ID number from here,
 * never from the browser (signin.c). A card's name that differs from the
 * roster's leaves the same incident as at the door once the sign-in names
 * the candidate.
 *
 * Keyed exactly: a reader's token finds its own seat only, and writes that
 * seat's card only; a terminal reads its own seat's only. */
#include "api.h"
#include "http.h"
#include "idreader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEATS           10000 /* seat numbers 1..9999 (the store's limit) */
#define READER_ALIVE_MS 15000 /* a reader calls every 5 s: past this it is gone */

/* What the candidate reads at the terminal, and the reader's log (zh-CN, in
 * one place). */
#define MSG_NOT_PAIRED                                                                                                             \
    "这个读卡器尚未配对，或配对已被撤销。请重新运行 examroom card-reader 申请配对，并请监考老师" \
    "批准为本座位的读卡器。"
#define MSG_BODY   "读卡器发来的数据无效。请把身份证重新放到阅读器上；仍不行请手工输入身份证号码。"
#define MSG_READY  "已读取身份证：%s。请输入准考证号，然后点击“登录”。"
#define MSG_BAD_ID "身份证号码无法识别。请把身份证重新放到阅读器上；仍不行请手工输入身份证号码。"
#define MSG_NOT_ON_ROSTER                                                                          \
    "这张身份证（%s）不在本考场的考生名单上。请核对准考证上的考场，或联系监考老师。"
#define MSG_REMOVED       "身份证已取走。"
#define MSG_TERM_UNPAIRED "这台电脑尚未配对，请联系监考老师。"

struct seat_card {
    int64_t at_ms;
    int ready; /* its ID number is valid and on the roster */
    struct idr_card card;
    char outcome[16];
    char message[400];
};

struct seat_cards {
    int64_t reader_seen_ms[SEATS];
    struct seat_card *card[SEATS];
};

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

void seatcard_clear(struct daemon *d, int seat)
{
    if (d->seat_cards == NULL || seat <= 0 || seat >= SEATS)
        return;
    free(d->seat_cards->card[seat]);
    d->seat_cards->card[seat] = NULL;
}

/* The card on seat's reader, unless it has lain there too long. */
static struct seat_card *card_at(struct daemon *d, int seat)
{
    struct seat_card *c;

    if (d->seat_cards == NULL || seat <= 0 || seat >= SEATS)
        return NULL;
    c = d->seat_cards->card[seat];
    if (c != NULL && daemon_now_ms() - c->at_ms > (int64_t)SEATCARD_TTL_S * 1000) {
        seatcard_clear(d, seat);
        c = NULL;
    }
    return c;
}

int seatcard_get(struct daemon *d, int seat, struct idr_card *card)
{
    struct seat_card *c = card_at(d, seat);

    if (c == NULL || !c->ready)
        return ER_STORE_NOT_FOUND;
    *card = c->card;
    return 0;
}

/* ---- the tokens ---- */

struct device_found {
    enum store_term_kind kind;
    int seat, found;
};

static void take_device(const struct store_terminal *t, void *arg)
{
    struct device_found *f = arg;

    if (t->kind == f->kind && t->seat > 0 && t->seat < SEATS) {
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

/* ---- the reader's calls ---- */

enum MHD_Result http_reader(struct http_req *q)
{
    int seat = seat_of_token(q, STORE_TERM_READER);
    struct seat_cards *s;

    if (seat == 0)
        return daemon_error(q->conn, MHD_HTTP_UNAUTHORIZED, "not_paired", MSG_NOT_PAIRED);
    if ((s = cards_of(q->d)) == NULL)
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "nomem", er_strerror(ER_NOMEM));
    s->reader_seen_ms[seat] = daemon_now_ms();
    return daemon_reply(q->conn, MHD_HTTP_OK, json_pack("{s:i}", "seat", seat));
}

static void count_one(const struct store_candidate *c, void *arg)
{
    (void)c;
    (*(int *)arg)++;
}

/* What a card put on seat's reader is: ready (its ID number is on the
 * roster: which session and whether its sign-in is open is sign-in's to
 * say, with the ticket), bad_card, or not_on_roster. */
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

enum MHD_Result http_reader_card(struct http_req *q)
{
    int seat = seat_of_token(q, STORE_TERM_READER), removed;
    uint8_t text[API_CARD_TEXT];
    struct seat_cards *s;
    struct seat_card *c;

    if (seat == 0)
        return daemon_error(q->conn, MHD_HTTP_UNAUTHORIZED, "not_paired", MSG_NOT_PAIRED);
    if (api_card_body(q->body, q->len, text, &removed) < 0)
        return daemon_error(q->conn, MHD_HTTP_BAD_REQUEST, "bad_card_data", MSG_BODY);
    if ((s = cards_of(q->d)) == NULL || (c = calloc(1, sizeof(*c))) == NULL)
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "nomem", er_strerror(ER_NOMEM));
    s->reader_seen_ms[seat] = daemon_now_ms();
    if (removed) {
        free(c);
        seatcard_clear(q->d, seat);
        log_notice("seat %d: the card was taken off the reader", seat);
        return daemon_reply(q->conn, MHD_HTTP_OK,
                            json_pack("{s:i, s:s, s:s}", "seat", seat, "outcome", "removed",
                                      "message", MSG_REMOVED));
    }
    idr_decode_text(text, &c->card);
    c->at_ms = daemon_now_ms();
    judge(q->d, c);
    free(s->card[seat]);
    s->card[seat] = c;
    log_notice("seat %d: card read: %s", seat, c->outcome);
    return daemon_reply(
        q->conn, MHD_HTTP_OK,
        json_pack("{s:i, s:s, s:s}", "seat", seat, "outcome", c->outcome, "message", c->message));
}

/* ---- the terminal's ---- */

enum MHD_Result http_terminal_card(struct http_req *q)
{
    int seat = seat_of_token(q, STORE_TERM_TERMINAL);
    struct seat_card *c;
    json_t *card = json_null();

    if (seat == 0)
        return daemon_error(q->conn, MHD_HTTP_UNAUTHORIZED, "not_paired", MSG_TERM_UNPAIRED);
    seat_seen(q->d, seat);
    c = card_at(q->d, seat);
    /* The ID number only of a card on the roster: it goes into the form. */
    if (c != NULL)
        card = json_pack("{s:s, s:s, s:s, s:s?}", "outcome", c->outcome, "message", c->message,
                         "name", c->card.name, "id_number", c->ready ? c->card.id_number : NULL);
    return daemon_reply(
        q->conn, MHD_HTTP_OK,
        json_pack("{s:i, s:b, s:o}", "seat", seat, "card_reader",
                  q->d->seat_cards != NULL &&
                      daemon_now_ms() - q->d->seat_cards->reader_seen_ms[seat] < READER_ALIVE_MS,
                  "card", card));
}
