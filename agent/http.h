/* Private to agent/: the HTTP layer's request and what the handlers share
 * (http.c, signin.c). */
#ifndef EXAMROOM_AGENT_HTTP_H
#define EXAMROOM_AGENT_HTTP_H

#include "agent.h"

#define BODY_MAX (16 * 1024) /* a request body, at most */

struct http_req {
    struct daemon *d;
    struct MHD_Connection *conn;
    char *body;
    size_t len, cap;
    int too_large, suspended, orphaned;
    unsigned status; /* the answer, once an asynchronous call has it */
    json_t *answer;  /* (NULL if it could not be made: the connection is dropped) */
    int answered;
    char code[40];             /* the pairing code a pending approval is for; an answer's item */
    int64_t candidate;         /* whose answer is on its way (answers.c) */
    struct inflight *inflight; /* and its count of them */
    char token[65];
    int seat;
    int kind; /* the device a pairing being approved is for (enum store_term_kind) */
    /* a call of several writes: those still on their way, the first
     * failure, the answer once all are durable, and what a failure says
     * (a conflict may say something of its own) */
    int waiting, failed;
    json_t *ready;
    const char *fail_message, *conflict_code, *conflict_message;
    struct MHD_Response *response; /* a non-JSON answer made off the loop (report_http.c) */
};

/* The store callback for each write of such a call: when the last is in,
 * answers 200 with ready, 409 for a conflict that has its own message, or
 * 503 with fail_message. */
void http_step_done(int status, const struct store_ack *ack, void *arg);

/* Suspends the connection until answer_later() gives its answer. */
enum MHD_Result http_suspend(struct http_req *q);

/* The answer of a call that waited for the store: resumes the connection
 * (or, when it went meanwhile, frees the request). Takes body. */
void answer_later(struct http_req *q, unsigned status, json_t *body);

/* The token of "Authorization: Bearer TOKEN", or NULL. */
const char *http_bearer(struct MHD_Connection *conn);
/* The client's address as a rate limiter's key (its 4 or 16 bytes): 0; 1
 * when it is the server's own (exactly 127.0.0.1 or ::1), which no limit
 * applies to (the proctor at the server); -1 if unknown. */
int http_client_key(struct MHD_Connection *conn, struct ratelimit_key *key);
/* The same, of an address. */
int http_address_key(const struct sockaddr *sa, struct ratelimit_key *key);

/* POST /api/v1/signin (signin.c). */
enum MHD_Result http_signin(struct http_req *q);
/* GET /api/v1/terminal (signin.c): a paired terminal's heartbeat, {seat};
 * 401 not_paired when its token is no longer good. */
enum MHD_Result http_terminal(struct http_req *q);
/* The terminal at seat made a call now (the console's last contact). */
void seat_seen(struct daemon *d, int seat);

/* Which of a ticket's sessions is meant (signin.c): the one rule of sign-in
 * and of every proctor action. In order: session, when given (NULL or ""
 * for none); else the session the candidate is in (signed in or running,
 * no result yet; of several, the earliest); else the one whose sign-in is
 * open at now; else one under way (started, not ended) they are missing
 * from; else the next to start; else the most recent that is over without
 * a result (never attended: to be marked absent); else (all done) the most
 * recent. Copies the session id to out. ER_STORE_NOT_FOUND when
 * the ticket has no candidate (in that session). */
int candidate_resolve(struct daemon *d, const char *ticket, const char *session, int64_t now,
                      char *out, size_t outsz);

/* Is session's sign-in open at now (signin.c): 0 open, -1 not yet (it opens
 * 30 minutes before the start), 1 over (past the late-admission limit), -2
 * no such session. The door check (idreader_door.c) keeps the same hours. */
int signin_window(struct daemon *d, const char *session, int64_t now);
/* Is the sign-in of a session other than this one open at now? */
int signin_other_open(struct daemon *d, const char *session, int64_t now);

/* ID card readers at the door (idreader_serve.c): each of the n device
 * paths opened (and, while absent, tried every second) and polled on the
 * loop. ER_USAGE for more than 8. Stopped with the daemon; freed after the
 * loop has run dry. */
struct idr_card;
int idreaders_start(struct daemon *d, char *const *paths, size_t n);
void idreaders_stop(struct daemon *d);
void idreaders_free(struct daemon *d);
/* Each reader's state for GET /admin/v1/room: [{device, state, message,
 * counts of frames, bad checksums, bad lengths, noise bytes, timeouts,
 * last: the last card's outcome or null}]. */
