/* Unit tests of objective scoring (agent/score.c): score_of() on papers in
 * the format of docs/plan-format.md ("Papers"): single, multiple and judge
 * items, each with its key and points; a multiple-choice item scores all or
 * nothing. Every expected score is worked out by hand in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent.h"

#include <stdio.h>

/* Points: 5 + 5 + 6 + 6 + 4 + 4 + 70 = 100. */
static const char paper[] =
    "["
    "{\"id\": \"1\", \"type\": \"single\", \"options\": {\"A\": \"a\", \"B\": \"b\"}, "
    "\"key\": \"B\", \"points\": 5},"
    "{\"id\": \"2\", \"type\": \"single\", \"options\": {\"A\": \"a\", \"B\": \"b\", \"C\": "
    "\"c\"}, "
    "\"key\": \"A\", \"points\": 5},"
    "{\"id\": \"9\", \"type\": \"multiple\", "
    "\"options\": {\"A\": \"a\", \"B\": \"b\", \"C\": \"c\", \"D\": \"d\"}, "
    "\"key\": \"ABD\", \"points\": 6},"
    "{\"id\": \"10\", \"type\": \"multiple\", "
    "\"options\": {\"A\": \"a\", \"B\": \"b\", \"C\": \"c\"}, \"key\": \"BC\", \"points\": 6},"
    "{\"id\": \"13\", \"type\": \"judge\", \"options\": {}, \"key\": \"F\", \"points\": 4},"
    "{\"id\": \"14\", \"type\": \"judge\", \"options\": {}, \"key\": \"T\", \"points\": 4},"
    "{\"id\": \"20\", \"type\": \"single\", \"options\": {\"A\": \"a\", \"B\": \"b\"}, "
    "\"key\": \"A\", \"points\": 70}"
    "]";

/* The score of answers (JSON text) on items (JSON text). */
static int score(const char *items_text, const char *answers_text)
{
    json_error_t err;
    json_t *items = json_loads(items_text, 0, &err);
    json_t *answers = json_loads(answers_text, 0, &err);
    int s;

    assert_non_null(items);
    assert_non_null(answers);
    s = score_of(items, answers);
    json_decref(items);
    json_decref(answers);
    return s;
}

/* As the store gives them: {"ITEM": {"answer": A, "rev": 1}, ...}. */
static int score1(const char *item, const char *answer)
{
    char text[256];

    snprintf(text, sizeof(text), "{\"%s\": {\"answer\": \"%s\", \"rev\": 1}}", item, answer);
    return score(paper, text);
}

static void every_key_scores_the_full_paper(void **state)
{
    (void)state;
    /* 5 + 5 + 6 + 6 + 4 + 4 + 70 */
    assert_int_equal(score(paper, "{\"1\": {\"answer\": \"B\", \"rev\": 3},"
                                  " \"2\": {\"answer\": \"A\", \"rev\": 1},"
                                  " \"9\": {\"answer\": \"ABD\", \"rev\": 2},"
                                  " \"10\": {\"answer\": \"BC\", \"rev\": 1},"
                                  " \"13\": {\"answer\": \"F\", \"rev\": 1},"
                                  " \"14\": {\"answer\": \"T\", \"rev\": 1},"
                                  " \"20\": {\"answer\": \"A\", \"rev\": 9}}"),
                     100);
}

/* Each type on its own: its points when right, nothing when wrong. */
static void each_item_type_scores_its_points(void **state)
{
    (void)state;
    assert_int_equal(score1("1", "B"), 5); /* single */
    assert_int_equal(score1("1", "A"), 0);
    assert_int_equal(score1("9", "ABD"), 6); /* multiple */
    assert_int_equal(score1("9", "ABC"), 0);
    assert_int_equal(score1("13", "F"), 4); /* judge */
    assert_int_equal(score1("13", "T"), 0);
    assert_int_equal(score1("14", "T"), 4);
    assert_int_equal(score1("20", "A"), 70); /* weights are the item's own points */
}

/* A multiple-choice item is all or nothing: a subset, a superset, or one
 * letter of the key scores 0. */
