/* faultproxy: what its two files share. rules.c reads the command line and
 * chooses each connection's fault; faultproxy.c is the proxy on the loop. */
#ifndef EXAMROOM_FAULTPROXY_H
#define EXAMROOM_FAULTPROXY_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#define MAX_RULES 32

enum fault_kind { F_NONE, F_RESET, F_DELAY, F_LOST_ACK, F_503, F_STALL, F_SESSION_RESET, F_KINDS };

struct fault {
    enum fault_kind kind;
    uint64_t arg; /* reset: bytes; delay, lost-ack: milliseconds */
};

struct rule {
    enum { RULE_EVERY, RULE_CONN, RULE_RANDOM } how;
    uint64_t k; /* every, conn */
    double p;   /* random */
    struct fault fault;
};

struct options {
    struct sockaddr_storage listen, upstream;
    uint64_t seed, session_reset; /* session_reset: 0 for none */
    struct rule rules[MAX_RULES];
    int nrules;
};

/* "reset", "lost-ack", ... as the summary line names them. */
extern const char *const fault_names[F_KINDS];

/* Reads the command line into o. 0, with *help set when --help was given
 * (the usage is then printed on stdout); or ER_USAGE, the problem and the
 * usage printed on stderr. */
int options_parse(struct options *o, int argc, char **argv, int *help);

/* The fault of connection n (counted from 1). *rng is the state of the
 * --random draws: one draw a connection, so a seed always gives the same
 * faults to the same connections. */
struct fault options_choose(const struct options *o, uint64_t *rng, uint64_t n);

#endif
