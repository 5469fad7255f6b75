/* One rate limiter for the room's unauthenticated doors (SECURITY.md "The
 * LAN"): failed sign-ins per terminal, wrong proctor passwords per address,
 * pairing requests and pickups per address. A key is compared by all of its
 * bytes (an IPv4 or IPv6 address, a terminal id), never by a hash slot, so
 * one key's count or hold is never another's, and never erased by another.
 *
 * The table is fixed (RATELIMIT_ENTRIES) and scanned in full: it is small
 * beside a request's own cost, and a scan cannot be steered into a bad case
 * the way a hash can. A new key takes a free entry, else the entry that has
 * nothing left to say (its window over and no hold), else the counting entry
 * whose window started first. An entry holding someone off is never evicted:
 * if every entry holds (more live holds than RATELIMIT_ENTRIES, which the
 * callers' rates make unreachable from one LAN, see agent.h), the new key is
 * let through uncounted and the caller logs it; refusing it instead would
 * lock out the proctor or a terminal that did nothing wrong. */
#include "agent.h"

#include <string.h>

static int same_key(const struct ratelimit_key *a, const struct ratelimit_key *b)
{
    return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

static int holding(const struct ratelimit_entry *e, int64_t now)
{
    return e->held_until > now;
}

/* Nothing to remember: no hold, and the counting window is over. */
static int spent(const struct ratelimit_entry *e, const struct ratelimit_rule *rule, int64_t now)
{
    return !holding(e, now) && now - e->since >= rule->window_s;
}

static struct ratelimit_entry *find(struct ratelimit *rl, const struct ratelimit_key *key)
{
    for (size_t i = 0; i < rl->used; i++)
        if (same_key(&rl->e[i].key, key))
            return &rl->e[i];
    return NULL;
}

/* An entry for a new key, or NULL when every entry is holding someone off. */
static struct ratelimit_entry *take(struct ratelimit *rl, const struct ratelimit_rule *rule,
                                    int64_t now)
{
    struct ratelimit_entry *oldest = NULL;

    if (rl->used < RATELIMIT_ENTRIES)
        return &rl->e[rl->used++];
    for (size_t i = 0; i < RATELIMIT_ENTRIES; i++) {
        struct ratelimit_entry *e = &rl->e[i];

        if (spent(e, rule, now))
            return e;
        if (!holding(e, now) && (oldest == NULL || e->since < oldest->since))
            oldest = e;
    }
    return oldest;
}

int ratelimit_key_of(struct ratelimit_key *key, const void *bytes, size_t len)
{
    memset(key, 0, sizeof(*key));
    if (len == 0 || len > RATELIMIT_KEY_MAX)
        return -1;
    key->len = (uint8_t)len;
    memcpy(key->bytes, bytes, len);
    return 0;
}

int64_t ratelimit_held(struct ratelimit *rl, const struct ratelimit_key *key, int64_t now)
{
    const struct ratelimit_entry *e = find(rl, key);

    return e != NULL && holding(e, now) ? e->held_until - now : 0;
}

int ratelimit_count(struct ratelimit *rl, const struct ratelimit_rule *rule,
                    const struct ratelimit_key *key, int64_t now)
{
    struct ratelimit_entry *e = find(rl, key);

    if (e == NULL) {
        e = take(rl, rule, now);
        if (e == NULL)
            return RATELIMIT_UNTRACKED;
        *e = (struct ratelimit_entry){.key = *key, .since = now};
    }
    if (holding(e, now))
        return RATELIMIT_HELD;
    if (now - e->since >= rule->window_s) {
        e->since = now;
        e->n = 0;
    }
    if (++e->n < rule->max)
        return RATELIMIT_COUNTED;
    /* The max-th within the window: held, for hold_s, or (hold_s 0) until
     * the window ends. The count starts over after the hold. */
    e->held_until = rule->hold_s > 0 ? now + rule->hold_s : e->since + rule->window_s;
    e->n = 0;
    e->since = e->held_until;
    return RATELIMIT_NOW_HELD;
}