static void multiple_choice_is_all_or_nothing(void **state)
{
    (void)state;
    assert_int_equal(score1("9", "AB"), 0);
    assert_int_equal(score1("9", "A"), 0);
    assert_int_equal(score1("9", "ABCD"), 0);
    assert_int_equal(score1("10", "B"), 0);
    assert_int_equal(score1("10", "BC"), 6);
}

/* A mix: right 1 (5), wrong 2, partial 9, right 10 (6), wrong 13, right 14
 * (4), 20 missing: 5 + 6 + 4 = 15. */
static void partial_wrong_and_missing_answers(void **state)
{
    (void)state;
    assert_int_equal(score(paper, "{\"1\": {\"answer\": \"B\", \"rev\": 1},"
                                  " \"2\": {\"answer\": \"C\", \"rev\": 1},"
                                  " \"9\": {\"answer\": \"AD\", \"rev\": 1},"
                                  " \"10\": {\"answer\": \"BC\", \"rev\": 1},"
                                  " \"13\": {\"answer\": \"T\", \"rev\": 1},"
                                  " \"14\": {\"answer\": \"T\", \"rev\": 1}}"),
                     15);
    assert_int_equal(score(paper, "{}"), 0); /* nothing answered */
    assert_int_equal(score1("1", ""), 0);    /* an answer cleared */
}

/* Answers to items the paper does not have count for nothing and do not
 * disturb the others: 5 (item 1) only. */
static void unknown_item_ids_are_ignored(void **state)
{
    (void)state;
    assert_int_equal(score(paper, "{\"99\": {\"answer\": \"B\", \"rev\": 1},"
                                  " \"\": {\"answer\": \"A\", \"rev\": 1},"
                                  " \"1 \": {\"answer\": \"B\", \"rev\": 1},"
                                  " \"1\": {\"answer\": \"B\", \"rev\": 1}}"),
                     5);
}

/* What the API never stores, scored as wrong if it were there: other
 * letters, lower case, repeated letters, another order, a non-string or a
 * bare string instead of the {"answer"} object. */
static void malformed_answers_score_nothing(void **state)
{
    (void)state;
    assert_int_equal(score1("1", "E"), 0);
    assert_int_equal(score1("1", "b"), 0);
    assert_int_equal(score1("1", "BB"), 0);
    assert_int_equal(score1("9", "AABD"), 0);
    assert_int_equal(score1("9", "ABDD"), 0);
    assert_int_equal(score1("9", "DBA"), 0);
    assert_int_equal(score1("9", "A B D"), 0);
    assert_int_equal(score1("13", "false"), 0);
    assert_int_equal(score1("14", "true"), 0);
    assert_int_equal(score(paper, "{\"1\": {\"answer\": 2, \"rev\": 1}}"), 0);
    assert_int_equal(score(paper, "{\"1\": {\"answer\": null, \"rev\": 1}}"), 0);
    assert_int_equal(score(paper, "{\"1\": {\"answer\": [\"B\"], \"rev\": 1}}"), 0);
    assert_int_equal(score(paper, "{\"1\": {\"rev\": 1}}"), 0);
    assert_int_equal(score(paper, "{\"1\": \"B\"}"), 0);
    assert_int_equal(score(paper, "[\"B\"]"), 0);
}

/* An empty paper scores 0 whatever the answers; so does a NULL one, and
 * NULL answers. */
static void empty_paper_scores_zero(void **state)
{
    json_t *items = json_loads(paper, 0, NULL);

    (void)state;
    assert_int_equal(score("[]", "{\"1\": {\"answer\": \"B\", \"rev\": 1}}"), 0);
    assert_int_equal(score("[]", "{}"), 0);
    assert_int_equal(score_of(NULL, NULL), 0);
    assert_int_equal(score_of(items, NULL), 0);
    json_decref(items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_key_scores_the_full_paper),
        cmocka_unit_test(each_item_type_scores_its_points),
        cmocka_unit_test(multiple_choice_is_all_or_nothing),
        cmocka_unit_test(partial_wrong_and_missing_answers),
        cmocka_unit_test(unknown_item_ids_are_ignored),
        cmocka_unit_test(malformed_answers_score_nothing),
        cmocka_unit_test(empty_paper_scores_zero),
    };

    return cmocka_run_group_tests_name("score", tests, NULL, NULL);
}
