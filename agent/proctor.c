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

enum MHD_Result http_proctor(struct http_req *q, const char *ticket, const char *action)
{
    struct signed_in k = {0};
    struct exam_session x;
    json_t *doc =
        json_loadb(q->body ? q->body : "{}", q->body ? q->len : 2, JSON_REJECT_DUPLICATES, NULL);
    const char *session;
    char sid[PKG_MAX_NAME + 1];
    int rc = 0, done;

    /* {"seat":3,"seat":30}: which one the proctor meant is anybody's guess. */
    if (!json_is_object(doc)) {
        json_decref(doc);
        return daemon_error(q->conn, MHD_HTTP_BAD_REQUEST, "bad_json", MSG_BODY);
    }
    session = asked_session(q, doc);
    if (candidate_resolve(q->d, ticket, session, daemon_now_ms() / 1000, sid, sizeof(sid)) < 0 ||
        store_find_candidate(q->d->r.st, sid, ticket, take_candidate, &k) < 0 || k.id == 0) {
        enum MHD_Result r = not_found(q, ticket, session);

        json_decref(doc);
        return r;
    }
    done = k.state == STORE_CAND_SUBMITTED || k.state == STORE_CAND_ABSENT ||
           results_queued(q->d, k.id);
    exam_session_get(q->d, &k, &x);
    q->ready =
        json_pack("{s:s, s:s, s:s}", "ticket", k.ticket, "session", k.session, "action", action);
    q->fail_message = MSG_SAVE;
    q->conflict_code = "seat_taken";
    q->conflict_message = MSG_SEAT_TAKEN;
    if (strcmp(action, "incident") == 0) {
        const char *text = json_string_value(json_object_get(doc, "text"));

        if (text == NULL || text[0] == '\0' || strlen(text) > 500)
            rc = 1, q->status = MHD_HTTP_BAD_REQUEST;
        else
            rc = add_event(
                q, &k, STORE_EVENT_INCIDENT,
                json_pack("{s:s, s:s, s:i}", "kind", "incident", "text", text, "seat", k.seat));
    } else if (done) {
        rc = 1, q->status = MHD_HTTP_CONFLICT;
    } else if (strcmp(action, "submit") == 0) {
        const char *st = exam_state(&k, &x, daemon_now_ms() / 1000);

        /* Not before their exam has begun: nothing would be scored. */
        if (k.state == STORE_CAND_REGISTERED || x.sealed_len == 0 ||
            (strcmp(st, "running") != 0 && strcmp(st, "ended") != 0))
            rc = 1, q->status = MHD_HTTP_LOCKED;
        else if ((rc = results_submit(q->d, &k, &x, "submitted", result_done, q)) == 0)
            q->waiting++;
    } else if (strcmp(action, "absent") == 0) {
        if (k.state != STORE_CAND_REGISTERED)
            rc = 1, q->status = MHD_HTTP_LOCKED;
        else if ((rc = results_submit(q->d, &k, &x, "absent", absent_done, q)) == 0)
            q->waiting++;
    } else if (strcmp(action, "extend") == 0) {
        json_int_t m = json_integer_value(json_object_get(doc, "minutes"));

        if (m < 1 || m > 120)
            rc = 1, q->status = MHD_HTTP_BAD_REQUEST;
        else if ((rc = store_add_time(q->d->r.st, k.id, (int)m * 60, http_step_done, q)) == 0) {
            q->waiting++;
            json_object_set_new(q->ready, "minutes", json_integer(m));
            rc = add_event(q, &k, STORE_EVENT_AUDIT,
                           json_pack("{s:s, s:I}", "kind", "extend", "minutes", m));
        }
    } else if (strcmp(action, "move") == 0) {
        json_int_t seat = json_integer_value(json_object_get(doc, "seat"));
        char text[sizeof(k.ticket) + sizeof(k.session) + 128];

        /* The move ends the old seat's candidate token in the same
         * transaction: from the answer on, only a sign-in at the new seat
         * reads the paper or saves an answer. */
        if (seat < 1 || seat > 9999 || !seat_exists(q->d, (int)seat))
            rc = 1, q->status = MHD_HTTP_BAD_REQUEST;
        else if ((rc = store_move_candidate(q->d->r.st, k.id, (int)seat, http_step_done, q)) == 0) {
            q->waiting++;
            json_object_set_new(q->ready, "from", json_integer(k.seat));
            json_object_set_new(q->ready, "seat", json_integer(seat));
            snprintf(text, sizeof(text), MSG_MOVE_TEXT, k.ticket, k.session, k.seat,
                     (long long)seat);
            rc = add_event(q, &k, STORE_EVENT_AUDIT,
                           json_pack("{s:s, s:i, s:I, s:s}", "kind", "move", "from", k.seat, "to",
                                     seat, "text", text));
        }
    } else {
        rc = 1, q->status = MHD_HTTP_NOT_FOUND;
    }
    json_decref(doc);
    if (rc == 1 || (rc < 0 && q->waiting == 0)) {
        unsigned status = rc < 0 ? MHD_HTTP_SERVICE_UNAVAILABLE : q->status;

        json_decref(q->ready);
        q->ready = NULL;
        q->status = 0;
        if (rc < 0)
            return daemon_error(q->conn, status, "store", MSG_SAVE);
        if (status == MHD_HTTP_CONFLICT)
            return refuse(q, status, "done", MSG_DONE_ALREADY, &k);
        if (status == MHD_HTTP_LOCKED && strcmp(action, "absent") == 0)
            return refuse(q, status, "signed_in", MSG_SIGNED_IN, &k);
        if (status == MHD_HTTP_LOCKED)
            return refuse(q, status, "not_started", MSG_NOT_STARTED, &k);
        if (status == MHD_HTTP_BAD_REQUEST)
            return daemon_error(q->conn, status, "bad_request",
                                strcmp(action, "extend") == 0 ? MSG_MINUTES
                                : strcmp(action, "move") == 0 ? MSG_SEAT
                                                              : MSG_TEXT);
        return daemon_error(q->conn, status, "no_action", MSG_ACTION);
    }
    /* A second write that could not start: the first answers with it. */
    if (rc < 0 && q->failed == 0)
        q->failed = rc;
    return http_suspend(q);
}
