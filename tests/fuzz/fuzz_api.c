/* Fuzzes the terminal API's request bodies: any bytes as a sign-in body, a
 * proctor login body and as an answer body for each kind of item. A refusal is ER_API_BODY or
 * ER_API_ANSWER; what is accepted is what the item can take (re-checked by
 * hand here, not by the function under test) and its rev is at least 1. */
#include "fuzz.h"

#include "api.h"

#include <string.h>

static json_t *item(const char *type)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "id", "1", "type", type, "options", "A",
                     "a", "B", "b", "C", "c", "D", "d");
}

static void check_answer(const char *type, const char *a)
{
    size_t n = strlen(a);

    FUZZ_CHECK(n <= API_ANSWER_MAX);
    if (n == 0)
        return;
    if (strcmp(type, "judge") == 0) {
        FUZZ_CHECK(strcmp(a, "T") == 0 || strcmp(a, "F") == 0);
        return;
    }
    FUZZ_CHECK(strcmp(type, "multiple") == 0 || n == 1);
    FUZZ_CHECK(strcmp(type, "other") != 0);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(a[i] >= 'A' && a[i] <= 'D' && (i == 0 || a[i] > a[i - 1]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {"single", "multiple", "judge", "other"};
    char ticket[API_TICKET_MAX + 1], id[API_IDNUM_MAX + 1], answer[API_ANSWER_MAX + 1],
        password[API_PASSWORD_MAX + 1];
    uint8_t text[API_CARD_TEXT];
    char read[API_READ_MAX + 1];
    int64_t age = -1;
    const char *body = (const char *)data;
    int card = -1, none = -1, rc = api_signin_body(body, size, ticket, id, &card);

    FUZZ_CHECK(rc == 0 || rc == ER_API_BODY);
    if (rc == 0)
        FUZZ_CHECK(strlen(ticket) <= API_TICKET_MAX && strlen(id) <= API_IDNUM_MAX &&
                   (card == 0 || (card == 1 && id[0] == '\0')));
    rc = api_card_body(body, size, text, read, &age, &none);
    FUZZ_CHECK(rc == 0 || rc == ER_API_BODY);
    FUZZ_CHECK(none == 0 || (rc == 0 && none == 1 && read[0] == '\0'));
    if (rc == 0 && !none)
        FUZZ_CHECK(age >= 0 && read[0] != '\0' && strlen(read) <= API_READ_MAX &&
                   strspn(read, "0123456789abcdef") == strlen(read));
    rc = api_password_body(body, size, password);
    FUZZ_CHECK(rc == 0 || rc == ER_API_BODY);
    if (rc == 0)
        FUZZ_CHECK(strlen(password) >= 1 && strlen(password) <= API_PASSWORD_MAX);
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        json_t *it = item(types[t]);
        int64_t rev = 0;

        rc = api_answer_body(body, size, it, answer, &rev);
        FUZZ_CHECK(rc == 0 || rc == ER_API_BODY || rc == ER_API_ANSWER);
        if (rc == 0) {
            FUZZ_CHECK(rev >= 1);
            check_answer(types[t], answer);
        }
        json_decref(it);
    }
    return 0;
}
