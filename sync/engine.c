/* The upload engine: the outbox to the center, batch by batch, each batch
 * acknowledged only by a receipt that verifies. A pass is a small state
 * machine on the loop: load the pending rows, send a batch, check its
 * receipt, mark its rows in the store, next batch. */
#include "sync.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_DEFAULT 500

struct row {
    uint8_t uid[STORE_UID_LEN];
    enum store_outbox_kind kind;
    char *payload; /* as uploaded (events get id, plan and room added) */
    char id[160];  /* the id the center knows it by */
    size_t order;  /* creation order: kept within a kind */
};

struct sync_engine {
    struct sync_engine_config cfg;
    char room_hex[65];
    int unreachable; /* the last pass reached no center: the next one asks first */
};

struct pass {
    char head_hash[65]; /* the chain head the current batch carries */
    int64_t head_pos;
    struct sync_engine *e;
    struct dynbuf rows; /* struct row[]: rows(p), n_rows(p) */
    size_t next, batch_start, batch_end;
    int more; /* the last read was full: there may be more after */
    struct sync_outcome out;
    void (*cb)(const struct sync_outcome *, void *);
    void *arg;
};

static struct row *rows(const struct pass *p)
{
    return (struct row *)(void *)p->rows.buf;
}

static size_t n_rows(const struct pass *p)
{
    return p->rows.len / sizeof(struct row);
}

int sync_transient(int error)
{
    return error == ER_SYNC_UNREACHABLE || error == ER_SYNC_TIMEOUT || error == ER_SYNC_NETWORK ||
           error == ER_SYNC_SERVER || error == ER_SYNC_CLOCK;
}

int sync_engine_new(const struct sync_engine_config *cfg, struct sync_engine **out)
{
    struct sync_engine *e;
    uint8_t id[32];

    /* No client: an engine for the USB fallback only (no passes). */
    if (cfg->store == NULL || cfg->room == NULL || cfg->center == NULL || cfg->plan == NULL ||
        cfg->room_id == NULL)
        return ER_USAGE;
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        return ER_NOMEM;
    e->cfg = *cfg;
    if (e->cfg.batch_max == 0 || e->cfg.batch_max > 2000)
        e->cfg.batch_max = BATCH_DEFAULT;
    key_id(cfg->room, id);
    hex_encode(id, sizeof(id), e->room_hex);
    *out = e;
    return 0;
}

void sync_engine_free(struct sync_engine *e)
{
    free(e);
}

/* ---- the rows to send ---- */

/* An event as uploaded: its body, with its id, plan and room. */
static char *event_payload(struct sync_engine *e, const struct store_outbox *o, char *id,
                           size_t idsz)
{
    json_t *doc = json_loadb((const char *)o->payload, o->payload_len, 0, NULL);
    char *text;

    if (!json_is_object(doc)) {
        json_decref(doc);
        doc = json_object(); /* the store only holds what the agent made */
    }
    hex_encode(o->id, STORE_UID_LEN, id);
    (void)idsz;
    json_object_set_new(doc, "id", json_string(id));
    json_object_set_new(doc, "plan", json_string(e->cfg.plan));
    json_object_set_new(doc, "room", json_string(e->cfg.room_id));
    text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    return text;
}

static void take_row(const struct store_outbox *o, void *arg)
{
    struct pass *p = arg;
    struct row r = {.kind = o->kind, .order = n_rows(p)};

    memcpy(r.uid, o->id, STORE_UID_LEN);
    if (o->kind == STORE_OUTBOX_RESULT) {
        json_t *doc = json_loadb((const char *)o->payload, o->payload_len, 0, NULL);
        const char *id = json_string_value(json_object_get(doc, "id"));

        snprintf(r.id, sizeof(r.id), "%s", id ? id : "");
        json_decref(doc);
        r.payload = malloc(o->payload_len + 1);
        if (r.payload != NULL) {
            memcpy(r.payload, o->payload, o->payload_len);
            r.payload[o->payload_len] = '\0';
        }
    } else {
        r.payload = event_payload(p->e, o, r.id, sizeof(r.id));
    }
    /* A row that cannot be held is left for the next pass. */
    if (r.payload == NULL || r.id[0] == '\0' || dynbuf_add(&p->rows, &r, sizeof(r)) < 0)
        free(r.payload);
}

