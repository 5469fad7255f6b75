/* crypto: the exam package format, keys, KDFs and the codes people type.
 * Depends on common and OpenSSL 3. */
#ifndef EXAMROOM_CRYPTO_H
#define EXAMROOM_CRYPTO_H

#include "common.h"

#include <stddef.h>
#include <stdint.h>

/* ---- typed codes (PRODUCT.md §7) ------------------------------------------
 *
 * A code is a bit string written as Crockford base32 symbols (5 bits each,
 * most significant first) followed by one check symbol: the value of the
 * whole symbol string taken as a base-32 number, mod 37, written with
 * Crockford's check alphabet (0-9 A-Z without I L O U, then * ~ $ = U).
 * Because 37 is prime and exceeds 32, every single-symbol substitution and
 * every transposition of two adjacent symbols changes the check.
 *
 * Shown in groups joined by '-'; read back ignoring case, spaces, hyphens and
 * full-width forms, with I and L read as 1 and O as 0. */

/* Serial codes (考场注册码): 75 random bits, 15 symbols + check, shown in
 * four groups of 4. One-time and bound to a room by the center's records, so
 * 75 bits leave nothing to guess. */
#define CODE_SERIAL_BITS  75
#define CODE_SERIAL_GROUP 4

/* Unlock codes (开考密码): 95 bits (≥ 80 required), 19 symbols + check, shown
 * in four groups of 5. */
#define CODE_UNLOCK_BITS  95
#define CODE_UNLOCK_GROUP 5

/* Longest code handled, in data symbols. */
#define CODE_MAX_SYMBOLS 64

/* Bytes that hold nbits bits. */
#define CODE_BYTES(nbits) (((nbits) + 7) / 8)

/* Size of the buffer code_encode() needs for nbits in groups of group
 * symbols, with the NUL. 0 when nbits is not a multiple of 5, is 0 or is
 * longer than CODE_MAX_SYMBOLS symbols. */
size_t code_text_size(unsigned nbits, unsigned group);

/* Writes the display form ("XXXX-XXXX-XXXX-XXXX") of the first nbits bits of
 * data (CODE_BYTES(nbits) bytes; unused low bits of the last byte must be
 * zero). nbits is a multiple of 5. Returns 0, or ER_USAGE for bad nbits,
 * a non-zero unused bit, or out (outsz bytes) smaller than code_text_size(). */
int code_encode(const uint8_t *data, unsigned nbits, unsigned group, char *out, size_t outsz);

/* Reads a code of nbits bits typed by a person into data (CODE_BYTES(nbits)
 * bytes). Errors, checked in this order, all of them a typing mistake:
 *   ER_CODE_CHAR    a character that is not a symbol, or a check-only symbol
 *                   (* ~ $ = U) before the last place
 *   ER_CODE_LENGTH  too many or too few symbols
 *   ER_CODE_TYPO    the check symbol does not match
 * data is written only on success. ER_USAGE for bad nbits. */
int code_decode(const char *text, unsigned nbits, uint8_t *data);

/* Fills data with nbits random bits (OpenSSL's CSPRNG) and clears the unused
 * low bits of the last byte. ER_RANDOM when the CSPRNG fails. */
int code_random(unsigned nbits, uint8_t *data);

/* ---- keys ------------------------------------------------------------------
 *
 * Ed25519 for signatures (the center's package and receipt key, the room's
 * result key), X25519 for the room's wrap key (packages are wrapped to it).
 * Private keys are PEM files (PKCS#8) written 0600 and refused when group or
 * others can read them; public keys travel as the base64 of their 32 raw
 * bytes (center-key.pub). */

enum key_type {
    KEY_ED25519 = 1,
    KEY_X25519 = 2,
};

#define KEY_RAW_LEN 32
#define KEY_B64_LEN 44 /* base64 of 32 bytes, without the NUL */
#define KEY_SIG_LEN 64

/* Room for a key fingerprint: 80 bits of SHA-256 as a typed code,
 * "XXXX-XXXX-XXXX-XXXX-C", so two people can read it to each other. */
#define KEY_FINGERPRINT_SIZE 22

struct key; /* a private key (which also gives its public half), or a public key */

