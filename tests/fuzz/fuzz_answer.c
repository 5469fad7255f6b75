/* Fuzzes the room's check of a center's answer (docs/protocol.md "Signed
 * answers"): sync_verify_answer(), then what the room reads out of an
 * answer, sync_answer_error() and sync_too_early_until(). The first byte
 * picks the case: bit 0 set, the rest is the body and is signed by the test
 * center key (so the fuzzer reaches the binding and the fields past the
 * signature); clear, it is sent unsigned (or with a signature of other
 * bytes, bit 1), as a forger on the wire would. Bit 2: a 2xx answer (the
 * session key's context), else a 403 error answer. Property: an answer the
 * center did not sign is never accepted, and one not naming this request's
 * room key and nonce is never taken, so no opens_at comes from it. */
#include "fuzz.h"

#include "sync.h"

#include <string.h>

#define ROOM_KEY_ID "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
#define NONCE       "00112233445566778899aabbccddeeff"

static struct key *center;

static void init(void)
{
    uint8_t raw[32];

    for (int i = 0; i < 32; i++)
        raw[i] = (uint8_t)(0x80 + i);
    FUZZ_CHECK(key_from_raw_private(KEY_ED25519, raw, &center) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sync_response r;
    const char *context;
    json_t *doc = NULL;
    int rc, signed_here;

    if (center == NULL)
        init();
    if (size == 0 || size > 65536)
        return 0;
    memset(&r, 0, sizeof(r));
    signed_here = data[0] & 1;
    context = (data[0] & 4) ? PROTO_CTX_SESSION_KEY : PROTO_CTX_ERROR;
    r.status = (data[0] & 4) ? 200 : 403;
    r.len = size - 1;
    r.body = malloc(r.len + 1);
    FUZZ_CHECK(r.body != NULL);
    memcpy(r.body, data + 1, r.len);
    r.body[r.len] = '\0';
    snprintf(r.room_key, sizeof(r.room_key), "%s", ROOM_KEY_ID);
    snprintf(r.nonce, sizeof(r.nonce), "%s", NONCE);
    if (signed_here)
        FUZZ_CHECK(proto_sign_body(center, context, r.body, r.len, r.center_sig) == 0);
    else if (data[0] & 2)
        FUZZ_CHECK(proto_sign_body(center, context, "{}", 2, r.center_sig) == 0);

    rc = sync_verify_answer(center, context, &r, &doc);
    FUZZ_CHECK(rc == 0 || rc == ER_SYNC_BADSIG || rc == ER_SYNC_PROTOCOL || rc == ER_SYNC_UNBOUND);
    if (!signed_here)
        FUZZ_CHECK(rc == ER_SYNC_BADSIG || (data[0] & 2 && r.len == 2 && !memcmp(r.body, "{}", 2)));
    if (rc == 0) {
        json_t *req = json_object_get(doc, "request");

        FUZZ_CHECK(json_is_object(doc));
        FUZZ_CHECK(strcmp(json_string_value(json_object_get(req, "nonce")), NONCE) == 0);
        FUZZ_CHECK(strcmp(json_string_value(json_object_get(req, "room_key")), ROOM_KEY_ID) == 0);
    } else {
        FUZZ_CHECK(doc == NULL);
    }
    json_decref(doc);

    /* What the room takes from it: only a verified, bound answer. */
    r.answer = rc;
    r.answer_expected = r.status == 200;
    (void)sync_answer_error(&r);
    if (rc != 0)
        FUZZ_CHECK(sync_too_early_until(&r) == 0);
    else
        (void)sync_too_early_until(&r);
    free(r.body);
    return 0;
}
