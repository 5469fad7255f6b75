/* What the proctor's console shows, over the admin channel:
 *   GET /admin/v1/room    one JSON snapshot: the sessions, every seat with
 *                         its terminal and candidates (state, answers saved,
 *                         time left, incidents), pairing codes waiting for
 *                         approval, the link to the center, and the ID
 *                         card readers at the door ("id_readers");
 *   GET /admin/v1/events  a live feed (text/event-stream): an "event: room"
 *                         with a summary of it whenever a commit changed
 *                         that summary, an "event: door" for each ID card
 *                         read at the door (idreader_door.c), and a
 *                         comment every 15 s.
 * The feed's clients get their bytes from libmicrohttpd's content reader;
 * one with nothing to read is suspended and resumed when an event is queued
 * for it, so an idle feed costs the loop nothing. The store's commit count
 * is looked at every FEED_POLL_MS while a client is connected: a commit by
 * anyone (a candidate's save, a proctor's action, the upload engine) is on
 * the feed within that. A client that does not read has its bytes queued up
 * to FEED_BUFFER_MAX; past it, it is dropped: the loop never waits for a
 * client. A feed opened with a proctor login ends (the stream's end) at the
 * first look after that login is logged out or expires. */
#define _GNU_SOURCE /* POLLRDHUP */
#include "http.h"

#include <openssl/crypto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define FEED_POLL_MS       200
#define FEED_HEARTBEAT_MS  15000
#define FEED_BUFFER_MAX    (64 * 1024)
#define FEED_SOCKET_BUFFER (16 * 1024) /* the kernel's, asked for (it doubles it) */
#define SILENT_MS          30000       /* a paired PC with no call for this long: 失联 */
#define SILENT_LOOK_MS     1000        /* how often the feed looks for PCs gone silent */

/* The 失联 threshold: SILENT_MS, or (tests only) EXAMROOM_TEST_SILENT_SECONDS
 * (1 to 3600), read once per daemon. */
static int64_t silent_ms(struct daemon *d)
{
    if (d->silent_ms == 0) {
        const char *v = getenv("EXAMROOM_TEST_SILENT_SECONDS");
        long n = v != NULL ? strtol(v, NULL, 10) : 0;

        d->silent_ms = n >= 1 && n <= 3600 ? (int64_t)n * 1000 : SILENT_MS;
        if (d->silent_ms != SILENT_MS)
            log_warn("test knob: a PC is 失联 after %lld s (EXAMROOM_TEST_SILENT_SECONDS)",
                     (long long)(d->silent_ms / 1000));
    }
    return d->silent_ms;
}

/* Has seat's paired terminal been silent too long at now (ms)? Counted
 * from serve's start when it has made no call since. */
static int seat_silent(struct daemon *d, int seat, int64_t now_ms)
{
    int64_t seen = seat > 0 && seat < 10000 ? d->seat_seen_ms[seat] : 0;
    int64_t since = seen > 0 ? seen : d->serve_started_ms;

    return since > 0 && now_ms - since > silent_ms(d);
}

/* ---- the snapshot ---- */

struct snapshot {
    struct daemon *d;
    int64_t now, now_ms;
    json_t *sessions; /* id -> {state, starts_at, ends_at} */
    json_t *seats;    /* "N" -> {seat, label, terminal, candidates} */
    json_t *pending;
    json_t *incidents; /* candidate id -> count */
    json_t *flags;     /* candidate id -> true: they said their details are wrong */
    json_int_t n_incidents, silent;
    json_t *counts; /* the summary: candidates per state */
    json_int_t answers, backlog, paired;
    int full; /* the console's snapshot (not the feed's summary): items per paper */
};

static void on_session(const struct store_session *x, void *arg)
{
    struct snapshot *s = arg;

    json_object_set_new(s->sessions, x->id,
                        json_pack("{s:s, s:s, s:I, s:I}", "id", x->id, "state",
                                  store_session_state_name(x->state), "starts_at",
                                  (json_int_t)x->starts_at, "ends_at", (json_int_t)x->ends_at));
}

