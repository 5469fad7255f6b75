/* What the daemon does on its own, on its loop: it uploads the outbox whenever
 * there is something in it (backing off with jitter while the center cannot
 * be reached, for hours if need be), and it asks the center for each
 * session's key from shortly before the start, unlocking the session when
 * the key comes (scrypt on the thread pool). Everything it has done is in
 * the store, so a restart at any point just carries on. */
#include "agent.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IDLE_MS        10000 /* look again this often when all is quiet */
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS (5 * 60000) /* a center down for hours: one try in 5 min */
#define KEY_AHEAD_S    (20 * 60)   /* start asking for a key this long before */

static void tick(uv_timer_t *t);

static void schedule(struct daemon *d, unsigned ms)
{
    if (!d->stopping)
        uv_timer_start(&d->sync_timer, tick, ms, 0);
}

/* Full jitter, so rooms that lost the link together do not return together. */
static unsigned jitter(unsigned ms)
{
    uint8_t b[2];

    if (ms < 2 || crypto_random(b, sizeof(b)) < 0)
        return ms;
    return ms / 2 + ((unsigned)b[0] << 8 | b[1]) % (ms / 2);
}

static unsigned next_backoff(struct daemon *d)
{
    d->backoff_ms = d->backoff_ms == 0 ? BACKOFF_MIN_MS : d->backoff_ms * 2;
    if (d->backoff_ms > BACKOFF_MAX_MS)
        d->backoff_ms = BACKOFF_MAX_MS;
    return jitter(d->backoff_ms);
}

static int64_t center_now(const struct daemon *d)
{
    return (int64_t)time(NULL) + sync_clock_offset(d->client);
}

/* ---- uploads ---- */

/* The contact file after an upload round: its fsyncs on the thread pool,
 * one write at a time (a round while one is under way skips its own). */
struct contact_job {
    uv_work_t req;
    struct daemon *d;
    char path[ROOM_PATH_MAX], line[64];
};

static void contact_work(uv_work_t *req)
{
    struct contact_job *j = req->data;

    fs_write_atomic(j->path, j->line, strlen(j->line), 0600);
}

static void contact_done(uv_work_t *req, int status)
{
    struct contact_job *j = req->data;

    (void)status;
    j->d->contact_busy = 0;
    free(j);
}

static void note_contact(struct daemon *d)
{
    struct contact_job *j;

    if (d->contact_busy || (j = calloc(1, sizeof(*j))) == NULL)
        return;
    j->req.data = j;
    j->d = d;
    if (room_contact_file(&d->r, center_now(d), j->path, j->line) != 0 ||
        uv_queue_work(&d->r.loop, &j->req, contact_work, contact_done) != 0) {
        free(j);
        return;
    }
    d->contact_busy = 1;
}

static void on_pass(const struct sync_outcome *o, void *arg)
{
    struct daemon *d = arg;

    d->busy = 0;
    if (d->stopping)
        return;
    d->sync_status = o->status;
    if (o->status == 0) {
        d->backoff_ms = 0;
        note_contact(d);
        if (o->uploaded > 0)
            log_info("uploaded %lld records, %lld left", (long long)o->uploaded,
                     (long long)o->pending);
        schedule(d, o->pending > 0 ? 100 : 0);
    } else if (sync_transient(o->status)) {
        unsigned ms = next_backoff(d);

        log_info("upload: %s; next try in %u ms", er_name(o->status), ms);
        schedule(d, ms);
    } else {
        /* Retrying cannot fix it (a conflict, a broken chain, a bad
         * signature): the proctor sees it in status; try again rarely. */
        log_error("upload refused: %s", er_strerror(o->status));
        schedule(d, BACKOFF_MAX_MS);
    }
}

/* ---- session keys ---- */

/* An unlock with a code (the center's, or the proctor's from the console):
 * scrypt on the thread pool, then the sealed key and the session's state
 * written on the loop, then done(). */
struct unlock_job {
    uv_work_t req;
    struct daemon *d;
    char session[PKG_MAX_NAME + 1];
    uint8_t code[CODE_BYTES(CODE_UNLOCK_BITS)], key[PKG_SESSION_KEY];
    int rc;
    enum store_session_state state;
    void (*done)(int rc, void *arg);
    void *arg;
};

static void unlock_work(uv_work_t *req)
{
    struct unlock_job *j = req->data;

    j->rc = pkg_unlock(j->d->pkg, j->session, j->code, j->key);
}

static void unlock_finish(struct unlock_job *j, int rc)
{
    void (*done)(int, void *) = j->done;
    void *arg = j->arg;

    OPENSSL_cleanse(j, sizeof(*j));
    free(j);
    done(rc, arg);
}

static void unlocked(int status, const struct store_ack *ack, void *arg)
{
    (void)ack;
    unlock_finish(arg, status);
}

static void take_state(const struct store_session *x, void *arg)
{
    *(enum store_session_state *)arg = x->state;
}

