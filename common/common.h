/* common: the project's error codes, logging, text helpers, ID-number checks
 * and the command-line frame shared by examroom and examcenter.
 *
 * Every module depends on this one; it depends on nothing but libc. */
#ifndef EXAMROOM_COMMON_H
#define EXAMROOM_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- errors ------------------------------------------------------------
 *
 * One enum for the whole project. Functions return 0 on success and a
 * negative ER_* code on failure. er_strerror() turns a code into the sentence
 * a proctor reads (zh-CN: what went wrong and what to do); er_name() gives the
 * stable symbolic name used in logs and in JSON error bodies.
 *
 * Codes are never renumbered: they may be stored and sent over the wire.
 * Ranges: -1..-9 general, -10..-29 typed input, -30..-39 keys and randomness,
 * -40..-69 the exam package (crypto), -70..-99 the room store (store),
 * -100..-139 the center link (sync), -140..-199 the center and the room
 * agent (-142..-159 the plan importer). */
#define ER_CODES(X)                                                                                \
    X(ER_NOMEM, -1)                                                                                \
    X(ER_IO, -2)                                                                                   \
    X(ER_USAGE, -3)                                                                                \
    X(ER_UNAVAILABLE, -4)                                                                          \
    X(ER_INTERNAL, -5)                                                                             \
    X(ER_DISK_FULL, -6)                                                                            \
    X(ER_TOO_LARGE, -7)                                                                            \
    X(ER_CODE_LENGTH, -10)                                                                         \
    X(ER_CODE_CHAR, -11)                                                                           \
    X(ER_CODE_TYPO, -12)                                                                           \
    X(ER_ID_LENGTH, -20)                                                                           \
    X(ER_ID_CHAR, -21)                                                                             \
    X(ER_ID_BIRTH, -22)                                                                            \
    X(ER_ID_CHECK, -23)                                                                            \
    X(ER_RANDOM, -30)                                                                              \
    X(ER_CRYPTO, -31)                                                                              \
    X(ER_KEY_FILE, -32)                                                                            \
    X(ER_KEY_PERMS, -33)                                                                           \
    X(ER_KEY_FORMAT, -34)                                                                          \
    X(ER_BADSIG, -35)                                                                              \
    X(ER_PKG_NOT_PACKAGE, -40)                                                                     \
    X(ER_PKG_FORMAT_VERSION, -41)                                                                  \
    X(ER_PKG_BADSIG, -42)                                                                          \
    X(ER_PKG_CORRUPT, -43)                                                                         \
    X(ER_PKG_TRUNCATED, -44)                                                                       \
    X(ER_PKG_TRAILING, -45)                                                                        \
    X(ER_PKG_OTHER_ROOM, -46)                                                                      \
    X(ER_PKG_OLD_VERSION, -47)                                                                     \
    X(ER_PKG_EXPIRED, -48)                                                                         \
    X(ER_PKG_WRONG_CODE, -49)                                                                      \
    X(ER_PKG_NO_SESSION, -50)                                                                      \
    X(ER_PKG_NO_SECTION, -51)                                                                      \
    X(ER_PKG_LOCKED, -52)                                                                          \
    X(ER_PKG_TOO_LARGE, -53)                                                                       \
    X(ER_PKG_REPLACED, -54)                                                                        \
    X(ER_STORE_DAMAGED, -70)                                                                       \
    X(ER_STORE_SCHEMA_NEWER, -71)                                                                  \
    X(ER_STORE_FULL, -72)                                                                          \
    X(ER_STORE_IO, -73)                                                                            \
    X(ER_STORE_BUSY, -74)                                                                          \
    X(ER_STORE_OPEN, -75)                                                                          \
    X(ER_STORE_NOT_FOUND, -76)                                                                     \
    X(ER_STORE_CONFLICT, -77)                                                                      \
    X(ER_STORE_CLOSED, -78)                                                                        \
    X(ER_STORE_CHAIN, -79)                                                                         \
    X(ER_STORE_STALE_REV, -80)                                                                     \
    X(ER_SYNC_UNREACHABLE, -100)                                                                   \
    X(ER_SYNC_TLS, -101)                                                                           \
    X(ER_SYNC_TIMEOUT, -102)                                                                       \
    X(ER_SYNC_NETWORK, -103)                                                                       \
    X(ER_SYNC_PROTOCOL, -104)                                                                      \
    X(ER_SYNC_SERVER, -105)                                                                        \
    X(ER_SYNC_SERIAL_USED, -106)                                                                   \
    X(ER_SYNC_SERIAL_UNKNOWN, -107)                                                                \
    X(ER_SYNC_CLOCK, -108)                                                                         \
    X(ER_SYNC_UNREGISTERED, -109)                                                                  \
    X(ER_SYNC_BADSIG, -110)                                                                        \
    X(ER_SYNC_NO_PACKAGE, -111)                                                                    \
    X(ER_SYNC_CANCELLED, -112)                                                                     \
    X(ER_SYNC_CONFLICT, -113)                                                                      \
    X(ER_SYNC_CHAIN, -114)                                                                         \
    X(ER_SYNC_KEY_IN_USE, -115)                                                                    \
    X(ER_SYNC_ROOM_REGISTERED, -116)                                                               \
    X(ER_SYNC_KEY_RETIRED, -117)                                                                   \
    X(ER_SYNC_MANIFEST_OTHER, -118)                                                                \
    X(ER_SYNC_UNBOUND, -119)                                                                       \
    X(ER_CENTER_DB, -140)                                                                          \
    X(ER_CENTER_DB_NEWER, -141)                                                                    \
    X(ER_PLAN_INVALID, -142)                                                                       \
    X(ER_PLAN_EXISTS, -143)                                                                        \
    X(ER_PLAN_NOT_FOUND, -144)                                                                     \
    X(ER_ROOM_NOT_FOUND, -145)                                                                     \
    X(ER_SESSION_NOT_FOUND, -146)                                                                  \
    X(ER_ROOM_NOT_REGISTERED, -160)                                                                \
    X(ER_BUNDLE_REFUSED, -161)                                                                     \
    X(ER_ROOM_NOT_INIT, -162)                                                                      \
    X(ER_ROOM_ALREADY_INIT, -163)                                                                  \
    X(ER_NOT_REGISTERED, -164)                                                                     \
    X(ER_PASSWORD_SHORT, -165)                                                                     \
    X(ER_CA_FILE, -166)                                                                            \
    X(ER_DAEMON_LISTEN, -167)                                                                      \
    X(ER_DAEMON_DOWN, -168)                                                                        \
    X(ER_PAIR_REFUSED, -169)                                                                       \
    X(ER_API_BODY, -170)                                                                           \
    X(ER_API_ANSWER, -171)                                                                         \
    X(ER_DAEMON_RUNNING, -172)                                                                     \
    X(ER_READER_SERVER, -173)                                                                      \
    X(ER_READER_REVOKED, -174)                                                                     \
    X(ER_USB_TRUNCATED, -180)                                                                      \
    X(ER_USB_CORRUPT, -181)                                                                        \
    X(ER_USB_NOT_BUNDLE, -182)                                                                     \
    X(ER_USB_OTHER_CENTER, -183)                                                                   \
    X(ER_RECEIPT_TRUNCATED, -184)                                                                  \
    X(ER_RECEIPT_CORRUPT, -185)                                                                    \
    X(ER_RECEIPT_NOT_RECEIPT, -186)                                                                \
    X(ER_RECEIPT_OTHER_CENTER, -187)                                                               \
    X(ER_RECEIPT_OTHER_ROOM, -188)                                                                 \
    X(ER_RECEIPT_OTHER_PLAN, -189)                                                                 \
    X(ER_RECEIPT_MISMATCH, -190)

