/* GET /api/v1/exam: what a signed-in candidate's page shows: the session's
 * state, the server's time, the seconds left, and once the session has
 * started for this candidate, the paper without its keys. The session's
 * papers are decrypted once, with its session key unsealed from the store,
 * and kept in memory (keys included, for scoring). */
#include "http.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MSG_NOT_SIGNED_IN "您尚未签到。请在本座位的电脑上签到。"
#define MSG_REPLACED                                                                               \
    "您已重新签到，本页面已失效。请在最后一次签到的页面继续作答，已保存的答案不会丢失。"
#define MSG_MOVED                                                                                  \
    "监考老师已把您的座位调到 %d 号。请到 %d 号座位重新签到，已保存的答案和剩余时间不变。"
#define MSG_REVOKED  "这台电脑已停止使用，您的答案已保存。请听从监考老师安排，到指定的座位重新签到。"
#define MSG_NO_PAPER "试卷暂时无法打开，请举手告知监考老师。"

static int same(const json_t *v, const char *text)
{
    return json_is_string(v) && strcmp(json_string_value(v), text) == 0;
}

void signed_in_copy(struct signed_in *k, const struct store_candidate *c)
{
    k->id = c->id;
    k->seat = c->seat;
    k->state = c->state;
    k->extra_seconds = c->extra_seconds;
    snprintf(k->session, sizeof(k->session), "%s", c->session_id);
    snprintf(k->ticket, sizeof(k->ticket), "%s", c->ticket);
    snprintf(k->occupation, sizeof(k->occupation), "%s", c->occupation);
    snprintf(k->level, sizeof(k->level), "%s", c->level);
    snprintf(k->photo, sizeof(k->photo), "%s", c->photo ? c->photo : "");
}

static void take_candidate(const struct store_candidate *c, void *arg)
{
    signed_in_copy(arg, c);
}

int http_candidate(struct http_req *q, struct signed_in *k)
{
    const char *token = http_bearer(q->conn);
    uint8_t key[STORE_HASH_LEN], before[STORE_HASH_LEN];

    *k = (struct signed_in){0};
    if (token == NULL)
        return ER_STORE_NOT_FOUND;
    crypto_token_key(token, key);
    if (cache_candidate(q->d, key, k) == 0) {
        seat_seen(q->d, k->seat);
        return 0;
    }
    /* A token issued before keys were ordered (64 hex digits as well) is
     * kept under its SHA-256 (crypto.h): a room upgraded during an exam
     * signs no one out. Needed as long as a store may hold sign-ins made
     * by a version from before 2026-12. */
    if (store_candidate_by_token(q->d->r.st, key, take_candidate, k) < 0 || k->id == 0) {
        if (strlen(token) != CRYPTO_TOKEN_HEX)
            return ER_STORE_NOT_FOUND;
        sha256(token, strlen(token), before);
        if (store_candidate_by_token(q->d->r.st, before, take_candidate, k) < 0 || k->id == 0)
            return ER_STORE_NOT_FOUND;
    }
    cache_candidate_keep(q->d, key, k);
    seat_seen(q->d, k->seat); /* the candidate's terminal is alive */
    return 0;
}

static void take_signin(const struct store_signin *g, void *arg)
{
    *(struct store_signin *)arg = *g;
    ((struct store_signin *)arg)->token_hash = NULL; /* valid only during the call */
}

/* Why the token is no candidate's, and what they do about it: a move or a
 * revoked terminal ended it, or a later sign-in replaced it. */
enum MHD_Result http_not_signed_in(struct http_req *q)
{
    const char *token = http_bearer(q->conn);
    struct store_signin g = {0};
    uint8_t key[STORE_HASH_LEN];
    char message[320];

    if (token != NULL) {
        crypto_token_key(token, key);
        if (store_find_signin(q->d->r.st, key, take_signin, &g) < 0 &&
            strlen(token) == CRYPTO_TOKEN_HEX) {
            sha256(token, strlen(token), key); /* issued before: http_candidate() */
            store_find_signin(q->d->r.st, key, take_signin, &g);
        }
    }
    if (g.id != 0 && g.ended_at != 0 && g.candidate_seat != g.seat) {
        snprintf(message, sizeof(message), MSG_MOVED, g.candidate_seat, g.candidate_seat);
        return daemon_error(q->conn, MHD_HTTP_UNAUTHORIZED, "moved", message);
    }
    if (g.id != 0 && g.ended_at != 0)
        return daemon_error(q->conn, MHD_HTTP_UNAUTHORIZED, "terminal_revoked", MSG_REVOKED);
    if (g.id != 0 && !g.latest)
        return daemon_error(q->conn, MHD_HTTP_UNAUTHORIZED, "replaced", MSG_REPLACED);
    return daemon_error(q->conn, MHD_HTTP_UNAUTHORIZED, "not_signed_in", MSG_NOT_SIGNED_IN);
}

