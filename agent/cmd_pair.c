/* examroom pair list [--json] | approve CODE [--seat N] | reject CODE | revoke SEAT [--reader]:
 * the proctor pairs the room's computers and the seats' ID card readers, through the running
 * daemon's local admin channel (loopback, and the token serve keeps in the data directory). */
#include "agent.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int list(const struct room *r, int as_json)
{
    static const char *const words[][2] = {
        {"pending", "待批准"}, {"approved", "已配对"}, {"revoked", "已撤销"}};
    long status = 0;
    json_t *doc = NULL, *t;
    size_t i;
    int rc = room_admin_call(r, "GET", "/admin/v1/terminals", NULL, &status, &doc);

    if (rc == 0 && status != 200)
        rc = ER_SYNC_PROTOCOL;
    if (rc == 0 && as_json) {
        /* [{pairing_code, state, seat, created_at}], as the daemon says */
        char *text = json_dumps(json_object_get(doc, "terminals"), JSON_INDENT(1));

        if (text != NULL)
            printf("%s\n", text);
        free(text);
    } else if (rc == 0) {
        printf("%-10s %-8s %-8s %s\n", "配对码", "设备", "状态", "座位");
        json_array_foreach(json_object_get(doc, "terminals"), i, t)
        {
            const char *state = json_string_value(json_object_get(t, "state"));
            int seat = (int)json_integer_value(json_object_get(t, "seat"));
            const char *device = json_string_value(json_object_get(t, "device"));

            for (size_t k = 0; k < 3; k++)
                if (state != NULL && strcmp(state, words[k][0]) == 0)
                    state = words[k][1];
            printf("%-10s %-8s %-8s %s%.0d\n",
                   json_string_value(json_object_get(t, "pairing_code")),
                   device != NULL && strcmp(device, "reader") == 0 ? "阅读器" : "考生机",
                   state ? state : "", seat > 0 ? "" : "-", seat);
        }
    }
    json_decref(doc);
    return rc;
}

int cmd_pair(struct cli_ctx *ctx, int argc, char **argv)
{
    static const char *const names[] = {"--seat", NULL};
    struct room r;
    long status = 0;
    json_t *doc = NULL;
    char path[128], body[64] = "{}", shown[16];
    int rc, bad = 0, reader;

    if (argc < 2)
        return cli_fail(ctx, ER_USAGE);
    if (strcmp(argv[1], "list") == 0 &&
        (argc == 2 || (argc == 3 && strcmp(argv[2], "--json") == 0))) {
        rc = room_open(ctx, &r, 1);
        if (rc == 0)
            rc = list(&r, argc == 3);
        room_close(&r);
        return rc < 0 ? cli_fail(ctx, rc) : 0;
    }
    if (strcmp(argv[1], "approve") == 0 && argc >= 3) {
        uint8_t raw[CODE_BYTES(PAIR_CODE_BITS)];
        const char *seat = cli_option(argc - 1, argv + 1, "--seat", &bad);

        if (bad || cli_check_options(argc - 1, argv + 1, 2, names) < 0)
            return cli_fail(ctx, ER_USAGE);
        /* The code as read from the terminal's screen: a typo stops here. */
        rc = code_decode(argv[2], PAIR_CODE_BITS, raw);
        if (rc < 0)
            return cli_fail_detail(ctx, rc, "配对码“%s”无效。", argv[2]);
        code_encode(raw, PAIR_CODE_BITS, 4, shown, sizeof(shown));
        snprintf(path, sizeof(path), "/admin/v1/terminals/%s/approve", shown);
        if (seat != NULL)
            snprintf(body, sizeof(body), "{\"seat\":%d}", atoi(seat));
    } else if (strcmp(argv[1], "reject") == 0 && argc == 3) {
        uint8_t raw[CODE_BYTES(PAIR_CODE_BITS)];

        rc = code_decode(argv[2], PAIR_CODE_BITS, raw);
        if (rc < 0)
            return cli_fail_detail(ctx, rc, "配对码“%s”无效。", argv[2]);
        code_encode(raw, PAIR_CODE_BITS, 4, shown, sizeof(shown));
        snprintf(path, sizeof(path), "/admin/v1/terminals/%s/reject", shown);
    } else if (strcmp(argv[1], "revoke") == 0 && atoi(argv[2] ? argv[2] : "") > 0 &&
               (argc == 3 || (argc == 4 && strcmp(argv[3], "--reader") == 0))) {
        snprintf(path, sizeof(path), "/admin/v1/seats/%d/revoke", atoi(argv[2]));
        if (argc == 4)
            snprintf(body, sizeof(body), "{\"device\":\"reader\"}");
    } else {
        return cli_fail(ctx, ER_USAGE);
    }
    rc = room_open(ctx, &r, 1);
    if (rc == 0)
        rc = room_admin_call(&r, "POST", path, body, &status, &doc);
    room_close(&r);
    reader = json_is_string(json_object_get(doc, "device")) &&
             strcmp(json_string_value(json_object_get(doc, "device")), "reader") == 0;
    if (rc == 0 && status == 200 && strcmp(argv[1], "reject") == 0)
        printf("已拒绝配对码 %s。该终端会显示配对未获批准，可重新申请配对码。\n", shown);
    else if (rc == 0 && status == 200)
        printf(strcmp(argv[1], "approve") == 0 ? "已批准配对码 %s，%s为 %lld 号座位。\n"
                                               : "已撤销%s%s %lld 号座位的%s。\n",
               strcmp(argv[1], "approve") == 0 ? shown : "",
               strcmp(argv[1], "approve") == 0 ? (reader ? "阅读器" : "终端") : "",
               (long long)json_integer_value(json_object_get(doc, "seat")),
               reader ? "阅读器" : "终端");
    return room_admin_outcome(ctx, rc, status, doc);
}
