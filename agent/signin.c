/* POST /api/v1/signin {ticket, id_number}, with the terminal's token: a
 * candidate signs in at their seat for the session whose sign-in is open.
 * Each way it can go wrong has its own message (zh-CN, for the candidate);
 * failures are counted per terminal, and a terminal that keeps failing is
 * held off and reported to the proctor as an incident. Signing in again at
 * the same seat (a browser that crashed) gives a new candidate token and
 * resumes the exam; signing in at another seat while signed in is refused
 * ("already signed in elsewhere", or "moved": go to the new seat) and
 * reported. A ticket in several sessions is resolved by candidate_resolve(),
 * the one rule the proctor's actions use too. */
#include "api.h"
#include "http.h"
#include "idreader.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIGNIN_AHEAD_S (30 * 60) /* sign-in opens this long before the start */
#define FAIL_WINDOW_S  300       /* failures counted over this long */
#define FAIL_MAX       10        /* then the terminal waits */
#define FAIL_HOLD_S    60

/* What a candidate reads (zh-CN, in one place). */
#define MSG_NOT_PAIRED "这台电脑尚未配对，请联系监考老师。"
#define MSG_FIELDS     "请输入准考证号和身份证号码。"
#define MSG_NO_TICKET  "准考证号不存在。请核对准考证后重新输入。"
#define MSG_WRONG_ID   "身份证号码与准考证号不符。请核对后重新输入。"
#define MSG_WRONG_SESS "您不是本场次的考生。请核对准考证上的考试时间，或联系监考老师。"
#define MSG_WRONG_SEAT "这不是您的座位。您的座位是 %d 号，请到 %d 号座位签到。"
#define MSG_TOO_EARLY  "本场次还未开始签到（开考前 30 分钟开始）。请稍候。"
#define MSG_TOO_LATE   "已超过入场时间，不能再签到。请联系监考老师。"
#define MSG_ELSEWHERE                                                                              \
    "您已签到，座位是 %d 号，不能在其他座位的电脑上再次签到。请到 %d " \
    "号座位继续考试；如需换座位，请联系监考老师。"
#define MSG_ABSENT  "您已被登记为缺考，不能签到。如有疑问，请联系监考老师。"
#define MSG_CHECKIN "请先到考场门口刷身份证核验，核验通过后再签到。"
#define MSG_NO_CARD                                                                                                                     \
    "没有读到身份证。请把身份证放在本座位的阅读器上（已放好的请取下再放一次），读取后再点击" \
    "“登录”；也可以点击“手工输入”。"
#define MSG_CARD_NAME "证件信息与名单不符：姓名 %s（名单 %s）"
#define MSG_CARD_WRONG_ID                                                                                                            \
    "阅读器上的身份证与准考证号不符。请核对准考证号；如果这不是您本人的身份证，请取下它，" \
    "放上您自己的身份证，或点击“手工输入”。"
#define MSG_HELD     "签到失败次数过多，请稍候一分钟再试，或联系监考老师。"
#define MSG_SAVE     "签到未能保存，请稍后重试；如持续出现，请告知监考老师。"
#define MSG_INCIDENT "%d 号座位的电脑连续 %d 次签到失败。"
#define MSG_MOVED    "监考老师已把您的座位调到 %d 号。请到 %d 号座位签到，已保存的答案和剩余时间不变。"
#define MSG_REVOKED                                                                                \
    "这台电脑的配对刚被监考老师撤销，签到未完成。请联系监考老师为本座位重新配对电脑后再签到。"
#define MSG_FLAGGED   "已通知监考老师，请举手等候。"
#define MSG_FLAG_TEXT "考生 %s（场次 %s）在 %d 号座位报告身份信息有误，请到座位核对。"
#define MSG_FLAG_SAVE "未能通知监考老师，请直接举手示意。"
#define MSG_INCIDENT_ELSEWHERE                                                                     \
    "考生 %s（场次 %s）已在 %d 号座位签到，又有人在 %d 号座位的电脑上用其身份签到。"
#define MSG_INCIDENT_MOVED                                                                                                 \
    "考生 %s（场次 %s）已调到 %d 号座位、尚未在新座位签到，又在 %d 号座位的电脑上签到；" \
    "已提示其到 %d 号座位签到。"

