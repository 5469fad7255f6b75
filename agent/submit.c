/* Submitting: POST /api/v1/submit, and auto-submit at each candidate's end.
 * A result is scored with the paper's keys, sealed (signed by the room,
 * chained on the head) and appended with its outbox row; then the candidate
 * is marked submitted; only then is the submit answered. Results go to the
 * store one at a time, in a queue, so each is sealed on the head the one
 * before made (two in one group commit would name the same head). */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_MS 2000 /* how often candidates past their end are looked for */

/* What a candidate reads (zh-CN, in one place). */
#define MSG_NOT_RUNNING  "考试尚未开始，不能交卷。"
#define MSG_EARLY_SUBMIT "开考 %d 分钟后才能交卷，请继续作答。"
#define MSG_SUBMIT_FAIL  "交卷未能保存，请稍后再试；如持续出现，请举手告知监考老师。"
#define MSG_ABSENT       "您已被登记为缺考，请联系监考老师。"

struct result_job {
    struct result_job *next;
    struct daemon *d;
    int64_t candidate_id;
    char session[PKG_MAX_NAME + 1], ticket[64];
    int seat;            /* the seat used: where they signed in last or were moved to */
    const char *status;  /* "submitted", "auto_submitted", "absent" */
    const json_t *items; /* the paper's, with keys (the daemon keeps them); NULL: absent */
    int score, tries;
    char *answers; /* {"item": {"answer", "rev"}}, read once the job's turn comes */
    int64_t at;
    void (*done)(int rc, void *arg);
    void *arg;
};

static void take_answer(const struct store_answer *a, void *arg)
{
    json_object_set_new(arg, a->item,
                        json_pack("{s:s, s:I}", "answer", a->answer, "rev", (json_int_t)a->rev));
}

static void job_free(struct result_job *j)
{
    free(j->answers);
    free(j);
}

static void run_next(struct daemon *d);

static void marked(int status, const struct store_ack *ack, void *arg)
{
    struct result_job *j = arg;
    struct daemon *d = j->d;

    (void)ack;
    if (status < 0)
        log_error("candidate %s not marked submitted: %s", j->ticket, er_name(status));
    else
        log_info("%s %s: %s, %d", j->session, j->ticket, j->status, j->score);
    if (j->done != NULL)
        j->done(status, j->arg);
    job_free(j);
    d->result_busy = 0;
    d->result_current = 0;
    run_next(d);
}

static void added(int status, const struct store_ack *ack, void *arg)
{
    struct result_job *j = arg;
    struct daemon *d = j->d;

    (void)ack;
    /* Another result took the head meanwhile: seal again on the new one. */
    if (status == ER_STORE_CHAIN && ++j->tries < 5) {
        j->next = d->results;
        d->results = j;
        d->result_busy = 0;
        d->result_current = 0;
        run_next(d);
        return;
    }
    /* Sealed, and the candidate marked in the same transaction. */
    if (status == 0) {
        marked(0, ack, j);
        return;
    }
    /* A result already there (a second click): the submit stands. */
    if (status == ER_STORE_CONFLICT) {
        status = store_update_candidate(d->r.st, j->candidate_id,
                                        strcmp(j->status, "absent") == 0 ? STORE_CAND_ABSENT
                                                                         : STORE_CAND_SUBMITTED,
                                        0, 0, marked, j);
        if (status == 0)
            return;
    }
    /* Not as read when it was queued (a sign-in came before an absent):
     * refused whole; the caller says so, the scan looks again. */
    if (status == ER_STORE_NOT_FOUND)
        log_info("%s %s: %s refused, the candidate's state changed meanwhile", j->session,
                 j->ticket, j->status);
    else
        log_error("result of %s not saved: %s", j->ticket, er_name(status));
    if (j->done != NULL)
        j->done(status, j->arg);
    job_free(j);
    d->result_busy = 0;
    d->result_current = 0;
    run_next(d);
}

/* The candidate's answers as the store has them, and their score: read
 * when the job's turn comes, once no answer of theirs is on its way (new
 * ones are refused from the moment the job is queued). */
