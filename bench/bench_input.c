/* What every sign-in and unlock pays to read what a person typed: the ID
 * check (GB 11643 with full-width folding) and the typed-code reader, beside
 * copying the same strings (the floor) in the same run. Budget context:
 * PERFORMANCE.md P2 allows 5 ms p99 for a whole sign-in. */
#include "crypto.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define ROUNDS 2000000

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile int sink;

static double bench_copy(const char *in)
{
    char out[128];
    double t0 = now_s();

    for (int i = 0; i < ROUNDS; i++) {
        size_t n = strlen(in);

        memcpy(out, in, n + 1);
        sink += out[i % n];
        __asm__ volatile("" ::: "memory");
    }
    return (now_s() - t0) / ROUNDS * 1e9;
}

static double bench_id(const char *in)
{
    char out[IDNUM_LEN + 1];
    double t0 = now_s();

    for (int i = 0; i < ROUNDS; i++)
        sink += idnum_check(in, out);
    return (now_s() - t0) / ROUNDS * 1e9;
}

static double bench_code(const char *in)
{
    uint8_t out[CODE_BYTES(CODE_UNLOCK_BITS)];
    double t0 = now_s();

    for (int i = 0; i < ROUNDS; i++)
        sink += code_decode(in, CODE_UNLOCK_BITS, out);
    return (now_s() - t0) / ROUNDS * 1e9;
}

int main(void)
{
    static const char *id_ascii = "44030419960428242x";
    static const char *id_wide = "４４０３０４１９９６０４２８２４２Ｘ";
    static const char *code = "vtpvx-vyazt-xbw4h-masg~";

    printf("\n## input checks (%d rounds each, ns per call)\n\n", ROUNDS);
    printf("| what | ns/call | baseline: copy the same string, ns |\n|---|---|---|\n");
    printf("| idnum_check, ASCII | %.0f | %.0f |\n", bench_id(id_ascii), bench_copy(id_ascii));
    printf("| idnum_check, full-width | %.0f | %.0f |\n", bench_id(id_wide), bench_copy(id_wide));
    printf("| code_decode, unlock code | %.0f | %.0f |\n", bench_code(code), bench_copy(code));
    return sink == 42 ? 1 : 0;
}
