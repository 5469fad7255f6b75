/* examroom register SERIAL: registers the room with the center, once per
 * exam (plan). The serial is checked locally first: a typo never reaches
 * the network. */
#include "agent.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static char *request_body(const struct room *r, const char *serial)
{
    char sign[KEY_B64_LEN + 1], wrap[KEY_B64_LEN + 1];
    json_t *doc;
    char *text;

    key_public_b64(r->sign, sign);
    key_public_b64(r->wrap, wrap);
    doc = json_pack("{s:s, s:s, s:s, s:s}", "serial", serial, "sign_pub", sign, "wrap_pub", wrap,
                    "name", r->name);
    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

/* Keeps the center's answer as the registration (it is signed: evidence). */
static int keep(struct room *r, const struct sync_response *resp, json_t *doc)
{
    const char *plan = json_string_value(json_object_get(json_object_get(doc, "plan"), "id"));
    json_t *room = json_object_get(doc, "room");
    struct store_registration reg = {
        .plan_id = plan,
        .center_room = json_string_value(json_object_get(room, "id")),
        .site = json_string_value(json_object_get(room, "site_name")),
        .credential = resp->body,
        .credential_len = resp->len,
    };
    struct room_wait w = {0};
    int rc;

    if (reg.plan_id == NULL || reg.center_room == NULL ||
        !json_is_string(json_object_get(doc, "bundle_key")))
        return ER_SYNC_PROTOCOL;
    rc = room_write_wait(r, store_add_registration(r->st, &reg, room_done, &w), &w);
    /* Registered before for this plan: the center gave the same answer. */
    return rc == ER_STORE_CONFLICT ? 0 : rc;
}

int cmd_register(struct cli_ctx *ctx, int argc, char **argv)
{
    uint8_t serial[CODE_BYTES(CODE_SERIAL_BITS)];
    char shown[32], *body = NULL;
    struct sync_client *c = NULL;
    struct sync_response resp = {0};
    struct room r;
    json_t *doc = NULL, *s;
    size_t i;
    int rc;

    if (argc != 2)
        return cli_fail(ctx, ER_USAGE);
    /* A mistyped serial is caught here, before any network call. */
    rc = code_decode(argv[1], CODE_SERIAL_BITS, serial);
    if (rc < 0)
        return cli_fail_detail(ctx, rc, "考场注册码“%s”无效。", argv[1]);
    code_encode(serial, CODE_SERIAL_BITS, CODE_SERIAL_GROUP, shown, sizeof(shown));
    rc = room_open(ctx, &r, 1);
    if (rc == 0)
        rc = room_sync_new(&r, &c);
    if (rc == 0 && (body = request_body(&r, shown)) == NULL)
        rc = ER_NOMEM;
    if (rc == 0) {
        const struct sync_request req = {.method = "POST",
                                         .path = "/v1/register",
                                         .body = body,
                                         .body_len = strlen(body),
                                         .sign = 1,
                                         .answer = PROTO_CTX_REGISTER,
                                         .fd = -1};

        rc = room_call(&r, c, &req, &resp);
    }
    /* room_call() returned 0: the answer is signed with the key pinned at
     * init, for this request (sync_verify_answer()). */
    if (rc == 0 && (doc = json_loads((const char *)resp.body, 0, NULL)) == NULL)
        rc = ER_SYNC_PROTOCOL;
    if (rc == 0)
        rc = keep(&r, &resp, doc);
    if (rc == 0) {
        json_t *room = json_object_get(doc, "room");

        printf("注册成功：%s %s（%s），考试计划 %s。\n",
               json_string_value(json_object_get(room, "id")),
               json_string_value(json_object_get(room, "name")),
               json_string_value(json_object_get(room, "site_name")),
               json_string_value(json_object_get(json_object_get(doc, "plan"), "id")));
        json_array_foreach(json_object_get(doc, "sessions"), i, s)
            printf("  场次 %s：%s %s-%s\n", json_string_value(json_object_get(s, "id")),
                   json_string_value(json_object_get(s, "date")),
                   json_string_value(json_object_get(s, "start")),
                   json_string_value(json_object_get(s, "end")));
        printf("下一步：examroom fetch 下载试卷包。\n");
    }
    json_decref(doc);
    free(body);
    free(resp.body);
    if (c != NULL)
        room_sync_close(&r, c);
    room_close(&r);
    return rc < 0 ? cli_fail(ctx, rc) : 0;
}