json_t *idreaders_json(struct daemon *d);
/* The reader driver itself, for the door above and for a seat's reader
 * (examroom card-reader): what a card does is the set's callback. card
 * gets a card put on a reader (once while it lies there), decoded and as
 * read (the 256-byte text block), and returns its outcome, kept as the
 * reader's "last" (the set owns it; NULL: none). */
struct idr_events {
    json_t *(*card)(void *ctx, const char *device, const struct idr_card *card,
                    const uint8_t *text);
};
int idr_set_start(uv_loop_t *loop, char *const *paths, size_t n, const struct idr_events *ev,
                  void *ctx, struct idreaders **out);
void idr_set_stop(struct idreaders *s);
void idr_set_free(struct idreaders *s);
json_t *idr_set_json(struct idreaders *s);
/* A card read at the door (idreader_door.c): checked against the roster,
 * written, logged and put on the feed. Returns the outcome (the caller
 * owns it): {kind "door", outcome, text, seat, ticket, session, name, at,
 * device}. */
json_t *door_card(struct daemon *d, const char *device, const struct idr_card *card);
/* Do a card's name and the roster's match, spaces and full-width forms
 * aside (idreader_door.c)? */
int idcard_same_name(const char *a, const char *b);
/* The incident of a card whose name differs from the roster's (a
 * candidate-information mismatch for the center), with every field of the
 * card; source names where it was read (a door reader's device, "seat N").
 * 0 once queued, or an ER_*. */
int idcard_mismatch_incident(struct daemon *d, const char *source, int64_t cand, int seat,
                             const char *session, const char *ticket, const char *text,
                             const struct idr_card *card, int64_t now);

/* A seat's card reader (seatcard.c; examroom card-reader on the room PC,
 * paired as a device of kind reader). POST /api/v1/reader/card: the last
 * card it read, at once and every 5 s (only from the address of the seat's
 * terminal). GET /api/v1/terminal/card: the terminal's view, {seat,
 * card_reader, card: {read, outcome, message, name, id_masked} or null}. A
 * card is good for SEATCARD_TTL_S after its read, for one sign-in. */
#define SEATCARD_TTL_S 120
enum MHD_Result http_reader_card(struct http_req *q);
enum MHD_Result http_terminal_card(struct http_req *q);
/* The card read at seat that a sign-in may take, if its ID number is on the
 * roster: copied to card, 0; ER_STORE_NOT_FOUND if none. For a sign-in with
 * "card": true, which takes its ID number from here, never the browser. */
int seatcard_get(struct daemon *d, int seat, struct idr_card *card);
/* A sign-in at seat took its card. */
void seatcard_used(struct daemon *d, int seat);
/* seat's reader was revoked: its card and its liveness go at once. */
void seatcard_reader_gone(struct daemon *d, int seat);
/* seat's terminal called (q): where from, which its reader must match. */
void seatcard_terminal_call(struct http_req *q, int seat);
void seatcard_free(struct daemon *d);
/* An event of its own on the console's feed (console.c): "event: NAME"
 * with data json (one line). */
void feed_notice(struct daemon *d, const char *name, const char *json);

/* The candidate whose "Authorization: Bearer" candidate token this is
 * (their latest sign-in), or ER_STORE_NOT_FOUND; http_not_signed_in()
 * answers the 401 (exam.c). From the daemon's token cache while the
 * candidate's rows have not changed since they were read (cache.c). */
int http_candidate(struct http_req *q, struct signed_in *k);
/* The token cache (cache.c; the other caches are in agent.h): the
 * candidate of the token with this SHA-256 as read from the store since
 * neither the store's global generation nor that candidate's own moved
 * (0), or ER_STORE_NOT_FOUND; _keep() keeps k, just read, for it. The same
 * for the session at index in d->sessions (the global generation). */
int cache_candidate(struct daemon *d, const uint8_t hash[32], struct signed_in *k);
void cache_candidate_keep(struct daemon *d, const uint8_t hash[32], const struct signed_in *k);
int cache_session(struct daemon *d, int index, struct exam_session *x);
void cache_session_keep(struct daemon *d, int index, const struct exam_session *x);
void signed_in_copy(struct signed_in *k, const struct store_candidate *c);
enum MHD_Result http_not_signed_in(struct http_req *q);

/* The candidate's session as the exam page needs it (exam.c; from the
 * daemon's cache while the store has not changed, cache.c). */
int exam_session_get(struct daemon *d, const struct signed_in *k, struct exam_session *x);
/* "waiting", "locked", "running", "ended", "submitted" or "absent" at now
 * (seconds, the daemon's clock). */
