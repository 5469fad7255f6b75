/* The checks that need more than one file or more than one row: references
 * from candidates.csv to plan.json, duplicates within a session, seats, rooms
 * used by two sessions at once; and the seat arrangement (编排) of the
 * candidates that came without a seat. */
#include "plan_internal.h"
#include "plan_msg.h"

#include <stdlib.h>
#include <string.h>

struct checker {
    struct plan *p;
    struct plan_diags *d;
    int *si, *ri; /* per candidate: index of its session and room, or -1 */
    int bad;
};

#define CHECK_PROBLEM(ck, file, line, ...)                                                         \
    do {                                                                                           \
        (ck)->bad = 1;                                                                             \
        plan_diag((ck)->d, (file), (line), __VA_ARGS__);                                           \
    } while (0)

static int find_session(const struct plan *p, const char *id)
{
    for (size_t i = 0; i < p->nsessions; i++)
        if (p->sessions[i].id != NULL && p->sessions[i].id[0] != '\0' &&
            strcmp(p->sessions[i].id, id) == 0)
            return (int)i;
    return -1;
}

static int find_room(const struct plan *p, const char *id)
{
    for (size_t i = 0; i < p->nrooms; i++)
        if (strcmp(p->rooms[i].id, id) == 0)
            return (int)i;
    return -1;
}

static const struct plan_sitting *find_sitting(const struct plan_session *s, const char *occ,
                                               const char *level)
{
    for (size_t i = 0; i < s->nsittings; i++)
        if (s->sittings[i].occupation != NULL && strcmp(s->sittings[i].occupation, occ) == 0 &&
            s->sittings[i].level != NULL && strcmp(s->sittings[i].level, level) == 0)
            return &s->sittings[i];
    return NULL;
}

/* Each session entry's paper is about the occupation and level it is
 * listed for. */
static void check_sittings(struct checker *ck)
{
    const struct plan *p = ck->p;

    for (size_t i = 0; i < p->nsessions; i++) {
        const struct plan_session *s = &p->sessions[i];

        for (size_t j = 0; j < s->nsittings; j++) {
            const struct plan_sitting *t = &s->sittings[j];

            for (size_t k = 0; t->paper != NULL && t->paper[0] != '\0' && k < p->npapers; k++) {
                const struct plan_paper *pp = &p->papers[k];

                if (strcmp(pp->path, t->paper) != 0 || pp->occupation == NULL ||
                    pp->level == NULL || pp->occupation[0] == '\0' || pp->level[0] == '\0')
                    continue;
                if (strcmp(pp->occupation, t->occupation) != 0 || strcmp(pp->level, t->level) != 0)
                    CHECK_PROBLEM(ck, PLAN_FILE_JSON, t->line, PM_PAPER_MISMATCH, pp->path,
                                  pp->occupation, pp->level, t->occupation, t->level);
            }
        }
    }
}

static void check_references(struct checker *ck)
{
    const struct plan *p = ck->p;

    for (size_t i = 0; i < p->ncandidates; i++) {
        const struct plan_candidate *c = &p->candidates[i];

        ck->si[i] = c->session[0] != '\0' ? find_session(p, c->session) : -1;
        ck->ri[i] = c->room[0] != '\0' ? find_room(p, c->room) : -1;
        if (!p->json_ok)
            continue; /* plan.json's own problems say it all */
        if (c->session[0] != '\0' && ck->si[i] < 0)
            CHECK_PROBLEM(ck, PLAN_FILE_CANDIDATES, c->line, PM_SESSION_UNKNOWN, c->session);
        if (c->room[0] != '\0' && ck->ri[i] < 0)
            CHECK_PROBLEM(ck, PLAN_FILE_CANDIDATES, c->line, PM_ROOM_UNKNOWN, c->room);
        if (ck->si[i] >= 0 && c->occupation[0] != '\0' && c->level[0] != '\0' &&
            find_sitting(&p->sessions[ck->si[i]], c->occupation, c->level) == NULL)
            CHECK_PROBLEM(ck, PLAN_FILE_CANDIDATES, c->line, PM_SITTING_UNKNOWN, c->session,
                          c->occupation, c->level);
    }
}

/* qsort has no context argument; the checks run one at a time. */
static const struct plan *sort_plan;
static const int *sort_si, *sort_ri;

static int cmp_int(int a, int b)
{
    return (a > b) - (a < b);
}