/* Results first (the chain in order), then events. */
static int by_kind(const void *a, const void *b)
{
    const struct row *x = a, *y = b;

    if (x->kind != y->kind)
        return (int)x->kind - (int)y->kind;
    return x->order < y->order ? -1 : x->order > y->order;
}

static void drop_rows(struct pass *p)
{
    for (size_t i = 0; i < n_rows(p); i++)
        free(rows(p)[i].payload);
    dynbuf_reset(&p->rows);
    p->next = 0;
}

/* The next part of the backlog, results before events within it. */
static int read_rows(struct pass *p)
{
    int rc;

    drop_rows(p);
    /* One batch's rows at a time: however long the backlog (a room offline
     * all day), a pass holds the loop only for one batch's reading at once
     * (500 rows: about 3 ms). (e2e_faults, with batches of 50, goes through
     * 1,020 rows in 21 parts.) */
    rc = store_pending_outbox(p->e->cfg.store, p->e->cfg.batch_max, take_row, p);
    if (rc < 0)
        return rc;
    p->more = (size_t)rc == p->e->cfg.batch_max;
    if (n_rows(p) > 1) /* rows is NULL when nothing is pending */
        qsort(rows(p), n_rows(p), sizeof(struct row), by_kind);
    return 0;
}

static void finish(struct pass *p)
{
    int64_t pending = 0;

    drop_rows(p);
    dynbuf_free(&p->rows);
    store_count_outbox(p->e->cfg.store, &pending);
    p->out.pending = pending;
    p->e->unreachable = p->out.status == ER_SYNC_UNREACHABLE || p->out.status == ER_SYNC_TIMEOUT ||
                        p->out.status == ER_SYNC_NETWORK;
    p->cb(&p->out, p->arg);
    free(p);
}

/* ---- one batch ---- */

static void send_batch(struct pass *p);

static int hash_is(const char *payload, const char *hex);

/* The one check of a receipt's payload hashes, online and by USB: the hash
 * hashes gives for row's id is that of the row's payload. required: a
 * hashes object without one (or without the object) is a mismatch too (an
 * online events receipt names every hash). */
static int hash_agrees(const struct row *r, json_t *hashes, int required)
{
    json_t *h = json_object_get(hashes, r->id);

    if (h == NULL)
        return !required;
    return hash_is(r->payload, json_string_value(h));
}

/* The receipt names this room and kind and lists every id of the batch
 * (events: with the hash of each one's payload). 0, or ER_SYNC_PROTOCOL
 * (not a receipt for this batch), or ER_RECEIPT_MISMATCH (a hash differs:
 * the center holds other bytes than ours). */
static int receipt_covers(struct pass *p, json_t *doc, const char *kind)
{
    json_t *stored = json_object_get(doc, "stored"), *v;
    size_t i;

    /* A results receipt names the head this batch carried, so an old
     * receipt replayed cannot acknowledge it. */
    if (strcmp(kind, "results") == 0) {
        json_t *head = json_object_get(doc, "head");
        const char *hash = json_string_value(json_object_get(head, "hash"));

        if (hash == NULL || strcmp(hash, p->head_hash) != 0 ||
            json_integer_value(json_object_get(head, "pos")) != p->head_pos)
            return ER_SYNC_PROTOCOL;
    }
    if (!json_is_string(json_object_get(doc, "kind")) ||
        strcmp(json_string_value(json_object_get(doc, "kind")), kind) != 0 ||
        !json_is_string(json_object_get(doc, "room")) ||
        strcmp(json_string_value(json_object_get(doc, "room")), p->e->room_hex) != 0 ||
        !json_is_array(stored))
        return ER_SYNC_PROTOCOL;
    for (size_t r = p->batch_start; r < p->batch_end; r++) {
        int found = 0;

        json_array_foreach(stored, i, v)
        {
            if (json_is_string(v) && strcmp(json_string_value(v), rows(p)[r].id) == 0) {
                found = 1;
                break;
            }
        }
        if (!found)
            return ER_SYNC_PROTOCOL;
        if (strcmp(kind, "events") == 0 &&
            !hash_agrees(&rows(p)[r], json_object_get(doc, "hashes"), 1))
            return ER_RECEIPT_MISMATCH;
    }
    return 0;
}

