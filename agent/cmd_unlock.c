/* examroom unlock SESSION CODE: opens a session's paper with its unlock code
 * (开考密码), the offline path. The code is checked as typed first, then
 * against the package's commitment (a wrong code is named as such); the
 * session key is kept sealed under the room's key, so a restart of the agent
 * needs no code again. The paper itself is never written to disk. The
 * console's POST /admin/v1/sessions/{id}/unlock (proctor.c) makes the same
 * checks and says the same words: unlock_check() and unlock_words(). */
#include "agent.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

/* What the proctor reads (zh-CN), from the CLI and the console alike. */
#define MSG_UNLOCKED "场次 %s 已解锁。试卷只在开考后下发给已签到的考生，不会写入磁盘。"
#define MSG_TYPO     "场次 %s 的开考密码输入有误。"
#define MSG_FAILED   "场次 %s 未能解锁。"

static void take_registration(const struct store_registration *reg, void *arg)
{
    snprintf(((struct unlock_target *)arg)->plan, PKG_MAX_NAME + 1, "%s", reg->plan_id);
}

static void take_package(const struct store_package *pkg, void *arg)
{
    struct unlock_target *t = arg;

    t->version = pkg->version;
    snprintf(t->path, sizeof(t->path), "%s", pkg->path);
}

static void take_session(const struct store_session *s, void *arg)
{
    struct unlock_target *t = arg;

    t->session_found = 1;
    t->state = s->state;
}

int unlock_check(struct store *st, const char *session, const char *typed,
                 uint8_t code[CODE_BYTES(CODE_UNLOCK_BITS)], struct unlock_target *t)
{
    /* A mistyped code is reported as a typo before the package is touched. */
    int rc = code_decode(typed, CODE_UNLOCK_BITS, code);

    *t = (struct unlock_target){0};
    if (rc < 0)
        return rc;
    store_foreach_registration(st, take_registration, t);
    if (t->plan[0] == '\0')
        return ER_NOT_REGISTERED;
    if (store_latest_package(st, t->plan, take_package, t) < 0)
        return ER_SYNC_NO_PACKAGE;
    if (strlen(session) > PKG_MAX_NAME || store_get_session(st, session, take_session, t) < 0 ||
        !t->session_found)
        return ER_PKG_NO_SESSION;
    return 0;
}

void unlock_words(const char *session, int rc, char *out, size_t outsz)
{
    if (rc == 0)
        snprintf(out, outsz, MSG_UNLOCKED, session);
    else if (rc == ER_CODE_LENGTH || rc == ER_CODE_CHAR || rc == ER_CODE_TYPO)
        snprintf(out, outsz, MSG_TYPO, session);
    else
        snprintf(out, outsz, MSG_FAILED, session);
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
    char label[PKG_MAX_NAME + 64], words[PKG_MAX_NAME + 256];
    struct pkg_reader *rd = NULL;
    struct room_wait w = {0};
    struct unlock_target t = {0};
    struct room r;
    int rc;

    if (argc != 3)
        return cli_fail(ctx, ER_USAGE);
    /* The typo first, without the room: the same words with or without it. */
    rc = code_decode(argv[2], CODE_UNLOCK_BITS, code);
    if (rc == 0)
        rc = room_open(ctx, &r, 1);
    else
        r = (struct room){0};
    if (rc == 0)
        rc = unlock_check(r.st, argv[1], argv[2], code, &t);
    if (rc == 0)
        rc = room_open_package(&r, t.path, t.version, &rd);
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
                r.st, argv[1], t.state > STORE_SESSION_UNLOCKED ? t.state : STORE_SESSION_UNLOCKED,
                sealed, sizeof(sealed), room_done, &w),
            &w);
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(code, sizeof(code));
    if (rd != NULL)
        pkg_close(rd);
    room_close(&r); /* a zeroed room too */
    unlock_words(argv[1], rc, words, sizeof(words));
    if (rc < 0)
        return cli_fail_detail(ctx, rc, "%s", words);
    printf("%s\n", words);
    return 0;
}