static json_t *seat_row(struct snapshot *s, int seat)
{
    char key[16];
    json_t *row;

    snprintf(key, sizeof(key), "%d", seat);
    row = json_object_get(s->seats, key);
    if (row == NULL) {
        row = json_pack("{s:i, s:n, s:n, s:[]}", "seat", seat, "label", "terminal", "candidates");
        json_object_set_new(s->seats, key, row);
    }
    return row;
}

static void on_seat(const struct store_seat *x, void *arg)
{
    struct snapshot *s = arg;
    json_t *row = seat_row(s, x->seat);

    json_object_set_new(row, "label", x->label != NULL ? json_string(x->label) : json_null());
}

static void on_terminal(const struct store_terminal *t, void *arg)
{
    struct snapshot *s = arg;

    if (t->state == STORE_TERM_PENDING) {
        json_array_append_new(s->pending,
                              json_pack("{s:s, s:I, s:s}", "pairing_code", t->pairing_code,
                                        "created_at", (json_int_t)t->created_at, "device",
                                        store_term_kinds[t->kind % 2]));
        return;
    }
    if (t->state != STORE_TERM_APPROVED || t->seat <= 0)
        return;
    if (t->kind == STORE_TERM_READER) { /* the seat's card reader, beside its terminal */
        json_object_set_new(seat_row(s, t->seat), "card_reader",
                            json_pack("{s:I}", "paired_at", (json_int_t)t->created_at));
        return;
    }
    s->paired++;
    {
        struct daemon *d = s->d;
        int64_t seen = t->seat < 10000 ? d->seat_seen_ms[t->seat] : 0;
        int silent = seat_silent(d, t->seat, s->now_ms);

        /* Last contact: the terminal's last call (memory only); silent
         * (失联) past silent_ms(). */
        s->silent += silent;
        json_object_set_new(
            seat_row(s, t->seat), "terminal",
            json_pack("{s:s, s:b, s:I, s:o, s:b}", "state", "paired", "token_issued",
                      t->token_hash != NULL, "paired_at", (json_int_t)t->created_at, "last_seen",
                      seen > 0 ? json_integer(seen / 1000) : json_null(), "silent", silent));
    }
}

static void on_incident(const struct store_event *e, void *arg)
{
    struct snapshot *s = arg;
    char key[24];

    s->n_incidents++;
    if (e->candidate_id <= 0)
        return;
    snprintf(key, sizeof(key), "%lld", (long long)e->candidate_id);
    json_object_set_new(s->incidents, key,
                        json_integer(json_integer_value(json_object_get(s->incidents, key)) + 1));
    /* The candidate's own 信息有误 (signin.c): shown on their tile. */
    if (s->full && e->body != NULL && json_object_get(s->flags, key) == NULL) {
        json_t *body = json_loads(e->body, 0, NULL);

        if (event_is_flag(body))
            json_object_set_new(s->flags, key, json_true());
        json_decref(body);
    }
}

static void count_answer(const struct store_answer *a, void *arg)
{
    if (a->answer != NULL && a->answer[0] != '\0')
        ++*(json_int_t *)arg;
}

/* Seconds to the candidate's end while they are in the exam, else null. */
static json_t *remaining(const struct snapshot *s, const struct store_candidate *c)
{
    const json_t *x = json_object_get(s->sessions, c->session_id);
    json_int_t end = json_integer_value(json_object_get(x, "ends_at")) + c->extra_seconds;

    if (x == NULL || (c->state != STORE_CAND_SIGNED_IN && c->state != STORE_CAND_RUNNING))
        return json_null();
    return json_integer(end > s->now ? end - s->now : 0);
}

