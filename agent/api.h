/* Private to agent/: the terminal API's request bodies, parsed and checked
 * without the daemon, so that tests/fuzz/fuzz_api.c can reach them. */
#ifndef EXAMROOM_AGENT_API_H
#define EXAMROOM_AGENT_API_H

#include "common.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define API_TICKET_MAX 60  /* bytes of an admission ticket as typed */
#define API_IDNUM_MAX  100 /* bytes of an ID number as typed */
#define API_ANSWER_MAX 256 /* bytes of an answer (STORE_ANSWER_MAX) */

/* POST /api/v1/signin {ticket, id_number} or {ticket, card: true}: the
 * ticket and the ID number strings, within their limits, copied out; with
 * "card": true the ID number is the one the seat's card reader read (the
 * agent's, never the browser's): id_number may be absent, id is "" and
 * *card 1. ER_API_BODY otherwise. */
int api_signin_body(const char *body, size_t len, char ticket[API_TICKET_MAX + 1],
                    char id[API_IDNUM_MAX + 1], int *card);

/* POST /api/v1/reader/card from a seat's card reader, every 5 s and at
 * once when a card is read: the last card read, {"text": HEX, "read": ID,
 * "age_ms": N} (its 256-byte text block in 512 hex digits; ID, 1 to 32
 * lower-case hex digits, names this read of it; N >= 0 how long ago it was
 * read), copied out with *none 0; or {"none": true}, no card read lately
 * (*none 1). ER_API_BODY otherwise. */
#define API_CARD_TEXT 256
#define API_READ_MAX  32
int api_card_body(const char *body, size_t len, uint8_t text[API_CARD_TEXT],
                  char read[API_READ_MAX + 1], int64_t *age_ms, int *none);

/* POST /api/v1/proctor/login {password}: a string of 1..API_PASSWORD_MAX
 * bytes, copied out. ER_API_BODY otherwise. */
#define API_PASSWORD_MAX 127
int api_password_body(const char *body, size_t len, char password[API_PASSWORD_MAX + 1]);

/* PUT /api/v1/answers/{item} {answer, rev}: answer a string that fits item
 * (api_answer_fits), rev an integer >= 1. ER_API_BODY for a body that is not
 * that shape, ER_API_ANSWER for an answer the item cannot take. */
int api_answer_body(const char *body, size_t len, const json_t *item,
                    char answer[API_ANSWER_MAX + 1], int64_t *rev);

/* Does answer fit the paper's item: "" (cleared), or for single one option
 * letter, for multiple one or more option letters in order, for judge T or
 * F? */
int api_answer_fits(const json_t *item, const char *answer);

#endif
