/* The room as the commands see it: its store, its keys, its center. Each
 * command opens it, does its work on the loop, and closes it. */
#include "agent.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int room_path(const struct room *r, const char *name, char out[ROOM_PATH_MAX])
{
    if (snprintf(out, ROOM_PATH_MAX, "%s/%s", r->ctx->data_dir, name) >= ROOM_PATH_MAX)
        return ER_USAGE;
    return 0;
}

void room_done(int status, const struct store_ack *ack, void *arg)
{
    struct room_wait *w = arg;

    w->status = status;
    if (ack != NULL)
        w->ack = *ack;
    w->done = 1;
}

int room_wait(struct room *r, struct room_wait *w)
{
    while (!w->done && uv_run(&r->loop, UV_RUN_ONCE) != 0)
        ;
    return w->done ? w->status : ER_INTERNAL;
}

int room_write_wait(struct room *r, int rc, struct room_wait *w)
{
    return rc < 0 ? rc : room_wait(r, w);
}

static void copy_room(const struct store_room *sr, void *arg)
{
    struct room *r = arg;

    snprintf(r->center_url, sizeof(r->center_url), "%s", sr->center_url);
    snprintf(r->name, sizeof(r->name), "%s", sr->name ? sr->name : "");
    if (sr->center_key_len == KEY_RAW_LEN)
        key_from_raw_public(KEY_ED25519, sr->center_key, &r->center);
    r->center_ca = sr->center_ca ? strdup(sr->center_ca) : NULL;
    r->initialised = 1;
}

int room_open(const struct cli_ctx *ctx, struct room *r, int need_init)
{
    char path[ROOM_PATH_MAX];
    int rc;

    memset(r, 0, sizeof(*r));
    r->ctx = ctx;
    if (uv_loop_init(&r->loop) != 0)
        return ER_INTERNAL;
    r->loop_ready = 1;
    /* A command that needs an initialised room leaves a directory without
     * one as it found it: no empty room.db (and so no data directory) made
     * by a typo in --data. */
    if (need_init) {
        if (snprintf(path, sizeof(path), "%s/room.db", ctx->data_dir) >= (int)sizeof(path))
            return ER_USAGE;
        if (access(path, F_OK) != 0)
            return ER_ROOM_NOT_INIT;
    }
    rc = store_open(&r->loop, ctx->data_dir, "room", &r->st);
    if (rc < 0)
        return rc;
    rc = store_get_room(r->st, copy_room, r);
    if (rc == ER_STORE_NOT_FOUND)
        return need_init ? ER_ROOM_NOT_INIT : 0;
    if (rc < 0)
        return rc;
    if (r->center == NULL)
        return ER_KEY_FORMAT;
    rc = room_path(r, "room-sign.pem", path);
    if (rc == 0)
        rc = key_load_private(KEY_ED25519, path, &r->sign);
    if (rc == 0)
        rc = room_path(r, "room-wrap.pem", path);
    if (rc == 0)
        rc = key_load_private(KEY_X25519, path, &r->wrap);
    return rc;
}

static void on_store_closed(void *arg)
{
    *(int *)arg = 1;
}

void room_close(struct room *r)
{
    if (r->st != NULL) {
        int closed = 0;

        store_close(r->st, on_store_closed, &closed);
        while (!closed && uv_run(&r->loop, UV_RUN_ONCE) != 0)
            ;
    }
    if (r->loop_ready) {
        uv_run(&r->loop, UV_RUN_DEFAULT);
        uv_loop_close(&r->loop);
    }
    key_free(r->sign);
    key_free(r->wrap);
    key_free(r->center);
    free(r->center_ca);
    memset(r, 0, sizeof(*r));
}

