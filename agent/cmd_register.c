/* examroom register SERIAL: registers the room with the center. */
#include "agent.h"

int cmd_register(struct cli_ctx *ctx, int argc, char **argv)
{
    uint8_t serial[CODE_BYTES(CODE_SERIAL_BITS)];
    int rc;

    if (argc != 2)
        return cli_fail(ctx, ER_USAGE);
    /* A mistyped serial is caught here, before any network call. */
    rc = code_decode(argv[1], CODE_SERIAL_BITS, serial);
    if (rc < 0)
        return cli_fail_detail(ctx, rc, "考场注册码“%s”无效。", argv[1]);
    return cli_fail_detail(ctx, ER_UNAVAILABLE, "注册码格式正确，但本版本尚不能向考试中心注册。");
}
