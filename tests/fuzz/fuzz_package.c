/* Fuzzes the package reader. An input whose first byte is odd is the package
 * file itself (magic, length, signature: almost all refused early). An even
 * first byte is followed by a u16 header length, the header and the body: the
 * harness signs that header with the test center key, so the fuzzer reaches
 * what only a signed header reaches (header parsing, unwrapping, the hash
 * chains, decryption). Keys and code are those of the test vector in
 * docs/package-format.md, whose package seeds the corpus. */
#define _GNU_SOURCE
#include "fuzz.h"

#include "crypto.h"
#include "internal.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static struct key *center, *room;
static const uint8_t code[12] = {0xde, 0xad, 0xbe, 0xef, 0xca, 0xfe,
                                 0xba, 0xbe, 0x12, 0x34, 0x56, 0x60};

static void hex(const char *h, uint8_t *out)
{
    for (int i = 0; i < 32; i++) {
        unsigned v;

        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static void init_keys(void)
{
    uint8_t raw[32];

    hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", raw);
    FUZZ_CHECK(key_from_raw_private(KEY_ED25519, raw, &center) == 0);
    hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", raw);
    FUZZ_CHECK(key_from_raw_private(KEY_X25519, raw, &room) == 0);
}

static int sink(void *arg, const uint8_t *data, size_t n)
{
    (void)data;
    *(size_t *)arg += n;
    return 0;
}

static int write_signed(int fd, const uint8_t *data, size_t size)
{
    size_t hl, ctx = sizeof(PKG_SIG_CONTEXT) - 1;
    uint8_t *msg, sig[KEY_SIG_LEN];

    if (size < 3)
        return -1;
    hl = (size_t)data[1] << 8 | data[2];
    if (hl > size - 3)
        hl = size - 3;
    msg = malloc(ctx + PKG_PREFIX_LEN + hl);
    FUZZ_CHECK(msg != NULL);
    memcpy(msg, PKG_SIG_CONTEXT, ctx);
    memcpy(msg + ctx, pkg_magic, PKG_MAGIC_LEN);
    msg[ctx + 8] = (uint8_t)(hl >> 24);
    msg[ctx + 9] = (uint8_t)(hl >> 16);
    msg[ctx + 10] = (uint8_t)(hl >> 8);
    msg[ctx + 11] = (uint8_t)hl;
    memcpy(msg + ctx + PKG_PREFIX_LEN, data + 3, hl);
    FUZZ_CHECK(key_sign(center, msg, ctx + PKG_PREFIX_LEN + hl, sig) == 0);
    FUZZ_CHECK(write(fd, msg + ctx, PKG_PREFIX_LEN + hl) == (ssize_t)(PKG_PREFIX_LEN + hl));
    FUZZ_CHECK(write(fd, sig, sizeof(sig)) == (ssize_t)sizeof(sig));
    FUZZ_CHECK(write(fd, data + 3 + hl, size - 3 - hl) == (ssize_t)(size - 3 - hl));
    free(msg);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pkg_trust t = {NULL, NULL, 0, 1796400000};
    struct pkg_reader *r;
    char path[64];
    int fd, rc;

    if (center == NULL)
        init_keys();
    t.center_key = center;
    t.room_key = room;
    if (size == 0)
        return 0;
    fd = memfd_create("pkg", MFD_CLOEXEC);
    FUZZ_CHECK(fd >= 0);
    if (data[0] & 1)
        FUZZ_CHECK(write(fd, data + 1, size - 1) == (ssize_t)(size - 1));
    else if (write_signed(fd, data, size) < 0)
        goto out;
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    rc = pkg_open(path, &t, &r);
    if (rc < 0) {
        /* Every refusal is one of the package's own errors. */
        FUZZ_CHECK(rc > ER_PKG_NOT_PACKAGE - 20 && rc <= ER_PKG_NOT_PACKAGE);
        goto out;
    }
    {
        const struct pkg_info *info = pkg_get_info(r);
        uint8_t keys[PKG_MAX_SESSIONS][PKG_SESSION_KEY];
        int unlocked[PKG_MAX_SESSIONS] = {0};
        size_t released = 0;
        int verified = pkg_verify(r) == 0;

        for (size_t s = 0; s < info->n_sessions; s++)
            unlocked[s] = pkg_unlock(r, info->sessions[s].id, code, keys[s]) == 0;
        for (size_t i = 0; i < info->n_sections; i++) {
            int s = info->sections[i].session;
            size_t before = released;

            rc = pkg_read(r, info->sections[i].name, s >= 0 && unlocked[s] ? keys[s] : NULL, sink,
                          &released);
            /* A verified package releases each readable section whole. */
            if (rc == 0) {
                FUZZ_CHECK(released - before == info->sections[i].size);
            } else if (verified) {
                FUZZ_CHECK(rc == ER_PKG_LOCKED || rc == ER_PKG_CORRUPT);
            }
        }
        pkg_close(r);
    }
out:
    close(fd);
    return 0;
}