static void on_acked(int status, const struct store_ack *ack, void *arg)
{
    struct pass *p = arg;

    if (status < 0) {
        p->out.status = status;
        finish(p);
        return;
    }
    p->out.uploaded += ack->count;
    p->next = p->batch_end;
    send_batch(p);
}

static void on_receipt(struct sync_response *r, void *arg)
{
    struct pass *p = arg;
    const char *kind = rows(p)[p->batch_start].kind == STORE_OUTBOX_RESULT ? "results" : "events";
    uint8_t(*uids)[STORE_UID_LEN] = NULL;
    json_t *doc = NULL;
    int rc = sync_answer_error(r);
    size_t n = p->batch_end - p->batch_start;

    /* A clock_skew's center_time was taken by the client when it verified
     * (the pass ends here as transient). A receipt is believed only once it
     * verified with the pinned center key, for this request: rc says so. */
    if (rc == 0 && (doc = json_loadb((const char *)r->body, r->len, 0, NULL)) == NULL)
        rc = ER_SYNC_PROTOCOL;
    if (rc == 0)
        rc = receipt_covers(p, doc, kind);
    if (rc == 0 && (uids = calloc(n, sizeof(*uids))) == NULL)
        rc = ER_NOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++)
        memcpy(uids[i], rows(p)[p->batch_start + i].uid, STORE_UID_LEN);
    if (rc == 0)
        rc = store_ack_outbox(p->e->cfg.store, r->body, r->len,
                              (const uint8_t(*)[STORE_UID_LEN])uids, n, on_acked, p);
    free(uids);
    json_decref(doc);
    if (rc < 0) {
        p->out.status = rc;
        finish(p);
    }
}

int sync_sign_head(const struct key *room, int64_t pos, const char *hash_hex, char sig[89])
{
    char text[96];

    snprintf(text, sizeof(text), "%lld\n%.64s", (long long)pos, hash_hex);
    return proto_sign_body(room, PROTO_CTX_CHAIN, text, strlen(text), sig);
}

/* The signed head of the room's chain, as the upload carries it. */
static json_t *chain_head(struct pass *p)
{
    struct sync_engine *e = p->e;
    uint8_t hash[STORE_HASH_LEN];
    char hex[65], sig[89];
    int64_t pos = 0;

    if (store_chain_head(e->cfg.store, &pos, hash) < 0)
        return NULL;
    hex_encode(hash, sizeof(hash), hex);
    memcpy(p->head_hash, hex, sizeof(p->head_hash));
    p->head_pos = pos;
    if (sync_sign_head(e->cfg.room, pos, hex, sig) < 0)
        return NULL;
    return json_pack("{s:I, s:s, s:s}", "pos", (json_int_t)pos, "hash", hex, "sig", sig);
}

static json_t *batch_items(struct pass *p, const char *context)
{
    json_t *items = json_array();

    for (size_t i = p->batch_start; i < p->batch_end; i++) {
        struct row *r = &rows(p)[i];
        size_t len = strlen(r->payload);
        char sig[89], *b64 = base64_encode((const uint8_t *)r->payload, len);

        if (b64 == NULL || proto_sign_body(p->e->cfg.room, context, r->payload, len, sig) < 0) {
            free(b64);
            json_decref(items);
            return NULL;
        }
        json_array_append_new(
            items, json_pack("{s:s, s:s, s:s}", "id", r->id, "payload", b64, "sig", sig));
        free(b64);
    }
    return items;
}

/* A batch's body is made off the loop: a signature for each record
 * (Ed25519: 20 ms for a batch of 500 on this class of machine), base64, the
 * JSON and the gzip. The loop only picks the rows and signs the chain head;
 * it touches neither the pass's rows nor the key while the job runs (the
 * pass waits for it: nothing else advances a pass). */
