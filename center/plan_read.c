/* The readers of plan.json and the paper files: jansson for the values, the
 * position index (plan_json.c) for the line of each problem. Each reader
 * checks what one file can tell on its own and keeps reading after a
 * problem, so that one import lists them all. */
#include "plan_internal.h"
#include "plan_msg.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jctx {
    const char *file;
    struct jpos ix;
    struct plan_diags *d;
    int bad, nomem;
};

static void jdiag(struct jctx *jc, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void jdiag(struct jctx *jc, const char *path, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    jc->bad = 1;
    if (plan_diag(jc->d, jc->file, jpos_line(&jc->ix, path), "%s", msg) != 0)
        jc->nomem = 1;
}

static char *dup_or_empty(struct jctx *jc, const char *s)
{
    char *d = plan_strdup(s != NULL ? s : "");

    if (d == NULL)
        jc->nomem = 1;
    return d;
}

/* The non-empty string obj[key], or NULL with the problem reported. */
static const char *get_str(struct jctx *jc, json_t *obj, const char *opath, const char *key)
{
    json_t *v = json_object_get(obj, key);
    char path[256];

    if (v == NULL) {
        jdiag(jc, opath, PM_FIELD_MISSING, key);
        return NULL;
    }
    snprintf(path, sizeof(path), "%s/%s", opath, key);
    if (!json_is_string(v) || json_string_length(v) == 0) {
        jdiag(jc, path, PM_FIELD_NOT_STRING, key);
        return NULL;
    }
    return json_string_value(v);
}

static char *dup_str(struct jctx *jc, json_t *obj, const char *opath, const char *key)
{
    return dup_or_empty(jc, get_str(jc, obj, opath, key));
}

/* obj[key] as an integer in [lo, hi]; -1 with the problem reported. */
static int get_int(struct jctx *jc, json_t *obj, const char *opath, const char *key, int lo, int hi,
                   int *out)
{
    json_t *v = json_object_get(obj, key);
    char path[256];

    if (v == NULL) {
        jdiag(jc, opath, PM_FIELD_MISSING, key);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s", opath, key);
    if (!json_is_integer(v)) {
        jdiag(jc, path, PM_FIELD_NOT_INT, key);
        return -1;
    }
    if (json_integer_value(v) < lo || json_integer_value(v) > hi) {
        jdiag(jc, path, PM_FIELD_RANGE, key, (long long)json_integer_value(v), lo, hi);
        return -1;
    }
    *out = (int)json_integer_value(v);
    return 0;
}

/* obj[key] as a non-empty array; NULL with the problem reported. */
static json_t *get_array(struct jctx *jc, json_t *obj, const char *opath, const char *key)
{
    json_t *v = json_object_get(obj, key);
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", opath, key);
    if (v == NULL) {
        jdiag(jc, opath, PM_FIELD_MISSING, key);
        return NULL;
    }
    if (!json_is_array(v) || json_array_size(v) == 0) {
        jdiag(jc, path, PM_FIELD_NOT_ARRAY, key);
        return NULL;
    }
    return v;
}

/* Parses buf; on success the root object, with the position index built. */
static json_t *load(struct jctx *jc, const char *buf, size_t len)
{
    json_error_t err;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);

    if (root == NULL) {
        jc->bad = 1;
        if (plan_diag(jc->d, jc->file, err.line > 0 ? err.line : 0, PM_JSON_SYNTAX, err.text))
            jc->nomem = 1;
        return NULL;
    }
    /* What jansson accepts always scans; should it not, lines are 0. */
    if (jpos_build(buf, len, &jc->ix) == ER_NOMEM)
        jc->nomem = 1;
    if (!json_is_object(root)) {
        jdiag(jc, "", PM_JSON_NOT_OBJECT);
        json_decref(root);
        return NULL;
    }
    return root;
}

static int finish(struct jctx *jc)
{
    jpos_free(&jc->ix);
    if (jc->nomem || jc->d->nomem)
        return ER_NOMEM;
    return jc->bad ? ER_PLAN_INVALID : 0;
}

/* Room and session ids end up in file names and URLs: keep them plain. */
static int id_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 32)
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int num(const char *s, size_t n)
{
    int v = 0;

    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* "YYYYMMDD-机构名称": a real date, a hyphen, then a name without spaces,
 * slashes or control characters. */
static int plan_id_ok(const char *id)
{
    size_t n = strlen(id);

    if (n < 10 || n > 200 || !digits(id, 8) || id[8] != '-')
        return 0;
    if (!plan_date_valid(num(id, 4), num(id + 4, 2), num(id + 6, 2)))
        return 0;
    for (const char *c = id + 9; *c != '\0'; c++)
        if ((unsigned char)*c <= 0x20 || *c == '/' || *c == '\\' || *c == 0x7f)
            return 0;
    return 1;
}

static void read_header(struct jctx *jc, struct plan *p, json_t *root)
{
    json_t *inst = json_object_get(root, "institution");

    p->id = dup_str(jc, root, "", "id");
    if (p->id != NULL && p->id[0] != '\0' && !plan_id_ok(p->id))
        jdiag(jc, "/id", PM_PLAN_ID, p->id);
    if (inst == NULL) {
        jdiag(jc, "", PM_FIELD_MISSING, "institution");
    } else if (!json_is_object(inst)) {
        jdiag(jc, "/institution", PM_FIELD_NOT_OBJECT, "institution");
    } else {
        p->institution_code = dup_str(jc, inst, "/institution", "code");
        p->institution_name = dup_str(jc, inst, "/institution", "name");
    }
    p->timezone = dup_str(jc, root, "", "timezone");
    if (p->timezone != NULL && p->timezone[0] != '\0' && plan_tz_offset(p->timezone) < 0)
        jdiag(jc, "/timezone", PM_TIMEZONE, p->timezone);
    get_int(jc, root, "", "pass_mark", 1, 100, &p->pass_mark);
}

static void read_room(struct jctx *jc, struct plan *p, json_t *v, size_t i)
{
    struct plan_room *r = &p->rooms[p->nrooms];
    char path[64];

    snprintf(path, sizeof(path), "/rooms/%zu", i);
    memset(r, 0, sizeof(*r));
    r->line = jpos_line(&jc->ix, path);
    if (!json_is_object(v)) {
        jdiag(jc, path, PM_ELEMENT_NOT_OBJECT, "rooms");
        return;
    }
    r->id = dup_str(jc, v, path, "id");
    r->site = dup_str(jc, v, path, "site");
    r->site_name = dup_str(jc, v, path, "site_name");
    r->name = dup_str(jc, v, path, "name");
    if (get_int(jc, v, path, "seats", 1, PLAN_MAX_SEATS, &r->seats) != 0)
        r->seats = 0; /* unknown: the seat checks leave this room alone */
    if (r->id == NULL || r->id[0] == '\0')
        return;
    snprintf(path, sizeof(path), "/rooms/%zu/id", i);
    if (!id_ok(r->id))
        jdiag(jc, path, PM_ID_FORMAT, r->id);
    for (size_t j = 0; j < p->nrooms; j++) {
        if (strcmp(p->rooms[j].id, r->id) == 0) {
            jdiag(jc, path, PM_ROOM_DUP, r->id, p->rooms[j].line);
            return;
        }
    }
    p->nrooms++;
}

static void read_rooms(struct jctx *jc, struct plan *p, json_t *root)
{
    json_t *rooms = get_array(jc, root, "", "rooms"), *v;
    size_t i;

    if (rooms == NULL)
        return;
    p->rooms = calloc(json_array_size(rooms) + 1, sizeof(*p->rooms)); /* + a scratch slot */
    if (p->rooms == NULL) {
        jc->nomem = 1;
        return;
    }
    json_array_foreach(rooms, i, v)
    {
        struct plan_room *scratch;

        read_room(jc, p, v, i);
        /* A room left out (no id, or a duplicate) frees what it held. */
        scratch = &p->rooms[p->nrooms];
        free(scratch->id);
        free(scratch->site);
        free(scratch->site_name);
        free(scratch->name);
        memset(scratch, 0, sizeof(*scratch));
    }
}

/* "HH:MM" to minutes of the day, or -1. */
static int parse_hhmm(const char *s)
{
    if (strlen(s) != 5 || !digits(s, 2) || s[2] != ':' || !digits(s + 3, 2))
        return -1;
    if (num(s, 2) > 23 || num(s + 3, 2) > 59)
        return -1;
    return num(s, 2) * 60 + num(s + 3, 2);
}

/* "YYYY-MM-DD" to days since the epoch; 0 with *ok cleared when invalid. */
static int64_t parse_date(const char *s, int *ok)
{
    *ok = strlen(s) == 10 && digits(s, 4) && s[4] == '-' && digits(s + 5, 2) && s[7] == '-' &&
          digits(s + 8, 2) && plan_date_valid(num(s, 4), num(s + 5, 2), num(s + 8, 2));
    return *ok ? plan_days_from_civil(num(s, 4), num(s + 5, 2), num(s + 8, 2)) : 0;
}

/* date, start and end, and the UTC seconds they stand for. */
static void read_times(struct jctx *jc, const struct plan *p, struct plan_session *s, json_t *v,
                       const char *path)
{
    char vp[96];
    int ok = 0, start = -1, end = -1;
    int tz = p->timezone != NULL ? plan_tz_offset(p->timezone) : -1;
    int64_t day = 0;

    s->date = dup_str(jc, v, path, "date");
    s->start = dup_str(jc, v, path, "start");
    s->end = dup_str(jc, v, path, "end");
    if (s->date != NULL && s->date[0] != '\0') {
        day = parse_date(s->date, &ok);
        snprintf(vp, sizeof(vp), "%s/date", path);
        if (!ok)
            jdiag(jc, vp, PM_DATE, s->date);
    }
    if (s->start != NULL && s->start[0] != '\0') {
        start = parse_hhmm(s->start);
        snprintf(vp, sizeof(vp), "%s/start", path);
        if (start < 0)
            jdiag(jc, vp, PM_TIME, s->start);
    }
    if (s->end != NULL && s->end[0] != '\0') {
        end = parse_hhmm(s->end);
        snprintf(vp, sizeof(vp), "%s/end", path);
        if (end < 0)
            jdiag(jc, vp, PM_TIME, s->end);
        else if (start >= 0 && end <= start && end + 24 * 60 - start > PLAN_OVERNIGHT_MAX)
            jdiag(jc, vp, PM_TIME_ORDER, s->end, s->start, PLAN_OVERNIGHT_MAX / 60);
    }
    /* An end at or before the start is the next day's, for a session that
     * runs past midnight; a longer span is a typo (09:00-08:30), refused. */
    if (end >= 0 && start >= 0 && end <= start)
        end += 24 * 60;
    if (!ok || start < 0 || end <= start || end - start > 24 * 60 || tz < 0 ||
        (end > 24 * 60 && end - start > PLAN_OVERNIGHT_MAX))
        return; /* starts_at stays 0: no overlap check for this session */
    s->starts_at = day * 86400 + start * 60 - tz;
    s->ends_at = day * 86400 + end * 60 - tz;
}

/* Paper paths name a file under papers/: nothing that climbs out of the plan
 * directory. */
static int paper_path_ok(const char *s)
{
    size_t n = strlen(s);

    if (n <= strlen("papers/.json") - 1 || strncmp(s, "papers/", 7) != 0 ||
        strcmp(s + n - 5, ".json") != 0)
        return 0;
    return strstr(s, "..") == NULL && strchr(s, '\\') == NULL && strstr(s, "//") == NULL;
}

static void read_sitting(struct jctx *jc, struct plan_session *s, json_t *v, const char *spath,
                         size_t i)
{
    struct plan_sitting *t = &s->sittings[s->nsittings];
    char path[128], pp[160];

    snprintf(path, sizeof(path), "%s/papers/%zu", spath, i);
    memset(t, 0, sizeof(*t));
    t->line = jpos_line(&jc->ix, path);
    if (!json_is_object(v)) {
        jdiag(jc, path, PM_ELEMENT_NOT_OBJECT, "papers");
        return;
    }
    t->occupation = dup_str(jc, v, path, "occupation");
    t->level = dup_str(jc, v, path, "level");
    t->subject = dup_str(jc, v, path, "subject");
    t->paper = dup_str(jc, v, path, "paper");
    snprintf(pp, sizeof(pp), "%s/paper", path);
    t->paper_line = jpos_line(&jc->ix, pp);
    s->nsittings++;
    if (t->paper == NULL || t->occupation == NULL || t->level == NULL)
        return;
    if (t->paper[0] != '\0' && !paper_path_ok(t->paper)) {
        jdiag(jc, pp, PM_PAPER_PATH, t->paper);
        t->paper[0] = '\0'; /* not to be read */
    }
    for (size_t j = 0; j + 1 < s->nsittings; j++) {
        const struct plan_sitting *o = &s->sittings[j];

        if (t->occupation[0] != '\0' && strcmp(o->occupation, t->occupation) == 0 &&
            strcmp(o->level, t->level) == 0) {
            jdiag(jc, path, PM_SITTING_DUP, t->occupation, t->level, o->line);
            return;
        }
    }
}

static void read_sittings(struct jctx *jc, struct plan_session *s, json_t *v, const char *path)
{
    json_t *papers = get_array(jc, v, path, "papers"), *e;
    size_t i;

    if (papers == NULL)
        return;
    s->sittings = calloc(json_array_size(papers), sizeof(*s->sittings));
    if (s->sittings == NULL) {
        jc->nomem = 1;
        return;
    }
    json_array_foreach(papers, i, e)
    {
        read_sitting(jc, s, e, path, i);
    }
}

static void read_session(struct jctx *jc, struct plan *p, json_t *v, size_t i)
{
    struct plan_session *s = &p->sessions[p->nsessions];
    char path[64], ip[128];
    int minutes;

    snprintf(path, sizeof(path), "/sessions/%zu", i);
    memset(s, 0, sizeof(*s));
    s->line = jpos_line(&jc->ix, path);
    if (!json_is_object(v)) {
        jdiag(jc, path, PM_ELEMENT_NOT_OBJECT, "sessions");
        return;
    }
    p->nsessions++; /* kept even when bad, so that plan_free() frees it */
    s->id = dup_str(jc, v, path, "id");
    read_times(jc, p, s, v, path);
    minutes = (int)((s->ends_at - s->starts_at) / 60);
    if (get_int(jc, v, path, "late_admission_minutes", 0, 24 * 60, &s->late_admission) == 0 &&
        s->starts_at != 0 && s->late_admission >= minutes) {
        snprintf(ip, sizeof(ip), "%s/late_admission_minutes", path);
        jdiag(jc, ip, PM_MINUTES, "late_admission_minutes", s->late_admission, minutes);
    }
    if (get_int(jc, v, path, "earliest_submit_minutes", 0, 24 * 60, &s->earliest_submit) == 0 &&
        s->starts_at != 0 && s->earliest_submit >= minutes) {
        snprintf(ip, sizeof(ip), "%s/earliest_submit_minutes", path);
        jdiag(jc, ip, PM_MINUTES, "earliest_submit_minutes", s->earliest_submit, minutes);
    }
    read_sittings(jc, s, v, path);
    if (s->id == NULL || s->id[0] == '\0')
        return;
    snprintf(ip, sizeof(ip), "%s/id", path);
    if (!id_ok(s->id))
        jdiag(jc, ip, PM_ID_FORMAT, s->id);
    for (size_t j = 0; j + 1 < p->nsessions; j++) {
        if (p->sessions[j].id != NULL && strcmp(p->sessions[j].id, s->id) == 0) {
            jdiag(jc, ip, PM_SESSION_DUP, s->id, p->sessions[j].line);
            s->id[0] = '\0'; /* the references go to the first one */
            return;
        }
    }
}

static void read_sessions(struct jctx *jc, struct plan *p, json_t *root)
{
    json_t *sessions = get_array(jc, root, "", "sessions"), *v;
    size_t i;

    if (sessions == NULL)
        return;
    p->sessions = calloc(json_array_size(sessions), sizeof(*p->sessions));
    if (p->sessions == NULL) {
        jc->nomem = 1;
        return;
    }
    json_array_foreach(sessions, i, v)
    {
        read_session(jc, p, v, i);
    }
}

int plan_read_plan_json(struct plan *p, const char *buf, size_t len, struct plan_diags *d)
{
    struct jctx jc = {.file = PLAN_FILE_JSON, .d = d};
    json_t *root = load(&jc, buf, len);

    if (root != NULL) {
        read_header(&jc, p, root);
        read_rooms(&jc, p, root);
        read_sessions(&jc, p, root);
        p->json_ok = 1;
        json_decref(root);
    }
    return finish(&jc);
}

/* ---- papers ---- */

enum { ITEM_SINGLE, ITEM_MULTIPLE, ITEM_JUDGE };

/* The option letters of a choice item as a bit set (A = bit 0); reports
 * what is wrong with them. */
static uint32_t read_options(struct jctx *jc, json_t *item, const char *ipath, const char *id,
                             int type)
{
    json_t *opts = json_object_get(item, "options"), *v;
    const char *k;
    uint32_t letters = 0;
    char path[160];

    snprintf(path, sizeof(path), "%s/options", ipath);
    if (type == ITEM_JUDGE) {
        if (opts != NULL && (!json_is_object(opts) || json_object_size(opts) != 0))
            jdiag(jc, path, PM_JUDGE_OPTIONS, id);
        return 0;
    }
    if (opts == NULL || !json_is_object(opts) || json_object_size(opts) < 2) {
        jdiag(jc, opts != NULL ? path : ipath, PM_OPTIONS, id);
        return 0;
    }
    json_object_foreach(opts, k, v)
    {
        char op[256];

        /* A key that would need escaping is no option letter anyway: its
         * line is the options object's, never a wrong one. */
        if (strpbrk(k, "/~") != NULL || strlen(k) > 64)
            snprintf(op, sizeof(op), "%s", path);
        else
            snprintf(op, sizeof(op), "%s/%s", path, k);
        if (strlen(k) != 1 || k[0] < 'A' || k[0] > 'Z')
            jdiag(jc, op, PM_OPTION_KEY, k);
        else if (!json_is_string(v) || json_string_length(v) == 0)
            jdiag(jc, op, PM_FIELD_NOT_STRING, k);
        else
            letters |= 1u << (k[0] - 'A');
    }
    return letters;
}

/* Whether key fits the item's type and options (PRODUCT.md §4: letters in
 * order, "T" or "F"). */
static int key_ok(const char *key, int type, uint32_t letters)
{
    size_t n = strlen(key);

    if (type == ITEM_JUDGE)
        return strcmp(key, "T") == 0 || strcmp(key, "F") == 0;
    if (n == 0 || (type == ITEM_SINGLE && n != 1) || (type == ITEM_MULTIPLE && n < 2))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (key[i] < 'A' || key[i] > 'Z' || !(letters & (1u << (key[i] - 'A'))))
            return 0;
        if (i > 0 && key[i] <= key[i - 1])
            return 0; /* repeated or out of order */
    }
    return 1;
}

