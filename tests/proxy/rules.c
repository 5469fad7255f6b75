/* faultproxy's command line: the usage text, the parser, and the rules
 * that choose each connection's fault. Nothing here touches the loop. */
#include "common.h"
#include "faultproxy.h"

#include <uv.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOST_ACK_QUIET_MS 200

const char *const fault_names[F_KINDS] = {"none", "reset", "delay",        "lost-ack",
                                          "503",  "stall", "session-reset"};

static const char usage_text[] =
    "usage: faultproxy --listen HOST:PORT --upstream HOST:PORT [--seed N]\n"
    "                  [--session-reset-every N] [RULE...]\n"
    "\n"
    "A TCP proxy for tests. It passes bytes both ways between each client and\n"
    "the upstream and injects faults, chosen per connection by the rules. It\n"
    "works below TLS, so HTTPS passes through unchanged. When ready it prints\n"
    "\"listening on HOST:PORT\" on stdout (port 0 picks a free port); SIGTERM\n"
    "or SIGINT stop it (exit 0) with a summary line on stderr: connections,\n"
    "bytes each way, and faults by kind (delay, 503 and stall count the\n"
    "connections given them; reset, session-reset and lost-ack the resets made).\n"
    "\n"
    "Rules are tried in the order given; the first that matches a connection\n"
    "chooses its fault; a connection no rule matches passes cleanly.\n"
    "  --every K:FAULT        connections K, 2K, 3K, ... (counted from 1)\n"
    "  --conn N:FAULT         connection N only\n"
    "  --random P:FAULT       each connection with probability P (0 to 1), drawn\n"
    "                         from --seed; the P of all --random rules add up to\n"
    "                         at most 1 (one draw a connection)\n"
    "  --reset-after-bytes N  the same as --every 1:reset:N\n"
    "\n"
    "Faults:\n"
    "  reset:N        reset the connection (RST) once N bytes have gone from\n"
    "                 the server to the client on it: the client reads exactly\n"
    "                 N bytes, then ECONNRESET\n"
    "  delay:MS       hold each chunk, both ways, MS milliseconds\n"
    "  lost-ack[:MS]  forward the request and let the server answer, but\n"
    "                 swallow the answer and reset the client once both sides\n"
    "                 have been quiet MS ms (default 200) or the server closes.\n"
    "                 Over TLS the request starts with the client's first\n"
    "                 application-data record; the handshake passes\n"
    "  503            answer \"HTTP/1.1 503 Service Unavailable\" to the client's\n"
    "                 first bytes and close, never contacting the upstream.\n"
    "                 Plain HTTP only: a TLS client sees a handshake error\n"
    "  stall          accept, read and discard, never answer, until the\n"
    "                 client closes\n"
    "\n"
    "Whole session:\n"
    "  --session-reset-every N  reset whichever connection carries server-to-client\n"
    "                 byte N, 2N, 3N, ... of the whole run, right after it\n"
    "  --seed N       seed of the --random draws (default 1)\n";

/* ---- choosing a fault ---- */

/* splitmix64: small, and good enough for picking connections. */
static double next_uniform(uint64_t *rng)
{
    uint64_t z = (*rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0; /* 2^53 */
}

struct fault options_choose(const struct options *o, uint64_t *rng, uint64_t n)
{
    /* Drawn for every connection, so the draws depend only on the count. */
    double u = next_uniform(rng), acc = 0;
    struct fault none = {F_NONE, 0};

    for (int i = 0; i < o->nrules; i++) {
        const struct rule *r = &o->rules[i];

        if (r->how == RULE_EVERY && n % r->k == 0)
            return r->fault;
        if (r->how == RULE_CONN && n == r->k)
            return r->fault;
        if (r->how == RULE_RANDOM) {
            if (u >= acc && u < acc + r->p)
                return r->fault;
            acc += r->p;
        }
    }
    return none;
}

/* ---- the command line ---- */

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s < '0' || *s > '9')
        return ER_USAGE;
    v = strtoull(s, &end, 10);
    if (*end != '\0' || v > max)
        return ER_USAGE;
    *out = v;
    return 0;
}

static int parse_fault(const char *s, struct fault *f)
{
    f->arg = 0;
    if (strcmp(s, "503") == 0) {
        f->kind = F_503;
        return 0;
    }
    if (strcmp(s, "stall") == 0) {
        f->kind = F_STALL;
        return 0;
    }
    if (strcmp(s, "lost-ack") == 0) {
        f->kind = F_LOST_ACK;
        f->arg = LOST_ACK_QUIET_MS;
        return 0;
    }
    if (strncmp(s, "lost-ack:", 9) == 0) {
        f->kind = F_LOST_ACK;
        return parse_u64(s + 9, 3600000, &f->arg);
    }
    if (strncmp(s, "delay:", 6) == 0) {
        f->kind = F_DELAY;
        return parse_u64(s + 6, 3600000, &f->arg);
    }
    if (strncmp(s, "reset:", 6) == 0) {
        f->kind = F_RESET;
        return parse_u64(s + 6, UINT64_MAX, &f->arg);
    }
    return ER_USAGE;
}

