/* The candidates' and terminals' requests without the store: each
 * candidate token's candidate (by the token's key, crypto.h), each ticket's
 * candidates, each approved terminal (by its token's SHA-256) and each
 * session's row, kept in the daemon while the store says the rows they came
 * from have not changed (store.h, store_generation()). What is of one
 * candidate holds while the store's generation and that candidate's are
 * the ones it was read at: a write of one candidate (a sign-in, a move, a
 * submission, an absence) changes theirs, when it is queued and again when
 * it is committed, so their next request reads the store again, and the
 * others' do not. Terminals and sessions hold while the store's generation
 * does, which every other write but an answer's, an event's or a receipt's
 * changes (a revoke, a pairing, an unlock, a package). So a revoked
 * terminal, an ended or replaced sign-in, a move, a submission or an
 * absence is read from the store again by the very next request, as before
 * the cache. Nothing is kept of what was not found: the store is asked
 * again each time. */
#include "http.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

static uint64_t cand_now(struct daemon *d, int64_t id)
{
    return store_candidate_generation(d->r.st, id);
}

/* ---- candidate tokens ---- */

/* Way `way` of a token's slots in a table of n: a token's key ends with
 * bytes of its SHA-256, its own hash (a candidate token's key begins with
 * its time, the same in its first bytes for weeks: crypto.h). */
static size_t hash_slot(const uint8_t hash[32], int way, size_t n)
{
    uint32_t h;

    memcpy(&h, hash + 32 - sizeof(h), sizeof(h));
    return (h + (uint32_t)way) % n;
}

static struct token_cached *token_slot(struct daemon *d, const uint8_t hash[32], int way)
{
    return &d->token_cache[hash_slot(hash, way, DAEMON_TOKEN_CACHE)];
}

static int token_valid(struct daemon *d, const struct token_cached *c, uint64_t now)
{
    return c->generation == now && c->cand_generation == cand_now(d, c->k.id);
}

int cache_candidate(struct daemon *d, const uint8_t hash[32], struct signed_in *k)
{
    uint64_t now = store_generation(d->r.st);

    for (int w = 0; w < DAEMON_TOKEN_WAYS; w++) {
        const struct token_cached *c = token_slot(d, hash, w);

        if (token_valid(d, c, now) && CRYPTO_memcmp(c->hash, hash, sizeof(c->hash)) == 0) {
            *k = c->k;
            d->cache_counts.token_hits++;
            return 0;
        }
    }
    d->cache_counts.token_reads++;
    return ER_STORE_NOT_FOUND;
}

void cache_candidate_keep(struct daemon *d, const uint8_t hash[32], const struct signed_in *k)
{
    uint64_t now = store_generation(d->r.st);
    struct token_cached *c = token_slot(d, hash, 0);

    /* A slot no longer valid is free; else the first way goes. */
    for (int w = 0; w < DAEMON_TOKEN_WAYS; w++)
        if (!token_valid(d, token_slot(d, hash, w), now)) {
            c = token_slot(d, hash, w);
            break;
        }
    c->generation = now;
    c->cand_generation = cand_now(d, k->id);
    memcpy(c->hash, hash, sizeof(c->hash));
    c->k = *k;
}

/* ---- terminal tokens ---- */

static struct terminal_cached *terminal_slot(struct daemon *d, const uint8_t hash[32], int way)
{
    return &d->terminal_cache[hash_slot(hash, way, DAEMON_TERMINAL_CACHE)];
}

int cache_terminal(struct daemon *d, const uint8_t hash[32], struct terminal_row *t)
{
    uint64_t now = store_generation(d->r.st);

    for (int w = 0; w < DAEMON_TOKEN_WAYS; w++) {
        const struct terminal_cached *c = terminal_slot(d, hash, w);

        if (c->generation == now && CRYPTO_memcmp(c->hash, hash, sizeof(c->hash)) == 0) {
            *t = c->t;
            d->cache_counts.terminal_hits++;
            return 0;
        }
    }
    d->cache_counts.terminal_reads++;
    return ER_STORE_NOT_FOUND;
}

