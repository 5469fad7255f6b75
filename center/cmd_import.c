/* examcenter import FILE: a room's USB bundle. The same records as an online
 * upload, stored the same way: importing a bundle twice, or after the room
 * uploaded them online, changes nothing. */
#include "center.h"

#include <stdio.h>
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

static int ingest_part(const struct cli_ctx *ctx, struct api *api, json_t *doc, int results)
{
    json_t *out = NULL;
    const char *err;

    if (json_object_get(doc, results ? "results" : "events") == NULL)
        return 0;
    err = center_ingest(api, doc, results, &out);
    if (err == NULL) {
        printf(MSG_STORED, results ? "成绩" : "记录",
               json_array_size(json_object_get(out, "stored")), api->room.room);
        if (json_array_size(json_object_get(out, "held")) > 0)
            printf(MSG_HELD, json_array_size(json_object_get(out, "held")));
        json_decref(out);
        return 0;
    }
    json_decref(out);
    return cli_fail_detail(ctx, ER_BUNDLE_REFUSED, MSG_REFUSED, results ? "成绩" : "记录", err,
                           strcmp(err, "conflict") == 0    ? "与已收到的记录内容不同"
                           : strncmp(err, "chain", 5) == 0 ? "成绩记录链不连续或被截断"
                                                           : "内容无效");
}

int cmd_import(struct cli_ctx *ctx, int argc, char **argv)
{
    struct server server = {0};
    struct api api = {.server = &server, .source = "usb"};
    char path[CENTER_PATH_MAX];
    uint8_t *body = NULL;
    size_t len = 0;
    json_t *doc = NULL;
    int rc;

    if (argc != 2)
        return cli_fail(ctx, ER_USAGE);
    rc = center_now_override(&api.now);
    if (rc == 0)
        rc = center_path(ctx, "center-bundle.pem", path);
    if (rc == 0)
        rc = key_load_private(KEY_X25519, path, &server.bundle);
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
        rc = bundle_read(argv[1], api.room.sign, server.bundle, &body, &len);
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
        rc = ingest_part(ctx, &api, doc, 1);
        if (rc == 0)
            rc = ingest_part(ctx, &api, doc, 0);
        sqlite3_exec(server.db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    } else {
        rc = cli_fail_detail(ctx, rc, MSG_CANNOT_IMPORT, argv[1]);
    }
out:
    json_decref(doc);
    free(body);
    key_free(api.room.sign);
    key_free(server.bundle);
    sqlite3_close(server.db);
    return rc;
}
