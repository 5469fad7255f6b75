/* Scoring a candidate's answers with the paper's keys: apart from
 * submitting, so that a unit test can run it on its own. */
#include "agent.h"

#include <string.h>

/* Objective scoring: an item's points when the answer is its key (a
 * multiple-choice item all or nothing). */
int score_of(const json_t *items, const json_t *answers)
{
    const json_t *item;
    size_t i;
    int score = 0;

    json_array_foreach(items, i, item)
    {
        const char *id = json_string_value(json_object_get(item, "id"));
        const char *key = json_string_value(json_object_get(item, "key"));
        const char *a =
            json_string_value(json_object_get(json_object_get(answers, id ? id : ""), "answer"));

        if (key != NULL && a != NULL && strcmp(a, key) == 0)
            score += (int)json_integer_value(json_object_get(item, "points"));
    }
    return score;
}