/* ---- the session's papers ---- */

static void take_session(const struct store_session *s, void *arg)
{
    struct exam_session *x = arg;

    x->found = 1;
    x->starts_at = s->starts_at;
    x->ends_at = s->ends_at;
    x->earliest_submit_minutes = s->earliest_submit_minutes;
    x->late_admission_minutes = s->late_admission_minutes;
    x->state = s->state;
    x->sealed_len = s->sealed_key_len == sizeof(x->sealed) ? s->sealed_key_len : 0;
    if (x->sealed_len)
        memcpy(x->sealed, s->sealed_key, x->sealed_len);
}

static int session_index(const struct daemon *d, const char *session)
{
    for (size_t i = 0; i < d->n_sessions; i++)
        if (strcmp(d->sessions[i], session) == 0)
            return (int)i;
    return -1;
}

/* The session's paper section, decrypted once (AES-GCM over a few hundred
 * KiB at most: no need for the thread pool). */
static json_t *session_papers(struct daemon *d, const char *session, const struct exam_session *x)
{
    int i = session_index(d, session);
    uint8_t key[PKG_SESSION_KEY];
    char label[PKG_MAX_NAME + 64], name[PKG_MAX_NAME + 8], *text = NULL;
    size_t len;
    int rc;

    if (i < 0 || d->pkg == NULL || x->sealed_len == 0)
        return NULL;
    if (d->papers[i] != NULL || d->paper_error[i] < 0)
        return d->papers[i]; /* a package that failed once fails each time: once is enough */
    room_session_label(session, label, sizeof(label));
    rc = key_open_secret(d->r.wrap, label, x->sealed, x->sealed_len, key);
    snprintf(name, sizeof(name), "paper/%s", session);
    if (rc == 0)
        rc = room_read_section(d->pkg, name, key, &text, &len);
    OPENSSL_cleanse(key, sizeof(key));
    if (rc == 0 && (d->papers[i] = json_loadb(text, len, 0, NULL)) == NULL)
        rc = ER_PKG_CORRUPT;
    free(text);
    if (rc < 0) {
        if (rc != ER_NOMEM)
            d->paper_error[i] = rc;
        log_error("paper of session %s: %s", session, er_name(rc));
    }
    return d->papers[i];
}

/* The candidate's paper, as they may see it: no keys. */
static json_t *paper_for(json_t *papers, const struct signed_in *k)
{
    size_t i;
    json_t *p, *body, *out, *items, *item;

    json_array_foreach(json_object_get(papers, "papers"), i, p)
    {
        if (!same(json_object_get(p, "occupation"), k->occupation) ||
            !same(json_object_get(p, "level"), k->level))
            continue;
        body = json_object_get(p, "body");
        out = json_pack("{s:O?, s:O?, s:O?, s:O?, s:[]}", "title", json_object_get(body, "title"),
                        "subject", json_object_get(body, "subject"), "occupation",
                        json_object_get(body, "occupation"), "level",
                        json_object_get(body, "level"), "items");
        items = json_object_get(out, "items");
        json_array_foreach(json_object_get(body, "items"), i, item)
        {
            /* Named fields only: nothing else of the paper's item (its key,
             * any note for the markers) reaches a terminal. */
            json_array_append_new(items, json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?}", "id",
                                                   json_object_get(item, "id"), "type",
                                                   json_object_get(item, "type"), "stem",
                                                   json_object_get(item, "stem"), "options",
                                                   json_object_get(item, "options"), "points",
                                                   json_object_get(item, "points")));
        }
        return out;
    }
    return NULL;
}

const char *exam_state(const struct signed_in *k, const struct exam_session *x, int64_t now)
{
    int64_t end = x->ends_at + k->extra_seconds;

    if (k->state == STORE_CAND_SUBMITTED)
        return "submitted";
    if (k->state == STORE_CAND_ABSENT)
        return "absent";
    if (x->state == STORE_SESSION_ENDED || now >= end)
        return "ended";
    if (now < x->starts_at)
        return "waiting";
    if (x->state == STORE_SESSION_LOCKED)
        return "locked"; /* started, but no key yet: the proctor unlocks */
    return "running";
}

int exam_session_of(struct daemon *d, const char *session, struct exam_session *x)
{
    int i = session_index(d, session);

    if (cache_session(d, i, x) == 0)
        return 0;
    *x = (struct exam_session){0};
    if (store_get_session(d->r.st, session, take_session, x) < 0 || !x->found)
        return ER_STORE_NOT_FOUND;
    cache_session_keep(d, i, x);
    return 0;
}

