/* PERFORMANCE.md P3: package open (verify + decrypt) of a 1 GiB package,
 * throughput and peak RSS, beside `openssl speed` for AES-256-GCM and SHA-256
 * in the same run (the limit: every byte is hashed once and decrypted once).
 * A 64 MiB package is opened too, to show that memory does not grow with the
 * package. Each open runs in a child process so that its peak RSS is the
 * reader's own. The file is in the page cache: this measures the reader, not
 * the disk. */
#include "crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MiB (1024.0 * 1024.0)

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct key *center, *room, *room_pub;

static int build(const char *path, uint64_t size)
{
    static uint8_t buf[1 << 20];
    uint8_t code[12] = {0};
    const struct pkg_session_spec s = {"S1", code, 0, 0};
    const struct pkg_writer_params p = {
        .plan_id = "20261205-bench",
        .room_id = "R01",
        .version = 1,
        .created_at = 0,
        .expires_at = INT64_MAX,
        .center_key = center,
        .room_key = room_pub,
        .sessions = &s,
        .n_sessions = 1,
        .scrypt_log2_n = 10,
    };
    struct pkg_writer *w;
    int rc;

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 2654435761u >> 13);
    rc = pkg_writer_new(&p, path, &w);
    if (rc == 0)
        rc = pkg_writer_begin(w, "photos", NULL);
    for (uint64_t done = 0; rc == 0 && done < size; done += sizeof(buf))
        rc = pkg_writer_write(w, buf, sizeof(buf));
    if (rc == 0)
        rc = pkg_writer_end(w);
    if (rc == 0)
        rc = pkg_writer_finish(w);
    pkg_writer_free(w);
    return rc;
}

static int discard(void *arg, const uint8_t *data, size_t n)
{
    (void)data;
    *(uint64_t *)arg += n;
    return 0;
}

static long vm_hwm_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;

    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kib;
}

/* In a child: open, then either verify only or read (verify + decrypt in
 * one pass). Writes seconds and peak RSS to the pipe. */
static int measure(const char *path, int verify_only, double *secs, long *rss_kib)
{
    int fds[2];
    pid_t pid;
    struct {
        double secs;
        long rss;
        int rc;
    } out = {0};

    if (pipe(fds) != 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        const struct pkg_trust t = {center, room, 0, 1};
        struct pkg_reader *r;
        uint64_t got = 0;
        double t0 = now_s();

        out.rc = pkg_open(path, &t, &r);
        if (out.rc == 0) {
            out.rc = verify_only ? pkg_verify(r) : pkg_read(r, "photos", NULL, discard, &got);
            pkg_close(r);
        }
        out.secs = now_s() - t0;
        out.rss = vm_hwm_kib();
        if (write(fds[1], &out, sizeof(out)) != (ssize_t)sizeof(out))
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    if (read(fds[0], &out, sizeof(out)) != (ssize_t)sizeof(out))
        out.rc = -1;
    close(fds[0]);
    waitpid(pid, NULL, 0);
    *secs = out.secs;
    *rss_kib = out.rss;
    return out.rc;
}

/* `openssl speed -evp ALG -bytes 65536` ends with a line "ALG  123456.78k":
 * thousands of bytes per second. Returns MB/s. */
static double openssl_speed(const char *alg)
{
    char cmd[160], line[512], last[512] = "";
    const char *tok;
    FILE *p;

    snprintf(cmd, sizeof(cmd), "openssl speed -evp %s -bytes 65536 -seconds 2 2>/dev/null", alg);
    p = popen(cmd, "r");
    while (p != NULL && fgets(line, sizeof(line), p) != NULL)
        memcpy(last, line, sizeof(last));
    if (p != NULL)
        pclose(p);
    tok = strrchr(last, ' ');
    return tok != NULL ? atof(tok + 1) * 1000 / 1e6 : 0;
}

int main(void)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char small[256], big[256];
    uint8_t raw[32];
    double secs, aes, sha, mb, both;
    long rss;

    if (key_generate(KEY_ED25519, &center) || key_generate(KEY_X25519, &room))
        return 1;
    key_public_raw(room, raw);
    if (key_from_raw_public(KEY_X25519, raw, &room_pub))
        return 1;
    snprintf(small, sizeof(small), "%s/examroom-bench-64m.pkg", dir);
    snprintf(big, sizeof(big), "%s/examroom-bench-1g.pkg", dir);

    printf("\n## P3: package open (verify + decrypt), target >= 1 GB/s, peak RSS <= 16 MiB\n\n");
    {
        double t0 = now_s();

        if (build(big, (uint64_t)1 << 30) || build(small, (uint64_t)64 << 20)) {
            fprintf(stderr, "bench_package: cannot write the packages in %s\n", dir);
            return 1;
        }
        printf("(built a 1 GiB and a 64 MiB package in %.1f s)\n\n", now_s() - t0);
    }
    aes = openssl_speed("aes-256-gcm");
    sha = openssl_speed("sha256");
    both = 1 / (1 / aes + 1 / sha);
    printf("| what | MB/s | peak RSS |\n|---|---|---|\n");
    /* Warm the page cache, so each figure measures the reader only. */
    measure(big, 1, &secs, &rss);
    if (measure(big, 0, &secs, &rss) != 0)
        return 1;
    mb = (double)(1u << 30) / 1e6 / secs;
    printf("| open 1 GiB: verify + decrypt, one pass | **%.0f** | **%.1f MiB** |\n", mb,
           rss / 1024.0);
    if (measure(small, 0, &secs, &rss) != 0)
        return 1;
    printf("| open 64 MiB: verify + decrypt, one pass | %.0f | %.1f MiB |\n",
           (double)(64u << 20) / 1e6 / secs, rss / 1024.0);
    if (measure(big, 1, &secs, &rss) != 0)
        return 1;
    printf("| pkg_verify 1 GiB: chains only, no key | %.0f | %.1f MiB |\n",
           (double)(1u << 30) / 1e6 / secs, rss / 1024.0);
    printf("| baseline: openssl speed aes-256-gcm, 64 KiB blocks | %.0f | |\n", aes);
    printf("| baseline: openssl speed sha256, 64 KiB blocks | %.0f | |\n", sha);
    printf("| limit: hash and decrypt each byte once, 1/(1/aes + 1/sha) | %.0f | |\n", both);
    printf("\nopen reaches %.0f%% of the limit.\n", 100 * mb / both);
    unlink(big);
    unlink(small);
    key_free(center);
    key_free(room);
    key_free(room_pub);
    return 0;
}
