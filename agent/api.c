/* The terminal API's request bodies (api.h). */
#include "api.h"

#include <stdio.h>
#include <string.h>

/* A JSON object from exactly the body's bytes (NULs included: jansson
 * refuses them unless told otherwise), a key given twice refused (which
 * one counts would be the parser's guess). */
static json_t *object_of(const char *body, size_t len)
{
    json_t *doc =
        json_loadb(body != NULL ? body : "", body != NULL ? len : 0, JSON_REJECT_DUPLICATES, NULL);

    if (doc != NULL && !json_is_object(doc)) {
        json_decref(doc);
        doc = NULL;
    }
    return doc;
}

static int copy_string(json_t *doc, const char *field, char *out, size_t max)
{
    const json_t *v = json_object_get(doc, field);
    size_t n;

    if (!json_is_string(v))
        return ER_API_BODY;
    n = json_string_length(v);
    if (n > max || strlen(json_string_value(v)) != n) /* no NUL inside */
        return ER_API_BODY;
    memcpy(out, json_string_value(v), n + 1);
    return 0;
}

int api_signin_body(const char *body, size_t len, char ticket[API_TICKET_MAX + 1],
                    char id[API_IDNUM_MAX + 1], int *card)
{
    json_t *doc = object_of(body, len);
    const json_t *c = json_object_get(doc, "card");
    int rc = doc == NULL ? ER_API_BODY : copy_string(doc, "ticket", ticket, API_TICKET_MAX);

    *card = json_is_true(c);
    if (c != NULL && !json_is_boolean(c))
        rc = ER_API_BODY;
    if (rc == 0 && *card)
        id[0] = '\0';
    else if (rc == 0)
        rc = copy_string(doc, "id_number", id, API_IDNUM_MAX);
    json_decref(doc);
    return rc;
}

int api_card_body(const char *body, size_t len, uint8_t text[API_CARD_TEXT],
                  char read[API_READ_MAX + 1], int64_t *age_ms, int *none)
{
    json_t *doc = object_of(body, len);
    const json_t *t = json_object_get(doc, "text"), *age = json_object_get(doc, "age_ms");
    int rc = ER_API_BODY;

    *none = 0;
    *age_ms = 0;
    read[0] = '\0';
    if (doc != NULL && json_is_true(json_object_get(doc, "none")) && json_object_size(doc) == 1) {
        *none = 1;
        rc = 0;
    } else if (doc != NULL && json_object_size(doc) == 3 && json_is_string(t) &&
               json_string_length(t) == 2 * API_CARD_TEXT &&
               hex_decode(json_string_value(t), text, API_CARD_TEXT) == 0 && json_is_integer(age) &&
               json_integer_value(age) >= 0 && copy_string(doc, "read", read, API_READ_MAX) == 0 &&
               read[0] != '\0' && strspn(read, "0123456789abcdef") == strlen(read)) {
        *age_ms = (int64_t)json_integer_value(age);
        rc = 0;
    }
    if (rc < 0)
        read[0] = '\0';
    json_decref(doc);
    return rc;
}

int api_password_body(const char *body, size_t len, char password[API_PASSWORD_MAX + 1])
{
    json_t *doc = object_of(body, len);
    int rc = doc == NULL ? ER_API_BODY : copy_string(doc, "password", password, API_PASSWORD_MAX);

    json_decref(doc);
    if (rc == 0 && password[0] == '\0')
        rc = ER_API_BODY;
    return rc;
}

int api_answer_fits(const json_t *item, const char *a)
{
    const char *type = json_string_value(json_object_get(item, "type"));
    const json_t *options = json_object_get(item, "options");
    size_t n = strlen(a);

    if (n == 0)
        return 1;
    if (type == NULL)
        return 0;
    if (strcmp(type, "judge") == 0)
        return strcmp(a, "T") == 0 || strcmp(a, "F") == 0;
    if (strcmp(type, "single") != 0 && strcmp(type, "multiple") != 0)
        return 0;
    if (strcmp(type, "single") == 0 && n != 1)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char letter[2] = {a[i], '\0'};

        if (a[i] < 'A' || a[i] > 'Z' || (i > 0 && a[i] <= a[i - 1]) ||
            json_object_get(options, letter) == NULL)
            return 0;
    }
    return 1;
}

int api_answer_body(const char *body, size_t len, const json_t *item,
                    char answer[API_ANSWER_MAX + 1], int64_t *rev)
{
    json_t *doc = object_of(body, len), *r;
    int rc = doc == NULL ? ER_API_BODY : copy_string(doc, "answer", answer, API_ANSWER_MAX);

    r = json_object_get(doc, "rev");
    if (rc == 0 && (!json_is_integer(r) || json_integer_value(r) < 1))
        rc = ER_API_BODY;
    if (rc == 0 && !api_answer_fits(item, answer))
        rc = ER_API_ANSWER;
    if (rc == 0)
        *rev = json_integer_value(r);
    json_decref(doc);
    return rc;
}