const char *exam_state(const struct signed_in *k, const struct exam_session *x, int64_t now);
/* The items (with their keys) of the candidate's paper, or NULL (the paper
 * cannot be opened yet). */
const json_t *exam_items(struct daemon *d, const struct signed_in *k, const struct exam_session *x);
/* The item (with its key) of the candidate's paper, or NULL (no such item,
 * or the paper cannot be opened yet). */
const json_t *exam_item(struct daemon *d, const struct signed_in *k, const struct exam_session *x,
                        const char *item);

/* GET /api/v1/exam (exam.c): state, time left, the paper without keys. */
enum MHD_Result http_exam(struct http_req *q);

/* Scores (unless status is "absent") and queues k's result; done(rc, arg)
 * once it is durable and k is marked submitted (or absent).
 * ER_PKG_LOCKED when the paper cannot be opened (submit.c). */
int results_submit(struct daemon *d, const struct signed_in *k, const struct exam_session *x,
                   const char *status, void (*done)(int, void *), void *arg);
/* Is a result of this candidate on its way to the store? */
int results_queued(const struct daemon *d, int64_t candidate_id);
/* Starts the next queued result whose candidate has no answer write on its
 * way (a result is scored on every answer that was acknowledged). */
void results_kick(struct daemon *d);

/* Answer writes of candidate_id on their way to the store (answers.c). */
int answers_in_flight(const struct daemon *d, int64_t candidate_id);

/* The proctor's calls on one candidate (proctor.c):
 * POST /admin/v1/candidates/{ticket}/{submit|absent|extend|move|incident}. */
enum MHD_Result http_proctor(struct http_req *q, const char *ticket, const char *action);
/* POST /admin/v1/sessions/{id}/unlock {code} (proctor.c): examroom unlock
 * from the console, its KDF on the thread pool. */
enum MHD_Result http_unlock(struct http_req *q, const char *session);

/* login.c: POST /api/v1/proctor/login {password} and /logout; and whether
 * the request carries a live proctor token (good for the admin calls). */
enum MHD_Result http_proctor_login(struct http_req *q);
enum MHD_Result http_proctor_logout(struct http_req *q);
int http_is_proctor(struct http_req *q);

/* POST /api/v1/submit (submit.c): final, idempotent. */
enum MHD_Result http_submit(struct http_req *q);

/* PUT /api/v1/answers/{item} (answers.c). */
enum MHD_Result http_put_answer(struct http_req *q, const char *item);

/* GET /api/v1/photo (photo.c): the signed-in candidate's own photo. */
enum MHD_Result http_photo(struct http_req *q);
/* GET /admin/v1/candidates/{ticket}/photo[?session=S] (photo.c): a
 * candidate's photo for the console's candidate dialog. */
enum MHD_Result http_admin_photo(struct http_req *q, const char *ticket);
/* POST /api/v1/flag (signin.c): the candidate says the details shown are
 * wrong (信息有误): one incident on their record, the first press only. */
enum MHD_Result http_flag(struct http_req *q);
/* Is this incident's body (parsed) such a flag? */
int event_is_flag(const json_t *body);

/* The headers every answer carries, in this one place (serve.c): the
 * Content-Security-Policy (no inline script, nothing from elsewhere, never
 * in a frame), X-Frame-Options, X-Content-Type-Options, Referrer-Policy,
 * and cache_control (no-store for whatever carries exam data). */
void daemon_headers(struct MHD_Response *r, const char *cache_control);

/* GET /admin/v1/reports/{kind}?session=S&format=csv|html (report_http.c): a
 * session's report, rendered on the thread pool. */
enum MHD_Result http_report(struct http_req *q, const char *kind);

/* 404 not_found, the router's own (http.c). */
enum MHD_Result http_not_found(struct http_req *q);

/* GET and HEAD of a file of agent/web/ built into the program (static.c):
 * its bytes with their type and ETag, 304 when If-None-Match names it, 404
 * when there is no such file. */
enum MHD_Result http_static(struct http_req *q, const char *name);

/* The console (console.c): GET /admin/v1/room, one snapshot of what the
 * proctor's console shows; GET /admin/v1/events, its live feed
 * (text/event-stream). */
enum MHD_Result http_room(struct http_req *q);
enum MHD_Result http_events(struct http_req *q);
/* Ends the feed's clients and its timer (serve.c, when stopping): no
 * connection is left suspended for libmicrohttpd's stop. */
void feed_stop(struct daemon *d);
/* Frees what feed_stop() left, once the loop has stopped. */
void feed_free(struct daemon *d);

#endif