static enum MHD_Result refuse(struct http_req *q, unsigned status, const char *code,
                              const char *message)
{
    return daemon_error(q->conn, status, code, message);
}

/* ---- failures, per terminal ---- */

static const struct ratelimit_rule fail_rule = {
    .max = FAIL_MAX, .window_s = FAIL_WINDOW_S, .hold_s = FAIL_HOLD_S};

static void terminal_key(int64_t terminal, struct ratelimit_key *key)
{
    ratelimit_key_of(key, &terminal, sizeof(terminal));
}

static void incident_saved(int status, const struct store_ack *ack, void *arg)
{
    (void)ack;
    (void)arg;
    if (status < 0)
        log_error("sign-in incident not saved: %s", er_name(status));
}

/* An incident for the proctor and the center, seen from seat's terminal. */
static void add_incident(struct http_req *q, int64_t candidate, int seat, const char *text)
{
    struct store_event ev = {.kind = STORE_EVENT_INCIDENT, .candidate_id = candidate};
    json_t *doc = json_pack("{s:s, s:i, s:s, s:I}", "kind", "incident", "seat", seat, "text", text,
                            "at", (json_int_t)(daemon_now_ms() / 1000));
    char *body = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);

    ev.body = body;
    if (body == NULL || store_add_event(q->d->r.st, &ev, incident_saved, NULL) < 0)
        log_error("sign-in incident not saved");
    free(body);
    json_decref(doc);
}

/* Counts a failure; at FAIL_MAX within the window, the terminal is held
 * off and the proctor gets an incident. */
static void count_failure(struct http_req *q, int64_t terminal, int seat)
{
    struct ratelimit_key key;
    char text[160];

    terminal_key(terminal, &key);
    if (ratelimit_count(&q->d->signin_fails, &fail_rule, &key, daemon_now_ms() / 1000) !=
        RATELIMIT_NOW_HELD)
        return;
    snprintf(text, sizeof(text), MSG_INCIDENT, seat, FAIL_MAX);
    add_incident(q, 0, seat, text);
}

/* ---- who is signing in, where, when ---- */

struct terminal_found {
    int64_t id;
    int seat, found;
};

static void take_terminal(const struct store_terminal *t, void *arg)
{
    struct terminal_row *row = arg;

    row->id = t->id;
    row->seat = t->seat;
    row->kind = t->kind;
}

/* The approved terminal holding the token with this hash, from memory
 * while no pairing changed (cache.c). */
static void find_terminal(struct daemon *d, const uint8_t hash[STORE_HASH_LEN],
                          struct terminal_found *f)
{
    struct terminal_row row = {0};

    if (cache_terminal(d, hash, &row) < 0) {
        if (store_find_terminal(d->r.st, hash, take_terminal, &row) < 0 || row.id == 0)
            return;
        cache_terminal_keep(d, hash, &row);
    }
    if (row.kind != STORE_TERM_TERMINAL)
        return; /* a seat's card reader signs nobody in */
    f->id = row.id;
    f->seat = row.seat;
    f->found = 1;
}

static void take_candidate(const struct store_candidate *c, void *arg)
{
    struct signin_cand *k = arg;

    k->found = 1;
    signed_in_copy(&k->s, c);
    k->checked_in_at = c->checked_in_at;
    snprintf(k->name, sizeof(k->name), "%s", c->name);
    snprintf(k->id_type, sizeof(k->id_type), "%s", c->id_type ? c->id_type : "");
    snprintf(k->id_number, sizeof(k->id_number), "%s", c->id_number ? c->id_number : "");
}

/* Every candidate holding a ticket (one, unless a person sits several
 * sessions' subjects under one ticket). */
#define SAME_TICKET_MAX 8
struct same_ticket {
    struct signin_cand c[SAME_TICKET_MAX];
    size_t n;
};

static void take_same_ticket(const struct store_candidate *c, void *arg)
{
    struct same_ticket *t = arg;

    if (t->n < SAME_TICKET_MAX)
        take_candidate(c, &t->c[t->n++]);
}

struct sess {
    int64_t starts_at, ends_at;
    int late_minutes;
    enum store_session_state state;
};

/* Is session's sign-in open at now: from SIGNIN_AHEAD_S before its start
 * to the late-admission limit after it? */