struct build {
    struct pass *p;
    int results;
    json_t *head; /* results only; NULL if there is no head */
    uint8_t *gz;
    size_t gz_len;
    int rc;
};

static void build_work(void *arg)
{
    struct build *b = arg;
    json_t *items = batch_items(b->p, b->results ? PROTO_CTX_RESULT : PROTO_CTX_EVENT);
    json_t *doc = NULL;
    char *body;

    /* json_pack's "o" takes its reference, even when it fails. */
    if (items != NULL)
        doc = b->results ? json_pack("{s:o, s:o*}", "results", items, "head", b->head)
                         : json_pack("{s:o}", "events", items);
    else
        json_decref(b->head);
    b->head = NULL;
    body = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    b->rc = body == NULL ? ER_NOMEM : sync_gzip(body, strlen(body), &b->gz, &b->gz_len);
    free(body);
}

static void build_done(int status, void *arg)
{
    struct build *b = arg;
    struct pass *p = b->p;
    int rc = status < 0 ? status : b->rc;

    if (rc == 0) {
        const struct sync_request r = {.method = "POST",
                                       .path = b->results ? "/v1/results" : "/v1/events",
                                       .body = b->gz,
                                       .body_len = b->gz_len,
                                       .gzip = 1,
                                       .sign = 1,
                                       .answer = PROTO_CTX_RECEIPT,
                                       .fd = -1};

        rc = sync_start(p->e->cfg.client, &r, on_receipt, p);
    }
    json_decref(b->head);
    free(b->gz);
    free(b);
    if (rc < 0) {
        p->out.status = rc;
        finish(p);
    }
}

static void send_batch(struct pass *p)
{
    struct build *b;
    int rc;

    if (p->next >= n_rows(p) && p->more && (rc = read_rows(p)) < 0)
        p->out.status = rc;
    if (p->next >= n_rows(p)) {
        finish(p);
        return;
    }
    b = calloc(1, sizeof(*b));
    if (b == NULL) {
        p->out.status = ER_NOMEM;
        finish(p);
        return;
    }
    b->p = p;
    b->results = rows(p)[p->next].kind == STORE_OUTBOX_RESULT;
    p->batch_start = p->next;
    p->batch_end = p->next;
    while (p->batch_end < n_rows(p) && p->batch_end - p->batch_start < p->e->cfg.batch_max &&
           (rows(p)[p->batch_end].kind == STORE_OUTBOX_RESULT) == b->results)
        p->batch_end++;
    if (b->results)
        b->head = chain_head(p); /* the store is read on the loop */
    rc = sync_client_work(p->e->cfg.client, build_work, build_done, b);
    if (rc < 0) {
        json_decref(b->head);
        free(b);
        p->out.status = rc;
        finish(p);
    }
}

/* The pass proper: the first rows, the first batch. */
static void start(struct pass *p)
{
    int rc = read_rows(p);

    if (rc < 0) {
        p->out.status = rc;
        finish(p);
        return;
    }
    send_batch(p);
}

/* After a pass that reached no center (the room offline), the next one
 * first asks the time, unsigned: while the center stays out of reach a try
 * costs a refused connection, not a batch read and signed for nothing. Any
 * HTTP answer (an error one too) goes on to the pass. */
static void on_probe(struct sync_response *r, void *arg)
{
    struct pass *p = arg;

    if (r->error != 0) {
        p->out.status = r->error;
        finish(p);
        return;
    }
    start(p);
}

int sync_engine_pass(struct sync_engine *e, void (*cb)(const struct sync_outcome *, void *),
                     void *arg)
{
    struct pass *p;
    int rc, probe;

    if (e->cfg.client == NULL)
        return ER_USAGE;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return ER_NOMEM;
    p->e = e;
    p->cb = cb;
    p->arg = arg;
    dynbuf_init(&p->rows, e->cfg.batch_max * sizeof(struct row));
    probe = e->unreachable; /* finish() may change it (and free p) */
    if (probe) {
        const struct sync_request ask = {.method = "GET", .path = "/v1/time", .fd = -1};

        rc = sync_start(e->cfg.client, &ask, on_probe, p);
    } else {
        rc = read_rows(p);
    }
    if (rc < 0) {
        drop_rows(p);
        dynbuf_free(&p->rows);
        free(p);
        return rc;
    }
    if (!probe)
        send_batch(p);
    return 0;
}