int exam_session_get(struct daemon *d, const struct signed_in *k, struct exam_session *x)
{
    return exam_session_of(d, k->session, x);
}

const json_t *exam_items(struct daemon *d, const struct signed_in *k, const struct exam_session *x)
{
    json_t *papers = session_papers(d, k->session, x), *p;
    size_t i;

    json_array_foreach(json_object_get(papers, "papers"), i, p)
    {
        if (same(json_object_get(p, "occupation"), k->occupation) &&
            same(json_object_get(p, "level"), k->level))
            return json_object_get(json_object_get(p, "body"), "items");
    }
    return NULL;
}

const json_t *exam_item(struct daemon *d, const struct signed_in *k, const struct exam_session *x,
                        const char *item)
{
    const json_t *items = exam_items(d, k, x), *v;
    size_t j;

    json_array_foreach(items, j, v)
    {
        if (same(json_object_get(v, "id"), item))
            return v;
    }
    return NULL;
}

static void take_answer(const struct store_answer *a, void *arg)
{
    json_object_set_new(arg, a->item,
                        json_pack("{s:s, s:I}", "answer", a->answer, "rev", (json_int_t)a->rev));
}

static void running_saved(int status, const struct store_ack *ack, void *arg)
{
    (void)ack;
    (void)arg;
    if (status < 0)
        log_error("candidate's running state not saved: %s", er_name(status));
}

enum MHD_Result http_exam(struct http_req *q)
{
    struct signed_in k;
    struct exam_session x;
    int64_t now_ms = daemon_now_ms(), now = now_ms / 1000, end;
    const char *state;
    json_t *doc, *paper = NULL;
    int over;

    if (http_candidate(q, &k) < 0)
        return http_not_signed_in(q);
    if (exam_session_get(q->d, &k, &x) < 0)
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no_paper", MSG_NO_PAPER);
    end = x.ends_at + k.extra_seconds;
    state = exam_state(&k, &x, now);
    if (results_queued(q->d, k.id))
        state = "submitted"; /* their result is on its way to the store */
    /* Submitted, absent, ended: no clock runs on. */
    over = strcmp(state, "submitted") == 0 || strcmp(state, "absent") == 0 ||
           strcmp(state, "ended") == 0;
    if (strcmp(state, "running") == 0) {
        json_t *papers = session_papers(q->d, k.session, &x);

        if (papers == NULL || (paper = paper_for(papers, &k)) == NULL)
            return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no_paper", MSG_NO_PAPER);
    }
    /* The page knows four states (PRODUCT.md): started but not unlocked
     * yet is waiting, with unlocked false; absent is ended. */
    doc = json_pack("{s:s, s:b, s:I, s:s, s:s, s:I, s:I, s:I}", "state",
                    strcmp(state, "locked") == 0   ? "waiting"
                    : strcmp(state, "absent") == 0 ? "ended"
                                                   : state,
                    "unlocked", x.state != STORE_SESSION_LOCKED, "server_time", (json_int_t)now_ms,
                    "session", k.session, "ticket", k.ticket, "starts_at", (json_int_t)x.starts_at,
                    "ends_at", (json_int_t)end, "remaining_seconds",
                    (json_int_t)(over                ? 0
                                 : now < x.starts_at ? x.starts_at - now
                                 : now < end         ? end - now
                                                     : 0));
    /* When 交卷 opens (submit.c refuses it before): the review screen says
     * so and keeps the button disabled until then. */
    json_object_set_new(doc, "earliest_submit_minutes", json_integer(x.earliest_submit_minutes));
    json_object_set_new(
        doc, "earliest_submit_at",
        json_integer((json_int_t)(x.starts_at + (int64_t)x.earliest_submit_minutes * 60)));
    if (paper != NULL) {
        json_t *answers = json_object();

        /* What the candidate has answered so far: a browser that crashed, or
         * another seat, picks up from here. */
        store_foreach_answer(q->d->r.st, k.id, take_answer, answers);
        json_object_set_new(doc, "paper", paper);
        json_object_set_new(doc, "answers", answers);
        /* The candidate has seen the paper: their exam is running (the
         * sign-in sheet and the center see it). */
        if (k.state == STORE_CAND_SIGNED_IN && !results_queued(q->d, k.id) &&
            store_mark_running(q->d->r.st, k.id, running_saved, NULL) < 0)
            log_error("candidate's running state not saved");
    }
    return daemon_reply(q->conn, MHD_HTTP_OK, doc);
}