static int window(struct daemon *d, const char *session, int64_t now, struct sess *x)
{
    struct exam_session e;

    if (exam_session_of(d, session, &e) < 0)
        return -2;
    x->starts_at = e.starts_at;
    x->ends_at = e.ends_at;
    x->late_minutes = e.late_admission_minutes;
    x->state = e.state;
    if (now < x->starts_at - SIGNIN_AHEAD_S)
        return -1; /* too early */
    if (now > x->starts_at + (int64_t)x->late_minutes * 60)
        return 1; /* too late */
    return 0;
}

int signin_window(struct daemon *d, const char *session, int64_t now)
{
    struct sess x;

    return window(d, session, now, &x);
}

/* The rank of a ticket's candidate in one session for candidate_resolve(),
 * lower first; *order breaks ties within a rank, lower first. */
static int rank_of(struct daemon *d, const struct signin_cand *c, int64_t now, int64_t *order)
{
    struct sess y = {0};
    int w = window(d, c->s.session, now, &y);
    int done = c->s.state == STORE_CAND_SUBMITTED || c->s.state == STORE_CAND_ABSENT ||
               results_queued(d, c->s.id);

    *order = y.starts_at; /* the earliest first ... */
    if (!done && (c->s.state == STORE_CAND_SIGNED_IN || c->s.state == STORE_CAND_RUNNING))
        return 0; /* in their exam */
    if (!done && w == 0)
        return 1; /* sign-in open now */
    if (!done && now >= y.starts_at && now < y.ends_at)
        return 2; /* under way, and they are not there */
    if (!done && w < 0)
        return 3;          /* yet to come: the next to start */
    *order = -y.starts_at; /* ... but of the past ones, the most recent */
    return done ? 5 : 4;   /* over, never attended; or done */
}

/* Every candidate holding ticket, from memory while none of them changed
 * (cache.c). */
static void ticket_candidates(struct daemon *d, const char *ticket, struct same_ticket *t)
{
    if (cache_ticket(d, ticket, t->c, &t->n) == 0)
        return;
    t->n = 0;
    if (store_find_candidate(d->r.st, NULL, ticket, take_same_ticket, t) >= 0)
        cache_ticket_keep(d, ticket, t->c, t->n); /* not a read cut short */
}

/* The one of t's candidates (t->n > 0) whose session candidate_resolve()
 * picks. */
static size_t resolve_pick(struct daemon *d, const struct same_ticket *t, int64_t now)
{
    size_t pick = 0;
    int best = 99;
    int64_t best_starts = 0;

    for (size_t i = 0; i < t->n; i++) {
        int64_t starts;
        int r = rank_of(d, &t->c[i], now, &starts);

        if (r < best || (r == best && starts < best_starts)) {
            best = r;
            best_starts = starts;
            pick = i;
        }
    }
    return pick;
}

