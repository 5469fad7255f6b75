/* examroom unlock SESSION CODE: opens a session's paper with its unlock code
 * (开考密码), the offline path. The code is checked as typed first, then
 * against the package's commitment (a wrong code is named as such); the
 * session key is kept sealed under the room's key, so a restart of the agent
 * needs no code again. The paper itself is never written to disk. */
#include "agent.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

struct context {
    char plan[PKG_MAX_NAME + 1], path[ROOM_PATH_MAX];
    int64_t version;
    int session_found;
    enum store_session_state state;
};

static void take_registration(const struct store_registration *reg, void *arg)
{
    snprintf(((struct context *)arg)->plan, PKG_MAX_NAME + 1, "%s", reg->plan_id);
}

static void take_package(const struct store_package *pkg, void *arg)
{
    struct context *c = arg;

    c->version = pkg->version;
    snprintf(c->path, sizeof(c->path), "%s", pkg->path);
}

static void take_session(const struct store_session *s, void *arg)
{
    struct context *c = arg;

    c->session_found = 1;
    c->state = s->state;
}

/* The label the session key is sealed with: one per session. */
void room_session_label(const char *session, char *out, size_t outsz)
{
    snprintf(out, outsz, "examroom/v1/session-key/%s", session);
}

int cmd_unlock(struct cli_ctx *ctx, int argc, char **argv)
{
    uint8_t code[CODE_BYTES(CODE_UNLOCK_BITS)], key[PKG_SESSION_KEY];
    uint8_t sealed[KEY_SEALED_LEN(PKG_SESSION_KEY)];
    char label[PKG_MAX_NAME + 64];
    struct pkg_reader *rd = NULL;
    struct room_wait w = {0};
    struct context c = {0};
    struct room r;
    int rc;

    if (argc != 3)
        return cli_fail(ctx, ER_USAGE);
    /* A mistyped code is reported as a typo before the package is touched. */
    rc = code_decode(argv[2], CODE_UNLOCK_BITS, code);
    if (rc < 0)
        return cli_fail_detail(ctx, rc, "场次 %s 的开考密码输入有误。", argv[1]);
    rc = room_open(ctx, &r, 1);
    if (rc == 0) {
        store_foreach_registration(r.st, take_registration, &c);
        if (c.plan[0] == '\0')
            rc = ER_NOT_REGISTERED;
        else if (store_latest_package(r.st, c.plan, take_package, &c) < 0)
            rc = ER_SYNC_NO_PACKAGE;
    }
    if (rc == 0 && (store_get_session(r.st, argv[1], take_session, &c) < 0 || !c.session_found))
        rc = ER_PKG_NO_SESSION;
    if (rc == 0)
        rc = room_open_package(&r, c.path, c.version, &rd);
    if (rc == 0)
        rc = pkg_unlock(rd, argv[1], code, key); /* scrypt: a moment */
    if (rc == 0) {
        room_session_label(argv[1], label, sizeof(label));
        rc = key_seal_secret(r.wrap, label, key, sizeof(key), sealed);
    }
    if (rc == 0)
        rc = room_write_wait(
            &r,
            store_set_session_state(
                r.st, argv[1], c.state > STORE_SESSION_UNLOCKED ? c.state : STORE_SESSION_UNLOCKED,
                sealed, sizeof(sealed), room_done, &w),
            &w);
    OPENSSL_cleanse(key, sizeof(key));
    if (rd != NULL)
        pkg_close(rd);
    room_close(&r);
    if (rc < 0)
        return cli_fail_detail(ctx, rc, "场次 %s 未能解锁。", argv[1]);
    printf("场次 %s 已解锁。试卷只在开考后下发给已签到的考生，不会写入磁盘。\n", argv[1]);
    return 0;
}
