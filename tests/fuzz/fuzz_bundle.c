/* Fuzzes the USB bundle reader. An odd first byte: the rest is the file.
 * An even one: the rest is the file without its signature, and the harness
 * signs it with the test room key, so the fuzzer reaches what only a signed
 * bundle reaches (header fields, key ids, decryption). */
#define _GNU_SOURCE
#include "fuzz.h"

#include "crypto.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static struct key *room, *center;

static void init_keys(void)
{
    uint8_t raw[32];

    for (int i = 0; i < 32; i++)
        raw[i] = (uint8_t)(i + 1);
    FUZZ_CHECK(key_from_raw_private(KEY_ED25519, raw, &room) == 0);
    for (int i = 0; i < 32; i++)
        raw[i] = (uint8_t)(0x40 + i);
    FUZZ_CHECK(key_from_raw_private(KEY_X25519, raw, &center) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], room_id[65];
    uint8_t *body = NULL, sig[KEY_SIG_LEN];
    size_t len = 0;
    int fd, rc;

    if (room == NULL)
        init_keys();
    if (size == 0)
        return 0;
    fd = memfd_create("bundle", MFD_CLOEXEC);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(write(fd, data + 1, size - 1) == (ssize_t)(size - 1));
    if ((data[0] & 1) == 0) {
        /* Sign as the format says: context, newline, the file so far. */
        size_t ctx = sizeof("EXAMROOM-BUNDLE-V2");
        uint8_t *msg = malloc(ctx + size);

        FUZZ_CHECK(msg != NULL);
        memcpy(msg, "EXAMROOM-BUNDLE-V2\n", ctx);
        memcpy(msg + ctx, data + 1, size - 1);
        FUZZ_CHECK(key_sign(room, msg, ctx + size - 1, sig) == 0);
        FUZZ_CHECK(write(fd, sig, sizeof(sig)) == (ssize_t)sizeof(sig));
        free(msg);
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    rc = bundle_peek(path, room_id);
    if (rc == 0)
        FUZZ_CHECK(strlen(room_id) == 64);
    rc = bundle_read(path, room, center, &body, &len, NULL);
    if (rc == 0)
        FUZZ_CHECK(body != NULL && body[len] == '\0');
    else
        FUZZ_CHECK(rc == ER_USB_CORRUPT || rc == ER_USB_TRUNCATED || rc == ER_USB_NOT_BUNDLE ||
                   rc == ER_USB_OTHER_CENTER || rc == ER_PKG_TOO_LARGE);
    free(body);
    close(fd);
    return 0;
}
