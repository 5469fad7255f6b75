/* The reader of candidates.csv (libcsv, strict quoting). libcsv reports no
 * positions either, so the text is fed to it one physical line at a time:
 * a record starts on the line being fed when its first byte arrives, which
 * gives each record the line where it begins even when a quoted field spans
 * lines. What one row can tell on its own is checked here; references to
 * plan.json, duplicates and seats are plan_check.c's. */
#include "plan_internal.h"
#include "plan_msg.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>

static const char *const header[PLAN_CSV_FIELDS] = {
    "准考证号", "姓名", "性别", "证件类型", "证件号码", "职业",
    "等级",     "场次", "考场", "座位号",   "照片",
};

enum {
    F_TICKET,
    F_NAME,
    F_GENDER,
    F_IDTYPE,
    F_IDNUM,
    F_OCC,
    F_LEVEL,
    F_SESSION,
    F_ROOM,
    F_SEAT,
    F_PHOTO
};

struct rows {
    struct plan *p;
    struct plan_diags *d;
    char *f[PLAN_CSV_FIELDS];
    size_t nf;
    int line;     /* the physical line being fed */
    int rec_line; /* the line where the current record began */
    int between;  /* no record has begun since the last one ended */
    int header_seen, header_bad, bad, nomem;
};

static void clear_fields(struct rows *r)
{
    for (size_t i = 0; i < PLAN_CSV_FIELDS; i++) {
        free(r->f[i]);
        r->f[i] = NULL;
    }
    r->nf = 0;
}

static void problem(struct rows *r, int line, const char *msg)
{
    r->bad = 1;
    if (plan_diag(r->d, PLAN_FILE_CANDIDATES, line, "%s", msg) != 0)
        r->nomem = 1;
}

/* A problem of the current record, at the line where it begins. */
#define ROW_PROBLEM(r, ...)                                                                        \
    do {                                                                                           \
        (r)->bad = 1;                                                                              \
        if (plan_diag((r)->d, PLAN_FILE_CANDIDATES, (r)->rec_line, __VA_ARGS__) != 0)              \
            (r)->nomem = 1;                                                                        \
    } while (0)

static void on_field(void *s, size_t len, void *data)
{
    struct rows *r = data;

    if (r->between) {
        r->rec_line = r->line;
        r->between = 0;
    }
    if (r->nf < PLAN_CSV_FIELDS) {
        char *v = malloc(len + 1);

        if (v == NULL) {
            r->nomem = 1;
        } else {
            if (len > 0)
                memcpy(v, s, len);
            v[len] = '\0';
        }
        r->f[r->nf] = v;
    }
    r->nf++;
}

static void trim(char *s)
{
    size_t n = strlen(s), a = 0;

    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    while (s[a] == ' ' || s[a] == '\t')
        a++;
    memmove(s, s + a, n - a + 1);
}

/* Folds the full-width forms a Chinese input method types (ID numbers,
 * tickets, seats, codes), then trims, in place: folding never lengthens. */
static void fold_trim(char *s)
{
    char *tmp = plan_strdup(s);

    if (tmp != NULL)
        text_fold_fullwidth(tmp, s, strlen(tmp) + 1);
    free(tmp);
    trim(s);
}

