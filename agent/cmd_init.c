/* examroom init --center URL --center-key KEY [--center-ca FILE] [--name NAME]
 *               [--proctor-password-file F]
 * Creates the room's store and key pairs, pins the center's key (and CA), and
 * sets the proctor password. Refuses to run twice: the room's keys are its
 * identity at the center. */
#include "agent.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PASSWORD_MIN 8

static char *read_small_file(const char *path, size_t max)
{
    FILE *f = fopen(path, "r");
    char *buf;
    size_t n;

    if (f == NULL)
        return NULL;
    buf = malloc(max + 1);
    n = buf ? fread(buf, 1, max, f) : 0;
    fclose(f);
    if (buf == NULL || n == max) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* The proctor password: from a file (its first line), or a new one shown
 * once. Kept as scrypt in proctor-password (0600), never in the clear. */
static int set_password(struct room *r, const char *file)
{
    char password[128], canonical[128], path[ROOM_PATH_MAX], line[PASSWORD_LINE_MAX];
    uint8_t raw[CODE_BYTES(50)];
    int rc = 0;

    if (file != NULL) {
        char *text = read_small_file(file, sizeof(password));

        if (text == NULL)
            return ER_IO;
        text[strcspn(text, "\r\n")] = '\0';
        snprintf(password, sizeof(password), "%s", text);
        free(text);
        if (strlen(password) < PASSWORD_MIN)
            return ER_PASSWORD_SHORT;
    } else {
        /* 50 random bits as a typed code: easy to read out and type. */
        rc = code_random(50, raw);
        if (rc == 0)
            rc = code_encode(raw, 50, 5, password, sizeof(password));
    }
    /* Hashed as it will be checked: canonical (password_normalize). */
    if (rc == 0)
        rc = password_normalize(password, canonical, sizeof(canonical));
    if (rc == 0 && strlen(canonical) < PASSWORD_MIN)
        rc = ER_PASSWORD_SHORT;
    if (rc == 0)
        rc = password_hash(canonical, line, sizeof(line));
    OPENSSL_cleanse(canonical, sizeof(canonical));
    if (rc == 0)
        rc = room_path(r, "proctor-password", path);
    if (rc < 0)
        return rc;
    /* Whole and durable before the store says the room is initialised: a
     * power cut must not leave a room whose proctor cannot sign in. */
    if (strlen(line) + 1 >= sizeof(line))
        return ER_INTERNAL;
    strcat(line, "\n");
    rc = fs_write_atomic(path, line, strlen(line), 0600);
    if (rc < 0)
        return rc;
    if (file == NULL)
        printf("监考密码（只显示这一次，请抄下并妥善保管）: %s\n", password);
    return 0;
}

static int make_keys(struct room *r)
{
    char path[ROOM_PATH_MAX];
    int rc = key_generate(KEY_ED25519, &r->sign);

    if (rc == 0)
        rc = key_generate(KEY_X25519, &r->wrap);
    if (rc == 0)
        rc = room_path(r, "room-sign.pem", path);
    if (rc == 0)
        rc = key_save_private(r->sign, path);
    if (rc == 0)
        rc = room_path(r, "room-wrap.pem", path);
    if (rc == 0)
        rc = key_save_private(r->wrap, path);
    return rc;
}

int cmd_init(struct cli_ctx *ctx, int argc, char **argv)
{
    static const char *const names[] = {
        "--center", "--center-key", "--center-ca", "--name", "--proctor-password-file", NULL};
    int bad = 0, rc;
    const char *url = cli_option(argc, argv, "--center", &bad);
    const char *center_key = cli_option(argc, argv, "--center-key", &bad);
    const char *ca_file = cli_option(argc, argv, "--center-ca", &bad);
    const char *name = cli_option(argc, argv, "--name", &bad);
    const char *pw_file = cli_option(argc, argv, "--proctor-password-file", &bad);
    char fp[KEY_FINGERPRINT_SIZE], cfp[KEY_FINGERPRINT_SIZE];
    uint8_t center_raw[KEY_RAW_LEN], room_raw[KEY_RAW_LEN];
    struct room_wait w = {0};
    struct room r;
    char *ca = NULL;

    if (bad || url == NULL || center_key == NULL || cli_check_options(argc, argv, 1, names) < 0)
        return cli_fail(ctx, ER_USAGE);
    if (strncmp(url, "https://", 8) != 0 || strlen(url) >= sizeof(r.center_url))
        return cli_fail_detail(ctx, ER_USAGE, "中心地址必须以 https:// 开头：%s", url);
    rc = room_open(ctx, &r, 0);
    if (rc == 0 && r.initialised)
        rc = ER_ROOM_ALREADY_INIT;
    if (rc == 0)
        rc = key_parse_public(KEY_ED25519, center_key, &r.center);
    if (rc == 0 && ca_file != NULL) {
        ca = read_small_file(ca_file, 1 << 20);
        if (ca == NULL || strstr(ca, "-----BEGIN CERTIFICATE-----") == NULL)
            rc = ER_CA_FILE;
    }
    if (rc == 0)
        rc = make_keys(&r);
    if (rc == 0)
        rc = set_password(&r, pw_file);
    if (rc == 0) {
        const struct store_room room = {
            .name = name,
            .center_url = url,
            .center_key = center_raw,
            .center_key_len = KEY_RAW_LEN,
            .center_ca = ca,
            .room_pubkey = room_raw,
            .room_pubkey_len = KEY_RAW_LEN,
        };

        key_public_raw(r.center, center_raw);
        key_public_raw(r.sign, room_raw);
        rc = room_write_wait(&r, store_set_room(r.st, &room, room_done, &w), &w);
    }
    if (rc == 0) {
        key_fingerprint(r.sign, fp);
        key_fingerprint(r.center, cfp);
        printf("考场已初始化（数据目录 %s）。\n", ctx->data_dir);
        printf("本考场密钥指纹: %s\n", fp);
        printf("考试中心公钥指纹: %s（请与考试中心核对）\n", cfp);
    }
    free(ca);
    room_close(&r);
    if (rc < 0)
        return cli_fail(ctx, rc);
    return 0;
}
