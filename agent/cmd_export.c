/* examroom export FILE: what the room has not yet had acknowledged, on a
 * USB stick for the center (docs/protocol.md "USB bundles"). The same
 * records the uploads carry (sync_engine_export builds them), encrypted to
 * the center's bundle key from the signed register answer and signed by the
 * room, written atomically. Reads the store only: it runs beside serve, with
 * no network, and marks nothing; the center's receipt, taken back with
 * examroom import-receipt, does. */
#include "agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MSG_WRITTEN                                                                                           \
    "已导出到 %s：成绩 %lld 条，记录 %lld 条（尚未标记为已上传）。\n"                  \
    "请安全弹出U盘，交考试中心执行 examcenter import %s；再把生成的回执文件带回，" \
    "执行 examroom import-receipt 回执文件。\n"
#define MSG_NOTHING "没有需要导出的成绩和记录：全部已由考试中心确认。未写入文件 %s。\n"
#define MSG_NO_BUNDLE                                                                              \
    "本考场的注册信息中没有考试中心的U盘加密公钥。请联网后重新执行 examroom register。"
#define MSG_CANNOT "无法写入U盘文件 %s：请检查U盘已插好、没有写保护、空间足够，然后重新导出。"

static void take_registration(const struct store_registration *reg, void *arg)
{
    struct room_usb *u = arg;
    json_t *doc = json_loadb((const char *)reg->credential, reg->credential_len, 0, NULL);
    const char *b64 = json_string_value(json_object_get(doc, "bundle_key"));

    snprintf(u->plan, sizeof(u->plan), "%s", reg->plan_id);
    snprintf(u->room, sizeof(u->room), "%s", reg->center_room);
    key_free(u->bundle);
    u->bundle = NULL;
    if (b64 != NULL)
        key_parse_public(KEY_X25519, b64, &u->bundle);
    json_decref(doc);
}

int room_usb_open(const struct cli_ctx *ctx, struct room_usb *u)
{
    int rc;

    memset(u, 0, sizeof(*u));
    rc = room_open(ctx, &u->r, 1);
    /* The registration the uploads use (cmd_sync.c: the last one). */
    if (rc == 0 && store_foreach_registration(u->r.st, take_registration, u) >= 0 &&
        u->plan[0] == '\0')
        rc = ER_NOT_REGISTERED;
    if (rc == 0) {
        const struct sync_engine_config cfg = {.store = u->r.st,
                                               .room = u->r.sign,
                                               .center = u->r.center,
                                               .plan = u->plan,
                                               .room_id = u->room};

        rc = sync_engine_new(&cfg, &u->engine);
    }
    return rc;
}

void room_usb_close(struct room_usb *u)
{
    sync_engine_free(u->engine);
    key_free(u->bundle);
    room_close(&u->r);
}

int cmd_export(struct cli_ctx *ctx, int argc, char **argv)
{
    struct room_usb u;
    int64_t results = 0, events = 0;
    char *body = NULL;
    int rc;

    if (argc != 2 || argv[1][0] == '-')
        return cli_fail(ctx, ER_USAGE);
    rc = room_usb_open(ctx, &u);
    if (rc == 0 && u.bundle == NULL) {
        room_usb_close(&u);
        return cli_fail_detail(ctx, ER_NOT_REGISTERED, MSG_NO_BUNDLE);
    }
    if (rc == 0)
        rc = sync_engine_export(u.engine, &body, &results, &events);
    if (rc == 0 && results + events == 0) {
        printf(MSG_NOTHING, argv[1]);
    } else if (rc == 0) {
        rc = bundle_write(argv[1], u.r.sign, u.bundle, u.plan, u.room, (int64_t)time(NULL), body,
                          strlen(body));
        if (rc < 0) {
            free(body);
            room_usb_close(&u);
            return cli_fail_detail(ctx, rc, MSG_CANNOT, argv[1]);
        }
        printf(MSG_WRITTEN, argv[1], (long long)results, (long long)events, argv[1]);
    }
    free(body);
    room_usb_close(&u);
    return rc < 0 ? cli_fail(ctx, rc) : 0;
}