int candidate_resolve(struct daemon *d, const char *ticket, const char *session, int64_t now,
                      char *out, size_t outsz)
{
    struct same_ticket *t;
    int rc;

    if (session != NULL && session[0] != '\0') {
        struct signin_cand k = {0};

        store_find_candidate(d->r.st, session, ticket, take_candidate, &k);
        if (!k.found)
            return ER_STORE_NOT_FOUND;
        snprintf(out, outsz, "%s", k.s.session);
        return 0;
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return ER_NOMEM;
    ticket_candidates(d, ticket, t);
    rc = t->n > 0 ? 0 : ER_STORE_NOT_FOUND;
    if (rc == 0)
        snprintf(out, outsz, "%s", t->c[resolve_pick(d, t, now)].s.session);
    free(t);
    return rc;
}

/* The ticket's candidate in the session candidate_resolve() picks. */
static void find_candidate(struct daemon *d, const char *ticket, int64_t now, struct signin_cand *k)
{
    struct same_ticket *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return;
    ticket_candidates(d, ticket, t);
    if (t->n > 0)
        *k = t->c[resolve_pick(d, t, now)];
    free(t);
}

/* Is the sign-in of a session other than the candidate's open at now?
 * Read only for a refusal: it tells "wrong session" from "too early/late". */
static int other_open(struct daemon *d, const char *session, int64_t now)
{
    for (size_t i = 0; i < d->n_sessions; i++) {
        struct sess y;

        if (strcmp(d->sessions[i], session) != 0 && window(d, d->sessions[i], now, &y) == 0)
            return 1;
    }
    return 0;
}

int signin_other_open(struct daemon *d, const char *session, int64_t now)
{
    return other_open(d, session, now);
}

/* Does the candidate's latest sign-in still hold (not ended by a move or a
 * revoke)? */
struct live {
    int live, seat;
};

static void take_live(const struct store_signin *g, void *arg)
{
    ((struct live *)arg)->live = g->ended_at == 0;
    ((struct live *)arg)->seat = g->seat;
}

/* The ID as the candidate typed it, against the roster's. */
static int id_matches(const struct signin_cand *k, const char *typed, int *format_error)
{
    char norm[IDNUM_LEN + 1], folded[128];
    size_t n;

    *format_error = 0;
    if (strcmp(k->id_type, "居民身份证") == 0) {
        int rc = idnum_check(typed, norm);

        if (rc < 0) {
            *format_error = rc;
            return 0;
        }
        return strcmp(norm, k->id_number) == 0;
    }
    /* Other documents (passports, residence permits) are matched as given,
     * full-width folded and trimmed. */
    if (text_fold_fullwidth(typed, folded, sizeof(folded)) < 0)
        return 0;
    n = strlen(folded);
    while (n > 0 && folded[n - 1] == ' ')
        folded[--n] = '\0';
    return strcmp(folded + strspn(folded, " "), k->id_number) == 0;
}

/* ---- the writes, and the answer once they are durable ---- */

struct now_cand {
    int found, seat;
    enum store_cand_state state;
};

static void take_now(const struct store_candidate *c, void *arg)
{
    struct now_cand *n = arg;

    n->found = 1;
    n->seat = c->seat;
    n->state = c->state;
}

/* The sign-in's one transaction is in. Refused by the store (a move, a
 * revoke or an absent result committed after this request read the store
 * and before its sign-in): what changed is read again, now committed, and
 * the candidate is told what to do. */
static void signed_in_done(int status, const struct store_ack *ack, void *arg)
{
    struct http_req *q = arg;
    json_t *a = q->ready;
    const char *ticket =
        json_string_value(json_object_get(json_object_get(a, "candidate"), "ticket"));
    const char *session = json_string_value(json_object_get(json_object_get(a, "session"), "id"));
    struct now_cand n = {0};
    char message[320];

    (void)ack;
    q->ready = NULL;
    if (status == 0) {
        seatcard_used(q->d, q->seat); /* a card read, for one sign-in */
        answer_later(q, MHD_HTTP_OK, a);
        return;
    }
    if (status != ER_STORE_NOT_FOUND || ticket == NULL || session == NULL) {
        json_decref(a);
        answer_later(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                     json_pack("{s:s, s:s}", "error", "store", "message", MSG_SAVE));
        return;
    }
    store_find_candidate(q->d->r.st, session, ticket, take_now, &n);
    json_decref(a);
    if (n.found && n.state == STORE_CAND_ABSENT) {
        answer_later(q, MHD_HTTP_CONFLICT,
                     json_pack("{s:s, s:s}", "error", "absent", "message", MSG_ABSENT));
    } else if (n.found && n.seat != q->seat) {
        snprintf(message, sizeof(message), MSG_MOVED, n.seat, n.seat);
        answer_later(q, MHD_HTTP_CONFLICT,
                     json_pack("{s:s, s:s}", "error", "moved", "message", message));
    } else {
        answer_later(q, MHD_HTTP_CONFLICT,
                     json_pack("{s:s, s:s}", "error", "terminal_revoked", "message", MSG_REVOKED));
    }
}

/* Records the sign-in (with a new candidate token), the candidate's state
 * and an attendance event in one transaction of the next group commit, the
 * store checking there that the seat and the terminal are still as read;
 * answers once it is durable. */
static enum MHD_Result sign_in(struct http_req *q, const struct signin_cand *k,
                               const struct sess *x, const struct terminal_found *t, int by_card)
{
    uint8_t key[STORE_HASH_LEN];
    char token[CRYPTO_TOKEN_HEX + 1], *body = NULL;
    json_t *ev;
    struct store_event event = {.kind = STORE_EVENT_ATTENDANCE, .candidate_id = k->s.id};
    int rc = crypto_token_issue(token);

    if (rc < 0)
        return refuse(q, MHD_HTTP_SERVICE_UNAVAILABLE, "store", MSG_SAVE);
    crypto_token_key(token, key);
    q->ready = json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:s, s:i}, s:{s:s, s:I, s:I, s:s}}",
                         "candidate_token", token, "candidate", "ticket", k->s.ticket, "photo_url",
                         "/api/v1/photo", "name", k->name, "occupation", k->s.occupation, "level",
                         k->s.level, "seat", k->s.seat, "session", "id", k->s.session, "starts_at",
                         (json_int_t)x->starts_at, "ends_at", (json_int_t)x->ends_at, "state",
                         store_session_state_name(x->state));
    OPENSSL_cleanse(token, sizeof(token));
    /* id_check: how the ID number was given, read from the card at the
     * seat or typed. */
    ev = json_pack("{s:s, s:s, s:s, s:i, s:I, s:s}", "kind", "attendance", "session", k->s.session,
                   "ticket", k->s.ticket, "seat", k->s.seat, "at",
                   (json_int_t)(daemon_now_ms() / 1000), "id_check", by_card ? "card" : "typed");
    body = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(ev);
    event.body = body;
    q->seat = k->s.seat; /* the seat read: a refusal tells a move from a revoke */
    rc = q->ready == NULL || body == NULL ? ER_NOMEM
                                          : store_add_signin(q->d->r.st, k->s.id, t->id, k->s.seat,
                                                             key, &event, signed_in_done, q);
    free(body);
    if (rc < 0) {
        json_decref(q->ready);
        q->ready = NULL;
        return refuse(q, MHD_HTTP_SERVICE_UNAVAILABLE, "store", MSG_SAVE);
    }
    return http_suspend(q);
}