int key_generate(enum key_type type, struct key **out);
int key_from_raw_private(enum key_type type, const uint8_t raw[KEY_RAW_LEN], struct key **out);
int key_from_raw_public(enum key_type type, const uint8_t raw[KEY_RAW_LEN], struct key **out);
void key_free(struct key *k);

enum key_type key_get_type(const struct key *k);
int key_has_private(const struct key *k);

/* Writes the private key as PEM to path, 0600, atomically (a temporary file
 * in the same directory, fsync, rename). */
int key_save_private(const struct key *k, const char *path);

/* Reads a private key of type from a PEM file. ER_KEY_PERMS when group or
 * others may read it, ER_KEY_FORMAT when it is not a key of that type,
 * ER_KEY_FILE when it cannot be read. */
int key_load_private(enum key_type type, const char *path, struct key **out);

void key_public_raw(const struct key *k, uint8_t raw[KEY_RAW_LEN]);
void key_public_b64(const struct key *k, char out[KEY_B64_LEN + 1]);

/* Reads a public key given as base64 (surrounding white space allowed), or,
 * when text names a readable file, from that file's contents. */
int key_parse_public(enum key_type type, const char *text, struct key **out);

/* SHA-256 of the raw public key: the key's id inside packages and receipts. */
void key_id(const struct key *k, uint8_t id[32]);

/* The key's fingerprint for people, "XXXX-XXXX-XXXX-XXXX-C". */
void key_fingerprint(const struct key *k, char out[KEY_FINGERPRINT_SIZE]);

/* A secret kept at rest sealed under a private key (the room's X25519 key
 * seals its session keys): AES-256-GCM under HKDF(private key, label), a
 * random nonce. out holds KEY_SEALED_LEN(n) bytes. key_open_secret: 0, or
 * ER_PKG_CORRUPT when the bytes were not sealed by this key and label. */
#define KEY_SEALED_LEN(n) (12 + (n) + 16)
int key_seal_secret(const struct key *k, const char *label, const uint8_t *in, size_t n,
                    uint8_t *out);
int key_open_secret(const struct key *k, const char *label, const uint8_t *in, size_t in_len,
                    uint8_t *out);

/* Ed25519 over msg. ER_USAGE for a key that is not a private Ed25519 key. */
int key_sign(const struct key *k, const void *msg, size_t n, uint8_t sig[KEY_SIG_LEN]);

/* 0 when sig is k's Ed25519 signature over msg, else ER_BADSIG. */
int key_verify(const struct key *k, const void *msg, size_t n, const uint8_t sig[KEY_SIG_LEN]);

/* ---- KDFs --------------------------------------------------------------------
 * Both are slow enough (scrypt: tens to hundreds of milliseconds) that the
 * agent calls them from the libuv thread pool, never from the loop. */

/* HKDF-SHA-256 (RFC 5869). salt may be NULL/0 (then a zero salt). */
int kdf_hkdf(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
             const void *info, size_t info_len, uint8_t *out, size_t out_len);

/* scrypt (RFC 7914) with N = 2^log2_n, 32 bytes out. */
int kdf_scrypt(const uint8_t *pw, size_t pw_len, const uint8_t *salt, size_t salt_len,
               unsigned log2_n, uint32_t r, uint32_t p, uint8_t out[32]);

/* ---- the exam package (docs/package-format.md) --------------------------------
 *
 * Sections of plaintext (the roster, photos, each session's paper and key)
 * are encrypted in 64 KiB chunks with AES-256-GCM (counter nonce, final-chunk
 * flag), and each section's chunks are hash-chained so that its first link,
 * in the header, binds every byte. The header is signed with the center's
 * Ed25519 key. Sections that belong to a session need that session's key,
 * derived from the room-wrapped package secret and the session's unlock code.
 * Both the writer and the reader use constant memory whatever the size (the
 * writer keeps 32 bytes a chunk). */

#define PKG_CHUNK          65536
#define PKG_SESSION_KEY    32
#define PKG_MAX_SECTIONS   1024
#define PKG_MAX_SESSIONS   64
#define PKG_MAX_NAME       255
#define PKG_DEFAULT_LOG2_N 15 /* scrypt N = 32768, r = 8, p = 1: 32 MiB, ~0.1 s */

