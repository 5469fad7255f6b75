/* The door check (入场核验): a card read by a reader at the door is matched
 * against the roster by its ID number, in the session candidate_resolve()
 * picks for that candidate (signin.c's rule), whose sign-in must be open
 * now (from 30 minutes before its start to the late-admission limit). The
 * candidate is marked checked in with the time (the first read stands) and
 * told their seat; a card of another session, of nobody on this room's
 * roster, of a candidate too early, too late or recorded absent is told so
 * and nothing is written. A card whose name differs from the roster's is
 * checked in by its ID number and leaves an incident with the card's data
 * (synced to the center: a candidate-information mismatch for the center
 * to act on). Every outcome goes to the log, to the console's feed (an
 * "event: door") and to the reader's "last" in GET /admin/v1/room. */
#include "http.h"
#include "idreader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What the proctor and the candidate read at the door (zh-CN, in one place). */
#define MSG_SEAT     "第 %d 号座位：%s（准考证号 %s，场次 %s）。核验通过，请入场。"
#define MSG_AGAIN    "第 %d 号座位：%s（准考证号 %s）已于 %s 核验过，请入场。"
#define MSG_MISMATCH "证件信息与名单不符：姓名 %s（名单 %s）"
#define MSG_SEAT_MISMATCH                                                                          \
    "第 %d 号座位：%s（准考证号 %s）。" MSG_MISMATCH "，已记录，请监考老师核对。"
#define MSG_NOT_ON_ROSTER                                                                          \
    "%s（身份证号 %s）不在本考场的考生名单上：不是本考场的考生。请核对准考证上的考场和地址。"
#define MSG_OTHER_SESSION                                                                          \
    "%s（准考证号 %s）不是本场次的考生：其场次为 %s，%s 开考。请在该场次开考前 30 分钟再来核验。"
#define MSG_TOO_EARLY                                                                              \
    "%s（准考证号 %s）的场次 %s 尚未开始入场（%s 开考，提前 30 分钟入场）。请稍候。"
#define MSG_TOO_LATE "%s（准考证号 %s）的场次 %s 已超过入场时间，不能入场。请联系监考老师。"
#define MSG_ABSENT   "%s（准考证号 %s）已被登记为缺考，不能入场。请联系监考老师。"
#define MSG_BAD_ID   "身份证号码无法识别（%s）。请把身份证重新放到阅读器上；仍不行请人工核验。"
#define MSG_NO_STORE "核验结果未能保存，请重新刷卡；如持续出现，请人工核验并告知监考老师。"

#define SAME_ID_MAX 8

struct found {
    struct {
        int64_t id, checked_in_at;
        int seat;
        enum store_cand_state state;
        char session[PKG_MAX_NAME + 1], ticket[64], name[128];
    } c[SAME_ID_MAX];
    size_t n;
};

static void take(const struct store_candidate *c, void *arg)
{
    struct found *f = arg;

    if (f->n >= SAME_ID_MAX)
        return;
    f->c[f->n].id = c->id;
    f->c[f->n].checked_in_at = c->checked_in_at;
    f->c[f->n].seat = c->seat;
    f->c[f->n].state = c->state;
    snprintf(f->c[f->n].session, sizeof(f->c[0].session), "%s", c->session_id);
    snprintf(f->c[f->n].ticket, sizeof(f->c[0].ticket), "%s", c->ticket);
    snprintf(f->c[f->n].name, sizeof(f->c[0].name), "%s", c->name);
    f->n++;
}

static void take_start(const struct store_session *s, void *arg)
{
    *(int64_t *)arg = s->starts_at;
}

/* "12-05 09:00", the room's local time. */
static void clock_text(int64_t t, char *out, size_t outsz)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (localtime_r(&tt, &tm) == NULL || strftime(out, outsz, "%m-%d %H:%M", &tm) == 0)
        snprintf(out, outsz, "%lld", (long long)t);
}

/* Names as the card and the roster write them: spaces (the card pads, a
 * roster may hold a full-width one) do not count. */