static void check_key(struct jctx *jc, json_t *item, const char *ipath, const char *id, int type,
                      uint32_t letters)
{
    const char *key = get_str(jc, item, ipath, "key");
    char path[160];

    if (key == NULL || key_ok(key, type, letters))
        return;
    snprintf(path, sizeof(path), "%s/key", ipath);
    if (type == ITEM_SINGLE)
        jdiag(jc, path, PM_KEY_SINGLE, id, key);
    else if (type == ITEM_MULTIPLE)
        jdiag(jc, path, PM_KEY_MULTIPLE, id, key);
    else
        jdiag(jc, path, PM_KEY_JUDGE, id, key);
}

/* One item; returns its points (0 when they are wrong). */
static int read_item(struct jctx *jc, json_t *item, size_t i, json_t *items)
{
    static const char *const types[] = {"single", "multiple", "judge"};
    char ipath[64], path[96];
    const char *id, *type;
    int t = -1, points = 0;

    snprintf(ipath, sizeof(ipath), "/items/%zu", i);
    if (!json_is_object(item)) {
        jdiag(jc, ipath, PM_ELEMENT_NOT_OBJECT, "items");
        return 0;
    }
    id = get_str(jc, item, ipath, "id");
    if (id == NULL)
        id = "?";
    else if (id[0] != '\0' && !id_ok(id)) { /* it ends up in the answer's URL */
        char idpath[80];

        snprintf(idpath, sizeof(idpath), "%s/id", ipath);
        jdiag(jc, idpath, PM_ID_FORMAT, id);
    }
    for (size_t j = 0; j < i && id[0] != '?'; j++) {
        json_t *o = json_object_get(json_array_get(items, j), "id");

        if (json_is_string(o) && strcmp(json_string_value(o), id) == 0) {
            char op[64];

            snprintf(path, sizeof(path), "%s/id", ipath);
            snprintf(op, sizeof(op), "/items/%zu", j);
            jdiag(jc, path, PM_ITEM_ID_DUP, id, jpos_line(&jc->ix, op));
            break;
        }
    }
    get_str(jc, item, ipath, "stem");
    type = get_str(jc, item, ipath, "type");
    for (int k = 0; type != NULL && k < 3; k++)
        if (strcmp(type, types[k]) == 0)
            t = k;
    snprintf(path, sizeof(path), "%s/type", ipath);
    if (type != NULL && t < 0)
        jdiag(jc, path, PM_ITEM_TYPE, type);
    if (t >= 0)
        check_key(jc, item, ipath, id, t, read_options(jc, item, ipath, id, t));
    snprintf(path, sizeof(path), "%s/points", ipath);
    if (!json_is_integer(json_object_get(item, "points")) ||
        json_integer_value(json_object_get(item, "points")) < 1 ||
        json_integer_value(json_object_get(item, "points")) > 100)
        jdiag(jc, path, PM_POINTS, id);
    else
        points = (int)json_integer_value(json_object_get(item, "points"));
    return points;
}