enum er_code {
    ER_OK = 0,
#define ER_ENUM_ENTRY(name, value) name = value,
    ER_CODES(ER_ENUM_ENTRY)
#undef ER_ENUM_ENTRY
};

/* The user-facing sentence for code (zh-CN). Never NULL: an unknown code gets
 * a sentence that names its number. The pointer is to static storage, except
 * for unknown codes, where it is to a thread-local buffer. */
const char *er_strerror(int code);

/* "ER_CODE_TYPO" for ER_CODE_TYPO; "ER_UNKNOWN" for a code not in the enum. */
const char *er_name(int code);

/* ---- logging -----------------------------------------------------------
 *
 * To stderr. When stderr is the systemd journal (JOURNAL_STREAM names it),
 * each line starts with journald's "<N>" priority prefix; otherwise with a UTC
 * timestamp and the level's name. Messages are for operators and developers
 * (English); never log a secret. */
enum log_level {
    LOG_LEVEL_ERROR = 3, /* syslog's LOG_ERR */
    LOG_LEVEL_WARN = 4,
    LOG_LEVEL_NOTICE = 5,
    LOG_LEVEL_INFO = 6,
    LOG_LEVEL_DEBUG = 7,
};

/* Lines above this level are dropped. Default LOG_LEVEL_NOTICE (a daemon
 * raises it to INFO with log_set_level()), or the level named by
 * $EXAMROOM_LOG ("error", "warn", "notice", "info", "debug") when log_init()
 * runs. */