int idcard_same_name(const char *a, const char *b)
{
    char x[256], y[256];
    size_t i = 0, j = 0;

    if (text_fold_fullwidth(a, x, sizeof(x)) < 0 || text_fold_fullwidth(b, y, sizeof(y)) < 0)
        return strcmp(a, b) == 0;
    for (;;) {
        while (x[i] == ' ')
            i++;
        while (y[j] == ' ')
            j++;
        if (x[i] != y[j])
            return 0;
        if (x[i] == '\0')
            return 1;
        i++;
        j++;
    }
}

static void saved(int status, const struct store_ack *ack, void *arg)
{
    (void)ack;
    if (status < 0)
        log_error("door check-in of candidate %lld not saved: %s", (long long)(intptr_t)arg,
                  er_name(status));
}

/* The incident of a card that differs from the roster, with the card's
 * data: the center's candidate-information change request. */
int idcard_mismatch_incident(struct daemon *d, const char *device, int64_t cand, int seat,
                             const char *session, const char *ticket, const char *text,
                             const struct idr_card *card, int64_t now)
{
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:i, s:s, s:s, s:I, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}}",
        "kind", "incident", "reason", "candidate_info_mismatch", "text", text, "seat", seat,
        "session", session, "ticket", ticket, "at", (json_int_t)now, "source", device, "card",
        "name", card->name, "sex", card->sex, "nation", card->nation, "birth", card->birth,
        "address", card->address, "id_number", card->id_number, "issuer", card->issuer,
        "valid_from", card->valid_from, "valid_to", card->valid_to);
    struct store_event ev = {.kind = STORE_EVENT_INCIDENT, .candidate_id = cand};
    char *body = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    int rc = ER_NOMEM;

    json_decref(doc);
    ev.body = body;
    if (body != NULL)
        rc = store_add_event(d->r.st, &ev, saved, (void *)(intptr_t)cand);
    free(body);
    return rc;
}

/* The candidate of this ID whose session is the one meant now: the first
 * one's ticket resolved as sign-in resolves it (a person with several
 * tickets is rare: each ticket is looked at in turn for one open now). */
static size_t pick(struct daemon *d, const struct found *f, int64_t now)
{
    size_t best = 0;

    for (size_t i = 0; i < f->n; i++) {
        char session[PKG_MAX_NAME + 1];

        if (candidate_resolve(d, f->c[i].ticket, NULL, now, session, sizeof(session)) < 0)
            continue;
        for (size_t k = 0; k < f->n; k++)
            if (strcmp(f->c[k].ticket, f->c[i].ticket) == 0 &&
                strcmp(f->c[k].session, session) == 0) {
                if (signin_window(d, session, now) == 0)
                    return k;
                if (i == 0)
                    best = k;
            }
    }
    return best;
}

static json_t *outcome(const char *code, const char *text, int seat, const char *ticket,
                       const char *session, const char *name, int64_t now)
{
    return json_pack("{s:s, s:s, s:s, s:i, s:s?, s:s?, s:s?, s:I}", "kind", "door", "outcome", code,
                     "text", text, "seat", seat, "ticket", ticket, "session", session, "name", name,
                     "at", (json_int_t)now);
}

