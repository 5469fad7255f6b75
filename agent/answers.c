/* PUT /api/v1/answers/{item} {answer, rev}: a candidate's answer, answered
 * 200 only once it is durable (the store's group commit: the request waits,
 * suspended, while other terminals' saves join the same transaction). A rev
 * lower than or equal to the stored one changes nothing: 409 with the stored
 * answer and rev, so a browser that was offline learns what the server has.
 * 409 "submitted" once the candidate has submitted (or their result is on
 * its way); 423 when the candidate's exam is not running. */
#include "api.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a candidate's browser shows (zh-CN, in one place). */
#define MSG_NOT_RUNNING "考试未在进行中，答案没有保存。"
#define MSG_SUBMITTED   "你已交卷，答案不能再修改。"
#define MSG_NO_ITEM     "没有这道题。请刷新页面后重试。"
#define MSG_BAD_ANSWER  "答案格式不正确，没有保存。请刷新页面后重试。"
#define MSG_STALE       "这道题已有更新的答案保存在服务器上。"
#define MSG_SAVE        "答案未能保存，请稍后重试；如持续出现，请举手告知监考老师。"

/* ---- answers on their way, per candidate ---- */

static struct inflight *slot_of(struct daemon *d, int64_t candidate, int take)
{
    struct inflight *free_slot = NULL;

    /* Only the slots ever taken: free ones are taken lowest first, so these
     * are about as many as the candidates saving at once. */
    for (size_t i = 0; i < d->inflight_used; i++) {
        struct inflight *f = &d->inflight[i];

        if (f->n > 0 && f->candidate == candidate)
            return f;
        if (f->n == 0 && free_slot == NULL)
            free_slot = f;
    }
    if (take && free_slot == NULL && d->inflight_used < DAEMON_INFLIGHT)
        free_slot = &d->inflight[d->inflight_used++];
    if (take && free_slot != NULL)
        free_slot->candidate = candidate;
    return take ? free_slot : NULL;
}

int answers_in_flight(const struct daemon *d, int64_t candidate_id)
{
    const struct inflight *f = slot_of((struct daemon *)d, candidate_id, 0);

    return f != NULL ? f->n : 0;
}

static void saved(int status, const struct store_ack *ack, void *arg)
{
    struct http_req *q = arg;
    struct inflight *f = q->inflight; /* taken by http_put_answer */

    /* The last of this candidate's writes: a result waiting for it goes. */
    q->inflight = NULL;
    if (f != NULL && --f->n == 0)
        results_kick(q->d);

    if (status == 0)
        answer_later(q, MHD_HTTP_OK,
                     json_pack("{s:s, s:I}", "item", q->code, "rev", (json_int_t)ack->rev));
    else if (status == ER_STORE_STALE_REV)
        answer_later(q, MHD_HTTP_CONFLICT,
                     json_pack("{s:s, s:s, s:s, s:I, s:s}", "error", "stale_rev", "message",
                               MSG_STALE, "item", q->code, "rev", (json_int_t)ack->rev, "answer",
                               ack->answer));
    else
        answer_later(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                     json_pack("{s:s, s:s}", "error", "store", "message", MSG_SAVE));
}

enum MHD_Result http_put_answer(struct http_req *q, const char *item)
{
    struct signed_in k;
    struct exam_session x;
    struct inflight *f;
    const json_t *it;
    char answer[API_ANSWER_MAX + 1];
    int64_t rev;
    int rc;

    if (http_candidate(q, &k) < 0)
        return http_not_signed_in(q);
    /* Not once their result is on its way: it would not be in it. */
    if (k.state == STORE_CAND_SUBMITTED || results_queued(q->d, k.id))
        return daemon_error(q->conn, MHD_HTTP_CONFLICT, "submitted", MSG_SUBMITTED);
    if (exam_session_get(q->d, &k, &x) < 0 ||
        strcmp(exam_state(&k, &x, daemon_now_ms() / 1000), "running") != 0)
        return daemon_error(q->conn, MHD_HTTP_LOCKED, "not_running", MSG_NOT_RUNNING);
    it = exam_item(q->d, &k, &x, item);
    if (it == NULL)
        return daemon_error(q->conn, MHD_HTTP_NOT_FOUND, "no_item", MSG_NO_ITEM);
    if (api_answer_body(q->body, q->len, it, answer, &rev) < 0)
        return daemon_error(q->conn, MHD_HTTP_BAD_REQUEST, "bad_answer", MSG_BAD_ANSWER);
    snprintf(q->code, sizeof(q->code), "%s", item);
    q->candidate = k.id;
    f = slot_of(q->d, k.id, 1);
    rc = f == NULL ? ER_NOMEM : store_put_answer(q->d->r.st, k.id, item, answer, rev, saved, q);
    if (rc < 0)
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store", MSG_SAVE);
    f->n++;
    q->inflight = f;
    return http_suspend(q);
}
