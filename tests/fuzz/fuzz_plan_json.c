/* Fuzzes the readers of plan.json and the paper files and the position
 * index behind their line numbers. The first byte picks the reader. Any
 * bytes give 0 or ER_PLAN_INVALID, a problem for every refusal and line
 * numbers within the text; whatever jansson accepts the index scans, its
 * root on the line of the first value byte, and the same document
 * re-indented by jansson has exactly the same paths (keys with escapes,
 * surrogate pairs, "~" and "/" decoded alike). */
#include "fuzz.h"

#include "plan_internal.h"

#include <jansson.h>
#include <string.h>

static int count_lines(const char *s, size_t n)
{
    int lines = 1;

    for (size_t i = 0; i < n; i++)
        lines += s[i] == '\n';
    return lines;
}

static void check_index(const char *text, size_t len)
{
    json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    struct jpos a, b;
    size_t first = 0;
    int line = 1;
    char *dump;

    if (v == NULL)
        return;
    FUZZ_CHECK(jpos_build(text, len, &a) == 0);
    while (first < len && strchr(" \t\r\n", text[first]) != NULL) {
        line += text[first] == '\n';
        first++;
    }
    FUZZ_CHECK(jpos_line(&a, "") == line);
    dump = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    FUZZ_CHECK(dump != NULL);
    FUZZ_CHECK(jpos_build(dump, strlen(dump), &b) == 0);
    FUZZ_CHECK(a.n == b.n);
    for (size_t i = 0; i < a.n; i++) {
        FUZZ_CHECK(strcmp(a.v[i].path, b.v[i].path) == 0);
        FUZZ_CHECK(a.v[i].line >= 1 && a.v[i].line <= count_lines(text, len));
    }
    jpos_free(&a);
    jpos_free(&b);
    free(dump);
    json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct plan *p;
    struct plan_diags d = {0};
    const char *text = (const char *)data + 1;
    size_t len;
    int rc, lines;

    if (size == 0)
        return 0;
    len = size - 1;
    lines = count_lines(text, len);
    p = plan_new();
    if (p == NULL)
        return 0;
    if (data[0] & 1)
        rc = plan_read_paper(p, "papers/fuzz.json", text, len, &d);
    else
        rc = plan_read_plan_json(p, text, len, &d);
    FUZZ_CHECK(rc == 0 || rc == ER_PLAN_INVALID || rc == ER_NOMEM);
    if (rc != ER_NOMEM)
        FUZZ_CHECK((rc == 0) == (d.n == 0));
    for (size_t i = 0; i < d.n; i++)
        FUZZ_CHECK(d.v[i].line >= 0 && d.v[i].line <= lines && d.v[i].msg[0] != '\0');
    if (rc == 0 && (data[0] & 1)) {
        /* The body kept is the paper's JSON. */
        json_t *body = json_loads(p->papers[0].body, 0, NULL);

        FUZZ_CHECK(body != NULL);
        json_decref(body);
    }
    check_index(text, len);
    plan_diags_free(&d);
    plan_free(p);
    return 0;
}
