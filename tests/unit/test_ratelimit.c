/* Unit tests of agent/ratelimit.c: keys are compared by all of their bytes
 * (keys that shared a slot of the old tables, terminal % 256 and address
 * % 64, are counted and held apart), the table is bounded and evicts by
 * age, and never evicts a key that is holding someone off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent.h"

#include <stdlib.h>
#include <string.h>

static const struct ratelimit_rule login = {.max = 5, .window_s = 300, .hold_s = 60};
static const struct ratelimit_rule pairing = {.max = 10, .window_s = 60};

static struct ratelimit_key terminal(int64_t id)
{
    struct ratelimit_key k;

    assert_int_equal(ratelimit_key_of(&k, &id, sizeof(id)), 0);
    return k;
}

static struct ratelimit_key ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    const uint8_t ip[4] = {a, b, c, d};
    struct ratelimit_key k;

    assert_int_equal(ratelimit_key_of(&k, ip, sizeof(ip)), 0);
    return k;
}

static int setup(void **state)
{
    *state = calloc(1, sizeof(struct ratelimit));
    return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

/* Terminals 1 and 257 shared fails[1 % 256]: one's failures erased the
 * other's hold. */
static void colliding_terminals_are_held_apart(void **state)
{
    struct ratelimit *rl = *state;
    struct ratelimit_key a = terminal(1), b = terminal(257);

    for (int i = 0; i < 4; i++) {
        assert_int_equal(ratelimit_count(rl, &login, &a, 1000), RATELIMIT_COUNTED);
        assert_int_equal(ratelimit_count(rl, &login, &b, 1000), RATELIMIT_COUNTED);
    }
    assert_int_equal(ratelimit_count(rl, &login, &a, 1001), RATELIMIT_NOW_HELD);
    assert_int_equal(ratelimit_held(rl, &a, 1001), 60);
    assert_int_equal(ratelimit_held(rl, &b, 1001), 0);
    /* b's failure does not free a, and counts as b's fifth. */
    assert_int_equal(ratelimit_count(rl, &login, &b, 1002), RATELIMIT_NOW_HELD);
    assert_int_equal(ratelimit_held(rl, &a, 1002), 59);
    assert_int_equal(ratelimit_held(rl, &b, 1002), 60);
    /* While held, nothing counts; the hold ends on time. */
    assert_int_equal(ratelimit_count(rl, &login, &a, 1030), RATELIMIT_HELD);
    assert_int_equal(ratelimit_held(rl, &a, 1061), 0);
    assert_int_equal(ratelimit_count(rl, &login, &a, 1061), RATELIMIT_COUNTED);
}

/* 127.0.0.2 and 127.0.0.66 are 64 apart: alternating, each is held after
 * its own fifth. */
static void alternating_addresses_are_each_held(void **state)
{
    struct ratelimit *rl = *state;
    struct ratelimit_key a = ipv4(127, 0, 0, 2), b = ipv4(127, 0, 0, 66);
    int held_a = 0, held_b = 0;

    for (int i = 0; i < 5; i++) {
        held_a += ratelimit_count(rl, &login, &a, 2000 + i) == RATELIMIT_NOW_HELD;
        held_b += ratelimit_count(rl, &login, &b, 2000 + i) == RATELIMIT_NOW_HELD;
    }
    assert_int_equal(held_a, 1);
    assert_int_equal(held_b, 1);
    assert_true(ratelimit_held(rl, &a, 2005) > 0);
    assert_true(ratelimit_held(rl, &b, 2005) > 0);
    assert_int_equal(ratelimit_held(rl, &(struct ratelimit_key){0}, 2005), 0);
}