static void on_candidate(const struct store_candidate *c, void *arg)
{
    struct snapshot *s = arg;
    const char *state = store_cand_state_name(c->state);
    json_int_t answered = 0;
    json_t *items = json_null();
    char key[24];

    store_foreach_answer(s->d->r.st, c->id, count_answer, &answered);
    s->answers += answered;
    json_object_set_new(s->counts, state,
                        json_integer(json_integer_value(json_object_get(s->counts, state)) + 1));
    if (c->seat <= 0)
        return; /* not seated: counted, shown on no seat */
    snprintf(key, sizeof(key), "%lld", (long long)c->id);
    if (s->full) {
        struct signed_in k = {0};
        struct exam_session x;
        const json_t *list;

        /* Items of their paper, once the session is unlocked (the papers
         * are decrypted once and kept, exam.c). */
        signed_in_copy(&k, c);
        if (exam_session_get(s->d, &k, &x) == 0 && x.sealed_len > 0 &&
            (list = exam_items(s->d, &k, &x)) != NULL)
            items = json_integer((json_int_t)json_array_size(list));
    }
    json_array_append_new(
        json_object_get(seat_row(s, c->seat), "candidates"),
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:o, s:o, s:i, s:I, s:b, s:o}", "session",
                  c->session_id, "ticket", c->ticket, "name", c->name, "state", state, "answered",
                  answered, "items", items, "remaining_seconds", remaining(s, c), "extra_minutes",
                  c->extra_seconds / 60, "incidents",
                  json_integer_value(json_object_get(s->incidents, key)), "flagged",
                  json_object_get(s->flags, key) != NULL, "checked_in_at",
                  c->checked_in_at > 0 ? json_integer(c->checked_in_at) : json_null()));
}

/* Reads the room in one read transaction. Frees nothing: snapshot_free(). */
static void snapshot_read(struct daemon *d, struct snapshot *s, int full)
{
    struct store *st = d->r.st;

    *s = (struct snapshot){.d = d, .now_ms = daemon_now_ms(), .full = full};
    s->now = s->now_ms / 1000;
    s->flags = json_object();
    s->sessions = json_object();
    s->seats = json_object();
    s->pending = json_array();
    s->incidents = json_object();
    s->counts = json_object();
    store_read_begin(st);
    store_foreach_session(st, on_session, s);
    store_foreach_seat(st, on_seat, s);
    store_foreach_terminal(st, on_terminal, s);
    store_foreach_event(st, STORE_EVENT_INCIDENT, on_incident, s);
    store_foreach_candidate(st, NULL, on_candidate, s);
    /* Counted on the index: reading each waiting row with its payload held
     * the loop 50 ms and more per refresh with an offline day's backlog. */
    {
        int64_t backlog = 0;

        store_count_outbox(st, &backlog);
        s->backlog = (json_int_t)backlog;
    }
    store_read_end(st);
}

static void snapshot_free(struct snapshot *s)
{
    json_decref(s->sessions);
    json_decref(s->seats);
    json_decref(s->pending);
    json_decref(s->incidents);
    json_decref(s->flags);
    json_decref(s->counts);
}

static json_t *sync_state(struct snapshot *s)
{
    struct room_contact c = {0};
    int status = s->d->sync_status;

    room_read_contact(&s->d->r, &c);
    return json_pack("{s:I, s:I, s:s?, s:s?}", "last_contact", (json_int_t)c.last_contact,
                     "backlog", s->backlog, "last_error", status < 0 ? er_name(status) : NULL,
                     "last_error_message", status < 0 ? er_strerror(status) : NULL);
}

/* An object's values, in its keys' order (seats by number). */
static int by_seat(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "seat"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "seat"));

    return (x > y) - (x < y);
}

static json_t *values(json_t *object, int sort_seats)
{
    json_t *list = json_array(), *v;
    const char *key;

    json_object_foreach(object, key, v) json_array_append(list, v);
    if (sort_seats)
        jarray_sort(list, by_seat); /* out of memory: unsorted */
    return list;
}

enum MHD_Result http_room(struct http_req *q)
{
    struct snapshot s;
    json_t *doc;

