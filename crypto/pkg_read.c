/* The package reader (the room's side). Nothing from the file is used before
 * the center's signature over the header has been checked, except the
 * header's length, which is bounded; no plaintext leaves a chunk before the
 * chunk has been checked against the signed hash chain and its GCM tag.
 * Memory is constant: one chunk of ciphertext and one of plaintext. */
#include "internal.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct pkg_reader {
    int fd;
    struct pkg_header h;
    uint64_t body_start;
    uint8_t secret[32];
    EVP_CIPHER_CTX *gcm;
    uint8_t *buf;   /* a stored chunk: ciphertext, tag, link */
    uint8_t *plain; /* its plaintext, released only once authenticated */
};

static int read_at(int fd, void *buf, size_t n, uint64_t off)
{
    uint8_t *p = buf;

    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t)off);

        if (r < 0)
            return ER_IO;
        if (r == 0)
            return ER_PKG_TRUNCATED;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

/* Reads the prefix, header and signature, and checks the signature. */
static int read_signed_header(struct pkg_reader *r, const struct pkg_trust *t, uint64_t size)
{
    uint8_t prefix[PKG_PREFIX_LEN], *msg = NULL;
    size_t ctx_len = sizeof(PKG_SIG_CONTEXT) - 1, hdr_len;
    size_t have = size < PKG_PREFIX_LEN ? (size_t)size : PKG_PREFIX_LEN;
    int rc = read_at(r->fd, prefix, have, 0);

    if (rc < 0)
        return rc;
    /* As much of the magic as the file holds must match; a file that stops
     * before the header length is an incomplete package. */
    if (memcmp(prefix, pkg_magic, have < PKG_MAGIC_LEN - 1 ? have : PKG_MAGIC_LEN - 1) != 0)
        return ER_PKG_NOT_PACKAGE;
    if (have >= PKG_MAGIC_LEN && prefix[PKG_MAGIC_LEN - 1] != PKG_FORMAT)
        return ER_PKG_FORMAT_VERSION;
    if (have < PKG_PREFIX_LEN)
        return ER_PKG_TRUNCATED;
    hdr_len =
        (size_t)prefix[8] << 24 | (size_t)prefix[9] << 16 | (size_t)prefix[10] << 8 | prefix[11];
    if (hdr_len < PKG_HEADER_MIN || hdr_len > PKG_HEADER_MAX)
        return ER_PKG_CORRUPT;
    if (size < PKG_PREFIX_LEN + hdr_len + KEY_SIG_LEN)
        return ER_PKG_TRUNCATED;

    msg = malloc(ctx_len + PKG_PREFIX_LEN + hdr_len + KEY_SIG_LEN);
    if (msg == NULL)
        return ER_NOMEM;
    memcpy(msg, PKG_SIG_CONTEXT, ctx_len);
    memcpy(msg + ctx_len, prefix, PKG_PREFIX_LEN);
    rc = read_at(r->fd, msg + ctx_len + PKG_PREFIX_LEN, hdr_len + KEY_SIG_LEN, PKG_PREFIX_LEN);
    if (rc == 0 && key_verify(t->center_key, msg, ctx_len + PKG_PREFIX_LEN + hdr_len,
                              msg + ctx_len + PKG_PREFIX_LEN + hdr_len) != 0)
        rc = ER_PKG_BADSIG;
    if (rc == 0)
        rc = pkg_header_parse(msg + ctx_len + PKG_PREFIX_LEN, hdr_len, &r->h);
    if (rc == 0) {
        /* The id of this exact package: the hash of what the center signed. */
        EVP_Digest(msg + ctx_len, PKG_PREFIX_LEN + hdr_len, r->h.info.package_id, NULL,
                   EVP_sha256(), NULL);
        r->body_start = PKG_PREFIX_LEN + hdr_len + KEY_SIG_LEN;
    }
    free(msg);
    return rc;
}