struct pkg_session_spec {
    const char *id;             /* "S1" */
    const uint8_t *unlock_code; /* CODE_BYTES(CODE_UNLOCK_BITS) bytes */
    int64_t starts_at, ends_at; /* Unix seconds, UTC */
};

struct pkg_writer_params {
    const char *plan_id, *room_id;
    uint64_t version; /* monotonic per room and plan */
    int64_t created_at, expires_at;
    const struct key *center_key; /* Ed25519, private */
    const struct key *room_key;   /* X25519, public */
    const struct pkg_session_spec *sessions;
    size_t n_sessions;
    unsigned scrypt_log2_n; /* 0: PKG_DEFAULT_LOG2_N */
    uint32_t scrypt_r, scrypt_p;
    /* 32 bytes from which every random value is derived. Only for the test
     * vectors of docs/package-format.md: NULL in every real package. */
    const uint8_t *test_seed;
};

struct pkg_writer;

/* Starts a package that pkg_writer_finish() writes to path. Runs scrypt once
 * per session (slow). */
int pkg_writer_new(const struct pkg_writer_params *params, const char *path,
                   struct pkg_writer **out);

/* Starts a section. session_id NULL: it opens with the room key alone; else
 * it needs that session's key too. Names are unique in a package. */
int pkg_writer_begin(struct pkg_writer *w, const char *name, const char *session_id);
int pkg_writer_write(struct pkg_writer *w, const void *data, size_t n);
int pkg_writer_end(struct pkg_writer *w);

/* Writes the package to its path atomically (fsync, rename, fsync of the
 * directory). */
int pkg_writer_finish(struct pkg_writer *w);

/* Frees w; an unfinished package leaves no file behind. */
void pkg_writer_free(struct pkg_writer *w);

struct pkg_trust {
    const struct key *center_key; /* Ed25519 public key pinned at init */
    const struct key *room_key;   /* the room's X25519 private key */
    uint64_t min_version;         /* the last accepted version; older is refused */
    int64_t now;                  /* Unix seconds; expired packages are refused */
};

struct pkg_session_info {
    char id[PKG_MAX_NAME + 1];
    int64_t starts_at, ends_at;
};

struct pkg_section_info {
    char name[PKG_MAX_NAME + 1];
    int session; /* index into sessions, or -1: the room key alone opens it */
    uint64_t size;
};

struct pkg_info {
    char plan_id[PKG_MAX_NAME + 1], room_id[PKG_MAX_NAME + 1];
    uint64_t version;
    int64_t created_at, expires_at;
    uint8_t package_id[32]; /* SHA-256 of the signed header: names this exact package */
    uint64_t file_size;
    size_t n_sessions, n_sections;
    const struct pkg_session_info *sessions;
    const struct pkg_section_info *sections;
};

struct pkg_reader;

/* Opens the package file at path and checks, in this order: that it is a
 * package (ER_PKG_NOT_PACKAGE) of a known format (ER_PKG_FORMAT_VERSION);
 * the header's length (ER_PKG_CORRUPT, ER_PKG_TRUNCATED); the center's
 * signature over the header (ER_PKG_BADSIG), before any field of it is used;
 * the room (ER_PKG_OTHER_ROOM); expiry (ER_PKG_EXPIRED); version
 * (ER_PKG_OLD_VERSION); the file's length against the signed one
 * (ER_PKG_TRUNCATED, ER_PKG_TRAILING); and unwraps the package secret. */
int pkg_open(const char *path, const struct pkg_trust *trust, struct pkg_reader **out);

const struct pkg_info *pkg_get_info(const struct pkg_reader *r);

/* Checks every chunk of every section against the signed hash chains, with
 * no key and no decryption (ER_PKG_CORRUPT). Constant memory. The agent runs
 * it after every download and before the first decryption. */
int pkg_verify(struct pkg_reader *r);

/* Derives the key of session_id from its unlock code (scrypt: slow) and
 * checks it against the header's commitment: ER_PKG_WRONG_CODE for a wrong
 * code or another session's, ER_PKG_NO_SESSION for an unknown session. */
int pkg_unlock(struct pkg_reader *r, const char *session_id, const uint8_t *unlock_code,
               uint8_t session_key[PKG_SESSION_KEY]);