int room_sync_new(struct room *r, struct sync_client **out)
{
    /* EXAMROOM_SYNC_TIMEOUT (seconds) shortens the connect and stall
     * timeouts, for tests that make the network fail on purpose. */
    const char *t = getenv("EXAMROOM_SYNC_TIMEOUT");
    const struct sync_config cfg = {.center_url = r->center_url,
                                    .ca_pem = r->center_ca,
                                    .room = r->sign,
                                    .center = r->center,
                                    .connect_timeout_s = t ? atol(t) : 0,
                                    .low_speed_timeout_s = t ? atol(t) : 0};
    int rc = sync_client_new(&r->loop, &cfg, out);
    struct room_contact contact;

    if (rc == 0 && room_read_contact(r, &contact) == 0)
        sync_set_clock_offset(*out, contact.clock_offset);
    return rc;
}

static void on_sync_closed(void *arg)
{
    *(int *)arg = 1;
}

void room_sync_close(struct room *r, struct sync_client *c)
{
    int closed = 0;

    sync_client_close(c, on_sync_closed, &closed);
    while (!closed && uv_run(&r->loop, UV_RUN_ONCE) != 0)
        ;
}

/* ---- the last contact with the center ---- */

int room_read_contact(const struct room *r, struct room_contact *c)
{
    char path[ROOM_PATH_MAX];
    long long at, offset;
    FILE *f;
    int n;

    memset(c, 0, sizeof(*c));
    if (room_path(r, "center-contact", path) < 0 || (f = fopen(path, "r")) == NULL)
        return ER_STORE_NOT_FOUND;
    n = fscanf(f, "%lld %lld", &at, &offset);
    fclose(f);
    if (n != 2)
        return ER_STORE_NOT_FOUND;
    c->last_contact = at;
    c->clock_offset = offset;
    return 0;
}

int room_contact_file(const struct room *r, int64_t center_time, char path[ROOM_PATH_MAX],
                      char line[64])
{
    int64_t now = time(NULL);

    if (room_path(r, "center-contact", path) < 0)
        return ER_INTERNAL;
    snprintf(line, 64, "%lld %lld\n", (long long)now,
             (long long)(center_time > 0 ? center_time - now : 0));
    return 0;
}

void room_note_contact(const struct room *r, int64_t center_time)
{
    char path[ROOM_PATH_MAX], line[64];

    /* Best effort, but whole and durable. */
    if (room_contact_file(r, center_time, path, line) == 0)
        fs_write_atomic(path, line, strlen(line), 0600);
}

/* ---- one call to the center, waited for ---- */

struct call_wait {
    int done;
    struct sync_response resp;
};

static void on_answer(struct sync_response *r, void *arg)
{
    struct call_wait *w = arg;

    w->resp = *r;
    /* The client frees the body after this call: keep our own copy. */
    if (r->body != NULL) {
        w->resp.body = malloc(r->len + 1);
        if (w->resp.body != NULL)
            memcpy(w->resp.body, r->body, r->len + 1);
        else
            w->resp.error = ER_NOMEM;
    }
    w->done = 1;
}

int room_call(struct room *r, struct sync_client *c, const struct sync_request *req,
              struct sync_response *out)
{
    for (int attempt = 0;; attempt++) {
        struct call_wait w = {0};
        int rc = sync_start(c, req, on_answer, &w);

        if (rc < 0)
            return rc;
        while (!w.done && uv_run(&r->loop, UV_RUN_ONCE) != 0)
            ;
        *out = w.resp;
        /* The client moved its clock offset by center_time only if the
         * answer was signed by the center for this very request. */
        if (out->center_time > 0)
            room_note_contact(r, out->center_time);
        if (out->error == 0 && out->status >= 200 && out->status < 300) {
            rc = sync_answer_error(out);
            if (rc < 0)
                log_warn("center answer to %s refused: %s", req->path, er_name(rc));
            return rc;
        }
        /* A clock far off: the center said its time, signed for this
         * request (the client took it); sign again with it, once. */
        if (attempt == 0 && out->error == 0 && strcmp(sync_error_code(out), "clock_skew") == 0 &&
            out->answer == 0 && out->center_time > 0) {
            free(out->body);
            continue;
        }
        /* The caller says what failed; the detail is for the log. */
        if (out->error != 0)
            log_info("center %s: %s", r->center_url, out->detail);
        else
            log_warn("center answered %ld %s", out->status, sync_error_code(out));
        return sync_answer_error(out);
    }
}