/* What the signed header says, against what this room trusts. */
static int check_header(struct pkg_reader *r, const struct pkg_trust *t, uint64_t size)
{
    uint8_t center_id[32], room_id[32], room_pub[32], shared[32], wrap_key[32];
    int rc;

    key_id(t->center_key, center_id);
    key_id(t->room_key, room_id);
    if (CRYPTO_memcmp(center_id, r->h.center_key_id, 32) != 0)
        return ER_PKG_BADSIG;
    if (CRYPTO_memcmp(room_id, r->h.room_key_id, 32) != 0)
        return ER_PKG_OTHER_ROOM;
    if (r->h.info.expires_at <= t->now)
        return ER_PKG_EXPIRED;
    if (r->h.info.version < t->min_version)
        return ER_PKG_OLD_VERSION;
    if (r->h.body_len > UINT64_MAX - r->body_start)
        return ER_PKG_CORRUPT;
    r->h.info.file_size = r->body_start + r->h.body_len;
    if (size < r->h.info.file_size)
        return ER_PKG_TRUNCATED;
    if (size > r->h.info.file_size)
        return ER_PKG_TRAILING;

    key_public_raw(t->room_key, room_pub);
    rc = pkg_x25519(t->room_key, r->h.eph_pub, shared);
    if (rc == 0)
        rc = pkg_wrap_key(shared, r->h.eph_pub, room_pub, wrap_key);
    if (rc == 0)
        rc = pkg_open_secret(wrap_key, r->h.wrapped, r->secret);
    OPENSSL_cleanse(shared, sizeof(shared));
    OPENSSL_cleanse(wrap_key, sizeof(wrap_key));
    /* The key ids matched, so a failure here is a center that signed a
     * header it built wrongly. */
    return rc < 0 ? ER_PKG_CORRUPT : 0;
}

int pkg_open(const char *path, const struct pkg_trust *t, struct pkg_reader **out)
{
    struct pkg_reader *r;
    struct stat st;
    int rc;

    if (t->center_key == NULL || key_get_type(t->center_key) != KEY_ED25519 ||
        t->room_key == NULL || key_get_type(t->room_key) != KEY_X25519 ||
        !key_has_private(t->room_key))
        return ER_USAGE;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return ER_NOMEM;
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        free(r);
        return ER_IO;
    }
    rc = fstat(r->fd, &st) == 0 ? 0 : ER_IO;
    if (rc == 0 && !S_ISREG(st.st_mode))
        rc = ER_PKG_NOT_PACKAGE;
    if (rc == 0)
        rc = read_signed_header(r, t, (uint64_t)st.st_size);
    if (rc == 0)
        rc = check_header(r, t, (uint64_t)st.st_size);
    if (rc == 0) {
        r->gcm = EVP_CIPHER_CTX_new();
        r->buf = malloc(PKG_CHUNK + PKG_TAG_LEN + PKG_LINK_LEN);
        r->plain = malloc(PKG_CHUNK);
        if (r->gcm == NULL || r->buf == NULL || r->plain == NULL)
            rc = ER_NOMEM;
    }
    if (rc < 0) {
        pkg_close(r);
        return rc;
    }
    posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    *out = r;
    return 0;
}

const struct pkg_info *pkg_get_info(const struct pkg_reader *r)
{
    return &r->h.info;
}

/* Reads chunk i of section s into r->buf and checks it against expect, the
 * chain link that the header or the previous chunk vouched for; on success
 * expect becomes the next chunk's link. Sets *len to the chunk's size with
 * its tag. */
static int next_chunk(struct pkg_reader *r, size_t s, uint64_t i, uint64_t *off,
                      uint8_t expect[PKG_LINK_LEN], size_t *len)
{
    const struct pkg_section_layout *l = &r->h.layout[s];
    uint64_t size = r->h.sections[s].size;
    int last = i + 1 == l->chunks;
    size_t plain = last ? (size_t)(size - (l->chunks - 1) * PKG_CHUNK) : PKG_CHUNK;
    size_t stored = plain + PKG_TAG_LEN + (last ? 0 : PKG_LINK_LEN);
    uint8_t next[PKG_LINK_LEN] = {0}, link[PKG_LINK_LEN];
    int rc = read_at(r->fd, r->buf, stored, r->body_start + *off);

    if (rc < 0)
        return rc;
    if (!last)
        memcpy(next, r->buf + plain + PKG_TAG_LEN, PKG_LINK_LEN);
    pkg_link(r->buf, plain + PKG_TAG_LEN, next, link);
    if (CRYPTO_memcmp(link, expect, PKG_LINK_LEN) != 0)
        return ER_PKG_CORRUPT;
    memcpy(expect, next, PKG_LINK_LEN);
    *off += stored;
    *len = plain + PKG_TAG_LEN;
    return 0;
}

