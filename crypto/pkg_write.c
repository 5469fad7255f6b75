/* The package writer (the center's side): sections in, package out.
 *
 * Chunks are encrypted as they arrive and written to a temporary body file;
 * each section keeps one 32-byte link per chunk. A section's hash chain runs
 * backwards (each link covers the next), so it is completed when the section
 * ends, and pkg_writer_finish() then writes header, signature and body, with
 * the links in place, to the package file. */
#include "internal.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct wsection {
    uint8_t *links; /* one per chunk: SHA-256 of the chunk, then the chain link */
    uint64_t n_links;
};

struct pkg_writer {
    char *path, *body_path;
    int body_fd;
    struct pkg_header h;
    uint8_t secret[32];
    uint8_t (*session_secret)[32];
    struct wsection *ws;
    int open; /* index of the section being written, or -1 */
    EVP_CIPHER_CTX *gcm;
    uint8_t *plain, *cipher;
    size_t fill;
    int failed;                   /* sticky: the first error, returned by every later call */
    const struct key *center_key; /* borrowed from the params */
};

static int write_all(int fd, const void *data, size_t n)
{
    const uint8_t *p = data;

    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0)
            return ER_IO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Random bytes, or with a test seed, HKDF(seed, label) so that the vectors of
 * docs/package-format.md can be reproduced. */
static int fill_random(const struct pkg_writer_params *p, const char *label, unsigned index,
                       uint8_t *out, size_t n)
{
    uint8_t info[64];
    int len;

    if (p->test_seed == NULL)
        return RAND_bytes(out, (int)n) == 1 ? 0 : ER_RANDOM;
    len = snprintf((char *)info, sizeof(info), "examroom/test-seed/%s/%u", label, index);
    return kdf_hkdf(NULL, 0, p->test_seed, 32, info, (size_t)len, out, n);
}

static int name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > PKG_MAX_NAME)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* The package secret wrapped to the room: ephemeral X25519, HKDF, GCM. */
static int wrap_secret(struct pkg_writer *w, const struct pkg_writer_params *p)
{
    uint8_t eph_raw[32], shared[32], room_pub[32], wrap_key[32];
    struct key *eph = NULL;
    int rc;

    rc = fill_random(p, "ephemeral", 0, eph_raw, sizeof(eph_raw));
    if (rc == 0)
        rc = key_from_raw_private(KEY_X25519, eph_raw, &eph);
    if (rc < 0)
        goto out;
    key_public_raw(eph, w->h.eph_pub);
    key_public_raw(p->room_key, room_pub);
    rc = pkg_x25519(eph, room_pub, shared);
    if (rc == 0)
        rc = pkg_wrap_key(shared, w->h.eph_pub, room_pub, wrap_key);
    if (rc == 0)
        rc = pkg_seal_secret(wrap_key, w->secret, w->h.wrapped);
out:
    key_free(eph);
    OPENSSL_cleanse(eph_raw, sizeof(eph_raw));
    OPENSSL_cleanse(shared, sizeof(shared));
    OPENSSL_cleanse(wrap_key, sizeof(wrap_key));
    return rc;
}

static int setup_sessions(struct pkg_writer *w, const struct pkg_writer_params *p)
{
    size_t n = p->n_sessions;
    int rc = 0;

    w->h.sessions = calloc(n ? n : 1, sizeof(*w->h.sessions));
    w->h.session_keys = calloc(n ? n : 1, sizeof(*w->h.session_keys));
    w->session_secret = calloc(n ? n : 1, sizeof(*w->session_secret));
    if (!w->h.sessions || !w->h.session_keys || !w->session_secret)
        return ER_NOMEM;
    w->h.info.sessions = w->h.sessions;
    w->h.info.n_sessions = n;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct pkg_session_spec *s = &p->sessions[i];
        uint8_t code_key[32];

        if (!name_ok(s->id))
            return ER_USAGE;
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->id, p->sessions[j].id) == 0)
                return ER_USAGE;
        strcpy(w->h.sessions[i].id, s->id);
        w->h.sessions[i].starts_at = s->starts_at;
        w->h.sessions[i].ends_at = s->ends_at;
        rc = fill_random(p, "salt", (unsigned)i, w->h.session_keys[i].salt, PKG_SALT_LEN);
        if (rc == 0)
            rc = pkg_code_key(&w->h, (unsigned)i, s->unlock_code, code_key);
        if (rc == 0)
            rc = pkg_session_key(w->secret, code_key, s->id, w->session_secret[i]);
        if (rc == 0)
            rc = pkg_commit(w->session_secret[i], w->h.session_keys[i].commit);
        OPENSSL_cleanse(code_key, sizeof(code_key));
    }
    return rc;
}