/* "K:FAULT" for --every and --conn, "P:FAULT" for --random. */
static int parse_rule(struct options *o, int how, const char *s)
{
    struct rule *r = &o->rules[o->nrules];
    const char *colon = s != NULL ? strchr(s, ':') : NULL;
    char head[32];
    char *end;
    double sum = 0;

    if (colon == NULL || colon - s >= (ptrdiff_t)sizeof(head) || o->nrules == MAX_RULES)
        return ER_USAGE;
    memcpy(head, s, (size_t)(colon - s));
    head[colon - s] = '\0';
    r->how = how;
    if (how == RULE_RANDOM) {
        r->p = strtod(head, &end);
        if (end == head || *end != '\0' || !(r->p >= 0 && r->p <= 1))
            return ER_USAGE;
        for (int i = 0; i < o->nrules; i++)
            sum += o->rules[i].how == RULE_RANDOM ? o->rules[i].p : 0;
        if (sum + r->p > 1 + 1e-9)
            return ER_USAGE;
    } else if (parse_u64(head, UINT64_MAX, &r->k) < 0 || r->k == 0) {
        return ER_USAGE;
    }
    if (parse_fault(colon + 1, &r->fault) < 0)
        return ER_USAGE;
    o->nrules++;
    return 0;
}

/* "127.0.0.1:8443" or "[::1]:8443". */
static int parse_addr(const char *s, struct sockaddr_storage *ss)
{
    const char *colon = s != NULL ? strrchr(s, ':') : NULL;
    char host[64];
    uint64_t port;
    size_t len;

    if (colon == NULL || parse_u64(colon + 1, 65535, &port) < 0)
        return ER_USAGE;
    len = (size_t)(colon - s);
    if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
        if (len - 2 >= sizeof(host))
            return ER_USAGE;
        memcpy(host, s + 1, len - 2);
        host[len - 2] = '\0';
        return uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) == 0 ? 0 : ER_USAGE;
    }
    if (len >= sizeof(host))
        return ER_USAGE;
    memcpy(host, s, len);
    host[len] = '\0';
    return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) == 0 ? 0 : ER_USAGE;
}

/* Matches argv[*i] as "--name VALUE" or "--name=VALUE"; *val is NULL when
 * the value is missing. */
static int match_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
    size_t n = strlen(name);

    if (strncmp(argv[*i], name, n) != 0 || (argv[*i][n] != '\0' && argv[*i][n] != '='))
        return 0;
    if (argv[*i][n] == '=')
        *val = argv[*i] + n + 1;
    else
        *val = *i + 1 < argc ? argv[++*i] : NULL;
    return 1;
}

static int parse_one(struct options *o, int argc, char **argv, int *i, int *have)
{
    const char *v = NULL;
    char every1[64];

    if (match_opt(argc, argv, i, "--listen", &v)) {
        have[0] = 1;
        return parse_addr(v, &o->listen);
    }
    if (match_opt(argc, argv, i, "--upstream", &v)) {
        have[1] = 1;
        return parse_addr(v, &o->upstream);
    }
    if (match_opt(argc, argv, i, "--seed", &v))
        return parse_u64(v, UINT64_MAX, &o->seed);
    if (match_opt(argc, argv, i, "--session-reset-every", &v))
        return parse_u64(v, UINT64_MAX, &o->session_reset) < 0 || o->session_reset == 0 ? ER_USAGE
                                                                                        : 0;
    if (match_opt(argc, argv, i, "--every", &v))
        return parse_rule(o, RULE_EVERY, v);
    if (match_opt(argc, argv, i, "--conn", &v))
        return parse_rule(o, RULE_CONN, v);
    if (match_opt(argc, argv, i, "--random", &v))
        return parse_rule(o, RULE_RANDOM, v);
    if (match_opt(argc, argv, i, "--reset-after-bytes", &v)) {
        if (v == NULL || snprintf(every1, sizeof(every1), "1:reset:%s", v) >= (int)sizeof(every1))
            return ER_USAGE;
        return parse_rule(o, RULE_EVERY, every1);
    }
    return ER_USAGE;
}

int options_parse(struct options *o, int argc, char **argv, int *help)
{
    int have[2] = {0, 0};

    memset(o, 0, sizeof(*o));
    o->seed = 1;
    *help = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            *help = 1;
            fputs(usage_text, stdout);
            return 0;
        }
        if (parse_one(o, argc, argv, &i, have) < 0) {
            fprintf(stderr, "faultproxy: bad argument near \"%s\"\n%s", argv[i], usage_text);
            return ER_USAGE;
        }
    }
    if (!have[0] || !have[1]) {
        fprintf(stderr, "faultproxy: --listen and --upstream are required\n%s", usage_text);
        return ER_USAGE;
    }
    return 0;
}