int pkg_verify(struct pkg_reader *r)
{
    for (size_t s = 0; s < r->h.info.n_sections; s++) {
        const struct pkg_section_layout *l = &r->h.layout[s];
        uint8_t expect[PKG_LINK_LEN];
        uint64_t off = l->offset;

        memcpy(expect, l->head, PKG_LINK_LEN);
        for (uint64_t i = 0; i < l->chunks; i++) {
            size_t len;
            int rc = next_chunk(r, s, i, &off, expect, &len);

            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static int find_session(const struct pkg_reader *r, const char *id)
{
    for (size_t i = 0; i < r->h.info.n_sessions; i++)
        if (strcmp(r->h.sessions[i].id, id) == 0)
            return (int)i;
    return -1;
}

/* Checks a session key against the header's commitment. */
static int check_session_key(const struct pkg_reader *r, int s, const uint8_t key[32])
{
    uint8_t commit[32];
    int rc = pkg_commit(key, commit);

    if (rc < 0)
        return rc;
    return CRYPTO_memcmp(commit, r->h.session_keys[s].commit, 32) == 0 ? 0 : ER_PKG_WRONG_CODE;
}

int pkg_unlock(struct pkg_reader *r, const char *session_id, const uint8_t *unlock_code,
               uint8_t session_key[PKG_SESSION_KEY])
{
    uint8_t code_key[32], key[32];
    int s = find_session(r, session_id), rc;

    if (s < 0)
        return ER_PKG_NO_SESSION;
    rc = pkg_code_key(&r->h, (unsigned)s, unlock_code, code_key);
    if (rc == 0)
        rc = pkg_session_key(r->secret, code_key, session_id, key);
    if (rc == 0)
        rc = check_session_key(r, s, key);
    if (rc == 0)
        memcpy(session_key, key, sizeof(key));
    OPENSSL_cleanse(code_key, sizeof(code_key));
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

/* Decrypts the chunk in r->buf into r->plain; 0 only if its tag is right. */
static int open_chunk(struct pkg_reader *r, uint64_t i, int last, size_t len)
{
    uint8_t iv[12];
    size_t plain = len - PKG_TAG_LEN;
    int n, m;

    pkg_nonce(i, last, iv);
    if (EVP_DecryptInit_ex(r->gcm, NULL, NULL, NULL, iv) != 1 ||
        EVP_DecryptUpdate(r->gcm, r->plain, &n, r->buf, (int)plain) != 1 ||
        EVP_CIPHER_CTX_ctrl(r->gcm, EVP_CTRL_GCM_SET_TAG, PKG_TAG_LEN, r->buf + plain) != 1 ||
        EVP_DecryptFinal_ex(r->gcm, r->plain + n, &m) != 1)
        return ER_PKG_CORRUPT;
    return 0;
}

/* Finds section name and readies r->gcm with its key: its index, or
 * ER_PKG_NO_SECTION, ER_PKG_LOCKED, ER_PKG_WRONG_CODE. */
static int section_key(struct pkg_reader *r, const char *name, const uint8_t *session_key)
{
    uint8_t key[32];
    const uint8_t *root = r->secret;
    size_t s;
    int rc;

    for (s = 0; s < r->h.info.n_sections; s++)
        if (strcmp(r->h.sections[s].name, name) == 0)
            break;
    if (s == r->h.info.n_sections)
        return ER_PKG_NO_SECTION;
    if (r->h.sections[s].session >= 0) {
        if (session_key == NULL)
            return ER_PKG_LOCKED;
        rc = check_session_key(r, r->h.sections[s].session, session_key);
        if (rc < 0)
            return rc;
        root = session_key;
    }
    rc = pkg_section_key(root, (unsigned)s, name, key);
    if (rc == 0 && EVP_DecryptInit_ex(r->gcm, EVP_aes_256_gcm(), NULL, key, NULL) != 1)
        rc = ER_CRYPTO;
    OPENSSL_cleanse(key, sizeof(key));
    return rc < 0 ? rc : (int)s;
}

int pkg_read(struct pkg_reader *r, const char *name, const uint8_t *session_key, pkg_sink_fn sink,
             void *arg)
{
    const struct pkg_section_layout *l;
    uint8_t expect[PKG_LINK_LEN];
    uint64_t off;
    size_t s;
    int rc = section_key(r, name, session_key);

    if (rc < 0)
        return rc;
    s = (size_t)rc;
    rc = 0;
    l = &r->h.layout[s];
    off = l->offset;
    memcpy(expect, l->head, PKG_LINK_LEN);
    for (uint64_t i = 0; i < l->chunks && rc == 0; i++) {
        size_t len;

        rc = next_chunk(r, s, i, &off, expect, &len);
        if (rc == 0)
            rc = open_chunk(r, i, i + 1 == l->chunks, len);
        if (rc == 0 && len > PKG_TAG_LEN)
            rc = sink(arg, r->plain, len - PKG_TAG_LEN);
    }
    OPENSSL_cleanse(r->plain, PKG_CHUNK);
    return rc;
}

int pkg_read_range(struct pkg_reader *r, const char *name, const uint8_t *session_key,
                   uint64_t from, size_t n, uint8_t *out)
{
    const uint64_t record = PKG_CHUNK + PKG_TAG_LEN + PKG_LINK_LEN;
    const struct pkg_section_layout *l;
    size_t s, done = 0;
    int rc = section_key(r, name, session_key);

    if (rc < 0)
        return rc;
    s = (size_t)rc;
    l = &r->h.layout[s];
    if (from > r->h.sections[s].size || n > r->h.sections[s].size - from)
        return ER_USAGE;
    rc = 0;
    while (done < n && rc == 0) {
        uint64_t at = from + done, i = at / PKG_CHUNK, off = l->offset + i * record;
        size_t len, skip = (size_t)(at - i * PKG_CHUNK), take;
        uint8_t expect[PKG_LINK_LEN];

        /* Chunk i's link is stored after chunk i - 1 (the header holds the
         * first): the chain pkg_verify() walked, checked again here. */
        if (i == 0)
            memcpy(expect, l->head, PKG_LINK_LEN);
        else
            rc = read_at(r->fd, expect, PKG_LINK_LEN, r->body_start + off - PKG_LINK_LEN);
        if (rc == 0)
            rc = next_chunk(r, s, i, &off, expect, &len);
        if (rc == 0)
            rc = open_chunk(r, i, i + 1 == l->chunks, len);
        if (rc == 0) {
            take = len - PKG_TAG_LEN - skip;
            if (take > n - done)
                take = n - done;
            memcpy(out + done, r->plain + skip, take);
            done += take;
        }
    }
    OPENSSL_cleanse(r->plain, PKG_CHUNK);
    if (rc < 0)
        OPENSSL_cleanse(out, n);
    return rc;
}

void pkg_close(struct pkg_reader *r)
{
    if (r == NULL)
        return;
    if (r->fd >= 0)
        close(r->fd);
    EVP_CIPHER_CTX_free(r->gcm);
    if (r->plain != NULL)
        OPENSSL_cleanse(r->plain, PKG_CHUNK);
    free(r->plain);
    free(r->buf);
    OPENSSL_cleanse(r->secret, sizeof(r->secret));
    pkg_header_clear(&r->h);
    free(r);
}

int pkg_package_id(const char *path, uint8_t id[32])
{
    uint8_t prefix[PKG_PREFIX_LEN], *buf;
    size_t hdr_len;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

    if (fd < 0)
        return ER_IO;
    rc = read_at(fd, prefix, sizeof(prefix), 0);
    hdr_len =
        (size_t)prefix[8] << 24 | (size_t)prefix[9] << 16 | (size_t)prefix[10] << 8 | prefix[11];
    if (rc == 0 && (memcmp(prefix, pkg_magic, PKG_MAGIC_LEN) != 0 || hdr_len > PKG_HEADER_MAX))
        rc = ER_PKG_NOT_PACKAGE;
    buf = rc == 0 ? malloc(PKG_PREFIX_LEN + hdr_len) : NULL;
    if (rc == 0 && buf == NULL)
        rc = ER_NOMEM;
    if (rc == 0)
        rc = read_at(fd, buf, PKG_PREFIX_LEN + hdr_len, 0);
    if (rc == 0)
        EVP_Digest(buf, PKG_PREFIX_LEN + hdr_len, id, NULL, EVP_sha256(), NULL);
    free(buf);
    close(fd);
    return rc;
}