static int by_ticket(const void *a, const void *b)
{
    const struct plan_candidate *x = &sort_plan->candidates[*(const size_t *)a];
    const struct plan_candidate *y = &sort_plan->candidates[*(const size_t *)b];
    int c = strcmp(x->session, y->session);

    if (c == 0)
        c = strcmp(x->ticket, y->ticket);
    return c != 0 ? c : cmp_int(x->line, y->line);
}

static int by_idnum(const void *a, const void *b)
{
    const struct plan_candidate *x = &sort_plan->candidates[*(const size_t *)a];
    const struct plan_candidate *y = &sort_plan->candidates[*(const size_t *)b];
    int c = strcmp(x->session, y->session);

    if (c == 0)
        c = strcmp(x->id_number, y->id_number);
    return c != 0 ? c : cmp_int(x->line, y->line);
}

/* Session, room, seat (0, to be arranged, first), then line. */
static int by_seat(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = cmp_int(sort_si[i], sort_si[j]);

    if (c == 0)
        c = cmp_int(sort_ri[i], sort_ri[j]);
    if (c == 0)
        c = cmp_int(sort_plan->candidates[i].seat, sort_plan->candidates[j].seat);
    return c != 0 ? c : cmp_int(sort_plan->candidates[i].line, sort_plan->candidates[j].line);
}

/* The arrangement rule: occupation, then level, then ticket, each compared
 * byte by byte as UTF-8 (memcmp order, which is code point order). */
static int by_rule(const void *a, const void *b)
{
    const struct plan_candidate *x = &sort_plan->candidates[*(const size_t *)a];
    const struct plan_candidate *y = &sort_plan->candidates[*(const size_t *)b];
    int c = strcmp(x->occupation, y->occupation);

    if (c == 0)
        c = strcmp(x->level, y->level);
    if (c == 0)
        c = strcmp(x->ticket, y->ticket);
    return c != 0 ? c : cmp_int(x->line, y->line);
}

static void check_duplicates(struct checker *ck, size_t *order)
{
    const struct plan *p = ck->p;
    size_t n = p->ncandidates;

    /* Sorted by session, value and line: a repeat is reported at its own
     * line, naming the first line of its run. */
    qsort(order, n, sizeof(*order), by_ticket);
    for (size_t k = 1, first = 0; k < n; k++) {
        const struct plan_candidate *a = &p->candidates[order[first]];
        const struct plan_candidate *b = &p->candidates[order[k]];

        if (b->ticket[0] != '\0' && strcmp(a->session, b->session) == 0 &&
            strcmp(a->ticket, b->ticket) == 0)
            CHECK_PROBLEM(ck, PLAN_FILE_CANDIDATES, b->line, PM_TICKET_DUP, b->session, b->ticket,
                          a->line);
        else
            first = k;
    }
    qsort(order, n, sizeof(*order), by_idnum);
    for (size_t k = 1, first = 0; k < n; k++) {
        const struct plan_candidate *a = &p->candidates[order[first]];
        const struct plan_candidate *b = &p->candidates[order[k]];

        if (b->id_number[0] != '\0' && strcmp(a->session, b->session) == 0 &&
            strcmp(a->id_number, b->id_number) == 0)
            CHECK_PROBLEM(ck, PLAN_FILE_CANDIDATES, b->line, PM_IDNUM_DUP, b->session, b->id_number,
                          a->line);
        else
            first = k;
    }
}

/* Gives the free seats of one (session, room), in ascending order, to the
 * candidates without one, in the order of the rule. */
