/* crypto: the exam package format, keys, KDFs and the codes people type.
 * Depends on common and OpenSSL 3. */
#ifndef EXAMROOM_CRYPTO_H
#define EXAMROOM_CRYPTO_H

#include "common.h"

#include <stddef.h>
#include <stdint.h>

/* ---- typed codes (PRODUCT.md §7) ------------------------------------------
 *
 * A code is a bit string written as Crockford base32 symbols (5 bits each,
 * most significant first) followed by one check symbol: the value of the
 * whole symbol string taken as a base-32 number, mod 37, written with
 * Crockford's check alphabet (0-9 A-Z without I L O U, then * ~ $ = U).
 * Because 37 is prime and exceeds 32, every single-symbol substitution and
 * every transposition of two adjacent symbols changes the check.
 *
 * Shown in groups joined by '-'; read back ignoring case, spaces, hyphens and
 * full-width forms, with I and L read as 1 and O as 0. */

/* Serial codes (考场注册码): 75 random bits, 15 symbols + check, shown in
 * four groups of 4. One-time and bound to a room by the center's records, so
 * 75 bits leave nothing to guess. */
#define CODE_SERIAL_BITS  75
#define CODE_SERIAL_GROUP 4

/* Unlock codes (开考密码): 95 bits (≥ 80 required), 19 symbols + check, shown
 * in four groups of 5. */
#define CODE_UNLOCK_BITS  95
#define CODE_UNLOCK_GROUP 5

/* Longest code handled, in data symbols. */
#define CODE_MAX_SYMBOLS 64

/* Bytes that hold nbits bits. */
#define CODE_BYTES(nbits) (((nbits) + 7) / 8)

/* Size of the buffer code_encode() needs for nbits in groups of group
 * symbols, with the NUL. 0 when nbits is not a multiple of 5, is 0 or is
 * longer than CODE_MAX_SYMBOLS symbols. */
size_t code_text_size(unsigned nbits, unsigned group);

/* Writes the display form ("XXXX-XXXX-XXXX-XXXX") of the first nbits bits of
 * data (CODE_BYTES(nbits) bytes; unused low bits of the last byte must be
 * zero). nbits is a multiple of 5. Returns 0, or ER_USAGE for bad nbits,
 * a non-zero unused bit, or out (outsz bytes) smaller than code_text_size(). */
int code_encode(const uint8_t *data, unsigned nbits, unsigned group, char *out, size_t outsz);

/* Reads a code of nbits bits typed by a person into data (CODE_BYTES(nbits)
 * bytes). Errors, checked in this order, all of them a typing mistake:
 *   ER_CODE_CHAR    a character that is not a symbol, or a check-only symbol
 *                   (* ~ $ = U) before the last place
 *   ER_CODE_LENGTH  too many or too few symbols
 *   ER_CODE_TYPO    the check symbol does not match
 * data is written only on success. ER_USAGE for bad nbits. */
int code_decode(const char *text, unsigned nbits, uint8_t *data);

/* Fills data with nbits random bits (OpenSSL's CSPRNG) and clears the unused
 * low bits of the last byte. ER_RANDOM when the CSPRNG fails. */
int code_random(unsigned nbits, uint8_t *data);

#endif
