/* Sealing a result: the canonical bytes the room signs and chains. */
#include "sync.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sync_result_id(const struct sync_result *r, char *out, size_t outsz)
{
    int n = snprintf(out, outsz, "%s-%s-%s", r->room, r->session, r->ticket);

    return n < 0 || (size_t)n >= outsz || n > 128 ? ER_USAGE : 0;
}

int sync_seal_result(const struct sync_result *r, int64_t pos, const uint8_t prev[32],
                     char **payload, size_t *len)
{
    char id[160], prev_hex[65];
    json_t *answers = r->answers_json ? json_loads(r->answers_json, 0, NULL) : json_object();
    json_t *doc;
    int rc = sync_result_id(r, id, sizeof(id));

    if (rc < 0 || pos < 1 || !json_is_object(answers)) {
        json_decref(answers);
        return rc < 0 ? rc : ER_USAGE;
    }
    hex_encode(prev, 32, prev_hex);
    doc = json_pack(
        "{s:o, s:I, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:I, s:s}", "answers", answers,
        "chain_pos", (json_int_t)pos, "id", id, "plan", r->plan, "prev", prev_hex, "room", r->room,
        "score", r->score >= 0 ? json_integer(r->score) : json_null(), "seat",
        r->seat > 0 ? json_integer(r->seat) : json_null(), "session", r->session, "status",
        r->status, "submitted_at", (json_int_t)r->submitted_at, "ticket", r->ticket);
    if (doc == NULL)
        return ER_NOMEM;
    /* Compact, keys sorted: the same result always gives the same bytes. */
    *payload = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    if (*payload == NULL)
        return ER_NOMEM;
    *len = strlen(*payload);
    return 0;
}