/* The outcome of one card: its text and what was written. */
static json_t *check(struct daemon *d, const char *device, const struct idr_card *card, int64_t now)
{
    char id[IDNUM_LEN + 1], text[1024], when[32], why[400];
    struct found *f = calloc(1, sizeof(*f));
    json_t *out;
    size_t k;
    int w, rc;

    if (f == NULL)
        return outcome("error", er_strerror(ER_NOMEM), 0, NULL, NULL, card->name, now);
    if (idnum_check(card->id_number, id) < 0) {
        snprintf(text, sizeof(text), MSG_BAD_ID, card->id_number);
        free(f);
        return outcome("bad_card", text, 0, NULL, NULL, card->name, now);
    }
    store_find_candidates_by_id(d->r.st, id, take, f);
    if (f->n == 0) {
        snprintf(text, sizeof(text), MSG_NOT_ON_ROSTER, card->name, id);
        free(f);
        return outcome("not_on_roster", text, 0, NULL, NULL, card->name, now);
    }
    k = pick(d, f, now);
#define C f->c[k]
    w = signin_window(d, C.session, now);
    if (C.state == STORE_CAND_ABSENT) {
        snprintf(text, sizeof(text), MSG_ABSENT, C.name, C.ticket);
        out = outcome("absent", text, C.seat, C.ticket, C.session, C.name, now);
    } else if (w != 0 && signin_other_open(d, C.session, now)) {
        int64_t starts = 0;

        store_get_session(d->r.st, C.session, take_start, &starts);
        clock_text(starts, when, sizeof(when));
        snprintf(text, sizeof(text), MSG_OTHER_SESSION, C.name, C.ticket, C.session, when);
        out = outcome("other_session", text, C.seat, C.ticket, C.session, C.name, now);
    } else if (w < 0) {
        int64_t starts = 0;

        store_get_session(d->r.st, C.session, take_start, &starts);
        clock_text(starts, when, sizeof(when));
        snprintf(text, sizeof(text), MSG_TOO_EARLY, C.name, C.ticket, C.session, when);
        out = outcome("too_early", text, C.seat, C.ticket, C.session, C.name, now);
    } else if (w > 0) {
        snprintf(text, sizeof(text), MSG_TOO_LATE, C.name, C.ticket, C.session);
        out = outcome("too_late", text, C.seat, C.ticket, C.session, C.name, now);
    } else if (C.checked_in_at > 0) {
        clock_text(C.checked_in_at, when, sizeof(when));
        snprintf(text, sizeof(text), MSG_AGAIN, C.seat, C.name, C.ticket, when);
        out = outcome("again", text, C.seat, C.ticket, C.session, C.name, now);
    } else {
        int same = idcard_same_name(card->name, C.name);

        /* The mismatch first: a check-in whose incident could not be
         * written is not recorded either, so the next swipe writes both
         * (checked in, the swipe would only say "again"). */
        rc = 0;
        if (!same) {
            snprintf(why, sizeof(why), MSG_MISMATCH, card->name, C.name);
            rc = idcard_mismatch_incident(d, device, C.id, C.seat, C.session, C.ticket, why, card,
                                          now);
        }
        if (rc == 0)
            rc = store_check_in(d->r.st, C.id, now, saved, (void *)(intptr_t)C.id);
        if (rc < 0)
            snprintf(text, sizeof(text), "%s", MSG_NO_STORE);
        else if (same)
            snprintf(text, sizeof(text), MSG_SEAT, C.seat, C.name, C.ticket, C.session);
        else
            snprintf(text, sizeof(text), MSG_SEAT_MISMATCH, C.seat, C.name, C.ticket, card->name,
                     C.name);
        out = outcome(rc < 0 ? "error"
                      : same ? "checked_in"
                             : "mismatch",
                      text, C.seat, C.ticket, C.session, C.name, now);
    }
#undef C
    free(f);
    return out;
}

json_t *door_card(struct daemon *d, const char *device, const struct idr_card *card)
{
    int64_t now = daemon_now_ms() / 1000;
    json_t *out;
    char *line;

    /* One snapshot for the check's reads, as a request's (what the caches
     * keep is then tagged with the generation read before it). */
    store_read_begin(d->r.st);
    out = check(d, device, card, now);
    store_read_end(d->r.st);

    if (out == NULL) /* a text jansson refused: nothing was written */
        out = outcome("error", MSG_NO_STORE, 0, NULL, NULL, NULL, now);
    if (out == NULL)
        return NULL;
    json_object_set_new(out, "device", json_string(device));
    log_notice("door %s: %s: %s", device, json_string_value(json_object_get(out, "outcome")),
               json_string_value(json_object_get(out, "text")));
    line = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
    if (line != NULL)
        feed_notice(d, "door", line);
    free(line);
    return out;
}
