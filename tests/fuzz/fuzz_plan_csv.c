/* Fuzzes the candidates.csv reader: any bytes give 0 or ER_PLAN_INVALID,
 * with a problem for every refusal, every line number within the text, and
 * records in line order; what is accepted, written back as CSV with every
 * field quoted, reads back the same. */
#include "fuzz.h"

#include "plan_internal.h"

#include <string.h>

/* Physical lines as the reader counts them: ended by LF, CRLF or a lone CR. */
static int count_lines(const uint8_t *data, size_t size)
{
    int n = 1;

    for (size_t i = 0; i < size; i++)
        n += data[i] == '\n' || (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n'));
    return n;
}

static void put_field(FILE *f, const char *s, int last)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputs(last ? "\"\n" : "\",", f);
}

/* The accepted candidates, as a CSV text of our own. */
static char *write_back(const struct plan *p, size_t *len)
{
    char *buf = NULL, seat[16];
    FILE *f = open_memstream(&buf, len);

    FUZZ_CHECK(f != NULL);
    fputs("准考证号,姓名,性别,证件类型,证件号码,职业,等级,场次,考场,座位号,照片\n", f);
    for (size_t i = 0; i < p->ncandidates; i++) {
        const struct plan_candidate *c = &p->candidates[i];

        snprintf(seat, sizeof(seat), "%d", c->seat);
        put_field(f, c->ticket, 0);
        put_field(f, c->name, 0);
        put_field(f, c->gender, 0);
        put_field(f, c->id_type, 0);
        put_field(f, c->id_number, 0);
        put_field(f, c->occupation, 0);
        put_field(f, c->level, 0);
        put_field(f, c->session, 0);
        put_field(f, c->room, 0);
        put_field(f, c->seat > 0 ? seat : "", 0);
        put_field(f, c->photo, 1);
    }
    FUZZ_CHECK(fclose(f) == 0);
    return buf;
}

static void check_round_trip(const struct plan *p)
{
    struct plan *q = plan_new();
    struct plan_diags d = {0};
    size_t len;
    char *text = write_back(p, &len);

    FUZZ_CHECK(q != NULL);
    FUZZ_CHECK(plan_read_candidates(q, text, len, &d) == 0);
    FUZZ_CHECK(q->ncandidates == p->ncandidates);
    for (size_t i = 0; i < p->ncandidates; i++) {
        const struct plan_candidate *a = &p->candidates[i], *b = &q->candidates[i];

        FUZZ_CHECK(strcmp(a->ticket, b->ticket) == 0 && strcmp(a->name, b->name) == 0);
        FUZZ_CHECK(strcmp(a->id_number, b->id_number) == 0 && a->seat == b->seat);
        FUZZ_CHECK(strcmp(a->session, b->session) == 0 && strcmp(a->photo, b->photo) == 0);
    }
    plan_diags_free(&d);
    plan_free(q);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct plan *p = plan_new();
    struct plan_diags d = {0};
    int lines = count_lines(data, size), rc, prev = 0;

    if (p == NULL)
        return 0;
    rc = plan_read_candidates(p, (const char *)data, size, &d);
    FUZZ_CHECK(rc == 0 || rc == ER_PLAN_INVALID || rc == ER_NOMEM);
    if (rc != ER_NOMEM)
        FUZZ_CHECK((rc == 0) == (d.n == 0));
    for (size_t i = 0; i < d.n; i++) {
        FUZZ_CHECK(strcmp(d.v[i].file, "candidates.csv") == 0);
        FUZZ_CHECK(d.v[i].line >= 1 && d.v[i].line <= lines);
        FUZZ_CHECK(d.v[i].msg[0] != '\0');
    }
    for (size_t i = 0; i < p->ncandidates; i++) {
        const struct plan_candidate *c = &p->candidates[i];

        FUZZ_CHECK(c->line >= 2 && c->line <= lines && c->line > prev);
        FUZZ_CHECK(c->seat >= -1 && c->seat <= 9999);
        prev = c->line;
    }
    if (rc == 0)
        check_round_trip(p);
    plan_diags_free(&d);
    plan_free(p);
    return 0;
}