static void after_unlock(uv_work_t *req, int status)
{
    struct unlock_job *j = req->data;
    struct daemon *d = j->d;
    uint8_t sealed[KEY_SEALED_LEN(PKG_SESSION_KEY)];
    char label[PKG_MAX_NAME + 64];
    int rc = status < 0 ? ER_INTERNAL : j->rc;

    if (rc == 0 && d->stopping)
        rc = ER_UNAVAILABLE;
    room_session_label(j->session, label, sizeof(label));
    if (rc == 0)
        rc = key_seal_secret(d->r.wrap, label, j->key, sizeof(j->key), sealed);
    OPENSSL_cleanse(j->key, sizeof(j->key));
    /* A session under way or over stays so: only a locked one changes. */
    j->state = STORE_SESSION_UNLOCKED;
    if (rc == 0)
        store_get_session(d->r.st, j->session, take_state, &j->state);
    if (rc == 0)
        rc = store_set_session_state(d->r.st, j->session,
                                     j->state > STORE_SESSION_UNLOCKED ? j->state
                                                                       : STORE_SESSION_UNLOCKED,
                                     sealed, sizeof(sealed), unlocked, j);
    if (rc == 0)
        return;
    unlock_finish(j, rc);
}

int background_unlock(struct daemon *d, const char *session,
                      const uint8_t code[CODE_BYTES(CODE_UNLOCK_BITS)],
                      void (*done)(int rc, void *arg), void *arg)
{
    struct unlock_job *j;

    if (d->pkg == NULL)
        return ER_SYNC_NO_PACKAGE;
    if (strlen(session) > PKG_MAX_NAME)
        return ER_PKG_NO_SESSION;
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        return ER_NOMEM;
    j->d = d;
    j->req.data = j;
    j->done = done;
    j->arg = arg;
    snprintf(j->session, sizeof(j->session), "%s", session);
    memcpy(j->code, code, sizeof(j->code));
    if (uv_queue_work(&d->r.loop, &j->req, unlock_work, after_unlock) != 0) {
        OPENSSL_cleanse(j, sizeof(*j));
        free(j);
        return ER_INTERNAL;
    }
    return 0;
}

/* ---- session keys from the center ---- */

struct key_call {
    struct daemon *d;
    char session[PKG_MAX_NAME + 1];
};

static void key_unlocked(int rc, void *arg)
{
    struct key_call *k = arg;
    struct daemon *d = k->d;

    if (rc == 0)
        log_notice("session %s unlocked with the key from the center", k->session);
    else
        log_error("session %s: %s", k->session, er_strerror(rc));
    free(k);
    d->busy = 0;
    schedule(d, rc == 0 ? 0 : IDLE_MS);
}

static void on_key(struct sync_response *r, void *arg)
{
    struct key_call *k = arg;
    struct daemon *d = k->d;
    uint8_t code[CODE_BYTES(CODE_UNLOCK_BITS)];
    json_t *doc = NULL;
    int rc = sync_answer_error(r);

    if (rc == 0 && (doc = json_loadb((const char *)r->body, r->len, 0, NULL)) == NULL)
        rc = ER_SYNC_PROTOCOL;
    if (rc == 0)
        rc = code_decode(json_string_value(json_object_get(doc, "unlock_code"))
                             ? json_string_value(json_object_get(doc, "unlock_code"))
                             : "",
                         CODE_UNLOCK_BITS, code);
    /* A key that cannot be used (no package yet, out of memory) backs off
     * and is logged like a refused one. */
    if (rc == 0 && !d->stopping &&
        (rc = background_unlock(d, k->session, code, key_unlocked, k)) == 0) {
        OPENSSL_cleanse(code, sizeof(code));
        json_decref(doc);
        return; /* scrypt off the loop; key_unlocked goes on */
    }
    OPENSSL_cleanse(code, sizeof(code));
    /* Too early: the center said when, signed for this request (else its
     * opens_at is nobody's word); anything else: try again later. */
    if (rc != 0 && sync_too_early_until(r) > 0) {
        d->key_not_before = sync_too_early_until(r);
    } else if (rc != 0) {
        d->key_not_before = center_now(d) + next_backoff(d) / 1000 + 1;
        log_info("session key %s: %s", k->session, er_name(rc));
    }
    json_decref(doc);
    free(k);
    d->busy = 0;
    schedule(d, IDLE_MS);
}

struct session_scan {
    struct daemon *d;
    int64_t now;
    char due[PKG_MAX_NAME + 1]; /* copied: the row is gone after the visit */
};

static void check_session(const struct store_session *s, void *arg)
{
    struct session_scan *scan = arg;

    if (s->state == STORE_SESSION_LOCKED && scan->now >= s->starts_at - KEY_AHEAD_S &&
        scan->now < s->ends_at && scan->due[0] == '\0')
        snprintf(scan->due, sizeof(scan->due), "%s", s->id);
}