/* ---- the calls ---- */

void seat_seen(struct daemon *d, int seat)
{
    if (seat > 0 && seat < (int)(sizeof(d->seat_seen_ms) / sizeof(d->seat_seen_ms[0])))
        d->seat_seen_ms[seat] = daemon_now_ms();
}

enum MHD_Result http_terminal(struct http_req *q)
{
    struct terminal_found t = {0};
    const char *token = http_bearer(q->conn);
    uint8_t hash[STORE_HASH_LEN];

    if (token != NULL) {
        sha256(token, strlen(token), hash);
        find_terminal(q->d, hash, &t);
    }
    if (!t.found)
        return refuse(q, MHD_HTTP_UNAUTHORIZED, "not_paired", MSG_NOT_PAIRED);
    seat_seen(q->d, t.seat);
    seatcard_terminal_call(q, t.seat);
    return daemon_reply(q->conn, MHD_HTTP_OK, json_pack("{s:i}", "seat", t.seat));
}

enum MHD_Result http_signin(struct http_req *q)
{
    struct terminal_found t = {0};
    struct signin_cand k = {0};
    struct sess x = {0};
    const char *token = http_bearer(q->conn);
    char ticket[API_TICKET_MAX + 1], id[API_IDNUM_MAX + 1];
    uint8_t hash[STORE_HASH_LEN];
    struct ratelimit_key key;
    struct idr_card card;
    int64_t now = daemon_now_ms() / 1000;
    int fmt, w, by_card;
    enum MHD_Result r;