static void arrange_group(struct checker *ck, const size_t *grp, size_t n, unsigned char *taken)
{
    struct plan *p = ck->p;
    const struct plan_room *room = &p->rooms[ck->ri[grp[0]]];
    const struct plan_session *s = &p->sessions[ck->si[grp[0]]];
    size_t *todo = malloc(n * sizeof(*todo)), m = 0, k = 0;
    int seat = 1;

    if (todo == NULL) {
        ck->d->nomem = 1;
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (p->candidates[grp[i]].seat == 0)
            todo[m++] = grp[i];
    qsort(todo, m, sizeof(*todo), by_rule);
    for (; k < m; k++) {
        while (seat <= room->seats && taken[seat])
            seat++;
        if (seat > room->seats)
            break;
        p->candidates[todo[k]].seat = seat++;
        p->candidates[todo[k]].arranged = 1;
    }
    if (k < m)
        CHECK_PROBLEM(ck, PLAN_FILE_CANDIDATES, p->candidates[todo[k]].line, PM_SEATS_FULL, s->id,
                      room->id, m - k);
    free(todo);
}

/* One (session, room): given seats within the room and not taken twice;
 * then the arrangement, when the room's size is known. */
static void check_group(struct checker *ck, const size_t *grp, size_t n)
{
    const struct plan *p = ck->p;
    const struct plan_room *room = &p->rooms[ck->ri[grp[0]]];
    const struct plan_session *s = &p->sessions[ck->si[grp[0]]];
    unsigned char taken[PLAN_MAX_SEATS + 1] = {0};
    int first[PLAN_MAX_SEATS + 1] = {0};

    if (room->seats <= 0)
        return; /* plan.json's problem with the room is reported already */
    for (size_t i = 0; i < n; i++) {
        const struct plan_candidate *c = &p->candidates[grp[i]];

        if (c->seat <= 0)
            continue;
        if (c->seat > room->seats) {
            CHECK_PROBLEM(ck, PLAN_FILE_CANDIDATES, c->line, PM_SEAT_RANGE, c->seat, room->id,
                          room->seats);
        } else if (taken[c->seat]) {
            CHECK_PROBLEM(ck, PLAN_FILE_CANDIDATES, c->line, PM_SEAT_TAKEN, s->id, room->id,
                          c->seat, first[c->seat]);
        } else {
            taken[c->seat] = 1;
            first[c->seat] = c->line;
        }
    }
    arrange_group(ck, grp, n, taken);
}

static void check_seats(struct checker *ck, size_t *order)
{
    size_t n = 0, start = 0;

    for (size_t i = 0; i < ck->p->ncandidates; i++)
        if (ck->si[i] >= 0 && ck->ri[i] >= 0)
            order[n++] = i;
    qsort(order, n, sizeof(*order), by_seat);
    for (size_t k = 1; k <= n; k++) {
        if (k < n && ck->si[order[k]] == ck->si[order[start]] &&
            ck->ri[order[k]] == ck->ri[order[start]])
            continue;
        check_group(ck, order + start, k - start);
        start = k;
    }
}

/* Two sessions whose [start, end) overlap may not both seat candidates in
 * the same room. Reported at the later session of plan.json. */
static void check_overlaps(struct checker *ck)
{
    const struct plan *p = ck->p;
    size_t ns = p->nsessions, nr = p->nrooms;
    unsigned char *used = calloc(ns * nr + 1, 1);

    if (used == NULL) {
        ck->d->nomem = 1;
        return;
    }
    for (size_t i = 0; i < p->ncandidates; i++)
        if (ck->si[i] >= 0 && ck->ri[i] >= 0)
            used[(size_t)ck->si[i] * nr + (size_t)ck->ri[i]] = 1;
    for (size_t j = 0; j < ns; j++) {
        const struct plan_session *b = &p->sessions[j];

        for (size_t i = 0; i < j && b->starts_at != 0; i++) {
            const struct plan_session *a = &p->sessions[i];

            if (a->starts_at == 0 || a->starts_at >= b->ends_at || b->starts_at >= a->ends_at)
                continue;
            for (size_t r = 0; r < nr; r++) {
                if (used[i * nr + r] && used[j * nr + r]) {
                    CHECK_PROBLEM(ck, PLAN_FILE_JSON, b->line, PM_OVERLAP, b->id, b->date, b->start,
                                  b->end, a->id, a->date, a->start, a->end, p->rooms[r].id);
                    break; /* one room is enough to say it */
                }
            }
        }
    }
    free(used);
}

int plan_check(struct plan *p, struct plan_diags *d)
{
    struct checker ck = {.p = p, .d = d};
    size_t n = p->ncandidates;
    size_t *order = malloc((n + 1) * sizeof(*order));
    int rc = 0;

    ck.si = malloc((n + 1) * sizeof(int));
    ck.ri = malloc((n + 1) * sizeof(int));
    if (order == NULL || ck.si == NULL || ck.ri == NULL) {
        rc = ER_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    sort_plan = p;
    sort_si = ck.si;
    sort_ri = ck.ri;
    check_sittings(&ck);
    check_references(&ck);
    check_duplicates(&ck, order);
    if (p->json_ok) {
        check_seats(&ck, order);
        check_overlaps(&ck);
    }
    if (d->nomem)
        rc = ER_NOMEM;
    else if (ck.bad)
        rc = ER_PLAN_INVALID;
out:
    sort_plan = NULL;
    free(order);
    free(ck.si);
    free(ck.ri);
    return rc;
}
