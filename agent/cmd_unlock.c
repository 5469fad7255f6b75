/* examroom unlock SESSION CODE: opens a session's paper with its unlock code. */
#include "agent.h"

int cmd_unlock(struct cli_ctx *ctx, int argc, char **argv)
{
    uint8_t code[CODE_BYTES(CODE_UNLOCK_BITS)];
    int rc;

    if (argc != 3)
        return cli_fail(ctx, ER_USAGE);
    /* A mistyped code is reported as a typo before the package is touched. */
    rc = code_decode(argv[2], CODE_UNLOCK_BITS, code);
    if (rc < 0)
        return cli_fail_detail(ctx, rc, "场次 %s 的开考密码输入有误。", argv[1]);
    return cli_fail_detail(ctx, ER_UNAVAILABLE, "开考密码格式正确，但本版本尚不能解锁试卷。");
}