/* Receives plaintext, one authenticated chunk at a time. A negative return
 * stops the read and is returned by pkg_read(). */
typedef int (*pkg_sink_fn)(void *arg, const uint8_t *data, size_t n);

/* Decrypts section name into sink. Each chunk is checked against the hash
 * chain and its GCM tag before any byte of it reaches sink. A session's
 * section needs its key from pkg_unlock() (ER_PKG_LOCKED without one,
 * ER_PKG_WRONG_CODE for a key that is not this session's); a room section
 * takes NULL. ER_PKG_NO_SECTION for an unknown name. */
int pkg_read(struct pkg_reader *r, const char *name, const uint8_t *session_key, pkg_sink_fn sink,
             void *arg);

/* Plaintext bytes [from, from + n) of section name into out, decrypting only
 * the chunks that hold them: random access, for a package pkg_verify()
 * passed. Each chunk is authenticated by its GCM tag (the nonce binds its
 * index and the last-chunk flag) before a byte is copied; its chain link,
 * read from the file beside it, is compared too, but only as a consistency
 * check (docs/package-format.md, step 12). Keys as pkg_read(); ER_USAGE for a range
 * past the section's end; on any error out holds nothing. */
int pkg_read_range(struct pkg_reader *r, const char *name, const uint8_t *session_key,
                   uint64_t from, size_t n, uint8_t *out);

void pkg_close(struct pkg_reader *r);

/* The package id (SHA-256 of the signed header) of a package file, without
 * checking anything: for the center, naming the files it wrote itself. */
int pkg_package_id(const char *path, uint8_t id[32]);

/* ---- the center protocol's signatures (docs/protocol.md) ------------------------
 *
 * Every request from a registered room carries four headers: the room's key
 * id, the time, a fresh nonce, and the room's Ed25519 signature over
 *   "EXAMROOM-REQUEST-V1" LF CENTER LF METHOD LF PATH LF QUERY LF
 *   CONTENT-ENCODING LF RANGE LF IF-RANGE LF TIME LF NONCE LF hex(SHA-256(body))
 * (CENTER: hex of the center key's id; a header not sent, or no query, is
 * empty). The center signs every JSON answer to such a request over
 * CONTEXT "\n" body, and the body names what it answers: "request":
 * {"nonce", "room_key"}. Both ends use these functions, so the strings that
 * are signed are written down once. */

#define PROTO_HDR_ROOM        "X-Examroom-Room"
#define PROTO_HDR_TIME        "X-Examroom-Time"
#define PROTO_HDR_NONCE       "X-Examroom-Nonce"
#define PROTO_HDR_SIGNATURE   "X-Examroom-Signature"
#define PROTO_HDR_CENTER_SIG  "X-Examroom-Center-Signature"
#define PROTO_CTX_REQUEST     "EXAMROOM-REQUEST-V1"
#define PROTO_CTX_MANIFEST    "EXAMROOM-MANIFEST-V1"
#define PROTO_CTX_RECEIPT     "EXAMROOM-RECEIPT-V1"
#define PROTO_CTX_REGISTER    "EXAMROOM-REGISTER-V1"
#define PROTO_CTX_SESSION_KEY "EXAMROOM-SESSION-KEY-V1"
#define PROTO_CTX_ERROR       "EXAMROOM-ERROR-V1"  /* every error answer of the center */
#define PROTO_CTX_RESULT      "EXAMROOM-RESULT-V1" /* the room seals a result */
#define PROTO_CTX_EVENT       "EXAMROOM-EVENT-V1"  /* the room seals an event */
#define PROTO_CTX_CHAIN       "EXAMROOM-CHAIN-V1"  /* the room signs its chain head */
#define PROTO_ANSWER_REQUEST  "request"            /* the answer's binding: {"nonce", "room_key"} */
#define PROTO_SKEW_MAX        300                  /* seconds either way */

struct proto_auth {
    char room[65];  /* hex of key_id() of the room's Ed25519 key */
    char time[21];  /* Unix seconds, decimal */
    char nonce[33]; /* 16 random bytes, hex */
    char sig[89];   /* base64 of the 64-byte signature */
};

