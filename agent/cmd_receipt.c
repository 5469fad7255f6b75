/* examroom import-receipt FILE: the center's receipt for a USB bundle, taken
 * back to the room. Checked like an online receipt (the pinned center key's
 * signature, this room's key, plan and chain), it marks the records it names
 * as acknowledged through the store's one ack path (store_ack_outbox), so
 * the backlog clears and no upload sends them again: the daemon's engine
 * reads the outbox from the store at every pass. Taken twice, the second
 * time changes nothing and says so. */
#include "agent.h"

#include <stdio.h>
#include <stdlib.h>

#define MSG_ACKED                                                                                  \
    "回执已导入：%lld 条成绩和记录已由考试中心确认（此前已确认 %lld 条）。待上传: %lld 条\n"
#define MSG_SAME                                                                                   \
    "该回执中的 %lld 条记录此前都已确认，本次没有任何更改（回执已导入过）。待上传: %lld 条\n"
#define MSG_UNKNOWN "回执中另有 %lld 条记录不在本机的待上传记录中，已忽略。\n"
#define MSG_CANNOT  "无法导入回执文件 %s。"

int cmd_import_receipt(struct cli_ctx *ctx, int argc, char **argv)
{
    struct sync_receipt_match m = {0};
    struct room_wait w = {0};
    struct room_usb u;
    uint8_t *file = NULL;
    size_t body_len = 0, file_len = 0;
    char *body = NULL;
    int64_t pending = 0;
    int rc;

    if (argc != 2 || argv[1][0] == '-')
        return cli_fail(ctx, ER_USAGE);
    rc = room_usb_open(ctx, &u);
    if (rc < 0) {
        room_usb_close(&u);
        return cli_fail(ctx, rc);
    }
    rc = receipt_read(argv[1], u.r.center, &body, &body_len, &file, &file_len);
    if (rc == 0)
        rc = sync_engine_match_receipt(u.engine, body, body_len, &m);
    /* Nothing new: no write at all, so the second time changes nothing. */
    if (rc == 0 && m.acked > 0)
        rc = room_write_wait(&u.r,
                             store_ack_outbox(u.r.st, file, file_len,
                                              (const uint8_t(*)[STORE_UID_LEN])m.uids,
                                              (size_t)m.acked, room_done, &w),
                             &w);
    if (rc == 0)
        rc = store_count_outbox(u.r.st, &pending);
    if (rc == 0) {
        if (m.acked > 0)
            printf(MSG_ACKED, (long long)w.ack.count, (long long)m.already, (long long)pending);
        else
            printf(MSG_SAME, (long long)m.already, (long long)pending);
        if (m.unknown > 0)
            printf(MSG_UNKNOWN, (long long)m.unknown);
    }
    free(m.uids);
    free(body);
    free(file);
    room_usb_close(&u);
    return rc < 0 ? cli_fail_detail(ctx, rc, MSG_CANNOT, argv[1]) : 0;
}
