/* The proctor's actions on one candidate, over the local admin channel:
 * POST /admin/v1/candidates/{ticket}/{action}
 *   submit              submits for them (a dead terminal, a candidate who
 *                       leaves): scored and sealed like their own submit
 *   absent              not signed in: recorded absent, with an absent result
 *   extend {minutes}    adds to their time (1 to 120 minutes at once)
 *   move {seat}         to another free seat; answers and time are the
 *                       candidate's and follow them; the old seat's candidate
 *                       token ends at once, and they sign in again there
 *   incident {text}     an incident on their record, for the center
 * A body's "session" (or ?session=) picks the ticket's session; without it,
 * candidate_resolve() (signin.c) does, by the rule sign-in uses. The answer
 * names the ticket and the session acted on, and so does every refusal
 * once the candidate is found. Each is durable before the answer, and each
 * leaves an audit or incident event that goes to the center. Messages are
 * for the proctor (zh-CN). */
#include "api.h"
#include "http.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_NO_CANDIDATE "没有这个准考证号的考生。请核对准考证号。"
#define MSG_NO_SESSION   "考生 %s 不在场次 %s。请核对场次编号（examroom roster 可查）。"
#define MSG_WHO          "考生 %s（场次 %s）%s"
#define MSG_DONE_ALREADY "已交卷或已记为缺考，不能再做此操作。"
#define MSG_SIGNED_IN    "已签到，不能记为缺考。"
#define MSG_NOT_STARTED  "尚未开始考试（未签到或试卷未解锁），不能代为交卷。请在考生开始作答后再试。"
#define MSG_MINUTES      "延长时间应为 1 至 120 分钟。"
#define MSG_SEAT         "座位号无效：本考场没有这个座位。"
#define MSG_SEAT_TAKEN   "该座位已有考生，请换一个空座位。"
#define MSG_TEXT         "请写明情况（1 至 500 字节）。"
#define MSG_SAVE         "操作未能保存，请重试；如持续出现，请检查考场服务器的磁盘。"
#define MSG_ACTION       "没有这个操作。"
#define MSG_BODY         "请求内容不是有效的 JSON 对象（或有重复的字段），没有执行。请检查后重试。"
#define MSG_MOVE_TEXT    "考生 %s 在场次 %s 由 %d 号座位调到 %lld 号座位。"

static void take_candidate(const struct store_candidate *c, void *arg)
{
    signed_in_copy(arg, c);
}

struct seat_find {
    int seat, found;
};

static void match_seat(const struct store_seat *s, void *arg)
{
    struct seat_find *f = arg;

    if (s->seat == f->seat)
        f->found = 1;
}

static int seat_exists(struct daemon *d, int seat)
{
    struct seat_find f = {seat, 0};

    store_foreach_seat(d->r.st, match_seat, &f);
    return f.found;
}

static int add_event(struct http_req *q, const struct signed_in *k, enum store_event_kind kind,
                     json_t *body)
{
    char *text;
    struct store_event ev = {.kind = kind, .candidate_id = k->id};
    int rc;

    json_object_set_new(body, "session", json_string(k->session));
    json_object_set_new(body, "ticket", json_string(k->ticket));
    json_object_set_new(body, "at", json_integer(daemon_now_ms() / 1000));
    text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(body);
    if (text == NULL)
        return ER_NOMEM;
    ev.body = text;
    rc = store_add_event(q->d->r.st, &ev, http_step_done, q);
    free(text);
    if (rc == 0)
        q->waiting++;
    return rc;
}

static void result_done(int rc, void *arg)
{
    struct http_req *q = arg;

    http_step_done(rc, &(struct store_ack){0}, q);
}

/* The absent result is in, or refused by the store: the candidate was no
 * longer registered when it was committed (a sign-in queued before it,
 * after this request read the store, came first). Nothing of it was kept. */
