/* idreader: the serial protocol of a second-generation resident ID card
 * reader's SAM module (docs/idreader.md): command frames built, reply
 * frames parsed from a byte stream as it comes, the card's text block
 * decoded. Pure functions, no I/O: the daemon's side (idreader_serve.c)
 * owns the device, the fuzz harness and the simulated reader share this.
 *
 * A frame: the preamble AA AA AA 96 69, a two-byte big-endian length of
 * what follows it, then a command's CMD PARA DATA or a reply's SW1 SW2 SW3
 * DATA, then one checksum byte: the XOR of every byte after the preamble
 * (the length included) but the checksum itself. */
#ifndef EXAMROOM_IDREADER_H
#define EXAMROOM_IDREADER_H

#include <stddef.h>
#include <stdint.h>

#define IDR_PREAMBLE_LEN 5
#define IDR_HEAD_LEN     7 /* preamble and length */
#define IDR_FRAME_MAX                                                                              \
    4096                   /* a whole frame; the largest reply (30 10, text, photo and             \
                              fingerprints) is 2,321 bytes */
#define IDR_TEXT_LEN  256  /* the card's text block, UCS-2LE */
#define IDR_PHOTO_LEN 1024 /* the card's photo (a vendor's compressed format) */

/* Commands: CMD << 8 | PARA. */
enum idr_command {
    IDR_RESET_SAM = 0x10ff,
    IDR_SAM_STATUS = 0x11ff,
    IDR_SAM_ID = 0x12ff,
    IDR_FIND_CARD = 0x2001,
    IDR_SELECT_CARD = 0x2002,
    IDR_READ_TEXT = 0x3001, /* text and photo */
};

/* SW3, the reader's own status (SW1 SW2 are 00 00 but for a few errors
 * that forward the card's). */
enum idr_status {
    IDR_OK = 0x90,
    IDR_FOUND = 0x9f,        /* find card: a card is there */
    IDR_BAD_CHECKSUM = 0x10, /* the reader got our frame damaged */
    IDR_BAD_LENGTH = 0x11,
    IDR_BAD_COMMAND = 0x21,
    IDR_NO_CARD = 0x80,     /* find card: none */
    IDR_SELECT_FAIL = 0x81, /* select card failed (taken away) */
    IDR_READ_FAIL = 0x41,
    IDR_SELF_TEST = 0x60,
    IDR_NOT_AUTHORISED = 0x66,
};

/* Builds the frame of command with n bytes of data into out (outsz bytes).
 * Returns its length, or 0 when it does not fit (or n is over the limit). */
size_t idr_build(enum idr_command command, const uint8_t *data, size_t n, uint8_t *out,
                 size_t outsz);

/* The XOR checksum of n bytes. */
uint8_t idr_xor(const uint8_t *p, size_t n);

/* One reply: the status bytes and its data (valid during the callback). */
struct idr_reply {
    uint8_t sw1, sw2, sw3;
    const uint8_t *data;
    size_t len;
};

/* An incremental parser of replies. Bytes come as the device gives them:
 * a frame split over many reads, several frames in one, noise between
 * them. What is not a valid frame is skipped and counted, and the parser
 * looks for the next preamble; it never holds more than IDR_FRAME_MAX. */
struct idr_parser {
    uint8_t buf[IDR_FRAME_MAX];
    size_t n;
    uint64_t frames;       /* valid frames given to the callback */
    uint64_t bad_checksum; /* frames whose checksum did not match */
    uint64_t bad_length;   /* a length under 4 or past IDR_FRAME_MAX */
    uint64_t garbage;      /* bytes skipped outside any frame */
};

void idr_parser_init(struct idr_parser *p);
/* Drops what is buffered (the counts stay). */
void idr_parser_reset(struct idr_parser *p);
/* Feeds n bytes: fn is called for every valid frame completed, in order.
 * fn may not call idr_feed on the same parser. */
void idr_feed(struct idr_parser *p, const uint8_t *in, size_t n,
              void (*fn)(const struct idr_reply *, void *), void *arg);

/* The text on a card, in UTF-8 with the padding spaces trimmed. Codes as
 * the card holds them: sex "1" male, "2" female; nation "01" Han...;
 * dates YYYYMMDD (valid_to may be "长期"). */
struct idr_card {
    char name[15 * 3 + 1];
    char sex[1 * 3 + 1];
    char nation[2 * 3 + 1];
    char birth[8 * 3 + 1];
    char address[35 * 3 + 1];
    char id_number[18 * 3 + 1];
    char issuer[15 * 3 + 1];
    char valid_from[8 * 3 + 1];
    char valid_to[8 * 3 + 1];
};

/* Decodes the 256-byte text block. Always fills every field (a UTF-16
 * surrogate or a NUL becomes '?'; a field ends at its first NUL pair). */
void idr_decode_text(const uint8_t text[IDR_TEXT_LEN], struct idr_card *card);

/* Decodes the data of a read-text reply (30 01): the text length and photo
 * length (two bytes each, big-endian), the text, the photo. 0, or -1 when
 * the reply is not one (its lengths do not fit its size, or the text is
 * shorter than IDR_TEXT_LEN). */
int idr_decode_read(const struct idr_reply *r, struct idr_card *card);

/* Encodes card into a 256-byte text block (UCS-2LE, padded with spaces):
 * for the simulated reader and the tests. -1 when a field is not UTF-8 of
 * the Basic Multilingual Plane or too long for its place. */
int idr_encode_text(const struct idr_card *card, uint8_t text[IDR_TEXT_LEN]);

#endif