/* ---- the USB fallback ----
 *
 * A bundle carries what the uploads would carry, built by the same code
 * (take_row, batch_items, chain_head); a receipt brought back acknowledges
 * rows found by the same ids the uploads use. */

/* Every row of the outbox (only the pending ones when pending_only), results
 * first; a pass's rows, with no client to send them. */
static struct pass *all_rows(struct sync_engine *e, int pending_only, size_t *n_results)
{
    struct pass *p = calloc(1, sizeof(*p));
    size_t i;

    if (p == NULL)
        return NULL;
    p->e = e;
    dynbuf_init(&p->rows, (size_t)1 << 30);
    if (store_foreach_outbox(e->cfg.store, pending_only, take_row, p) < 0) {
        dynbuf_free(&p->rows);
        free(p);
        return NULL;
    }
    if (n_rows(p) > 1)
        qsort(rows(p), n_rows(p), sizeof(struct row), by_kind);
    for (i = 0; i < n_rows(p) && rows(p)[i].kind == STORE_OUTBOX_RESULT; i++)
        ;
    *n_results = i;
    return p;
}

static void free_rows(struct pass *p)
{
    drop_rows(p);
    dynbuf_free(&p->rows);
    free(p);
}

int sync_engine_export(struct sync_engine *e, char **body, int64_t *results, int64_t *events)
{
    size_t nr = 0;
    struct pass *p;
    json_t *doc = json_object(), *items;
    int rc = 0;

    /* One snapshot: the rows and the head they carry (the daemon may be
     * adding results meanwhile). */
    store_read_begin(e->cfg.store);
    p = all_rows(e, 1, &nr);

    if (p == NULL || doc == NULL) {
        rc = ER_NOMEM;
        goto out;
    }
    *results = (int64_t)nr;
    *events = (int64_t)(n_rows(p) - nr);
    if (nr > 0) {
        p->batch_start = 0;
        p->batch_end = nr;
        items = batch_items(p, PROTO_CTX_RESULT);
        if (items == NULL || json_object_set_new(doc, "results", items) < 0 ||
            json_object_set_new(doc, "head", chain_head(p)) < 0)
            rc = ER_NOMEM;
    }
    if (rc == 0 && n_rows(p) > nr) {
        p->batch_start = nr;
        p->batch_end = n_rows(p);
        items = batch_items(p, PROTO_CTX_EVENT);
        if (items == NULL || json_object_set_new(doc, "events", items) < 0)
            rc = ER_NOMEM;
    }
    if (rc == 0 && (*body = json_dumps(doc, JSON_COMPACT)) == NULL)
        rc = ER_NOMEM;
out:
    store_read_end(e->cfg.store);
    json_decref(doc);
    if (p != NULL)
        free_rows(p);
    return rc;
}

/* The row with this id, or NULL. */
static struct row *row_by_id(struct pass *p, const char *id)
{
    for (size_t i = 0; i < n_rows(p); i++)
        if (strcmp(rows(p)[i].id, id) == 0)
            return &rows(p)[i];
    return NULL;
}

static int hash_is(const char *payload, const char *hex)
{
    uint8_t h[32];
    char have[65];

    sha256(payload, strlen(payload), h);
    hex_encode(h, sizeof(h), have);
    return hex != NULL && strcmp(have, hex) == 0;
}

/* The head a results part names is a link of our own chain: the result at
 * that position has that hash (as online, where it must be the head sent). */
static int head_is_ours(struct pass *p, json_t *head)
{
    json_int_t pos = json_integer_value(json_object_get(head, "pos"));
    const char *hash = json_string_value(json_object_get(head, "hash"));

    for (size_t i = 0; i < n_rows(p); i++) {
        struct row *r = &rows(p)[i];
        json_t *doc;
        int at;

        if (r->kind != STORE_OUTBOX_RESULT)
            continue;
        doc = json_loads(r->payload, 0, NULL);
        at = json_integer_value(json_object_get(doc, "chain_pos")) == pos;
        json_decref(doc);
        if (at)
            return hash_is(r->payload, hash);
    }
    return 0;
}