static void absent_done(int rc, void *arg)
{
    struct http_req *q = arg;
    const char *ticket = json_string_value(json_object_get(q->ready, "ticket"));
    const char *session = json_string_value(json_object_get(q->ready, "session"));
    char message[API_TICKET_MAX + PKG_MAX_NAME + 256];

    if (rc != ER_STORE_NOT_FOUND || q->waiting != 1) {
        result_done(rc, arg);
        return;
    }
    snprintf(message, sizeof(message), MSG_WHO, ticket ? ticket : "", session ? session : "",
             MSG_SIGNED_IN);
    json_decref(q->ready);
    q->ready = NULL;
    q->waiting = 0;
    answer_later(q, MHD_HTTP_CONFLICT,
                 json_pack("{s:s, s:s}", "error", "signed_in", "message", message));
}

/* A refusal that names the candidate and the session it is about. */
static enum MHD_Result refuse(struct http_req *q, unsigned status, const char *code,
                              const char *text, const struct signed_in *k)
{
    char message[sizeof(k->ticket) + sizeof(k->session) + 512];

    snprintf(message, sizeof(message), MSG_WHO, k->ticket, k->session, text);
    return daemon_error(q->conn, status, code, message);
}

/* The session asked for: the body's "session", else ?session=. */
static const char *asked_session(struct http_req *q, const json_t *doc)
{
    const char *s = json_string_value(json_object_get(doc, "session"));

    return s != NULL ? s : MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "session");
}

/* 404: no such ticket, or not in the session asked for. */
static enum MHD_Result not_found(struct http_req *q, const char *ticket, const char *session)
{
    struct signed_in k = {0};
    char message[API_TICKET_MAX + PKG_MAX_NAME + 256];

    if (strlen(session == NULL ? "" : session) > PKG_MAX_NAME)
        session = NULL;
    if (session == NULL || session[0] == '\0' ||
        store_find_candidate(q->d->r.st, NULL, ticket, take_candidate, &k) <= 0)
        return daemon_error(q->conn, MHD_HTTP_NOT_FOUND, "no_candidate", MSG_NO_CANDIDATE);
    snprintf(message, sizeof(message), MSG_NO_SESSION, ticket, session);
    return daemon_error(q->conn, MHD_HTTP_NOT_FOUND, "no_candidate", message);
}

/* What an action works on: the candidate, their session, the body. */
struct target {
    struct signed_in k;
    struct exam_session x;
    const json_t *doc;
};

/* Each action: 0 when its writes are on their way (q->waiting counts
 * them); 1 when refused, with the refusal's status in q->status; < 0 when
 * a write could not start. */
static int act_incident(struct http_req *q, struct target *t)
{
    const char *text = json_string_value(json_object_get(t->doc, "text"));

    if (text == NULL || text[0] == '\0' || strlen(text) > 500) {
        q->status = MHD_HTTP_BAD_REQUEST;
        return 1;
    }
    return add_event(
        q, &t->k, STORE_EVENT_INCIDENT,
        json_pack("{s:s, s:s, s:i}", "kind", "incident", "text", text, "seat", t->k.seat));
}

static int act_submit(struct http_req *q, struct target *t)
{
    const char *st = exam_state(&t->k, &t->x, daemon_now_ms() / 1000);
    int rc;

    /* Not before their exam has begun: nothing would be scored. */
    if (t->k.state == STORE_CAND_REGISTERED || t->x.sealed_len == 0 ||
        (strcmp(st, "running") != 0 && strcmp(st, "ended") != 0)) {
        q->status = MHD_HTTP_LOCKED;
        return 1;
    }
    rc = results_submit(q->d, &t->k, &t->x, "submitted", result_done, q);
    if (rc == 0)
        q->waiting++;
    return rc;
}

static int act_absent(struct http_req *q, struct target *t)
{
    int rc;

    if (t->k.state != STORE_CAND_REGISTERED) {
        q->status = MHD_HTTP_LOCKED;
        return 1;
    }
    rc = results_submit(q->d, &t->k, &t->x, "absent", absent_done, q);
    if (rc == 0)
        q->waiting++;
    return rc;
}

