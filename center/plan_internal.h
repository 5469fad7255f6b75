/* The exam plan importer's insides, shared by center/plan_*.c and the tests:
 * the plan held in memory, the diagnostics list, and the JSON position index
 * that gives a line number to every value of a JSON file. */
#ifndef EXAMROOM_PLAN_INTERNAL_H
#define EXAMROOM_PLAN_INTERNAL_H

#include "center.h"

#include <stdint.h>

#define PLAN_FILE_JSON       "plan.json"
#define PLAN_FILE_CANDIDATES "candidates.csv"
#define PLAN_DIR_PHOTOS      "photos"

/* Bounds that keep one bad file from taking the machine. */
#define PLAN_MAX_FILE  (64u << 20) /* plan.json, a paper, candidates.csv */
#define PLAN_MAX_PHOTO (2u << 20)  /* one photo */
#define PLAN_MAX_SEATS 999
/* A session may run past midnight (its end then the next day) for at most
 * this many minutes; an end before the start over a longer span is a typo. */
#define PLAN_OVERNIGHT_MAX (6 * 60)
#define PLAN_CSV_FIELDS    11

struct plan_room {
    char *id, *site, *site_name, *name;
    int seats, line;
};

/* One entry of a session's "papers": who sits which paper in it. */
struct plan_sitting {
    char *occupation, *level, *subject, *paper;
    int line, paper_line;
};

struct plan_session {
    char *id, *date, *start, *end;
    int64_t starts_at, ends_at; /* UTC seconds; 0 when the times are invalid */
    int late_admission, earliest_submit;
    struct plan_sitting *sittings;
    size_t nsittings;
    int line;
};

struct plan_paper {
    char *path; /* as referenced from plan.json: papers/x.json */
    char *title, *occupation, *level, *subject;
    char *body; /* compact JSON */
};

struct plan_candidate {
    char *ticket, *name, *gender, *id_type, *id_number, *occupation, *level, *session, *room,
        *photo;
    int seat; /* 0: to be arranged */
    int arranged, line;
    int photo_bad; /* no usable photo name: not looked for */
    uint8_t *photo_data;
    size_t photo_len;
};

struct plan {
    char *id, *institution_code, *institution_name, *timezone;
    int pass_mark;
    int json_ok; /* plan.json was read without a problem that hides the rest */
    struct plan_room *rooms;
    size_t nrooms;
    struct plan_session *sessions;
    size_t nsessions;
    struct plan_paper *papers;
    size_t npapers;
    struct plan_candidate *candidates;
    size_t ncandidates, cap_candidates;
};

/* Appends "FILE:LINE: message" to d; fmt is one of the PM_* formats of
 * plan_msg.h. Returns 0 or ER_NOMEM. */
int plan_diag(struct plan_diags *d, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Orders d by file, then line, keeping the order of equal entries. */
void plan_diags_sort(struct plan_diags *d);

char *plan_strdup(const char *s);

/* ---- JSON position index (plan_json.c) ----
 *
 * jansson gives no positions for values, so the raw text is scanned once
 * more and the line where each value starts is recorded under its path: ""
 * for the root, "/rooms/0/seats" below it (JSON Pointer, RFC 6901: "~" is
 * written "~0" and "/" "~1" in keys). */
struct jpos_entry {
    char *path;
    int line;
};

struct jpos {
    struct jpos_entry *v;
    size_t n, cap;
};

/* Scans text (len bytes) and fills ix. ER_PLAN_INVALID when the text is not
 * one JSON value (what jansson accepts always scans), ER_NOMEM. */
int jpos_build(const char *text, size_t len, struct jpos *ix);
void jpos_free(struct jpos *ix);

/* The line where the value at path starts; for a path not in the index, the
 * line of its nearest enclosing value; 0 when nothing encloses it. */
int jpos_line(const struct jpos *ix, const char *path);

/* ---- checks and arrangement (plan_check.c) ---- */

/* The cross-file checks (references, duplicates, seats, overlaps) and the
 * seat arrangement. Problems go to d; returns 0, ER_PLAN_INVALID or
 * ER_NOMEM. */
int plan_check(struct plan *p, struct plan_diags *d);

/* Days since 1970-01-01 of a proleptic Gregorian date, and whether the date
 * is real. */
int plan_date_valid(int y, int m, int d);
int64_t plan_days_from_civil(int y, int m, int d);

/* The offset from UTC in seconds of a timezone the importer accepts, or -1. */
int plan_tz_offset(const char *tz);

#endif
