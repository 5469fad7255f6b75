/* Fuzzes what the center does with an upload body (results or events):
 * center_ingest() on a real center database, as a registered room. The input
 * is JSON; each item's "p" (any JSON value the fuzzer makes) becomes a
 * payload that the harness signs with the room's key, and a "head" with "pos"
 * and "hash" is signed too, so the fuzzer reaches the checks behind the
 * signatures: fields, ids, conflicts, chain links, heads. The first byte picks
 * results (even) or events (odd). Property: an answer is a receipt listing
 * every id of the upload, or one of the documented error codes; the database
 * keeps every invariant (one result per chain position, checked by SQLite). */
#include "fuzz.h"

#include "center.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct server server;
static struct api base;
static struct key *room;
static unsigned runs;

static void init(void)
{
    char dir[] = "/tmp/examroom-fuzz-center-XXXXXX";
    uint8_t raw[32], pub[32];
    sqlite3_stmt *st;

    FUZZ_CHECK(mkdtemp(dir) != NULL);
    FUZZ_CHECK(center_db_open(dir, &server.db) == 0);
    for (int i = 0; i < 32; i++)
        raw[i] = (uint8_t)(7 * i + 1);
    FUZZ_CHECK(key_from_raw_private(KEY_ED25519, raw, &room) == 0);
    key_public_raw(room, pub);
    FUZZ_CHECK(sqlite3_exec(server.db,
                            "INSERT INTO plans VALUES ('P', 'c', 'n', 'Asia/Shanghai', 60, 0);"
                            "INSERT INTO rooms VALUES ('P', 'R01', 'S', 's', 'r', 30);"
                            "INSERT INTO sessions VALUES ('P', 'S1', 'd', 's', 'e', 0, 1, 0, 0,"
                            " x'00');"
                            /* Candidates T1..T9 of R01 in S1: what results may name. */
                            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                            "WHERE i < 9) INSERT INTO candidates SELECT 'P', 'S1', 'T' || i, "
                            "'n', 'g', 't', 'id', 'o', 'l', 'R01', i, 0, 'p', x'00' FROM n;",
                            NULL, NULL, NULL) == SQLITE_OK);
    key_id(room, base.room.key_id);
    FUZZ_CHECK(
        sqlite3_prepare_v2(server.db,
                           "INSERT INTO registrations (room_key_id, plan_id, room_id, sign_pub, "
                           "wrap_pub, name, registered_at) VALUES (?1, 'P', 'R01', ?2, ?2, "
                           "'', 0)",
                           -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_blob(st, 1, base.room.key_id, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, pub, 32, SQLITE_STATIC);
    FUZZ_CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    base.server = &server;
    base.source = "online";
    base.now = 1796400000;
    FUZZ_CHECK(center_find_room(server.db, &base.room) == 0);
    hex_encode(base.room.key_id, 32, base.room_hex);
}

/* Replaces each item's "p" by a signed payload made of it. */
static void sign_items(json_t *items, const char *context)
{
    size_t i;
    json_t *item;

    json_array_foreach(items, i, item)
    {
        json_t *p = json_object_get(item, "p");
        char *text, *b64, sig[89];

        if (p == NULL)
            continue;
        text = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        if (text == NULL)
            continue;
        b64 = base64_encode((const uint8_t *)text, strlen(text));
        FUZZ_CHECK(proto_sign_body(room, context, text, strlen(text), sig) == 0);
        json_object_set_new(item, "payload", json_string(b64));
        json_object_set_new(item, "sig", json_string(sig));
        json_object_del(item, "p");
        free(b64);
        free(text);
    }
}

static void sign_head(json_t *head)
{
    json_t *pos = json_object_get(head, "pos");
    const char *hash = json_string_value(json_object_get(head, "hash"));
    char text[200], sig[89];

    if (!json_is_integer(pos) || hash == NULL || strlen(hash) > 100)
        return;
    snprintf(text, sizeof(text), "%lld\n%s", (long long)json_integer_value(pos), hash);
    FUZZ_CHECK(proto_sign_body(room, PROTO_CTX_CHAIN, text, strlen(text), sig) == 0);
    json_object_set_new(head, "sig", json_string(sig));
}

static const char *const known[] = {"bad_json",       "bad_signature", "conflict", "chain_broken",
                                    "chain_rollback", "internal",      NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct api api;
    json_t *doc, *out = NULL;
    const char *err;
    int results;

    if (server.db == NULL)
        init();
    if (size < 1)
        return 0;
    results = (data[0] & 1) == 0;
    doc = json_loadb((const char *)data + 1, size - 1, 0, NULL);
    if (doc == NULL)
        return 0;
    sign_items(json_object_get(doc, results ? "results" : "events"),
               results ? PROTO_CTX_RESULT : PROTO_CTX_EVENT);
    sign_head(json_object_get(doc, "head"));
    api = base;
    err = center_ingest(&api, doc, results, &out);
    if (err == NULL) {
        /* A receipt: every id of the upload is listed. */
        FUZZ_CHECK(json_array_size(json_object_get(out, "stored")) ==
                   json_array_size(json_object_get(doc, results ? "results" : "events")));
    } else {
        int ok = 0;

        for (const char *const *k = known; *k != NULL; k++)
            ok |= strcmp(err, *k) == 0;
        FUZZ_CHECK(ok);
        FUZZ_CHECK(strcmp(err, "internal") != 0); /* never the center's own fault */
    }
    json_decref(out);
    json_decref(doc);
    /* Keep the database small: start over now and then. */
    if (++runs % 2000 == 0)
        sqlite3_exec(server.db, "DELETE FROM results; DELETE FROM chains; DELETE FROM events;",
                     NULL, NULL, NULL);
    return 0;
}