static int act_extend(struct http_req *q, struct target *t)
{
    json_int_t m = json_integer_value(json_object_get(t->doc, "minutes"));
    int rc;

    if (m < 1 || m > 120) {
        q->status = MHD_HTTP_BAD_REQUEST;
        return 1;
    }
    rc = store_add_time(q->d->r.st, t->k.id, (int)m * 60, http_step_done, q);
    if (rc != 0)
        return rc;
    q->waiting++;
    json_object_set_new(q->ready, "minutes", json_integer(m));
    return add_event(q, &t->k, STORE_EVENT_AUDIT,
                     json_pack("{s:s, s:I}", "kind", "extend", "minutes", m));
}

static int act_move(struct http_req *q, struct target *t)
{
    json_int_t seat = json_integer_value(json_object_get(t->doc, "seat"));
    char text[sizeof(t->k.ticket) + sizeof(t->k.session) + 128];
    int rc;

    /* The move ends the old seat's candidate token in the same
     * transaction: from the answer on, only a sign-in at the new seat
     * reads the paper or saves an answer. */
    if (seat < 1 || seat > 9999 || !seat_exists(q->d, (int)seat)) {
        q->status = MHD_HTTP_BAD_REQUEST;
        return 1;
    }
    rc = store_move_candidate(q->d->r.st, t->k.id, (int)seat, http_step_done, q);
    if (rc != 0)
        return rc;
    q->waiting++;
    json_object_set_new(q->ready, "from", json_integer(t->k.seat));
    json_object_set_new(q->ready, "seat", json_integer(seat));
    snprintf(text, sizeof(text), MSG_MOVE_TEXT, t->k.ticket, t->k.session, t->k.seat,
             (long long)seat);
    return add_event(q, &t->k, STORE_EVENT_AUDIT,
                     json_pack("{s:s, s:i, s:I, s:s}", "kind", "move", "from", t->k.seat, "to",
                               seat, "text", text));
}

/* The actions, one handler each, and their refusals' words: the 400 of a
 * bad body, the 423 of a candidate not in the state for it. Only an
 * incident may be recorded once the candidate is done (submitted, absent,
 * or their result on its way): the others answer 409. */
static const struct action {
    const char *name;
    int (*run)(struct http_req *q, struct target *t);
    int when_done;
    const char *bad_request;
    const char *locked_code, *locked_message;
} actions[] = {
    {"incident", act_incident, 1, MSG_TEXT, NULL, NULL},
    {"submit", act_submit, 0, MSG_TEXT, "not_started", MSG_NOT_STARTED},
    {"absent", act_absent, 0, MSG_TEXT, "signed_in", MSG_SIGNED_IN},
    {"extend", act_extend, 0, MSG_MINUTES, "not_started", MSG_NOT_STARTED},
    {"move", act_move, 0, MSG_SEAT, "not_started", MSG_NOT_STARTED},
};

static const struct action *action_of(const char *name)
{
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (strcmp(actions[i].name, name) == 0)
            return &actions[i];
    return NULL;
}

/* The answer of an action that wrote nothing: refused (rc 1), or a first
 * write that could not start (rc < 0). */
static enum MHD_Result refused(struct http_req *q, const struct action *act, int rc,
                               const struct signed_in *k)
{
    unsigned status = rc < 0 ? MHD_HTTP_SERVICE_UNAVAILABLE : q->status;

    json_decref(q->ready);
    q->ready = NULL;
    q->status = 0;
    if (rc < 0)
        return daemon_error(q->conn, status, "store", MSG_SAVE);
    if (status == MHD_HTTP_CONFLICT)
        return refuse(q, status, "done", MSG_DONE_ALREADY, k);
    if (status == MHD_HTTP_LOCKED)
        return refuse(q, status, act->locked_code, act->locked_message, k);
    return daemon_error(q->conn, status, "bad_request", act->bad_request);
}

enum MHD_Result http_proctor(struct http_req *q, const char *ticket, const char *action)
{
    const struct action *act = action_of(action);
    struct target t = {0};
    json_t *doc;
    const char *session;
    char sid[PKG_MAX_NAME + 1];
    int rc, done;