static int read_answers(struct result_job *j)
{
    json_t *answers;

    if (j->items == NULL || j->answers != NULL)
        return 0;
    answers = json_object();
    if (answers == NULL)
        return ER_NOMEM;
    store_foreach_answer(j->d->r.st, j->candidate_id, take_answer, answers);
    j->score = score_of(j->items, answers);
    j->answers = json_dumps(answers, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(answers);
    return j->answers != NULL ? 0 : ER_NOMEM;
}

static void run_next(struct daemon *d)
{
    struct result_job *j, **pj = &d->results;
    struct sync_result r;
    struct store_result res = {0};
    char *payload = NULL;
    size_t len = 0;
    int rc;

    if (d->result_busy)
        return;
    /* The first in the queue whose candidate has no answer on its way. */
    while (*pj != NULL && answers_in_flight(d, (*pj)->candidate_id) > 0)
        pj = &(*pj)->next;
    j = *pj;
    if (j == NULL)
        return;
    *pj = j->next;
    rc = read_answers(j);
    if (rc < 0) {
        log_error("result of %s not scored: %s", j->ticket, er_name(rc));
        if (j->done != NULL)
            j->done(rc, j->arg);
        job_free(j);
        run_next(d);
        return;
    }
    r = (struct sync_result){.plan = d->plan,
                             .room = d->room_id,
                             .session = j->session,
                             .ticket = j->ticket,
                             .status = j->status,
                             .score = j->score,
                             .submitted_at = j->at,
                             .answers_json = j->answers,
                             .seat = j->seat};
    res.candidate_id = j->candidate_id;
    res.score = j->score;
    res.state = strcmp(j->status, "absent") == 0 ? STORE_CAND_ABSENT : STORE_CAND_SUBMITTED;
    rc = store_chain_head(d->r.st, &res.chain_pos, res.prev_hash);
    res.chain_pos++;
    if (rc == 0)
        rc = sync_seal_result(&r, res.chain_pos, res.prev_hash, &payload, &len);
    res.sealed = (const uint8_t *)payload;
    res.sealed_len = len;
    if (rc == 0)
        rc = store_add_result(d->r.st, &res, added, j);
    free(payload);
    if (rc == 0) {
        d->result_busy = 1;
        d->result_current = j->candidate_id;
        return;
    }
    log_error("result of %s not sealed: %s", j->ticket, er_name(rc));
    if (j->done != NULL)
        j->done(rc, j->arg);
    job_free(j);
    run_next(d);
}

void results_kick(struct daemon *d)
{
    run_next(d);
}

static void on_kick(uv_timer_t *t)
{
    run_next(t->data);
}

int results_queued(const struct daemon *d, int64_t candidate_id)
{
    if (d->result_busy && d->result_current == candidate_id)
        return 1; /* the one on its way to the store */
    for (const struct result_job *j = d->results; j != NULL; j = j->next)
        if (j->candidate_id == candidate_id)
            return 1;
    return 0;
}

int results_submit(struct daemon *d, const struct signed_in *k, const struct exam_session *x,
                   const char *status, void (*done)(int, void *), void *arg)
{
    int absent = strcmp(status, "absent") == 0;
    const json_t *items = absent ? NULL : exam_items(d, k, x);
    struct result_job *j;

    if (items == NULL && !absent)
        return ER_PKG_LOCKED;
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        return ER_NOMEM;
    *j = (struct result_job){.d = d,
                             .candidate_id = k->id,
                             .seat = k->seat,
                             .status = status,
                             .items = items,
                             .score = -1,
                             .at = daemon_now_ms() / 1000,
                             .done = done,
                             .arg = arg};
    snprintf(j->session, sizeof(j->session), "%s", k->session);
    snprintf(j->ticket, sizeof(j->ticket), "%s", k->ticket);
    /* Appended: results are sealed in the order they were asked for. */
    struct result_job **tail = &d->results;

    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = j;
    /* Started from the loop, not from here: whatever becomes of it reaches
     * done after the caller (a request handler) has suspended its
     * connection, never before. */
    if (d->kick_ready)
        uv_timer_start(&d->kick_timer, on_kick, 0, 0);
    else
        run_next(d);
    return 0;
}

/* ---- POST /api/v1/submit ---- */

static void submitted(int rc, void *arg)
{
    struct http_req *q = arg;

    if (rc < 0)
        answer_later(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                     json_pack("{s:s, s:s}", "error", "store", "message", MSG_SUBMIT_FAIL));
    else
        answer_later(q, MHD_HTTP_OK, json_pack("{s:s}", "state", "submitted"));
}

enum MHD_Result http_submit(struct http_req *q)
{
    struct signed_in k;
    struct exam_session x;
    int64_t now = daemon_now_ms() / 1000;
    const char *state;
    char message[160];

    if (http_candidate(q, &k) < 0)
        return http_not_signed_in(q);
    if (exam_session_get(q->d, &k, &x) < 0)
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store", MSG_SUBMIT_FAIL);
    state = exam_state(&k, &x, now);
    /* Final and idempotent: a second submit, or one queued already, stands. */
    if (strcmp(state, "submitted") == 0 || results_queued(q->d, k.id))
        return daemon_reply(q->conn, MHD_HTTP_OK, json_pack("{s:s}", "state", "submitted"));
    if (strcmp(state, "absent") == 0)
        return daemon_error(q->conn, MHD_HTTP_LOCKED, "absent", MSG_ABSENT);
    if (strcmp(state, "waiting") == 0 || strcmp(state, "locked") == 0)
        return daemon_error(q->conn, MHD_HTTP_LOCKED, "not_running", MSG_NOT_RUNNING);
    if (strcmp(state, "running") == 0 &&
        now < x.starts_at + (int64_t)x.earliest_submit_minutes * 60) {
        snprintf(message, sizeof(message), MSG_EARLY_SUBMIT, x.earliest_submit_minutes);
        return daemon_error(q->conn, MHD_HTTP_LOCKED, "too_early", message);
    }
    /* Running, or ended before the auto-submit came round to it. */
    if (results_submit(q->d, &k, &x, strcmp(state, "ended") == 0 ? "auto_submitted" : "submitted",
                       submitted, q) < 0)
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store", MSG_SUBMIT_FAIL);
    return http_suspend(q);
}

/* ---- auto-submit at each candidate's end ---- */

struct scan {
    struct daemon *d;
    int64_t now;
    int live; /* candidates of the session still signed in or running */
};

static void consider(const struct store_candidate *c, void *arg)
{
    struct scan *s = arg;
    struct signed_in k;
    struct exam_session x;

    if (c->state != STORE_CAND_SIGNED_IN && c->state != STORE_CAND_RUNNING &&
        c->state != STORE_CAND_REGISTERED)
        return;
    s->live++;
    if (results_queued(s->d, c->id))
        return;
    signed_in_copy(&k, c);
    /* Never signed in, and the session is over (the scan reads only those):
     * absent (缺考), the same result the proctor's "absent" makes, so the
     * center has a row for them. */
    if (c->state == STORE_CAND_REGISTERED) {
        if (results_submit(s->d, &k, NULL, "absent", NULL, NULL) < 0)
            log_error("%s %s: not recorded absent", k.session, k.ticket);
        return;
    }
    /* A session never unlocked has no paper and so nothing to score. */
    if (exam_session_get(s->d, &k, &x) < 0 || x.ends_at + c->extra_seconds > s->now ||
        x.sealed_len == 0)
        return;
    if (results_submit(s->d, &k, &x, "auto_submitted", NULL, NULL) < 0)
        log_error("%s %s: the paper cannot be opened to submit", k.session, k.ticket);
}

static void take_end(const struct store_session *x, void *arg)
{
    *(int64_t *)arg = x->ends_at;
}

/* Only sessions past their end are read (nobody's end comes before it),
 * and a session is left alone once nobody in it is signed in, running or
 * still unrecorded (a no-show is recorded absent): after its end nobody can
 * sign in, so nobody comes back. The loop reads
 * nothing while sessions run, whatever the roster's size. */
static void on_scan(uv_timer_t *t)
{
    struct daemon *d = t->data;
    struct scan s = {d, daemon_now_ms() / 1000, 0};

    for (size_t i = 0; i < d->n_sessions; i++) {
        int64_t ends = 0;

        if (d->scan_done[i] || store_get_session(d->r.st, d->sessions[i], take_end, &ends) < 0 ||
            ends == 0 || s.now < ends)
            continue;
        s.live = 0;
        store_foreach_candidate(d->r.st, d->sessions[i], consider, &s);
        if (s.live == 0)
            d->scan_done[i] = 1;
    }
}

static void on_scan_closed(uv_handle_t *h)
{
    ((struct daemon *)h->data)->open_handles--;
}

void results_start(struct daemon *d)
{
    uv_timer_init(&d->r.loop, &d->kick_timer);
    d->kick_timer.data = d;
    d->open_handles++;
    d->kick_ready = 1;
    uv_timer_init(&d->r.loop, &d->scan_timer);
    d->scan_timer.data = d;
    d->open_handles++;
    d->scan_ready = 1;
    uv_timer_start(&d->scan_timer, on_scan, 0, SCAN_MS);
}

void results_stop(struct daemon *d)
{
    if (d->kick_ready) {
        uv_timer_stop(&d->kick_timer);
        uv_close((uv_handle_t *)&d->kick_timer, on_scan_closed);
        d->kick_ready = 0;
    }
    if (d->scan_ready) {
        uv_timer_stop(&d->scan_timer);
        uv_close((uv_handle_t *)&d->scan_timer, on_scan_closed);
        d->scan_ready = 0;
    }
}
