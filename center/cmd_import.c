/* examcenter import FILE [--receipt OUT]: a room's USB bundle. The same
 * records as an online upload, stored the same way: importing a bundle
 * twice, or after the room uploaded them online, changes nothing. Then a
 * receipt file the room takes back (examroom import-receipt): signed by the
 * center key, it says what the center holds from the bundle, the same
 * receipts an upload gets, with each record's payload hash. The same bundle
 * gives the same receipt, byte for byte. */
#include "center.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MSG_STORED "%s：%zu 条已在考试中心（考场 %s）\n"
#define MSG_HELD                                                                                   \
    "其中 %zu "                                                                                  \
    "条成绩与同一考生的另一份成绩冲突，已一并保存，标记为“冲突待核”，请在成绩报表中核对。\n"
#define MSG_REFUSED "U盘文件中的%s未导入：%s（%s）"
#define MSG_RETIRED                                                                                \
    "无法导入U盘文件 %s：它来自考场 %s 已停用的密钥（%s "                      \
    "起由替换注册码注册的服务器接替）。此前已收到"                           \
    "的成绩仍然有效；请核实后再处理这份文件。"
#define MSG_CANNOT_IMPORT "无法导入U盘文件 %s。"
#define MSG_RECEIPT       "回执已写入 %s：请把它带回考场，执行 examroom import-receipt %s。\n"
#define MSG_NO_RECEIPT                                                                                  \
    "U盘文件 %s 已导入，但回执文件 %s 无法写入。请检查U盘是否已满或只读，" \
    "然后再次执行 examcenter import 重新生成回执（重复导入不会改变已收到的成绩）。"
#define MSG_UNKNOWN_KEY                                                                                                                        \
    "无法导入U盘文件 %s：它来自本考试中心不认识的考场密钥（该考场服务器没有在本中心注册过，或文件" \
    "已损坏）。请核对文件是否来自本中心已注册的考场。"

/* The registration the bundle names, from its (not yet trusted) header. */
static int find_room(struct api *api, const char *file)
{
    int rc = bundle_peek(file, api->room_hex);

    if (rc < 0 || hex_decode(api->room_hex, api->room.key_id, 32) < 0)
        return rc < 0 ? rc : ER_PKG_CORRUPT;
    return center_find_room(api->server->db, &api->room);
}

/* The SHA-256 (hex) of each item's payload, by id: what the center now
 * holds under that id (a known id with other bytes is refused whole). */
static json_t *payload_hashes(json_t *items)
{
    json_t *hashes = json_object(), *item;
    size_t i;

    json_array_foreach(items, i, item)
    {
        const char *id = json_string_value(json_object_get(item, "id"));
        const char *b64 = json_string_value(json_object_get(item, "payload"));
        uint8_t *raw = NULL, h[32];
        size_t n = 0;
        char hex[65];

        if (id == NULL || b64 == NULL || base64_decode(b64, &raw, &n) < 0)
            continue; /* not stored: center_ingest refused it already */
        sha256(raw, n, h);
        hex_encode(h, sizeof(h), hex);
        json_object_set_new(hashes, id, json_string(hex));
        free(raw);
    }
    return hashes;
}

/* Records stored at a time: as many as an upload may carry, so a bundle
 * from a room offline all day imports however long its backlog (one
 * transaction still: stored whole or not at all). EXAMCENTER_IMPORT_BATCH:
 * fewer, for tests. */
static size_t import_batch(void)
{
    const char *text = getenv("EXAMCENTER_IMPORT_BATCH");
    long n = text != NULL ? atol(text) : 0;

    return n > 0 && n < API_BATCH_MAX ? (size_t)n : API_BATCH_MAX;
}