void log_init(const char *program);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Re-checks whether stderr is the journal; log_init() calls it. Exposed so a
 * test can point stderr elsewhere and see the format follow. */
void log_detect_journal(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define log_error(...)  log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)  log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* ---- text --------------------------------------------------------------- */

/* Copies the UTF-8 string in to out, turning the full-width forms that Chinese
 * input methods produce (U+FF01..U+FF5E) into their ASCII twins and the
 * ideographic space U+3000 into a space. Everything else is copied unchanged.
 * Returns the length written, or ER_USAGE when out (outsz bytes, with the NUL)
 * is too small. */
int text_fold_fullwidth(const char *in, char *out, size_t outsz);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* Reads exactly 2n hex digits of text into out: 0, or ER_USAGE. */
int hex_decode(const char *text, uint8_t *out, size_t n);

/* The value of a hex digit (either case), or -1. */
int hex_digit(char c);

/* Creates directory path and any missing parents, each with mode (existing
 * ones are left as they are), and fsyncs the parent of each one made, so the
 * new directories outlast a power cut. 0, or ER_IO. */
int fs_mkdir_p(const char *path, unsigned mode);

/* fsyncs the directory that holds path (its parent; "." for a bare name):
 * what makes a file created, renamed or removed there durable. Call it after
 * every rename into place. A file system that refuses to fsync a directory
 * (vfat on a USB stick: EINVAL, ENOTSUP; read-only: EROFS) gives 0: the
 * rename is then as durable as it makes it. 0, or ER_IO. */
int fs_sync_dir(const char *path);

/* Replaces the file at path with len bytes of data, created with mode: the
 * bytes go to path.new, are fsync'd, then renamed over path, and the
 * directory fsync'd, so a reader (or a crash, or a power cut) sees the old
 * file or the new one, never a part, and the new one once it returned.
 * 0, or ER_IO.
 * Blocking: for start-up and commands, not for the loop. */
int fs_write_atomic(const char *path, const void *data, size_t len, unsigned mode);

/* ---- JSON arrays -------------------------------------------------------- */

struct json_t; /* jansson's */

/* Sorts the elements of a jansson array in place with qsort's cmp, which is
 * given pointers to json_t pointers. 0; ER_NOMEM (the array as it was). */
int jarray_sort(struct json_t *array, int (*cmp)(const void *, const void *));

/* ---- growable buffer -------------------------------------------------------
 *
 * One buffer that grows as bytes are added, with a cap set at init: the cap
 * is the limit check, written once (as curl's dynbuf). Every add checks the
 * cap and size_t overflow before it touches memory, and a failed add leaves
 * the buffer as it was. The bytes are always followed by a NUL (not counted
 * in len), so text can be read in place. The storage comes from malloc, so
 * it may also hold an array of any type: add whole elements, read them
 * through a cast of buf, count them as len / sizeof(element). */
struct dynbuf {
    char *buf;    /* NULL until the first add, then len bytes and a NUL */
    size_t len;   /* bytes held, the NUL not counted */
    size_t alloc; /* bytes allocated */
    size_t max;   /* len never exceeds this */
};

/* An empty buffer that may hold up to max bytes (plus its NUL). Allocates
 * nothing. */
void dynbuf_init(struct dynbuf *b, size_t max);

/* Appends n bytes of data. 0; ER_TOO_LARGE when len + n would exceed the cap
 * (or size_t); ER_NOMEM. */
