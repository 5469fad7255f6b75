/* Exam plans in memory: the plan object, the list of problems found in it,
 * and the calendar arithmetic the checks share. */
#include "plan_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *plan_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);

    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

struct plan *plan_new(void)
{
    return calloc(1, sizeof(struct plan));
}

static void free_session(struct plan_session *s)
{
    free(s->id);
    free(s->date);
    free(s->start);
    free(s->end);
    for (size_t i = 0; i < s->nsittings; i++) {
        free(s->sittings[i].occupation);
        free(s->sittings[i].level);
        free(s->sittings[i].subject);
        free(s->sittings[i].paper);
    }
    free(s->sittings);
}

static void free_candidate(struct plan_candidate *c)
{
    free(c->ticket);
    free(c->name);
    free(c->gender);
    free(c->id_type);
    free(c->id_number);
    free(c->occupation);
    free(c->level);
    free(c->session);
    free(c->room);
    free(c->photo);
    free(c->photo_data);
}

void plan_free(struct plan *p)
{
    if (p == NULL)
        return;
    free(p->id);
    free(p->institution_code);
    free(p->institution_name);
    free(p->timezone);
    for (size_t i = 0; i < p->nrooms; i++) {
        free(p->rooms[i].id);
        free(p->rooms[i].site);
        free(p->rooms[i].site_name);
        free(p->rooms[i].name);
    }
    free(p->rooms);
    for (size_t i = 0; i < p->nsessions; i++)
        free_session(&p->sessions[i]);
    free(p->sessions);
    for (size_t i = 0; i < p->npapers; i++) {
        free(p->papers[i].path);
        free(p->papers[i].title);
        free(p->papers[i].occupation);
        free(p->papers[i].level);
        free(p->papers[i].subject);
        free(p->papers[i].body);
    }
    free(p->papers);
    for (size_t i = 0; i < p->ncandidates; i++)
        free_candidate(&p->candidates[i]);
    free(p->candidates);
    free(p);
}

size_t plan_candidate_count(const struct plan *p)
{
    return p->ncandidates;
}

/* ---- diagnostics ---- */

int plan_diag(struct plan_diags *d, const char *file, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    struct plan_diag *e;

    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct plan_diag *v = realloc(d->v, cap * sizeof(*v));

        if (v == NULL) {
            d->nomem = 1;
            return ER_NOMEM;
        }
        d->v = v;
        d->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    e = &d->v[d->n];
    e->file = plan_strdup(file);
    e->msg = plan_strdup(msg);
    e->line = line;
    if (e->file == NULL || e->msg == NULL) {
        free(e->file);
        free(e->msg);
        d->nomem = 1;
        return ER_NOMEM;
    }
    d->n++;
    return 0;
}

void plan_diags_free(struct plan_diags *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].file);
        free(d->v[i].msg);
    }
    free(d->v);
    memset(d, 0, sizeof(*d));
}

/* plan.json first, then the papers, then candidates.csv: the order in which
 * the files are read and in which a person would fix them. */
static int file_rank(const char *f)
{
    if (strcmp(f, PLAN_FILE_JSON) == 0)
        return 0;
    if (strcmp(f, PLAN_FILE_CANDIDATES) == 0)
        return 2;
    return 1;
}

static int diag_cmp(const void *a, const void *b)
{
    const struct plan_diag *x = a, *y = b;
    int c = file_rank(x->file) - file_rank(y->file);

    if (c == 0)
        c = strcmp(x->file, y->file);
    if (c == 0)
        c = (x->line > y->line) - (x->line < y->line);
    return c;
}

void plan_diags_sort(struct plan_diags *d)
{
    /* Insertion sort: stable (equal lines keep the order of the checks), and
     * the list is nearly sorted already. */
    for (size_t i = 1; i < d->n; i++) {
        struct plan_diag t = d->v[i];
        size_t j = i;

        while (j > 0 && diag_cmp(&d->v[j - 1], &t) > 0) {
            d->v[j] = d->v[j - 1];
            j--;
        }
        d->v[j] = t;
    }
}

/* ---- calendar ---- */

int plan_date_valid(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    if (y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1)
        return 0;
    return d <= mdays[m - 1] + (m == 2 && leap);
}

/* Howard Hinnant's days_from_civil. */
int64_t plan_days_from_civil(int y, int m, int d)
{
    int64_t yy = y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

int plan_tz_offset(const char *tz)
{
    /* Zones at UTC+8 without daylight saving (none has observed it since
     * 1991), so a fixed offset is exact for any plan; a zone with DST would
     * need the tz database, and TZ tricks would change the whole process. */
    static const char *const plus8[] = {"Asia/Shanghai", "Asia/Hong_Kong", "Asia/Macau",
                                        "Asia/Taipei"};

    for (size_t i = 0; i < sizeof(plus8) / sizeof(plus8[0]); i++)
        if (strcmp(tz, plus8[i]) == 0)
            return 8 * 3600;
    return -1;
}