static int by_text(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* Appends the strings of the array key of from to that of into, and sorts
 * them (as one receipt for the whole part would list them). */
static void merge_ids(json_t *into, json_t *from, const char *key)
{
    json_t *list = json_object_get(into, key);

    if (json_array_size(json_object_get(from, key)) == 0)
        return;
    if (list == NULL) {
        list = json_array();
        json_object_set_new(into, key, list);
    }
    json_array_extend(list, json_object_get(from, key));
    jarray_sort(list, by_text);
}

/* One batch of a part through center_ingest(), merged into *receipt. */
static const char *ingest_batch(struct api *api, json_t *doc, int results, size_t from, size_t n,
                                json_t **receipt)
{
    json_t *items = json_object_get(doc, results ? "results" : "events"), *slice = json_array(),
           *sub, *out = NULL;
    const char *err;

    for (size_t i = from; i < from + n; i++)
        json_array_append(slice, json_array_get(items, i));
    sub = results ? json_pack("{s:o, s:O*}", "results", slice, "head", json_object_get(doc, "head"))
                  : json_pack("{s:o}", "events", slice);
    err = sub != NULL ? center_ingest(api, sub, results, &out) : "internal";
    json_decref(sub);
    if (err != NULL) {
        json_decref(out);
        return err;
    }
    if (*receipt == NULL) {
        *receipt = out;
        return NULL;
    }
    merge_ids(*receipt, out, "stored");
    merge_ids(*receipt, out, "held");
    if (json_object_get(out, "head") != NULL)
        json_object_set(*receipt, "head", json_object_get(out, "head"));
    json_decref(out);
    return NULL;
}

/* Stores one part of the bundle, batch after batch; *receipt gets the
 * online receipt body the whole part would get, with the payloads' hashes. */
static int ingest_part(const struct cli_ctx *ctx, struct api *api, json_t *doc, int results,
                       json_t **receipt)
{
    json_t *items = json_object_get(doc, results ? "results" : "events");
    size_t batch = import_batch(), total = json_array_size(items), from = 0;
    const char *err = NULL;

    if (items == NULL)
        return 0;
    if (!json_is_array(items) || total == 0)
        err = center_ingest(api, doc, results, receipt); /* as an upload would answer */
    for (; err == NULL && from < total; from += batch)
        err = ingest_batch(api, doc, results, from, total - from < batch ? total - from : batch,
                           receipt);
    if (err == NULL) {
        json_t *out = *receipt;

        printf(MSG_STORED, results ? "成绩" : "记录",
               json_array_size(json_object_get(out, "stored")), api->room.room);
        if (json_array_size(json_object_get(out, "held")) > 0)
            printf(MSG_HELD, json_array_size(json_object_get(out, "held")));
        json_object_set_new(out, "hashes", payload_hashes(items));
        return 0;
    }
    json_decref(*receipt);
    *receipt = NULL;
    return cli_fail_detail(ctx, ER_BUNDLE_REFUSED, MSG_REFUSED, results ? "成绩" : "记录", err,
                           strcmp(err, "conflict") == 0    ? "与已收到的记录内容不同"
                           : strncmp(err, "chain", 5) == 0 ? "成绩记录链不连续或被截断"
                                                           : "内容无效");
}

/* The receipt file: what the center holds from the bundle (hash), for the
 * room key, plan and room, signed by the center key. Deterministic: keys
 * sorted, no time in it. */
static int write_receipt(struct api *api, const uint8_t hash[32], json_t *results, json_t *events,
                         const char *out)
{
    uint8_t id[32];
    char hash_hex[65], center_hex[65];
    json_t *doc;
    char *text;
    int rc;

    hex_encode(hash, 32, hash_hex);
    key_id(api->server->center, id);
    hex_encode(id, sizeof(id), center_hex);
    doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O?, s:O?}", "bundle", hash_hex, "center_key",
                    center_hex, "plan", api->room.plan, "room", api->room.room, "room_key",
                    api->room_hex, "results", results, "events", events);
    text = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    if (text == NULL)
        return ER_NOMEM;
    rc = receipt_write(out, api->server->center, text, strlen(text));
    free(text);
    return rc;
}

