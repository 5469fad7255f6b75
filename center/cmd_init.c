/* examcenter init: the center's signing key, a test CA and a loopback server
 * certificate, and the database. Running it again changes nothing. */
#include "center.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int center_path(const struct cli_ctx *ctx, const char *name, char out[CENTER_PATH_MAX])
{
    if (snprintf(out, CENTER_PATH_MAX, "%s/%s", ctx->data_dir, name) >= CENTER_PATH_MAX)
        return ER_USAGE;
    return 0;
}

static int write_public(const struct key *k, const char *path)
{
    char b64[KEY_B64_LEN + 1];
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return ER_IO;
    key_public_b64(k, b64);
    fprintf(f, "%s\n", b64);
    return fclose(f) == 0 ? 0 : ER_IO;
}

int cmd_init(struct cli_ctx *ctx, int argc, char **argv)
{
    char key[CENTER_PATH_MAX], pub[CENTER_PATH_MAX], ca_key[CENTER_PATH_MAX], ca[CENTER_PATH_MAX],
        tls_key[CENTER_PATH_MAX], tls_cert[CENTER_PATH_MAX];
    char fp[KEY_FINGERPRINT_SIZE], bundle[CENTER_PATH_MAX];
    struct key *k = NULL, *b = NULL;
    sqlite3 *db = NULL;
    int rc;

    (void)argv;
    if (argc != 1)
        return cli_fail(ctx, ER_USAGE);
    if (center_path(ctx, "center-key.pem", key) || center_path(ctx, "center-key.pub", pub) ||
        center_path(ctx, "ca-key.pem", ca_key) || center_path(ctx, "ca.pem", ca) ||
        center_path(ctx, "server-key.pem", tls_key) || center_path(ctx, "server.pem", tls_cert) ||
        center_path(ctx, "center-bundle.pem", bundle))
        return cli_fail(ctx, ER_USAGE);
    rc = center_db_open(ctx->data_dir, &db);
    if (rc < 0)
        return cli_fail(ctx, rc);
    sqlite3_close(db);

    if (access(key, F_OK) == 0) {
        rc = key_load_private(KEY_ED25519, key, &k);
        if (rc < 0)
            return cli_fail_detail(ctx, rc, "无法读取已有的中心密钥 %s。", key);
        printf("考试中心已初始化，未做更改。\n");
    } else {
        rc = key_generate(KEY_ED25519, &k);
        if (rc == 0)
            rc = key_save_private(k, key);
        if (rc == 0)
            rc = write_public(k, pub);
        if (rc == 0)
            rc = tls_make_ca_and_server(ca_key, ca, tls_key, tls_cert);
        if (rc < 0) {
            key_free(k);
            return cli_fail(ctx, rc);
        }
        printf("考试中心已初始化。\n");
    }
    /* The X25519 key that rooms encrypt USB bundles to (a center made by an
     * earlier version gets it now). */
    if (access(bundle, F_OK) != 0) {
        rc = key_generate(KEY_X25519, &b);
        if (rc == 0)
            rc = key_save_private(b, bundle);
        key_free(b);
        if (rc < 0) {
            key_free(k);
            return cli_fail(ctx, rc);
        }
    }
    key_fingerprint(k, fp);
    key_free(k);
    printf("中心公钥（考场 init 时用 --center-key 指定）: %s\n", pub);
    printf("中心公钥指纹: %s\n", fp);
    printf("测试 CA 证书（考场 init 时用 --center-ca 指定）: %s\n", ca);
    printf("服务器证书和私钥（serve 时用 --tls-cert/--tls-key 指定）: %s %s\n", tls_cert, tls_key);
    return 0;
}