    snapshot_read(q->d, &s, 1);
    doc = json_pack("{s:I, s:o, s:o, s:O, s:o, s:o, s:o}", "server_time",
                    (json_int_t)daemon_now_ms(), "sessions", values(s.sessions, 0), "seats",
                    values(s.seats, 1), "pending", s.pending, "sync", sync_state(&s), "id_readers",
                    idreaders_json(q->d), "cache", cache_json(q->d));
    snapshot_free(&s);
    return daemon_reply(q->conn, MHD_HTTP_OK, doc);
}

/* The feed's summary: what changed, in a few numbers. */
static char *summary(struct daemon *d)
{
    struct snapshot s;
    json_t *doc, *sessions = json_array(), *v;
    const char *key;
    char *text;

    snapshot_read(d, &s, 0);
    json_object_foreach(s.sessions, key, v) json_array_append_new(
        sessions, json_pack("{s:s, s:O}", "id", key, "state", json_object_get(v, "state")));
    doc = json_pack("{s:o, s:O, s:I, s:I, s:I, s:I, s:I, s:o}", "sessions", sessions, "candidates",
                    s.counts, "answers_saved", s.answers, "seats_paired", s.paired, "seats_silent",
                    s.silent, "incidents", s.n_incidents, "pairing_requests",
                    (json_int_t)json_array_size(s.pending), "sync", sync_state(&s));
    snapshot_free(&s);
    text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    return text;
}

/* ---- the feed ---- */

enum { ENDING = 1, DROPPED = 2 };

struct feed_client {
    struct feed_client *prev, *next;
    struct feed *feed;
    struct MHD_Connection *conn;
    struct dynbuf out;      /* queued, not yet given to libmicrohttpd */
    size_t sent;            /* of out, given */
    int suspended, closing; /* closing: 0, ENDING or DROPPED */
    int proctor;            /* opened with a proctor login: ends with it */
    uint8_t login_hash[32]; /* (the SHA-256 of its token) */
};

struct feed {
    struct daemon *d;
    struct feed_client *clients;
    size_t n;
    uv_timer_t timer;
    int timer_ready;
    uint64_t commits; /* the store's count at the last look */
    int64_t last_heartbeat_ms;
    int64_t silent_look_ms; /* the last look for PCs gone silent */
    int silent;             /* how many were then */
    char *last;             /* the summary last sent */
};

static void wake(struct feed_client *c)
{
    if (c->suspended) {
        c->suspended = 0;
        MHD_resume_connection(c->conn);
    }
}

/* Ends a client that does not keep up: its socket is shut down (a reader
 * that never reads would otherwise hold it until the idle timeout) and its
 * reader ends the stream. */
static void drop(struct feed_client *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c->conn, MHD_CONNECTION_INFO_CONNECTION_FD);

    log_warn("console feed: a client that does not read dropped (%zu bytes queued)",
             c->out.len - c->sent);
    c->closing = DROPPED;
    if (ci != NULL)
        shutdown(ci->connect_fd, SHUT_RDWR);
    wake(c);
}

static void queue(struct feed_client *c, const char *text)
{
    if (c->closing)
        return;
    /* What was given already makes room first: the cap is on what is
     * still to send. */
    if (c->sent > 0) {
        memmove(c->out.buf, c->out.buf + c->sent, c->out.len - c->sent);
        dynbuf_truncate(&c->out, c->out.len - c->sent);
        c->sent = 0;
    }
    if (dynbuf_add_str(&c->out, text) < 0) {
        drop(c);
        return;
    }
    wake(c);
}

static void broadcast(struct feed *f, const char *text)
{
    for (struct feed_client *c = f->clients; c != NULL; c = c->next)
        queue(c, text);
    daemon_kick(f->d);
}

static char *room_event(const char *summary_text)
{
    size_t n = strlen(summary_text) + 32;
    char *e = malloc(n);

    if (e != NULL)
        snprintf(e, n, "event: room\ndata: %s\n\n", summary_text);
    return e;
}

void feed_notice(struct daemon *d, const char *name, const char *json)
{
    size_t n = strlen(name) + strlen(json) + 32;
    char *e;

    if (d->feed == NULL || d->feed->clients == NULL)
        return;
    e = malloc(n);
    if (e == NULL)
        return;
    snprintf(e, n, "event: %s\ndata: %s\n\n", name, json);
    broadcast(d->feed, e);
    free(e);
}