static int load_keys(struct cli_ctx *ctx, struct server *server)
{
    char path[CENTER_PATH_MAX];
    int rc = center_path(ctx, "center-bundle.pem", path);

    if (rc == 0)
        rc = key_load_private(KEY_X25519, path, &server->bundle);
    if (rc == 0)
        rc = center_path(ctx, "center-key.pem", path);
    if (rc == 0)
        rc = key_load_private(KEY_ED25519, path, &server->center);
    return rc;
}

int cmd_import(struct cli_ctx *ctx, int argc, char **argv)
{
    static const char *const options[] = {"--receipt", NULL};
    struct server server = {0};
    struct api api = {.server = &server, .source = "usb"};
    char receipt_path[CENTER_PATH_MAX];
    const char *receipt = NULL;
    json_t *doc = NULL, *results = NULL, *events = NULL;
    uint8_t *body = NULL, hash[32];
    size_t len = 0;
    int rc, bad = 0;

    if (argc < 2 || argv[1][0] == '-' || cli_check_options(argc, argv, 2, options) < 0)
        return cli_fail(ctx, ER_USAGE);
    receipt = cli_option(argc, argv, "--receipt", &bad);
    if (bad)
        return cli_fail(ctx, ER_USAGE);
    if (receipt == NULL) {
        if (snprintf(receipt_path, sizeof(receipt_path), "%s.receipt", argv[1]) >=
            (int)sizeof(receipt_path))
            return cli_fail(ctx, ER_USAGE);
        receipt = receipt_path;
    }
    rc = center_now_override(&api.now);
    if (rc == 0)
        rc = load_keys(ctx, &server);
    if (rc == 0)
        rc = center_db_open(ctx->data_dir, &server.db);
    if (rc == 0) {
        rc = find_room(&api, argv[1]);
        if (rc == ER_ROOM_NOT_REGISTERED) {
            /* Its own sentence: ER_ROOM_NOT_REGISTERED's speaks of packages. */
            fprintf(stderr, "%s: " MSG_UNKNOWN_KEY "\n", ctx->program, argv[1]);
            rc = 1;
            goto out;
        }
    }
    if (rc == 0)
        rc = bundle_read(argv[1], api.room.sign, server.bundle, &body, &len, hash);
    if (rc == 0 && api.room.retired_at != 0) {
        char when[32];
        time_t t = (time_t)api.room.retired_at;
        struct tm tm;

        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
        /* Its own sentence: ER_BUNDLE_REFUSED's speaks of a conflict. */
        fprintf(stderr, "%s: " MSG_RETIRED "\n", ctx->program, argv[1], api.room.room, when);
        rc = 1;
        goto out;
    }
    if (rc == 0)
        doc = json_loadb((const char *)body, len, 0, NULL);
    /* json_is_object() is a macro that evaluates its argument twice. */
    if (rc == 0 && !json_is_object(doc))
        rc = ER_PKG_CORRUPT;
    if (rc == 0) {
        /* One transaction: a bundle is stored whole or not at all. Results
         * first: events may refer to them. */
        sqlite3_exec(server.db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        rc = ingest_part(ctx, &api, doc, 1, &results);
        if (rc == 0)
            rc = ingest_part(ctx, &api, doc, 0, &events);
        if (rc == 0 && sqlite3_exec(server.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            rc = cli_fail(ctx, ER_CENTER_DB);
        if (rc != 0)
            sqlite3_exec(server.db, "ROLLBACK", NULL, NULL, NULL);
        if (rc == 0 && write_receipt(&api, hash, results, events, receipt) < 0)
            rc = cli_fail_detail(ctx, ER_IO, MSG_NO_RECEIPT, argv[1], receipt);
        else if (rc == 0)
            printf(MSG_RECEIPT, receipt, receipt);
    } else {
        rc = cli_fail_detail(ctx, rc, MSG_CANNOT_IMPORT, argv[1]);
    }
out:
    json_decref(results);
    json_decref(events);
    json_decref(doc);
    free(body);
    key_free(api.room.sign);
    key_free(server.bundle);
    key_free(server.center);
    sqlite3_close(server.db);
    return rc;
}