/* What a request signature covers besides the headers of proto_auth. */
struct proto_request {
    const uint8_t *center;     /* 32 bytes: key_id() of the center's Ed25519 key */
    const char *method, *path; /* "GET", "/v1/manifest" */
    const char *query;         /* after "?", as sent; NULL or "": none */
    const char *encoding;      /* Content-Encoding as sent; NULL: not sent */
    const char *range, *if_range;
    const void *body; /* as sent (compressed when it is); NULL with body_len 0 */
    size_t body_len;
};

/* Fills auth (a fresh nonce, the time now) for rq signed by room. */
int proto_sign_request(const struct key *room, const struct proto_request *rq, int64_t now,
                       struct proto_auth *auth);
/* The same with auth->time and auth->nonce given (test vectors). */
int proto_sign_request_as(const struct key *room, const struct proto_request *rq,
                          struct proto_auth *auth);
/* The signed string, malloc'd (not NUL-free: *len counts its bytes). */
char *proto_request_string(const struct proto_request *rq, const struct proto_auth *a, size_t *len);

/* Checks auth's signature with the room's public key: 0 or ER_BADSIG. The
 * caller has found the key by auth->room, and checks the time and the nonce:
 * proto_parse_time() reads the time. */
int proto_verify_request(const struct key *room, const struct proto_request *rq,
                         const struct proto_auth *auth);

/* The time of auth, or -1 when it is not a decimal number of seconds. */
int64_t proto_parse_time(const char *text);

/* The center's signature over context "\n" body, as base64 (88 characters). */
int proto_sign_body(const struct key *center, const char *context, const void *body, size_t n,
                    char sig_b64[89]);
int proto_verify_body(const struct key *center, const char *context, const void *body, size_t n,
                      const char *sig_b64);

/* ---- the USB bundle and its receipt (docs/protocol.md "USB bundles") ----
 *
 * What a room that cannot reach the center carries to it on a USB stick: the
 * same records an upload carries, encrypted to the center's X25519 bundle key
 * and signed by the room:
 *   "EXRMUSB" 02 | u32 h | u64 n | check (8) | header (h bytes of JSON)
 *   | AES-256-GCM ciphertext (n bytes) + tag (16)
 *   | Ed25519 signature by the room over "EXAMROOM-BUNDLE-V2" LF and all that precedes it
 * check is the first 8 bytes of SHA-256 of the 20 bytes before it, so a file
 * shorter than its lengths say is truncated (ER_USB_TRUNCATED), never taken
 * for a changed one (ER_USB_CORRUPT). The header names the room (key id),
 * the plan and room ids, the center key and an ephemeral X25519 public key;
 * the GCM key is HKDF(salt = eph_pub || center_pub, ikm = X25519,
 * info = "examroom/v1/bundle"), nonce 12 zero bytes, associated data the file
 * up to the ciphertext.
 *
 * The center answers an import with a receipt file, signed by its Ed25519 key:
 *   "EXRMRCT" 01 | u32 n | check (8, of the 12 bytes before) | body (n bytes of JSON)
 *   | Ed25519 signature over "EXAMROOM-USB-RECEIPT-V1" LF and all that precedes it */

#define BUNDLE_MAX  (256u << 20)
#define RECEIPT_MAX (64u << 20)

/* Writes a bundle of body (JSON) to path, atomically and durably
 * (usb_write_file). plan and room are the registration's ids. */
int bundle_write(const char *path, const struct key *room_sign, const struct key *center_bundle,
                 const char *plan, const char *room, int64_t created_at, const void *body,
                 size_t body_len);

/* Reads the header of the bundle at path without trusting it: the room's key
 * id (hex) to look the room up by. Checks the framing first, so a truncated
 * file is ER_USB_TRUNCATED here already; ER_USB_NOT_BUNDLE when it is no
 * bundle, ER_USB_CORRUPT. */
int bundle_peek(const char *path, char room_key_id[65]);

/* Checks the framing and the room's signature (room_sign: its public key),
 * then decrypts with the center's bundle key. *body is malloc'd; hash (may be
 * NULL) gets the SHA-256 of the whole file. ER_USB_TRUNCATED, ER_USB_CORRUPT
 * (signature, preamble or decryption), ER_USB_NOT_BUNDLE, ER_USB_OTHER_CENTER
 * (encrypted to another center key), ER_PKG_TOO_LARGE, ER_IO. */
