/* Private to crypto/: the package format's layout and key schedule, shared
 * by the writer (pkg_write.c), the reader (pkg_read.c) and their tests and
 * fuzz harness. docs/package-format.md is the normative description. */
#ifndef EXAMROOM_CRYPTO_INTERNAL_H
#define EXAMROOM_CRYPTO_INTERNAL_H

#include "crypto.h"

#include <openssl/evp.h>

#define PKG_MAGIC_LEN   8
#define PKG_PREFIX_LEN  12 /* magic + u32 header length */
#define PKG_FORMAT      1  /* the magic's last byte */
#define PKG_HEADER_MAX  (1u << 20)
#define PKG_HEADER_MIN  64
#define PKG_TAG_LEN     16
#define PKG_LINK_LEN    32
#define PKG_SALT_LEN    16
#define PKG_WRAPPED_LEN 48 /* 32-byte secret + GCM tag */
#define PKG_NO_SESSION  0xFFFFu

extern const uint8_t pkg_magic[PKG_MAGIC_LEN];
/* Prefixed to what the center signs, so the signature means one thing. */
#define PKG_SIG_CONTEXT "EXAMROOM-PACKAGE-SIGNATURE-V1"

struct pkg_session_keys {
    uint8_t salt[PKG_SALT_LEN];
    uint8_t commit[32];
};

struct pkg_section_layout {
    uint8_t head[PKG_LINK_LEN]; /* H_0 of the section's hash chain */
    uint64_t offset;            /* from the start of the body */
    uint64_t stored;            /* bytes in the body */
    uint64_t chunks;
};

/* The decoded header. info.sessions and info.sections point into the arrays
 * below, which pkg_header_parse() allocates and pkg_header_clear() frees. */
struct pkg_header {
    struct pkg_info info;
    uint8_t center_key_id[32], room_key_id[32], eph_pub[KEY_RAW_LEN];
    uint8_t wrapped[PKG_WRAPPED_LEN];
    uint8_t log2_n;
    uint32_t scrypt_r, scrypt_p, chunk_size;
    uint64_t body_len;
    struct pkg_session_info *sessions;
    struct pkg_session_keys *session_keys;
    struct pkg_section_info *sections;
    struct pkg_section_layout *layout;
};

/* Parses header bytes (after the signature check) strictly: every length
 * bounded, names unique, sizes consistent with body_len, nothing left over.
 * ER_PKG_CORRUPT for anything else, ER_PKG_FORMAT_VERSION for a chunk size
 * other than PKG_CHUNK, ER_NOMEM. h must be cleared with pkg_header_clear()
 * whatever the result. */
int pkg_header_parse(const uint8_t *buf, size_t len, struct pkg_header *h);

/* Encodes h (with its layout heads and sizes) into a malloc'd buffer. */
int pkg_header_encode(const struct pkg_header *h, uint8_t **out, size_t *len);

void pkg_header_clear(struct pkg_header *h);

/* Sizes of a section of plain_len bytes: its chunk count (an empty section
 * is one empty final chunk) and its bytes in the body (chunks, tags, and a
 * 32-byte link after every chunk but the last). 0 chunks on overflow. */
uint64_t pkg_chunks(uint64_t plain_len);
uint64_t pkg_stored_len(uint64_t plain_len);

/* The key schedule of docs/package-format.md. */
int pkg_wrap_key(const uint8_t shared[32], const uint8_t eph_pub[32], const uint8_t room_pub[32],
                 uint8_t out[32]);
int pkg_session_key(const uint8_t secret[32], const uint8_t code_key[32], const char *session_id,
                    uint8_t out[32]);
int pkg_commit(const uint8_t session_key[32], uint8_t out[32]);
int pkg_section_key(const uint8_t root[32], unsigned index, const char *name, uint8_t out[32]);
int pkg_code_key(const struct pkg_header *h, unsigned session, const uint8_t *unlock_code,
                 uint8_t out[32]);

/* The STREAM nonce: 11-byte big-endian chunk counter, then 1 for the final
 * chunk, else 0. */
void pkg_nonce(uint64_t counter, int last, uint8_t iv[12]);

/* One link of a section's hash chain: SHA-256(SHA-256(chunk) || next). */
void pkg_link(const uint8_t *chunk, size_t n, const uint8_t next[PKG_LINK_LEN],
              uint8_t out[PKG_LINK_LEN]);

/* X25519 between a private key and a raw public key. */
int pkg_x25519(const struct key *priv, const uint8_t peer[KEY_RAW_LEN], uint8_t shared[32]);

/* AES-256-GCM of one short message (the wrapped secret), 12 zero nonce. */
int pkg_seal_secret(const uint8_t key[32], const uint8_t secret[32], uint8_t out[PKG_WRAPPED_LEN]);
int pkg_open_secret(const uint8_t key[32], const uint8_t in[PKG_WRAPPED_LEN], uint8_t secret[32]);

EVP_PKEY *key_evp(const struct key *k);

#endif
