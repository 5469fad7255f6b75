/* The room the HTTP harness serves (fuzz_http_room.c), and the tokens and
 * names its seeds use (tests/fuzz/corpus/http). From
 * tests/fixtures/sample-plan, room R01:
 *
 *   terminals   approved at seats 1, 2, 3: FUZZ_TERMINAL_TOKEN "1" .. "3";
 *               pending: FUZZ_PENDING_CODE_1, FUZZ_PENDING_CODE_2; every
 *               terminal asked with FUZZ_PAIRING_SECRET
 *   S1 (running, unlocked; started 40 minutes ago, no more late admission)
 *     4401000726000001 seat 1  running, FUZZ_CANDIDATE_TOKEN "1";
 *                              item 1 answered "B" at rev 3
 *     4401000726000003 seat 2  signed in, FUZZ_CANDIDATE_TOKEN_3 (a token as
 *                              issued, kept under its key: crypto.h)
 *     4401000726000005 seat 3  registered
 *   S2 (starts in 20 minutes, locked; sign-in open)
 *     4401000726000021 seat 1  registered, ID 440304200109020479
 *     4401000726000023 seat 2  signed in, FUZZ_CANDIDATE_TOKEN_23 (64 hex
 *                              digits kept under their plain SHA-256, as
 *                              issued before keys were ordered)
 *   the proctor: FUZZ_ADMIN_TOKEN, from 127.0.0.1; FUZZ_PROCTOR_TOKEN, a
 *               logged-in proctor's, from anywhere; FUZZ_PROCTOR_PASSWORD
 *               (set by cmd_init; a login runs scrypt, ~0.1 s) */
#ifndef EXAMROOM_FUZZ_HTTP_H
#define EXAMROOM_FUZZ_HTTP_H

#include "fuzz.h"
#include "http.h"

#define FUZZ_ADMIN_TOKEN      "fuzz-admin-token"
#define FUZZ_PROCTOR_PASSWORD "fuzz-proctor-password"
#define FUZZ_PROCTOR_TOKEN    "fuzz-proctor-token"
#define FUZZ_TERMINAL_TOKEN   "fuzz-terminal-"  /* and the seat */
#define FUZZ_CANDIDATE_TOKEN  "fuzz-candidate-" /* and the ticket's last digits */
#define FUZZ_CANDIDATE_TOKEN_3                                                                     \
    "0000019ae8c3f2a0"                                                                             \
    "333333333333333333333333333333333333333333333333"
#define FUZZ_CANDIDATE_TOKEN_23 "2323232323232323232323232323232323232323232323232323232323232323"
#define FUZZ_PAIRING_SECRET     "fuzz-pairing-secret"
#define FUZZ_PENDING_CODE_1     "PEND-001"
#define FUZZ_PENDING_CODE_2     "PEND-002"

struct fuzz_room {
    struct cli_ctx ctx;
    char dir[64];
    char db[ROOM_PATH_MAX], pristine[ROOM_PATH_MAX];
    uint64_t writes; /* the store's writes when the input started */
};

/* Makes the room in a new temporary directory and opens it as the daemon
 * does (without its center link and without libmicrohttpd). Aborts on any
 * failure: without its room the harness would test nothing. */
struct daemon *fuzz_room_make(struct fuzz_room *room);

/* After an input: waits for every write still on its way; when the input
 * wrote anything, puts the room's store back as it was made. Forgets what
 * the daemon keeps in memory (failed sign-ins and logins,
 * proctor logins but FUZZ_PROCTOR_TOKEN's, decrypted papers), so that every
 * input meets the same daemon too. */
void fuzz_room_settle(struct fuzz_room *room, struct daemon *d);

#endif