static void read_items(struct jctx *jc, json_t *root)
{
    json_t *items = get_array(jc, root, "", "items"), *v;
    long long total = 0;
    int all_points = 1;
    size_t i;

    if (items == NULL)
        return;
    json_array_foreach(items, i, v)
    {
        int pts = read_item(jc, v, i, items);

        total += pts;
        all_points &= pts > 0;
    }
    /* A total is only worth reporting when every item has its points. */
    if (all_points && total != 100)
        jdiag(jc, "/items", PM_POINTS_TOTAL, total);
}

int plan_read_paper(struct plan *p, const char *path, const char *buf, size_t len,
                    struct plan_diags *d)
{
    struct jctx jc = {.file = path, .d = d};
    struct plan_paper *pp, *v;
    json_t *root;

    v = realloc(p->papers, (p->npapers + 1) * sizeof(*v));
    if (v == NULL)
        return ER_NOMEM;
    p->papers = v;
    pp = &p->papers[p->npapers++];
    memset(pp, 0, sizeof(*pp));
    pp->path = dup_or_empty(&jc, path);
    root = load(&jc, buf, len);
    if (root != NULL) {
        pp->title = dup_str(&jc, root, "", "title");
        pp->occupation = dup_str(&jc, root, "", "occupation");
        pp->level = dup_str(&jc, root, "", "level");
        pp->subject = dup_str(&jc, root, "", "subject");
        read_items(&jc, root);
        pp->body = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (pp->body == NULL)
            jc.nomem = 1;
        json_decref(root);
    }
    return finish(&jc);
}