    if (token != NULL) {
        sha256(token, strlen(token), hash);
        find_terminal(q->d, hash, &t);
    }
    if (!t.found)
        return refuse(q, MHD_HTTP_UNAUTHORIZED, "not_paired", MSG_NOT_PAIRED);
    seat_seen(q->d, t.seat);
    terminal_key(t.id, &key);
    if (ratelimit_held(&q->d->signin_fails, &key, now) > 0)
        return refuse(q, MHD_HTTP_TOO_MANY_REQUESTS, "held", MSG_HELD);
    if (api_signin_body(q->body, q->len, ticket, id, &by_card) < 0)
        return refuse(q, MHD_HTTP_BAD_REQUEST, "fields", MSG_FIELDS);
    /* "card": the ID number the seat's reader read (seatcard.c), not one
     * the browser sends. */
    if (by_card && seatcard_get(q->d, t.seat, &card) < 0)
        return refuse(q, MHD_HTTP_CONFLICT, "no_card", MSG_NO_CARD);
    if (by_card)
        snprintf(id, sizeof(id), "%s", card.id_number);
    find_candidate(q->d, ticket, now, &k);
    if (!k.found) {
        r = refuse(q, MHD_HTTP_NOT_FOUND, "wrong_ticket", MSG_NO_TICKET);
    } else if (!id_matches(&k, id, &fmt)) {
        r = refuse(q, fmt < 0 ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_FORBIDDEN,
                   fmt < 0 ? "id_format" : "wrong_id",
                   fmt < 0   ? er_strerror(fmt)
                   : by_card ? MSG_CARD_WRONG_ID
                             : MSG_WRONG_ID);
    } else if (k.s.state == STORE_CAND_ABSENT ||
               (k.s.state == STORE_CAND_REGISTERED && results_queued(q->d, k.s.id))) {
        /* Marked absent, or being marked (the absent result is on its way:
         * a sign-in now would put them back in after it). */
        return refuse(q, MHD_HTTP_FORBIDDEN, "absent", MSG_ABSENT);
    } else if ((w = window(q->d, k.s.session, now, &x)) != 0 &&
               /* Late admission is for coming in; a candidate already in
                * (a crashed browser, a move) signs in again until their end. */
               !(w > 0 && (k.s.state == STORE_CAND_SIGNED_IN || k.s.state == STORE_CAND_RUNNING) &&
                 now < x.ends_at + k.s.extra_seconds)) {
        r = other_open(q->d, k.s.session, now)
                ? refuse(q, MHD_HTTP_FORBIDDEN, "wrong_session", MSG_WRONG_SESS)
            : w < 0 ? refuse(q, MHD_HTTP_FORBIDDEN, "too_early", MSG_TOO_EARLY)
                    : refuse(q, MHD_HTTP_FORBIDDEN, "too_late", MSG_TOO_LATE);
    } else if (k.s.seat != t.seat &&
               (k.s.state == STORE_CAND_SIGNED_IN || k.s.state == STORE_CAND_RUNNING)) {
        /* In at their own seat already (or moved there): somebody else at
         * this one has their ticket and ID. The proctor hears of it. */
        char message[320], text[480];
        struct live l = {0};

        /* Moved by the proctor (the move ended their sign-ins) and not yet
         * signed in at the new seat: say so, to them and to the proctor. */
        store_last_signin(q->d->r.st, k.s.id, take_live, &l);
        if (!l.live && l.seat == k.s.seat) {
            /* Their terminal was revoked: they sign in at their own seat
             * again (a new terminal there), or where a move sends them. */
            snprintf(message, sizeof(message), MSG_WRONG_SEAT, k.s.seat, k.s.seat);
            r = refuse(q, MHD_HTTP_FORBIDDEN, "wrong_seat", message);
        } else {
            if (!l.live) {
                snprintf(message, sizeof(message), MSG_MOVED, k.s.seat, k.s.seat);
                snprintf(text, sizeof(text), MSG_INCIDENT_MOVED, k.s.ticket, k.s.session, k.s.seat,
                         t.seat, k.s.seat);
            } else {
                snprintf(message, sizeof(message), MSG_ELSEWHERE, k.s.seat, k.s.seat);
                snprintf(text, sizeof(text), MSG_INCIDENT_ELSEWHERE, k.s.ticket, k.s.session,
                         k.s.seat, t.seat);
            }
            add_incident(q, k.s.id, t.seat, text);
            r = refuse(q, MHD_HTTP_CONFLICT, l.live ? "signed_in_elsewhere" : "moved", message);
        }
    } else if (q->d->require_checkin && k.s.state == STORE_CAND_REGISTERED &&
               k.checked_in_at == 0) {
        /* --require-checkin: the ID card is read at the door first. */
        r = refuse(q, MHD_HTTP_FORBIDDEN, "not_checked_in", MSG_CHECKIN);
    } else if (k.s.seat != t.seat) {
        char message[160];

        snprintf(message, sizeof(message), MSG_WRONG_SEAT, k.s.seat, k.s.seat);
        r = refuse(q, MHD_HTTP_FORBIDDEN, "wrong_seat", message);
    } else {
        /* Failures are not forgotten on a success: a terminal could
         * otherwise sign its own candidate in between guesses and never be
         * held. They expire with the window. */
        /* At the first sign-in only: one incident a person, as at the door. */
        if (by_card && k.s.state == STORE_CAND_REGISTERED && !idcard_same_name(card.name, k.name)) {
            char why[400], source[32];

            snprintf(why, sizeof(why), MSG_CARD_NAME, card.name, k.name);
            snprintf(source, sizeof(source), "seat %d", t.seat);
            if (idcard_mismatch_incident(q->d, source, k.s.id, t.seat, k.s.session, k.s.ticket, why,
                                         &card, now) < 0)
                return refuse(q, MHD_HTTP_SERVICE_UNAVAILABLE, "store", MSG_SAVE);
        }
        return sign_in(q, &k, &x, &t, by_card);
    }
    count_failure(q, t.id, t.seat);
    return r;
}