int dynbuf_add(struct dynbuf *b, const void *data, size_t n);

/* Appends the string s, without its NUL. As dynbuf_add(). */
int dynbuf_add_str(struct dynbuf *b, const char *s);

/* Appends printf-formatted text. As dynbuf_add(); ER_INTERNAL for a format
 * vsnprintf refuses. */
int dynbuf_printf(struct dynbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int dynbuf_vprintf(struct dynbuf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Shortens the content to its first len bytes (NUL-terminated again).
 * ER_USAGE when len is more than the buffer holds. */
int dynbuf_truncate(struct dynbuf *b, size_t len);

/* Empties the buffer, keeping its memory for what is added next. */
void dynbuf_reset(struct dynbuf *b);

/* Releases the memory; b is empty again, with the same cap. */
void dynbuf_free(struct dynbuf *b);

/* Hands the bytes (NUL-terminated; an empty string when nothing was added)
 * to the caller, who frees them; *len (may be NULL) gets their length, and b
 * is left empty. NULL only when memory ran out (b is then unchanged). */
char *dynbuf_take(struct dynbuf *b, size_t *len);

/* ---- ID numbers (居民身份证, GB 11643-1999) --------------------------------- */

#define IDNUM_LEN 18

/* Normalises and checks an 18-character resident ID number: full-width digits
 * and letters are folded, surrounding spaces dropped, a lower-case x raised.
 * On success writes the canonical form (18 characters and a NUL) to out and
 * returns 0. Errors, checked in this order:
 *   ER_ID_LENGTH  not 18 characters after normalising
 *   ER_ID_CHAR    a character other than a digit (or X in the last place)
 *   ER_ID_BIRTH   the birth date (characters 7-14) is not a real date between
 *                 1900-01-01 and today
 *   ER_ID_CHECK   the check character (ISO 7064 MOD 11-2) does not match */
int idnum_check(const char *in, char out[IDNUM_LEN + 1]);

/* The check character ('0'..'9' or 'X') for the first 17 digits of id. */
char idnum_check_char(const char *id17);

/* ---- command line ------------------------------------------------------- */

struct cli_command;

struct cli_ctx {
    const char *program;           /* "examroom" */
    const char *data_dir;          /* --data, else $ENV, else the default */
    const struct cli_command *cmd; /* the command being run */
    int json;                      /* --json given before the command */
};

struct cli_command {
    const char *name;    /* "register" */
    const char *args;    /* "SERIAL" */
    const char *summary; /* one line, zh-CN */
    /* argv[0] is the command's name. Returns the exit status: 0, or what
     * cli_fail() returned. "--help" never reaches it: cli_main answers. */
    int (*run)(struct cli_ctx *ctx, int argc, char **argv);
};

struct cli_program {
    const char *name;    /* "examroom" */
    const char *version; /* "0.1.0" */
    const char *summary; /* one line, zh-CN */
    const char *data_env;
    const char *data_default;
    const struct cli_command *commands; /* ends with a zeroed entry */
};

/* Parses the global options (--data DIR, --json, --verbose, --quiet, --help,
 * --version), finds the command and runs it. Returns the process exit status:
 * 0 success, 1 a failure reported with its sentence on stderr, 2 bad usage. */
int cli_main(const struct cli_program *prog, int argc, char **argv);

/* Reports code on stderr as "PROGRAM: sentence" (plus, for ER_USAGE, the
 * command's synopsis) and returns the exit status for it: 2 for ER_USAGE,
 * else 1. */
int cli_fail(const struct cli_ctx *ctx, int code);

/* Like cli_fail(), with a detail line first ("PROGRAM: detail"), for when the
 * sentence alone does not say which input was wrong. */
int cli_fail_detail(const struct cli_ctx *ctx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The value of option name ("--room") in argv[1..] of a command; *bad is
 * set when it has no value or is given twice. NULL when absent. */
const char *cli_option(int argc, char **argv, const char *name, int *bad);

/* ER_USAGE unless argv[first..] are pairs "--name value" with names from
 * the NULL-terminated list. */
int cli_check_options(int argc, char **argv, int first, const char *const *names);

/* The run function of a command that this version does not provide yet. */
int cli_unavailable(struct cli_ctx *ctx, int argc, char **argv);

#endif