static int utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i], need, cp, min;

        if (c == 0)
            return 0; /* a NUL is no text */
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            need = 1, cp = c & 0x1F, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF)
            need = 2, cp = c & 0x0F, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4)
            need = 3, cp = c & 0x07, min = 0x10000;
        else
            return 0;
        for (unsigned k = 1; k <= need; k++) {
            if (i + k >= n || (s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += need + 1;
    }
    return 1;
}

static const char *const id_types[] = {"居民身份证", "港澳台居民居住证", "护照"};

static void check_id(struct rows *r, struct plan_candidate *c)
{
    char norm[IDNUM_LEN + 1];
    int known = 0, rc;

    for (size_t i = 0; i < sizeof(id_types) / sizeof(id_types[0]); i++)
        known |= strcmp(c->id_type, id_types[i]) == 0;
    if (!known) {
        ROW_PROBLEM(r, PM_ID_TYPE, c->id_type);
        return;
    }
    if (c->id_number[0] == '\0') {
        ROW_PROBLEM(r, PM_CAND_EMPTY, header[F_IDNUM]);
        return;
    }
    /* Other ID types are matched as given (PRODUCT.md §6). */
    if (strcmp(c->id_type, id_types[0]) != 0)
        return;
    rc = idnum_check(c->id_number, norm);
    if (rc == 0)
        memcpy(c->id_number, norm, IDNUM_LEN + 1); /* never longer than given */
    else if (rc == ER_ID_LENGTH)
        ROW_PROBLEM(r, PM_ID_LENGTH, c->id_number);
    else if (rc == ER_ID_CHAR)
        ROW_PROBLEM(r, PM_ID_CHAR, c->id_number);
    else if (rc == ER_ID_BIRTH)
        ROW_PROBLEM(r, PM_ID_BIRTH, c->id_number);
    else
        ROW_PROBLEM(r, PM_ID_CHECK, c->id_number);
}

/* Empty: to be arranged (0); else a number 1..9999; -1 when it is neither. */
static int parse_seat(struct rows *r, const char *s)
{
    size_t n = strlen(s);
    int v = 0;

    if (n == 0)
        return 0;
    if (n > 4 || strspn(s, "0123456789") != n || atoi(s) < 1) {
        ROW_PROBLEM(r, PM_SEAT_FORMAT, s);
        return -1;
    }
    v = atoi(s);
    return v;
}

static int photo_name_ok(const char *s)
{
    return s[0] != '.' && strchr(s, '/') == NULL && strchr(s, '\\') == NULL;
}

static void check_row(struct rows *r, struct plan_candidate *c)
{
    static const int required[] = {F_TICKET, F_NAME, F_OCC, F_LEVEL, F_SESSION, F_ROOM, F_PHOTO};
    char *const *f[PLAN_CSV_FIELDS] = {
        &c->ticket, &c->name,    &c->gender, &c->id_type, &c->id_number, &c->occupation,
        &c->level,  &c->session, &c->room,   NULL,        &c->photo,
    };

    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if ((*f[required[i]])[0] == '\0')
            ROW_PROBLEM(r, PM_CAND_EMPTY, header[required[i]]);
    if (strcmp(c->gender, "男") != 0 && strcmp(c->gender, "女") != 0)
        ROW_PROBLEM(r, PM_GENDER, c->gender);
    check_id(r, c);
    if (c->photo[0] != '\0' && !photo_name_ok(c->photo)) {
        ROW_PROBLEM(r, PM_PHOTO_NAME, c->photo);
        c->photo_bad = 1;
    }
    if (c->photo[0] == '\0')
        c->photo_bad = 1;
}

/* Moves the fields of a complete row into a new candidate and checks it. */
static void take_row(struct rows *r)
{
    struct plan *p = r->p;
    struct plan_candidate *c;

    if (p->ncandidates == p->cap_candidates) {
        size_t cap = p->cap_candidates ? p->cap_candidates * 2 : 64;
        struct plan_candidate *v = realloc(p->candidates, cap * sizeof(*v));

        if (v == NULL) {
            r->nomem = 1;
            return;
        }
        p->candidates = v;
        p->cap_candidates = cap;
    }
    for (size_t i = 0; i < PLAN_CSV_FIELDS; i++) {
        if (r->f[i] == NULL) {
            r->nomem = 1;
            return;
        }
        /* Names, occupations and levels are compared with plan.json as
         * written there; only what people type as codes is folded. */
        if (i == F_TICKET || i == F_IDNUM || i == F_SESSION || i == F_ROOM || i == F_SEAT)
            fold_trim(r->f[i]);
        else
            trim(r->f[i]);
    }
    c = &p->candidates[p->ncandidates++];
    memset(c, 0, sizeof(*c));
    c->line = r->rec_line;
    c->ticket = r->f[F_TICKET], c->name = r->f[F_NAME], c->gender = r->f[F_GENDER];
    c->id_type = r->f[F_IDTYPE], c->id_number = r->f[F_IDNUM], c->occupation = r->f[F_OCC];
    c->level = r->f[F_LEVEL], c->session = r->f[F_SESSION], c->room = r->f[F_ROOM];
    c->photo = r->f[F_PHOTO];
    c->seat = parse_seat(r, r->f[F_SEAT]);
    free(r->f[F_SEAT]);
    memset(r->f, 0, sizeof(r->f));
    r->nf = 0;
    check_row(r, c);
}

static int all_empty(const struct rows *r)
{
    for (size_t i = 0; i < r->nf && i < PLAN_CSV_FIELDS; i++)
        if (r->f[i] != NULL && strspn(r->f[i], " \t") != strlen(r->f[i]))
            return 0;
    return 1;
}

static void on_record(int term, void *data)
{
    struct rows *r = data;

    (void)term;
    if (!r->header_seen) {
        r->header_seen = 1;
        r->header_bad = r->nf != PLAN_CSV_FIELDS;
        for (size_t i = 0; !r->header_bad && i < PLAN_CSV_FIELDS; i++)
            r->header_bad = r->f[i] == NULL || strcmp(r->f[i], header[i]) != 0;
        if (r->header_bad)
            problem(r, r->rec_line, PM_CSV_HEADER);
    } else if (r->header_bad || all_empty(r)) {
        /* Rows of empty cells are what spreadsheets leave below a table. */
    } else if (r->nf != PLAN_CSV_FIELDS) {
        ROW_PROBLEM(r, PM_CSV_FIELDS, r->nf);
    } else {
        take_row(r);
    }
    clear_fields(r);
    r->between = 1;
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

/* The length of the physical line at s, with its end: LF, CRLF, or a lone
 * CR (old Mac files; libcsv ends a record there too, and so does an
 * editor's line). */
static size_t line_length(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            return i + 1;
        if (s[i] == '\r')
            return i + 1 < n && s[i + 1] == '\n' ? i + 2 : i + 1;
    }
    return n;
}

/* Feeds buf to the parser one physical line at a time. */
static void feed_lines(struct rows *r, struct csv_parser *cp, const char *buf, size_t len)
{
    size_t pos = 0;

    while (pos < len && !r->nomem) {
        size_t n = line_length(buf + pos, len - pos);

        if (!utf8_ok((const unsigned char *)buf + pos, n))
            problem(r, r->line, PM_CSV_UTF8);
        if (r->between && !blank(buf + pos, n)) {
            r->rec_line = r->line;
            r->between = 0;
        }
        if (csv_parse(cp, buf + pos, n, on_field, on_record, r) != n) {
            problem(r, r->line, PM_CSV_SYNTAX);
            return;
        }
        pos += n;
        r->line++;
    }
    if (csv_fini(cp, on_field, on_record, r) != 0)
        problem(r, r->rec_line, PM_CSV_SYNTAX);
}

int plan_read_candidates(struct plan *p, const char *buf, size_t len, struct plan_diags *d)
{
    struct rows r = {.p = p, .d = d, .line = 1, .rec_line = 1, .between = 1};
    struct csv_parser cp;

    /* Excel's "CSV UTF-8" starts with a byte order mark. */
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        buf += 3;
        len -= 3;
    }
    if (csv_init(&cp, CSV_STRICT | CSV_STRICT_FINI) != 0)
        return ER_NOMEM;
    feed_lines(&r, &cp, buf, len);
    csv_free(&cp);
    clear_fields(&r);
    if (!r.header_seen)
        problem(&r, 1, PM_CSV_HEADER);
    else if (!r.header_bad && p->ncandidates == 0 && !r.bad)
        problem(&r, 1, PM_CSV_NO_ROWS);
    if (r.nomem || d->nomem)
        return ER_NOMEM;
    return r.bad ? ER_PLAN_INVALID : 0;
}