    if (act == NULL)
        return daemon_error(q->conn, MHD_HTTP_NOT_FOUND, "no_action", MSG_ACTION);
    doc = json_loadb(q->body ? q->body : "{}", q->body ? q->len : 2, JSON_REJECT_DUPLICATES, NULL);
    /* {"seat":3,"seat":30}: which one the proctor meant is anybody's guess. */
    if (!json_is_object(doc)) {
        json_decref(doc);
        return daemon_error(q->conn, MHD_HTTP_BAD_REQUEST, "bad_json", MSG_BODY);
    }
    session = asked_session(q, doc);
    if (candidate_resolve(q->d, ticket, session, daemon_now_ms() / 1000, sid, sizeof(sid)) < 0 ||
        store_find_candidate(q->d->r.st, sid, ticket, take_candidate, &t.k) < 0 || t.k.id == 0) {
        enum MHD_Result r = not_found(q, ticket, session);

        json_decref(doc);
        return r;
    }
    done = t.k.state == STORE_CAND_SUBMITTED || t.k.state == STORE_CAND_ABSENT ||
           results_queued(q->d, t.k.id);
    exam_session_get(q->d, &t.k, &t.x);
    t.doc = doc;
    q->ready = json_pack("{s:s, s:s, s:s}", "ticket", t.k.ticket, "session", t.k.session, "action",
                         act->name);
    q->fail_message = MSG_SAVE;
    q->conflict_code = "seat_taken";
    q->conflict_message = MSG_SEAT_TAKEN;
    if (done && !act->when_done) {
        q->status = MHD_HTTP_CONFLICT;
        rc = 1;
    } else {
        rc = act->run(q, &t);
    }
    json_decref(doc);
    if (rc == 1 || (rc < 0 && q->waiting == 0))
        return refused(q, act, rc, &t.k);
    /* A second write that could not start: the first answers with it. */
    if (rc < 0 && q->failed == 0)
        q->failed = rc;
    return http_suspend(q);
}

/* ---- unlock with the code (开考密码) ----
 * POST /admin/v1/sessions/{id}/unlock {"code": "..."}: the checks and words
 * of examroom unlock (unlock_check, unlock_words), then the KDF on the
 * thread pool as for the center's key (background_unlock). A wrong code is
 * counted per client address, like a wrong proctor password: UNLOCK_FAIL_MAX
 * within UNLOCK_WINDOW_S hold that address off for UNLOCK_HOLD_S; and one
 * KDF runs at a time for the room, so guesses neither run in parallel past
 * a hold nor fill the thread pool. */

#define UNLOCK_FAIL_MAX  5
#define UNLOCK_WINDOW_S  300
#define UNLOCK_HOLD_S    300
#define MSG_UNLOCK_HELD  "开考密码连续输错次数过多，请 %lld 秒后再试。"
#define MSG_UNLOCK_BUSY  "正在核对另一次开考密码，请几秒后再试。"
#define MSG_UNLOCK_FIELD "请输入开考密码。"

static const struct ratelimit_rule unlock_rule = {
    .max = UNLOCK_FAIL_MAX, .window_s = UNLOCK_WINDOW_S, .hold_s = UNLOCK_HOLD_S};

struct unlock_call {
    struct http_req *q;
    struct ratelimit_key addr; /* whose guess it is */
    char session[PKG_MAX_NAME + 1];
};

/* The answer: the session and, either way, the proctor's words. */
static json_t *unlock_answer(const char *session, int rc)
{
    char words[PKG_MAX_NAME + 512];
    size_t n;

    unlock_words(session, rc, words, sizeof(words));
    n = strlen(words);
    if (rc < 0)
        snprintf(words + n, sizeof(words) - n, "%s", er_strerror(rc));
    if (rc == 0)
        return json_pack("{s:s, s:s, s:s}", "session", session, "state", "unlocked", "message",
                         words);
    return json_pack("{s:s, s:s, s:s}", "error", rc == ER_PKG_WRONG_CODE ? "wrong_code" : "unlock",
                     "session", session, "message", words);
}

