/* The test CA and the loopback server certificate that `examcenter init`
 * makes, so that the room talks to the reference center over real HTTPS with
 * a pinned CA. ECDSA P-256, SHA-256, PEM files (keys 0600). */
#include "center.h"

#include <fcntl.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <unistd.h>

static int write_pem(const char *path, EVP_PKEY *key, X509 *cert)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, key ? 0600 : 0644);
    FILE *f;
    int ok;

    if (fd < 0)
        return ER_IO;
    f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        return ER_IO;
    }
    ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) : PEM_write_X509(f, cert);
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    return fclose(f) == 0 && ok ? 0 : ER_IO;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return 0;
    ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* A certificate for key, named cn, issued by issuer (NULL: self-signed)
 * and signed with issuer_key, valid for ten years from yesterday. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key)
{
    X509 *cert = X509_new();
    X509_NAME *name = X509_NAME_new();
    uint8_t serial[16];
    BIGNUM *bn = NULL;
    int ok;

    ok = cert && name && RAND_bytes(serial, sizeof(serial)) == 1;
    serial[0] &= 0x7f; /* positive */
    ok =
        ok && (bn = BN_bin2bn(serial, sizeof(serial), NULL)) != NULL &&
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL && X509_set_version(cert, 2) &&
        X509_gmtime_adj(X509_getm_notBefore(cert), -86400) != NULL &&
        X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 86400) != NULL &&
        X509_set_pubkey(cert, key) &&
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                   (const unsigned char *)"examroom reference center", -1, -1, 0) &&
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                   0) &&
        X509_set_subject_name(cert, name) &&
        X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
    if (ok && issuer == NULL)
        ok = add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
             add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign") &&
             add_ext(cert, cert, NID_subject_key_identifier, "hash");
    if (ok && issuer != NULL)
        ok = add_ext(cert, issuer, NID_basic_constraints, "critical,CA:FALSE") &&
             add_ext(cert, issuer, NID_key_usage, "critical,digitalSignature") &&
             add_ext(cert, issuer, NID_ext_key_usage, "serverAuth") &&
             add_ext(cert, issuer, NID_subject_alt_name,
                     "DNS:localhost,IP:127.0.0.1,IP:0:0:0:0:0:0:0:1");
    ok = ok && X509_sign(cert, issuer_key, EVP_sha256()) > 0;
    BN_free(bn);
    X509_NAME_free(name);
    if (!ok) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

int tls_make_ca_and_server(const char *ca_key_path, const char *ca_path,
                           const char *server_key_path, const char *server_path)
{
    EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *server_key = EVP_EC_gen("P-256");
    X509 *ca = NULL, *server = NULL;
    int rc = ER_CRYPTO;

    if (ca_key == NULL || server_key == NULL)
        goto out;
    {
        /* Each center's CA gets its own name: a room pinned to another
         * center's CA must fail as "unknown issuer", not find a namesake and
         * fail inside the signature check. */
        uint8_t tag[4];
        char cn[64], hex[9];

        if (RAND_bytes(tag, sizeof(tag)) != 1)
            goto out;
        hex_encode(tag, sizeof(tag), hex);
        snprintf(cn, sizeof(cn), "examroom reference center test CA %s", hex);
        ca = make_cert(ca_key, cn, NULL, ca_key);
    }
    if (ca == NULL)
        goto out;
    server = make_cert(server_key, "localhost", ca, ca_key);
    if (server == NULL)
        goto out;
    rc = write_pem(ca_key_path, ca_key, NULL);
    if (rc == 0)
        rc = write_pem(ca_path, NULL, ca);
    if (rc == 0)
        rc = write_pem(server_key_path, server_key, NULL);
    if (rc == 0)
        rc = write_pem(server_path, NULL, server);
out:
    X509_free(ca);
    X509_free(server);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(server_key);
    return rc;
}