/* Asks for the key of the first locked session whose start is near. */
static int fetch_key(struct daemon *d)
{
    struct session_scan scan = {d, center_now(d), ""};
    struct key_call *j;
    char path[PKG_MAX_NAME + 32];
    int rc;

    if (d->pkg == NULL || scan.now < d->key_not_before)
        return 0;
    for (size_t i = 0; i < d->n_sessions && scan.due[0] == '\0'; i++)
        store_get_session(d->r.st, d->sessions[i], check_session, &scan);
    if (scan.due[0] == '\0')
        return 0;
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        return 0;
    j->d = d;
    snprintf(j->session, sizeof(j->session), "%s", scan.due);
    snprintf(path, sizeof(path), "/v1/sessions/%s/key", j->session);
    {
        const struct sync_request req = {
            .method = "GET", .path = path, .sign = 1, .answer = PROTO_CTX_SESSION_KEY, .fd = -1};

        rc = sync_start(d->client, &req, on_key, j);
    }
    if (rc < 0) {
        free(j);
        return 0;
    }
    return 1;
}

/* ---- the tick ---- */

static void tick(uv_timer_t *t)
{
    struct daemon *d = t->data;
    if (d->stopping || d->busy || d->engine == NULL)
        return;
    /* Whether anything waits, not how much (a count visits every row). */
    /* Busy before the pass starts: one that ends at once (nothing left to
     * read, no memory) has run on_pass() already, which clears it and
     * schedules the next tick. */
    if (store_outbox_waiting(d->r.st) > 0) {
        d->busy = 1;
        if (sync_engine_pass(d->engine, on_pass, d) == 0)
            return;
        d->busy = 0;
    }
    if (fetch_key(d)) {
        d->busy = 1;
        return;
    }
    schedule(d, IDLE_MS);
}

/* ---- start and stop ---- */

struct found {
    struct daemon *d;
    char plan[PKG_MAX_NAME + 1], room[PKG_MAX_NAME + 1], path[ROOM_PATH_MAX];
    int64_t version;
};

static void take_registration(const struct store_registration *reg, void *arg)
{
    struct found *f = arg;

    snprintf(f->plan, sizeof(f->plan), "%s", reg->plan_id);
    snprintf(f->room, sizeof(f->room), "%s", reg->center_room);
}

static void take_package(const struct store_package *pkg, void *arg)
{
    struct found *f = arg;

    f->version = pkg->version;
    snprintf(f->path, sizeof(f->path), "%s", pkg->path);
}

static void take_session(const struct store_session *x, void *arg)
{
    struct daemon *d = ((struct found *)arg)->d;

    if (d->n_sessions < PKG_MAX_SESSIONS)
        snprintf(d->sessions[d->n_sessions++], sizeof(d->sessions[0]), "%s", x->id);
}

int background_start(struct daemon *d)
{
    struct found f = {.d = d};
    int rc;

    d->serve_started_ms = daemon_now_ms(); /* the console's last contacts count from here */
    store_foreach_registration(d->r.st, take_registration, &f);
    if (f.plan[0] == '\0') {
        log_notice("not registered: nothing to sync until `examroom register`");
        return 0;
    }
    snprintf(d->plan, sizeof(d->plan), "%s", f.plan);
    snprintf(d->room_id, sizeof(d->room_id), "%s", f.room);
    rc = room_sync_new(&d->r, &d->client);
    if (rc == 0) {
        const struct sync_engine_config cfg = {.client = d->client,
                                               .store = d->r.st,
                                               .room = d->r.sign,
                                               .center = d->r.center,
                                               .plan = d->plan,
                                               .room_id = d->room_id};

        rc = sync_engine_new(&cfg, &d->engine);
    }
    if (rc < 0)
        return rc;
    if (store_latest_package(d->r.st, f.plan, take_package, &f) == 0) {
        struct pkg_trust t;

        /* The signed header now; every chunk is verified again on the
         * thread pool once serving (photos_start), and each read checks its
         * own chunks' chain links and tags anyway. */
        room_package_trust(&d->r, f.version, &t);
        rc = pkg_open(f.path, &t, &d->pkg);
        if (rc < 0)
            return rc;
        photos_start(d, f.path, f.version);
        store_foreach_session(d->r.st, take_session, &f);
    }
    uv_timer_init(&d->r.loop, &d->sync_timer);
    d->sync_timer.data = d;
    d->open_handles++;
    d->timer_ready = 1;
    schedule(d, 0);
    return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    ((struct daemon *)h->data)->open_handles--;
}

void background_stop(struct daemon *d)
{
    if (d->timer_ready) {
        uv_timer_stop(&d->sync_timer);
        uv_close((uv_handle_t *)&d->sync_timer, on_timer_closed);
        d->timer_ready = 0;
    }
}

void background_free(struct daemon *d)
{
    sync_engine_free(d->engine);
    d->engine = NULL;
    if (d->pkg != NULL)
        pkg_close(d->pkg);
    d->pkg = NULL;
    photos_free(d->photos);
    d->photos = NULL;
    for (size_t i = 0; i < PKG_MAX_SESSIONS; i++) {
        json_decref(d->papers[i]);
        d->papers[i] = NULL;
    }
}
