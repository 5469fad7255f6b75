/* The candidates' requests without the store: each candidate token's
 * candidate (by the token's SHA-256) and each session's row, kept in the
 * daemon while the store's generation is the one they were read at. Any
 * write but an answer's changes the generation when it is queued and again
 * when it is committed (store_generation()), so a revoked terminal, an
 * ended or replaced sign-in, a move, a submission or an absence is read
 * from the store again by the very next request, as before the cache; the
 * answers, which change none of these rows, leave it alone. */
#include "http.h"

#include <openssl/crypto.h>
#include <string.h>

static struct token_cached *token_slot(struct daemon *d, const uint8_t hash[32], int way)
{
    uint32_t h;

    memcpy(&h, hash, sizeof(h)); /* a SHA-256: any of its bytes will do */
    return &d->token_cache[(h + (uint32_t)way) % DAEMON_TOKEN_CACHE];
}

int cache_candidate(struct daemon *d, const uint8_t hash[32], struct signed_in *k)
{
    uint64_t now = store_generation(d->r.st);

    for (int w = 0; w < DAEMON_TOKEN_WAYS; w++) {
        const struct token_cached *c = token_slot(d, hash, w);

        if (c->generation == now && CRYPTO_memcmp(c->hash, hash, sizeof(c->hash)) == 0) {
            *k = c->k;
            return 0;
        }
    }
    return ER_STORE_NOT_FOUND;
}

void cache_candidate_keep(struct daemon *d, const uint8_t hash[32], const struct signed_in *k)
{
    uint64_t now = store_generation(d->r.st);
    struct token_cached *c = token_slot(d, hash, 0);

    /* A slot of another generation is free; else the first way goes. */
    for (int w = 0; w < DAEMON_TOKEN_WAYS; w++)
        if (token_slot(d, hash, w)->generation != now) {
            c = token_slot(d, hash, w);
            break;
        }
    c->generation = now;
    memcpy(c->hash, hash, sizeof(c->hash));
    c->k = *k;
}

int cache_session(struct daemon *d, int index, struct exam_session *x)
{
    if (index < 0 || index >= PKG_MAX_SESSIONS ||
        d->session_cache[index].generation != store_generation(d->r.st))
        return ER_STORE_NOT_FOUND;
    *x = d->session_cache[index].x;
    return 0;
}

void cache_session_keep(struct daemon *d, int index, const struct exam_session *x)
{
    if (index < 0 || index >= PKG_MAX_SESSIONS)
        return;
    d->session_cache[index].generation = store_generation(d->r.st);
    d->session_cache[index].x = *x;
}