/* ---- POST /api/v1/flag: 信息有误，请举手 ----
 * The candidate says the details on the confirmation screen are not theirs:
 * one incident on their record (as the proctor's incident action records,
 * so it goes to the center), marked "flag": "identity" for the console's
 * tile. Once per candidate: a press while one is on its way (held in memory
 * for FLAG_HOLD_S) or once one is stored is answered the same, with nothing
 * written. */

#define FLAG_HOLD_S 10

static const struct ratelimit_rule flag_rule = {
    .max = 1, .window_s = FLAG_HOLD_S, .hold_s = FLAG_HOLD_S};

struct flag_find {
    int64_t candidate;
    int found;
};

static void find_flag(const struct store_event *e, void *arg)
{
    struct flag_find *f = arg;
    json_t *doc;

    if (f->found || e->candidate_id != f->candidate || e->body == NULL)
        return;
    doc = json_loads(e->body, 0, NULL);
    f->found = event_is_flag(doc);
    json_decref(doc);
}

int event_is_flag(const json_t *body)
{
    const char *flag = json_string_value(json_object_get(body, "flag"));

    return flag != NULL && strcmp(flag, "identity") == 0;
}

enum MHD_Result http_flag(struct http_req *q)
{
    struct signed_in k;
    struct flag_find f = {0};
    struct ratelimit_key key;
    struct store_event ev = {.kind = STORE_EVENT_INCIDENT};
    int64_t now = daemon_now_ms() / 1000;
    char text[sizeof(k.ticket) + sizeof(k.session) + 160], *body;
    json_t *doc;
    int rc;

    if (http_candidate(q, &k) < 0)
        return http_not_signed_in(q);
    f.candidate = k.id;
    ratelimit_key_of(&key, &k.id, sizeof(k.id));
    store_foreach_event(q->d->r.st, STORE_EVENT_INCIDENT, find_flag, &f);
    if (f.found || ratelimit_held(&q->d->flag_presses, &key, now) > 0)
        return daemon_reply(
            q->conn, MHD_HTTP_OK,
            json_pack("{s:b, s:b, s:s}", "flagged", 1, "already", 1, "message", MSG_FLAGGED));
    snprintf(text, sizeof(text), MSG_FLAG_TEXT, k.ticket, k.session, k.seat);
    doc = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:I}", "kind", "incident", "by",
                    "candidate", "flag", "identity", "seat", k.seat, "text", text, "session",
                    k.session, "ticket", k.ticket, "at", (json_int_t)now);
    body = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    if (body == NULL)
        return MHD_NO;
    ev.candidate_id = k.id;
    ev.body = body;
    q->ready = json_pack("{s:b, s:b, s:s}", "flagged", 1, "already", 0, "message", MSG_FLAGGED);
    q->fail_message = MSG_FLAG_SAVE;
    rc = store_add_event(q->d->r.st, &ev, http_step_done, q);
    free(body);
    if (rc < 0) {
        json_decref(q->ready);
        q->ready = NULL;
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store", MSG_FLAG_SAVE);
    }
    q->waiting++;
    ratelimit_count(&q->d->flag_presses, &flag_rule, &key, now);
    log_notice("candidate %s (session %s, seat %d) says the details shown are wrong", k.ticket,
               k.session, k.seat);
    return http_suspend(q);
}