int bundle_read(const char *path, const struct key *room_sign, const struct key *center_bundle,
                uint8_t **body, size_t *body_len, uint8_t hash[32]);

/* Writes a receipt of body (JSON naming "center_key", the id of center_sign)
 * to path, atomically and durably. */
int receipt_write(const char *path, const struct key *center_sign, const void *body, size_t n);

/* Checks a receipt's framing and its signature by center (the pinned
 * center key); *body (malloc'd, NUL-terminated) is the signed JSON.
 * ER_RECEIPT_TRUNCATED, ER_RECEIPT_CORRUPT, ER_RECEIPT_NOT_RECEIPT,
 * ER_RECEIPT_OTHER_CENTER (signed by another key, which the body names). */
int receipt_parse(const uint8_t *file, size_t len, const struct key *center, char **body,
                  size_t *body_len);
/* The same, from path; *file (may be NULL) gets the file's bytes, malloc'd. */
int receipt_read(const char *path, const struct key *center, char **body, size_t *body_len,
                 uint8_t **file, size_t *file_len);

/* Replaces path with n bytes of data, atomically and durably: a temporary
 * file in the same directory, fsync, rename, fsync of the directory (which
 * vfat refuses with EINVAL: then the rename is as durable as it gets).
 * 0, ER_IO, ER_DISK_FULL. */
int usb_write_file(const char *path, const uint8_t *data, size_t n);

/* Standard base64 with padding: encode returns a malloc'd string; decode
 * returns the exact bytes in a malloc'd buffer, or ER_USAGE for anything
 * that is not canonical base64. */
char *base64_encode(const uint8_t *in, size_t n);
int base64_decode(const char *text, uint8_t **out, size_t *out_len);

/* n bytes from OpenSSL's CSPRNG: 0 or ER_RANDOM. */
int crypto_random(uint8_t *buf, size_t n);

/* ---- the proctor password ----
 * Stored as one line "scrypt$LOGN$R$P$SALT$HASH" (base64), never in the
 * clear. password_verify() takes ~0.1 s (scrypt): run it off the loop. */
#define PASSWORD_LOG2_N   15
#define PASSWORD_LINE_MAX 160
int password_hash(const char *password, char *out, size_t outsz);
/* The password as typed, made canonical before it is hashed or checked:
 * full-width forms folded, spaces around trimmed; and one that reads as a
 * generated password (a 50-bit typed code with its check symbol: any case,
 * with or without hyphens, I/L/O for 1/1/0) spelled as init printed it.
 * 0, or ER_USAGE when it does not fit out. */
int password_normalize(const char *typed, char *out, size_t outsz);
/* 0 when password matches, ER_BADSIG when not, ER_KEY_FORMAT for a bad line. */
int password_verify(const char *stored, const char *password);

/* SHA-256 of n bytes. */
void sha256(const void *data, size_t n, uint8_t out[32]);

/* ---- candidate tokens ----
 * A candidate token is 64 hex digits: the wall clock's milliseconds (8
 * bytes, big-endian), then 24 random bytes. The store finds a token by its
 * key, never by the token itself: the token's first 8 bytes (its time, no
 * secret), then the first 24 bytes of the token's SHA-256. Keys of tokens
 * issued one after another sort one after another, so the index of the
 * sign-ins grows at its right edge; a plain SHA-256 dirtied a random page
 * of that index at every sign-in, which the next checkpoint then wrote to
 * the disk (docs/benchmarks.md, P2). The 192 random bits are the secret;
 * only their hash is kept. */
#define CRYPTO_TOKEN_HEX 64
/* A new token into out: 0, or ER_RANDOM. */
int crypto_token_issue(char out[CRYPTO_TOKEN_HEX + 1]);
/* The key of any bearer string: as above when it begins with 16 hex digits,
 * else its plain SHA-256 (which no token's key is). Tokens issued before
 * keys were ordered (64 hex digits too) are kept under their plain SHA-256:
 * sha256(). */
void crypto_token_key(const char *token, uint8_t key[32]);

#endif