/* Has the client hung up? An idle client is suspended, out of
 * libmicrohttpd's sight, which would notice only at the next write. */
static int hung_up(struct feed_client *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct pollfd p = {.events = POLLRDHUP};

    if (ci == NULL)
        return 0;
    p.fd = ci->connect_fd;
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/* Is the proctor login that opened the feed still live (not logged out,
 * not expired)? A feed opened with the local admin token has none. */
static int login_live(const struct feed_client *c, int64_t now)
{
    const struct daemon *d = c->feed->d;

    if (!c->proctor)
        return 1;
    for (size_t i = 0; i < DAEMON_PROCTOR_TOKENS; i++)
        if (d->proctors[i].expires_at > now &&
            CRYPTO_memcmp(d->proctors[i].hash, c->login_hash, sizeof(c->login_hash)) == 0)
            return 1;
    return 0;
}

struct silent_count {
    struct daemon *d;
    int64_t now_ms;
    int n;
};

static void count_silent(const struct store_terminal *t, void *arg)
{
    struct silent_count *c = arg;

    if (t->state == STORE_TERM_APPROVED && t->kind == STORE_TERM_TERMINAL && t->seat > 0)
        c->n += seat_silent(c->d, t->seat, c->now_ms);
}

/* Paired PCs silent now: a PC that stops calling commits nothing, so the
 * feed looks for it every SILENT_LOOK_MS. */
static int silent_now(struct daemon *d, int64_t now_ms)
{
    struct silent_count c = {d, now_ms, 0};

    store_read_begin(d->r.st);
    store_foreach_terminal(d->r.st, count_silent, &c);
    store_read_end(d->r.st);
    return c.n;
}

static void on_feed_timer(uv_timer_t *t)
{
    struct feed *f = t->data;
    struct store_stats stats;
    int64_t now = daemon_now_ms();
    int gone = 0, silent_changed = 0;

    /* A feed ends with the login that opened it (logged out or expired):
     * the console's live view is the proctor's, not the connection's. */
    for (struct feed_client *c = f->clients; c != NULL; c = c->next)
        if (!c->closing && !login_live(c, now / 1000)) {
            c->closing = ENDING;
            wake(c);
            gone = 1;
        }
    for (struct feed_client *c = f->clients; c != NULL; c = c->next)
        if (c->suspended && !c->closing && hung_up(c)) {
            c->closing = ENDING;
            wake(c);
            gone = 1;
        }
    if (gone)
        daemon_kick(f->d);
    store_get_stats(f->d->r.st, &stats);
    /* A PC gone silent (or back) changed the summary without a commit. */
    if (f->clients != NULL && now - f->silent_look_ms >= SILENT_LOOK_MS) {
        int n = silent_now(f->d, now);

        f->silent_look_ms = now;
        silent_changed = n != f->silent;
        f->silent = n;
    }
    if ((stats.commits != f->commits || silent_changed) && f->clients != NULL) {
        char *text = summary(f->d), *e;

        f->commits = stats.commits;
        if (text != NULL && (f->last == NULL || strcmp(text, f->last) != 0)) {
            e = room_event(text);
            if (e != NULL)
                broadcast(f, e);
            free(e);
            free(f->last);
            f->last = text;
            text = NULL;
        }
        free(text);
    }
    if (now - f->last_heartbeat_ms >= FEED_HEARTBEAT_MS) {
        f->last_heartbeat_ms = now;
        if (f->clients != NULL)
            broadcast(f, ": heartbeat\n\n");
    }
    if (f->clients == NULL)
        uv_timer_stop(&f->timer);
}

static ssize_t feed_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct feed_client *c = cls;
    size_t n;

    (void)pos;
    /* Gone or stopping: the stream's end; dropped: cut off. */
    if (c->closing)
        return c->closing == DROPPED ? MHD_CONTENT_READER_END_WITH_ERROR
                                     : MHD_CONTENT_READER_END_OF_STREAM;
    n = c->out.len - c->sent;
    if (n == 0) {
        /* Nothing to send: out of libmicrohttpd's loop until queue(). */
        c->suspended = 1;
        MHD_suspend_connection(c->conn);
        return 0;
    }
    if (n > max)
        n = max;
    memcpy(buf, c->out.buf + c->sent, n);
    c->sent += n;
    return (ssize_t)n;
}