/* One part of a receipt ("results" or "events", an online receipt's body
 * with the payloads' hashes): the pending rows it names into m. */
static int match_part(struct pass *p, json_t *part, enum store_outbox_kind kind,
                      struct sync_receipt_match *m, struct dynbuf *uids)
{
    json_t *stored = json_object_get(part, "stored"), *hashes = json_object_get(part, "hashes"), *v;
    size_t i;

    if (part == NULL)
        return 0;
    if (!json_is_array(stored) || (hashes != NULL && !json_is_object(hashes)))
        return ER_RECEIPT_MISMATCH;
    if (kind == STORE_OUTBOX_RESULT && !head_is_ours(p, json_object_get(part, "head")))
        return ER_RECEIPT_MISMATCH;
    json_array_foreach(stored, i, v)
    {
        struct row *r = json_is_string(v) ? row_by_id(p, json_string_value(v)) : NULL;

        if (r == NULL || r->kind != kind) {
            m->unknown++;
            continue;
        }
        if (!hash_agrees(r, hashes, 0))
            return ER_RECEIPT_MISMATCH;
        if (r->order == 1) { /* marked: acknowledged already */
            m->already++;
            continue;
        }
        if (dynbuf_add(uids, r->uid, STORE_UID_LEN) < 0)
            return ER_NOMEM;
        r->order = 1; /* an id named twice counts once */
        m->acked++;
    }
    return 0;
}

static void mark_pending(const struct store_outbox *o, void *arg)
{
    struct pass *p = arg;

    for (size_t i = 0; i < n_rows(p); i++)
        if (memcmp(rows(p)[i].uid, o->id, STORE_UID_LEN) == 0)
            rows(p)[i].order = 0;
}

int sync_engine_match_receipt(struct sync_engine *e, const char *body, size_t len,
                              struct sync_receipt_match *m)
{
    json_t *doc = json_loadb(body, len, 0, NULL);
    const char *room_key = json_string_value(json_object_get(doc, "room_key"));
    const char *plan = json_string_value(json_object_get(doc, "plan"));
    const char *room = json_string_value(json_object_get(doc, "room"));
    struct dynbuf uids;
    size_t nr = 0;
    struct pass *p = NULL;
    int rc = 0;

    memset(m, 0, sizeof(*m));
    dynbuf_init(&uids, (size_t)1 << 30);
    if (!json_is_object(doc) || room_key == NULL || plan == NULL || room == NULL)
        rc = ER_RECEIPT_MISMATCH;
    else if (strcmp(room_key, e->room_hex) != 0 || strcmp(room, e->cfg.room_id) != 0)
        rc = ER_RECEIPT_OTHER_ROOM;
    else if (strcmp(plan, e->cfg.plan) != 0)
        rc = ER_RECEIPT_OTHER_PLAN;
    /* Every row, acknowledged or not: a receipt taken twice finds its rows
     * acknowledged the second time (order marks them: 1 acknowledged). */
    store_read_begin(e->cfg.store);
    if (rc == 0 && (p = all_rows(e, 0, &nr)) == NULL)
        rc = ER_NOMEM;
    for (size_t i = 0; rc == 0 && i < n_rows(p); i++)
        rows(p)[i].order = 1;
    if (rc == 0 && store_foreach_outbox(e->cfg.store, 1, mark_pending, p) < 0)
        rc = ER_NOMEM;
    store_read_end(e->cfg.store);
    if (rc == 0)
        rc = match_part(p, json_object_get(doc, "results"), STORE_OUTBOX_RESULT, m, &uids);
    if (rc == 0)
        rc = match_part(p, json_object_get(doc, "events"), STORE_OUTBOX_EVENT, m, &uids);
    if (rc == 0) {
        m->uids = (uint8_t(*)[STORE_UID_LEN])(void *)uids.buf;
        uids.buf = NULL;
    }
    dynbuf_free(&uids);
    if (p != NULL)
        free_rows(p);
    json_decref(doc);
    return rc;
}