static int params_ok(const struct pkg_writer_params *p)
{
    return p->plan_id != NULL && name_ok(p->plan_id) && p->room_id != NULL && name_ok(p->room_id) &&
           p->center_key != NULL && key_get_type(p->center_key) == KEY_ED25519 &&
           key_has_private(p->center_key) && p->room_key != NULL &&
           key_get_type(p->room_key) == KEY_X25519 && p->n_sessions <= PKG_MAX_SESSIONS &&
           (p->n_sessions == 0 || p->sessions != NULL);
}

int pkg_writer_new(const struct pkg_writer_params *p, const char *path, struct pkg_writer **out)
{
    struct pkg_writer *w;
    int rc;

    if (!params_ok(p))
        return ER_USAGE;
    w = calloc(1, sizeof(*w));
    if (w == NULL)
        return ER_NOMEM;
    w->body_fd = -1;
    w->open = -1;
    w->path = strdup(path);
    w->body_path = malloc(strlen(path) + sizeof(".body"));
    w->gcm = EVP_CIPHER_CTX_new();
    w->plain = malloc(PKG_CHUNK);
    w->cipher = malloc(PKG_CHUNK + PKG_TAG_LEN);
    w->h.sections = calloc(PKG_MAX_SECTIONS, sizeof(*w->h.sections));
    w->h.layout = calloc(PKG_MAX_SECTIONS, sizeof(*w->h.layout));
    w->ws = calloc(PKG_MAX_SECTIONS, sizeof(*w->ws));
    rc = ER_NOMEM;
    if (!w->path || !w->body_path || !w->gcm || !w->plain || !w->cipher || !w->h.sections ||
        !w->h.layout || !w->ws)
        goto fail;
    w->h.info.sections = w->h.sections;
    strcpy(w->h.info.plan_id, p->plan_id);
    strcpy(w->h.info.room_id, p->room_id);
    w->h.info.version = p->version;
    w->h.info.created_at = p->created_at;
    w->h.info.expires_at = p->expires_at;
    w->h.log2_n = (uint8_t)(p->scrypt_log2_n ? p->scrypt_log2_n : PKG_DEFAULT_LOG2_N);
    w->h.scrypt_r = p->scrypt_r ? p->scrypt_r : 8;
    w->h.scrypt_p = p->scrypt_p ? p->scrypt_p : 1;
    w->h.chunk_size = PKG_CHUNK;
    w->center_key = p->center_key;
    key_id(p->center_key, w->h.center_key_id);
    key_id(p->room_key, w->h.room_key_id);

    rc = fill_random(p, "secret", 0, w->secret, sizeof(w->secret));
    if (rc == 0)
        rc = wrap_secret(w, p);
    if (rc == 0)
        rc = setup_sessions(w, p);
    if (rc < 0)
        goto fail;
    sprintf(w->body_path, "%s.body", path);
    unlink(w->body_path);
    w->body_fd = open(w->body_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (w->body_fd < 0) {
        rc = ER_IO;
        goto fail;
    }
    *out = w;
    return 0;
fail:
    pkg_writer_free(w);
    return rc;
}

/* Encrypts the buffered plaintext as the section's next chunk. */
static int emit_chunk(struct pkg_writer *w, int last)
{
    struct wsection *ws = &w->ws[w->open];
    uint8_t iv[12];
    int n, m;
    size_t len = w->fill + PKG_TAG_LEN;
    uint8_t *links;

    links = realloc(ws->links, (size_t)(ws->n_links + 1) * PKG_LINK_LEN);
    if (links == NULL)
        return ER_NOMEM;
    ws->links = links;
    pkg_nonce(ws->n_links, last, iv);
    if (EVP_EncryptInit_ex(w->gcm, NULL, NULL, NULL, iv) != 1 ||
        EVP_EncryptUpdate(w->gcm, w->cipher, &n, w->plain, (int)w->fill) != 1 ||
        EVP_EncryptFinal_ex(w->gcm, w->cipher + n, &m) != 1 ||
        EVP_CIPHER_CTX_ctrl(w->gcm, EVP_CTRL_GCM_GET_TAG, PKG_TAG_LEN, w->cipher + w->fill) != 1)
        return ER_CRYPTO;
    /* The slot holds SHA-256(chunk) until pkg_writer_end() chains them. */
    EVP_Digest(w->cipher, len, ws->links + ws->n_links * PKG_LINK_LEN, NULL, EVP_sha256(), NULL);
    ws->n_links++;
    w->h.sections[w->open].size += w->fill;
    w->fill = 0;
    return write_all(w->body_fd, w->cipher, len);
}

int pkg_writer_begin(struct pkg_writer *w, const char *name, const char *session_id)
{
    size_t i = w->h.info.n_sections;
    uint8_t key[32];
    const uint8_t *root = w->secret;
    int session = -1, rc;

    if (w->failed)
        return w->failed;
    if (w->open >= 0 || i == PKG_MAX_SECTIONS || !name_ok(name))
        return ER_USAGE;
    for (size_t j = 0; j < i; j++)
        if (strcmp(w->h.sections[j].name, name) == 0)
            return ER_USAGE;
    if (session_id != NULL) {
        for (size_t s = 0; s < w->h.info.n_sessions; s++)
            if (strcmp(w->h.sessions[s].id, session_id) == 0)
                session = (int)s;
        if (session < 0)
            return ER_PKG_NO_SESSION;
        root = w->session_secret[session];
    }
    rc = pkg_section_key(root, (unsigned)i, name, key);
    if (rc == 0 && EVP_EncryptInit_ex(w->gcm, EVP_aes_256_gcm(), NULL, key, NULL) != 1)
        rc = ER_CRYPTO;
    OPENSSL_cleanse(key, sizeof(key));
    if (rc < 0)
        return w->failed = rc;
    strcpy(w->h.sections[i].name, name);
    w->h.sections[i].session = session;
    w->h.sections[i].size = 0;
    w->h.info.n_sections = i + 1;
    w->open = (int)i;
    w->fill = 0;
    return 0;
}

int pkg_writer_write(struct pkg_writer *w, const void *data, size_t n)
{
    const uint8_t *p = data;

    if (w->failed)
        return w->failed;
    if (w->open < 0)
        return ER_USAGE;
    while (n > 0) {
        size_t take;

        /* A full buffer is emitted only once more data arrives: until then
         * it may be the section's final chunk. */
        if (w->fill == PKG_CHUNK) {
            int rc = emit_chunk(w, 0);

            if (rc < 0)
                return w->failed = rc;
        }
        take = PKG_CHUNK - w->fill < n ? PKG_CHUNK - w->fill : n;
        memcpy(w->plain + w->fill, p, take);
        w->fill += take;
        p += take;
        n -= take;
    }
    return 0;
}

int pkg_writer_end(struct pkg_writer *w)
{
    struct wsection *ws;
    struct pkg_section_layout *l;
    uint8_t next[PKG_LINK_LEN] = {0};
    int rc;

    if (w->failed)
        return w->failed;
    if (w->open < 0)
        return ER_USAGE;
    rc = emit_chunk(w, 1);
    if (rc < 0)
        return w->failed = rc;
    ws = &w->ws[w->open];
    l = &w->h.layout[w->open];
    /* H_i = SHA-256(SHA-256(C_i) || H_{i+1}), H_n = 32 zero bytes. */
    for (uint64_t i = ws->n_links; i-- > 0;) {
        uint8_t both[64], *slot = ws->links + i * PKG_LINK_LEN;

        memcpy(both, slot, 32);
        memcpy(both + 32, next, 32);
        EVP_Digest(both, sizeof(both), slot, NULL, EVP_sha256(), NULL);
        memcpy(next, slot, 32);
    }
    memcpy(l->head, ws->links, PKG_LINK_LEN);
    l->chunks = ws->n_links;
    l->stored = pkg_stored_len(w->h.sections[w->open].size);
    w->open = -1;
    return 0;
}

/* Header, signature, then each section's chunks from the body file with the
 * link to the next chunk after each. */
static int write_package(struct pkg_writer *w, int fd, const uint8_t *hdr, size_t hdr_len)
{
    uint8_t prefix[PKG_PREFIX_LEN], sig[KEY_SIG_LEN], *msg;
    size_t ctx_len = sizeof(PKG_SIG_CONTEXT) - 1;
    uint64_t in_off = 0;
    int rc;

    memcpy(prefix, pkg_magic, PKG_MAGIC_LEN);
    for (int i = 0; i < 4; i++)
        prefix[8 + i] = (uint8_t)(hdr_len >> (8 * (3 - i)));
    msg = malloc(ctx_len + PKG_PREFIX_LEN + hdr_len);
    if (msg == NULL)
        return ER_NOMEM;
    memcpy(msg, PKG_SIG_CONTEXT, ctx_len);
    memcpy(msg + ctx_len, prefix, PKG_PREFIX_LEN);
    memcpy(msg + ctx_len + PKG_PREFIX_LEN, hdr, hdr_len);
    rc = key_sign(w->center_key, msg, ctx_len + PKG_PREFIX_LEN + hdr_len, sig);
    free(msg);
    if (rc == 0)
        rc = write_all(fd, prefix, sizeof(prefix));
    if (rc == 0)
        rc = write_all(fd, hdr, hdr_len);
    if (rc == 0)
        rc = write_all(fd, sig, sizeof(sig));
    for (size_t s = 0; s < w->h.info.n_sections && rc == 0; s++) {
        uint64_t size = w->h.sections[s].size, n = w->ws[s].n_links;

        for (uint64_t i = 0; i < n && rc == 0; i++) {
            size_t plain = i + 1 < n ? PKG_CHUNK : (size_t)(size - (n - 1) * PKG_CHUNK);
            size_t len = plain + PKG_TAG_LEN;

            if (pread(w->body_fd, w->cipher, len, (off_t)in_off) != (ssize_t)len)
                rc = ER_IO;
            in_off += len;
            if (rc == 0)
                rc = write_all(fd, w->cipher, len);
            if (rc == 0 && i + 1 < n)
                rc = write_all(fd, w->ws[s].links + (i + 1) * PKG_LINK_LEN, PKG_LINK_LEN);
        }
    }
    return rc;
}

int pkg_writer_finish(struct pkg_writer *w)
{
    uint8_t *hdr = NULL;
    size_t hdr_len;
    char *tmp;
    int fd, rc;

    if (w->failed)
        return w->failed;
    if (w->open >= 0)
        return ER_USAGE;
    w->h.body_len = 0;
    for (size_t s = 0; s < w->h.info.n_sections; s++)
        w->h.body_len += w->h.layout[s].stored;
    rc = pkg_header_encode(&w->h, &hdr, &hdr_len);
    if (rc < 0)
        return w->failed = rc;
    tmp = malloc(strlen(w->path) + sizeof(".tmp"));
    if (tmp == NULL) {
        free(hdr);
        return w->failed = ER_NOMEM;
    }
    sprintf(tmp, "%s.tmp", w->path);
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    rc = fd < 0 ? ER_IO : write_package(w, fd, hdr, hdr_len);
    if (fd >= 0 && rc == 0 && fsync(fd) != 0)
        rc = ER_IO;
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = ER_IO;
    if (rc == 0 && rename(tmp, w->path) != 0)
        rc = ER_IO;
    if (rc == 0)
        rc = fs_sync_dir(w->path);
    if (rc < 0) {
        unlink(tmp);
        w->failed = rc;
    }
    free(tmp);
    free(hdr);
    return rc;
}

void pkg_writer_free(struct pkg_writer *w)
{
    if (w == NULL)
        return;
    if (w->body_fd >= 0) {
        close(w->body_fd);
        unlink(w->body_path);
    }
    for (size_t s = 0; s < PKG_MAX_SECTIONS && w->ws != NULL; s++)
        free(w->ws[s].links);
    free(w->ws);
    EVP_CIPHER_CTX_free(w->gcm);
    if (w->plain != NULL)
        OPENSSL_cleanse(w->plain, PKG_CHUNK);
    free(w->plain);
    free(w->cipher);
    if (w->session_secret != NULL)
        OPENSSL_cleanse(w->session_secret, w->h.info.n_sessions * sizeof(*w->session_secret));
    free(w->session_secret);
    OPENSSL_cleanse(w->secret, sizeof(w->secret));
    free(w->path);
    free(w->body_path);
    pkg_header_clear(&w->h);
    free(w);
}
