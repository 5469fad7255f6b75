/* Fuzzes the USB receipt as the room reads it: the framing and signature
 * (receipt_parse), then the signed JSON matched to an outbox
 * (sync_engine_match_receipt, on an empty store in a temporary directory).
 * An odd first byte: the rest is the file. An even one: the rest is the file
 * without its signature, and the harness signs it with the test center key,
 * so the fuzzer reaches what only a signed receipt reaches. */
#define _GNU_SOURCE
#include "fuzz.h"

#include "sync.h"

#include <string.h>
#include <unistd.h>

static struct key *room, *center;
static struct sync_engine *engine;
static struct store *st;
static uv_loop_t loop;
static char dir[] = "/tmp/fuzz-receipt-XXXXXX";

static void cleanup(void)
{
    char path[64];

    snprintf(path, sizeof(path), "%s/room.db", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/room.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/room.db-shm", dir);
    unlink(path);
    rmdir(dir);
}

static void init(void)
{
    uint8_t raw[32];
    const struct sync_engine_config cfg = {0};
    struct sync_engine_config c = cfg;

    for (int i = 0; i < 32; i++)
        raw[i] = (uint8_t)(i + 1);
    FUZZ_CHECK(key_from_raw_private(KEY_ED25519, raw, &room) == 0);
    for (int i = 0; i < 32; i++)
        raw[i] = (uint8_t)(0x80 + i);
    FUZZ_CHECK(key_from_raw_private(KEY_ED25519, raw, &center) == 0);
    FUZZ_CHECK(mkdtemp(dir) != NULL);
    atexit(cleanup);
    FUZZ_CHECK(uv_loop_init(&loop) == 0);
    FUZZ_CHECK(store_open(&loop, dir, "room", &st) == 0);
    c.store = st;
    c.room = room;
    c.center = center;
    c.plan = "P1";
    c.room_id = "R01";
    FUZZ_CHECK(sync_engine_new(&c, &engine) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sync_receipt_match m;
    uint8_t *file;
    size_t n, body_len = 0;
    char *body = NULL;
    int rc;

    if (engine == NULL)
        init();
    if (size == 0 || size > RECEIPT_MAX)
        return 0;
    n = size - 1 + ((data[0] & 1) == 0 ? KEY_SIG_LEN : 0);
    file = malloc(n + 1);
    FUZZ_CHECK(file != NULL);
    memcpy(file, data + 1, size - 1);
    if ((data[0] & 1) == 0) {
        /* Sign as the format says: context, newline, the file so far. */
        size_t ctx = sizeof("EXAMROOM-USB-RECEIPT-V1");
        uint8_t *msg = malloc(ctx + size);

        FUZZ_CHECK(msg != NULL);
        memcpy(msg, "EXAMROOM-USB-RECEIPT-V1\n", ctx);
        memcpy(msg + ctx, data + 1, size - 1);
        FUZZ_CHECK(key_sign(center, msg, ctx + size - 1, file + size - 1) == 0);
        free(msg);
    }
    rc = receipt_parse(file, n, center, &body, &body_len);
    if (rc == 0) {
        FUZZ_CHECK(body != NULL && body[body_len] == '\0');
        rc = sync_engine_match_receipt(engine, body, body_len, &m);
        FUZZ_CHECK(rc == 0 || rc == ER_RECEIPT_OTHER_ROOM || rc == ER_RECEIPT_OTHER_PLAN ||
                   rc == ER_RECEIPT_MISMATCH);
        /* The store holds no rows: nothing can be acknowledged. */
        FUZZ_CHECK(rc < 0 || (m.acked == 0 && m.already == 0));
        if (rc == 0)
            free(m.uids);
    } else {
        FUZZ_CHECK(rc == ER_RECEIPT_TRUNCATED || rc == ER_RECEIPT_CORRUPT ||
                   rc == ER_RECEIPT_NOT_RECEIPT || rc == ER_RECEIPT_OTHER_CENTER ||
                   rc == ER_PKG_TOO_LARGE);
    }
    free(body);
    free(file);
    return 0;
}
