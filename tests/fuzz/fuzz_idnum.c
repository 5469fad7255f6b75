/* Fuzzes the ID-number check: any text is refused with an ID error or
 * normalised to 18 characters that pass the check again unchanged. */
#include "fuzz.h"

#include "common.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), out[IDNUM_LEN + 1], again[IDNUM_LEN + 1];
    int rc;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    rc = idnum_check(text, out);
    if (rc < 0) {
        FUZZ_CHECK(rc == ER_ID_LENGTH || rc == ER_ID_CHAR || rc == ER_ID_BIRTH ||
                   rc == ER_ID_CHECK);
    } else {
        FUZZ_CHECK(rc == 0 && strlen(out) == IDNUM_LEN);
        FUZZ_CHECK(idnum_check(out, again) == 0 && strcmp(out, again) == 0);
        FUZZ_CHECK(idnum_check_char(out) == out[17]);
    }
    free(text);
    return 0;
}