/* A key whose bytes begin like another's is another key. */
static void keys_compare_by_every_byte(void **state)
{
    struct ratelimit *rl = *state;
    uint8_t v6[16] = {127, 0, 0, 2};
    struct ratelimit_key a = ipv4(127, 0, 0, 2), b;

    assert_int_equal(ratelimit_key_of(&b, v6, sizeof(v6)), 0);
    for (int i = 0; i < 5; i++)
        ratelimit_count(rl, &login, &a, 3000);
    assert_true(ratelimit_held(rl, &a, 3000) > 0);
    assert_int_equal(ratelimit_held(rl, &b, 3000), 0);
    assert_int_equal(ratelimit_key_of(&b, v6, 0), -1);
    assert_int_equal(ratelimit_key_of(&b, v6, RATELIMIT_KEY_MAX + 1), -1);
}

/* Pairing: 10 a minute, held until the minute ends, another address
 * interleaved changes nothing. */
static void pairing_ten_a_minute_interleaved(void **state)
{
    struct ratelimit *rl = *state;
    struct ratelimit_key a = ipv4(127, 0, 0, 3), b = ipv4(127, 0, 0, 67);
    int allowed = 0;

    for (int i = 0; i < 12; i++) {
        allowed += ratelimit_count(rl, &pairing, &a, 4000 + i) != RATELIMIT_HELD;
        if (i % 2 == 0) /* b asks every other time: 6, under its limit */
            assert_int_not_equal(ratelimit_count(rl, &pairing, &b, 4000), RATELIMIT_HELD);
    }
    assert_int_equal(allowed, 10);
    assert_int_equal(ratelimit_held(rl, &a, 4011), 49);
    assert_int_equal(ratelimit_count(rl, &pairing, &a, 4060), RATELIMIT_COUNTED);
}

/* Full of keys: the spent ones go first, then the counting one whose window
 * began first; a held key never goes, and a table of holds lets a new key
 * through uncounted rather than refuse it. */
static void full_table_evicts_by_age_never_a_hold(void **state)
{
    struct ratelimit *rl = *state;
    struct ratelimit_key k, first = terminal(0), held = terminal(1);

    /* Key 0 counts from t=100, key 1 is held, the others count from 200. */
    ratelimit_count(rl, &login, &first, 100);
    for (int i = 0; i < 5; i++)
        ratelimit_count(rl, &login, &held, 150);
    for (int64_t id = 2; id < RATELIMIT_ENTRIES; id++) {
        k = terminal(id);
        assert_int_equal(ratelimit_count(rl, &login, &k, 200), RATELIMIT_COUNTED);
    }
    assert_int_equal(rl->used, RATELIMIT_ENTRIES);
    k = terminal(RATELIMIT_ENTRIES);
    assert_int_equal(ratelimit_count(rl, &login, &k, 201), RATELIMIT_COUNTED);
    assert_int_equal(rl->used, RATELIMIT_ENTRIES);
    /* key 0 was evicted (its window began first), key 1 is still held. */
    assert_true(ratelimit_held(rl, &held, 201) > 0);
    for (size_t i = 0; i < rl->used; i++)
        assert_false(rl->e[i].key.len == first.len &&
                     memcmp(rl->e[i].key.bytes, first.bytes, 8) == 0);

    /* Every entry holding: a new key is let through, uncounted. */
    memset(rl, 0, sizeof(*rl));
    for (int64_t id = 0; id < RATELIMIT_ENTRIES; id++) {
        k = terminal(id);
        for (int i = 0; i < 5; i++)
            ratelimit_count(rl, &login, &k, 300);
    }
    k = terminal(-1);
    assert_int_equal(ratelimit_count(rl, &login, &k, 301), RATELIMIT_UNTRACKED);
    k = terminal(7);
    assert_true(ratelimit_held(rl, &k, 301) > 0);
    /* Once the holds and their windows are over, entries are reused. */
    k = terminal(-1);
    assert_int_equal(ratelimit_count(rl, &login, &k, 300 + 60 + 300), RATELIMIT_COUNTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(colliding_terminals_are_held_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(alternating_addresses_are_each_held, setup, teardown),
        cmocka_unit_test_setup_teardown(keys_compare_by_every_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(pairing_ten_a_minute_interleaved, setup, teardown),
        cmocka_unit_test_setup_teardown(full_table_evicts_by_age_never_a_hold, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