static unsigned unlock_status(int rc)
{
    switch (rc) {
    case 0:
        return MHD_HTTP_OK;
    case ER_CODE_LENGTH:
    case ER_CODE_CHAR:
    case ER_CODE_TYPO:
        return MHD_HTTP_BAD_REQUEST;
    case ER_PKG_WRONG_CODE: /* not 401/403: the proctor's login is fine */
        return MHD_HTTP_UNPROCESSABLE_CONTENT;
    case ER_PKG_NO_SESSION:
        return MHD_HTTP_NOT_FOUND;
    case ER_NOT_REGISTERED:
    case ER_SYNC_NO_PACKAGE:
        return MHD_HTTP_CONFLICT;
    default:
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    }
}

static void unlock_done(int rc, void *arg)
{
    struct unlock_call *u = arg;
    struct daemon *d = u->q->d;

    d->unlock_busy = 0;
    if (rc == ER_PKG_WRONG_CODE && ratelimit_count(&d->unlock_fails, &unlock_rule, &u->addr,
                                                   daemon_now_ms() / 1000) == RATELIMIT_NOW_HELD)
        log_warn("unlock: %d wrong codes from one address, held off for %d s", UNLOCK_FAIL_MAX,
                 UNLOCK_HOLD_S);
    if (rc == 0)
        log_notice("session %s unlocked with the code from the console", u->session);
    answer_later(u->q, unlock_status(rc), unlock_answer(u->session, rc));
    free(u);
}

enum MHD_Result http_unlock(struct http_req *q, const char *session)
{
    struct daemon *d = q->d;
    uint8_t code[CODE_BYTES(CODE_UNLOCK_BITS)];
    struct unlock_target t;
    struct unlock_call *u;
    struct ratelimit_key addr;
    json_t *doc;
    const char *typed;
    int64_t held;
    int rc;

    /* A held address is refused before its code is even read. */
    if (http_client_key(q->conn, &addr) < 0)
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", MSG_UNLOCK_BUSY);
    /* A session's id is text the answer repeats: not UTF-8, no such session. */
    doc = json_string(session);
    if (doc == NULL)
        return daemon_reply(q->conn, MHD_HTTP_NOT_FOUND, unlock_answer("", ER_PKG_NO_SESSION));
    json_decref(doc);
    held = ratelimit_held(&d->unlock_fails, &addr, daemon_now_ms() / 1000);
    if (held > 0) {
        char message[160];

        snprintf(message, sizeof(message), MSG_UNLOCK_HELD, (long long)held);
        return daemon_error(q->conn, MHD_HTTP_TOO_MANY_REQUESTS, "held", message);
    }
    if (d->unlock_busy)
        return daemon_error(q->conn, MHD_HTTP_TOO_MANY_REQUESTS, "busy", MSG_UNLOCK_BUSY);
    doc = json_loadb(q->body ? q->body : "", q->len, JSON_REJECT_DUPLICATES, NULL);
    typed = json_string_value(json_object_get(doc, "code"));
    if (typed == NULL || typed[0] == '\0') {
        json_decref(doc);
        return daemon_error(q->conn, MHD_HTTP_BAD_REQUEST, "bad_request", MSG_UNLOCK_FIELD);
    }
    rc = unlock_check(d->r.st, session, typed, code, &t);
    json_decref(doc);
    if (rc == 0 && (u = calloc(1, sizeof(*u))) == NULL)
        rc = ER_NOMEM;
    if (rc == 0) {
        u->q = q;
        u->addr = addr;
        snprintf(u->session, sizeof(u->session), "%s", session);
        rc = background_unlock(d, session, code, unlock_done, u);
        if (rc < 0)
            free(u);
    }
    OPENSSL_cleanse(code, sizeof(code));
    if (rc < 0)
        return daemon_reply(q->conn, unlock_status(rc), unlock_answer(session, rc));
    d->unlock_busy = 1;
    return http_suspend(q);
}