/* libmicrohttpd is done with the response: the connection went. */
static void feed_gone(void *cls)
{
    struct feed_client *c = cls;
    struct feed *f = c->feed;

    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        f->clients = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    f->n--;
    dynbuf_free(&c->out);
    free(c);
}

static struct feed *feed_of(struct daemon *d)
{
    struct feed *f = d->feed;

    if (f != NULL)
        return f;
    f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->d = d;
    uv_timer_init(&d->r.loop, &f->timer);
    f->timer.data = f;
    f->timer_ready = 1;
    d->open_handles++;
    d->feed = f;
    return f;
}

/* A feed's socket keeps a small send buffer: left to itself the kernel
 * grows it up to megabytes for a client that does not read (loopback and a
 * LAN both), which would hide it from FEED_BUFFER_MAX. */
static void small_send_buffer(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    int size = FEED_SOCKET_BUFFER;

    if (ci != NULL && setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) < 0)
        log_warn("console feed: the socket's send buffer could not be set");
}

enum MHD_Result http_events(struct http_req *q)
{
    struct feed *f = feed_of(q->d);
    struct feed_client *c;
    struct MHD_Response *r;
    char *text, *e;
    enum MHD_Result ok;

    if (f == NULL || (c = calloc(1, sizeof(*c))) == NULL)
        return MHD_NO;
    c->feed = f;
    c->conn = q->conn;
    /* Opened with a proctor login (not the local admin token)? */
    if (http_is_proctor(q)) {
        const char *token = http_bearer(q->conn);

        c->proctor = 1;
        sha256(token, strlen(token), c->login_hash);
    }
    dynbuf_init(&c->out, FEED_BUFFER_MAX);
    /* The state as it is now, then what changes. */
    text = summary(q->d);
    e = text != NULL ? room_event(text) : NULL;
    free(text);
    if (e == NULL || dynbuf_add_str(&c->out, e) < 0 ||
        (r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, feed_read, c, feed_gone)) ==
            NULL) {
        free(e);
        dynbuf_free(&c->out);
        free(c);
        return MHD_NO;
    }
    free(e);
    c->next = f->clients;
    if (f->clients != NULL)
        f->clients->prev = c;
    f->clients = c;
    f->n++;
    small_send_buffer(q->conn);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream; charset=utf-8");
    daemon_headers(r, "no-store");
    ok = MHD_queue_response(q->conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    if (!uv_is_active((uv_handle_t *)&f->timer)) {
        struct store_stats stats;

        store_get_stats(q->d->r.st, &stats);
        f->commits = stats.commits;
        f->last_heartbeat_ms = daemon_now_ms();
        uv_timer_start(&f->timer, on_feed_timer, FEED_POLL_MS, FEED_POLL_MS);
    }
    return ok;
}

static void on_timer_closed(uv_handle_t *h)
{
    struct feed *f = h->data;

    f->d->open_handles--;
}

void feed_stop(struct daemon *d)
{
    struct feed *f = d->feed;

    if (f == NULL)
        return;
    for (struct feed_client *c = f->clients; c != NULL; c = c->next) {
        if (!c->closing)
            c->closing = ENDING;
        wake(c);
    }
    if (f->timer_ready) {
        uv_timer_stop(&f->timer);
        uv_close((uv_handle_t *)&f->timer, on_timer_closed);
        f->timer_ready = 0;
    }
}

void feed_free(struct daemon *d)
{
    struct feed *f = d->feed;

    if (f == NULL)
        return;
    free(f->last);
    free(f);
    d->feed = NULL;
}