void cache_terminal_keep(struct daemon *d, const uint8_t hash[32], const struct terminal_row *t)
{
    uint64_t now = store_generation(d->r.st);
    struct terminal_cached *c = terminal_slot(d, hash, 0);

    for (int w = 0; w < DAEMON_TOKEN_WAYS; w++)
        if (terminal_slot(d, hash, w)->generation != now) {
            c = terminal_slot(d, hash, w);
            break;
        }
    c->generation = now;
    memcpy(c->hash, hash, sizeof(c->hash));
    c->t = *t;
}

/* ---- tickets ---- */

static struct ticket_cached *ticket_slot(struct daemon *d, const char *ticket, int way)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (const unsigned char *p = (const unsigned char *)ticket; *p != '\0'; p++)
        h = (h ^ *p) * 16777619u;
    return &d->ticket_cache[(h + (uint32_t)way) % DAEMON_TICKET_CACHE];
}

static int ticket_valid(struct daemon *d, const struct ticket_cached *c, uint64_t now)
{
    if (c->generation != now)
        return 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->cand_generation[i] != cand_now(d, c->c[i].s.id))
            return 0;
    return 1;
}

int cache_ticket(struct daemon *d, const char *ticket, struct signin_cand *c, size_t *n)
{
    uint64_t now = store_generation(d->r.st);

    for (int w = 0; w < DAEMON_TOKEN_WAYS; w++) {
        const struct ticket_cached *e = ticket_slot(d, ticket, w);

        if (strcmp(e->ticket, ticket) == 0 && ticket_valid(d, e, now)) {
            memcpy(c, e->c, e->n * sizeof(*c));
            *n = e->n;
            d->cache_counts.ticket_hits++;
            return 0;
        }
    }
    d->cache_counts.ticket_reads++;
    return ER_STORE_NOT_FOUND;
}

void cache_ticket_keep(struct daemon *d, const char *ticket, const struct signin_cand *c, size_t n)
{
    uint64_t now = store_generation(d->r.st);
    struct ticket_cached *e = ticket_slot(d, ticket, 0);

    if (n == 0 || n > DAEMON_TICKET_SAME || strlen(ticket) >= sizeof(e->ticket))
        return;
    for (int w = 0; w < DAEMON_TOKEN_WAYS; w++)
        if (!ticket_valid(d, ticket_slot(d, ticket, w), now)) {
            e = ticket_slot(d, ticket, w);
            break;
        }
    e->generation = now;
    snprintf(e->ticket, sizeof(e->ticket), "%s", ticket);
    e->n = n;
    for (size_t i = 0; i < n; i++) {
        e->c[i] = c[i];
        e->cand_generation[i] = cand_now(d, c[i].s.id);
    }
}

/* ---- sessions ---- */

int cache_session(struct daemon *d, int index, struct exam_session *x)
{
    if (index < 0 || index >= PKG_MAX_SESSIONS ||
        d->session_cache[index].generation != store_generation(d->r.st)) {
        d->cache_counts.session_reads++;
        return ER_STORE_NOT_FOUND;
    }
    *x = d->session_cache[index].x;
    d->cache_counts.session_hits++;
    return 0;
}

void cache_session_keep(struct daemon *d, int index, const struct exam_session *x)
{
    if (index < 0 || index >= PKG_MAX_SESSIONS)
        return;
    d->session_cache[index].generation = store_generation(d->r.st);
    d->session_cache[index].x = *x;
}

json_t *cache_json(const struct daemon *d)
{
    const struct cache_counts *c = &d->cache_counts;

    return json_pack("{s:{s:I, s:I}, s:{s:I, s:I}, s:{s:I, s:I}, s:{s:I, s:I}}", "tokens", "hits",
                     (json_int_t)c->token_hits, "reads", (json_int_t)c->token_reads, "tickets",
                     "hits", (json_int_t)c->ticket_hits, "reads", (json_int_t)c->ticket_reads,
                     "terminals", "hits", (json_int_t)c->terminal_hits, "reads",
                     (json_int_t)c->terminal_reads, "sessions", "hits", (json_int_t)c->session_hits,
                     "reads", (json_int_t)c->session_reads);
}
