/* The session's reports (PRODUCT.md §1.8): the sign-in sheet (签到表), the
 * score report (成绩报表) and attendance (考勤表), as CSV (UTF-8 with a
 * BOM, CRLF, RFC 4180 quoting: Excel opens it as it is) or as one HTML page
 * laid out for A4 print. The same three steps serve `examroom report` and
 * GET /admin/v1/reports/{kind} (report_http.c): report_gather() reads the
 * store (reads only, and no parsing of the sealed results: about 5 ms of
 * CPU for 300 candidates with 100 answers each, on the loop in the
 * daemon), report_add_package() reads the sealed results, counts, and
 * reads the package's room.json (plan, room, pass mark) and, for the HTML
 * sign-in sheet, the session's photos, and report_render() writes the
 * bytes; the last two run on the thread pool in the daemon. Scores, statuses and submission times
 * are the sealed results' own; pass or fail is the sealed score against the plan's pass mark, as
 * the center's scores (examcenter scores) decide it. ID numbers are masked: the first 4 and last 4
 * characters shown, the rest '*' (one under 10 characters: only its last half, at most 4, shown).
 */
#include "agent.h"
#include "static.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What the proctor reads (zh-CN, in one place). */
#define MSG_TITLE_SIGNIN     "签到表"
#define MSG_TITLE_SCORES     "成绩报表"
#define MSG_TITLE_ATTENDANCE "考勤表"
#define CSV_SIGNIN           "座位号,准考证号,姓名,证件号码,职业,等级,签到时间,考生签名"
#define CSV_SCORES           "座位号,准考证号,姓名,职业,等级,成绩,是否合格,状态,交卷时间"
#define CSV_COUNTS           "项目,人数"
#define CSV_INCIDENTS        "时间,座位号,准考证号,姓名,情况"
#define MSG_HEAD_PHOTO       "照片"
#define MSG_PASSED           "合格"
#define MSG_FAILED           "不合格"
#define MSG_ABSENT           "缺考"
#define MSG_AUTO             "自动交卷"
#define MSG_UNSEATED         "待定"
#define MSG_PROCTOR_SIGN     "监考员签名：________________　　________________　　日期：____________"
#define MSG_META             "%s　考试计划 %s　考点 %s　考场 %s　场次 %s　%s"
#define MSG_NO_INCIDENTS     "本场次没有记录情况。"
#define MSG_INCIDENT_LIST    "情况记录"
#define MSG_PAGE_TOTAL       "共 %zu 人"
static const char *const count_names[][2] = {
    {"registered", "应到"},    {"signed_in", "已签到"},        {"absent", "缺考"},
    {"submitted", "已交卷"},   {"auto_submitted", "自动交卷"}, {"moved", "换座"},
    {"incidents", "情况记录"},
};

#define N_COUNTS     (sizeof(count_names) / sizeof(count_names[0]))
#define PHOTO_MAX    (4u << 20) /* one photo, at most (the plan importer's limit is far below) */
#define NAME_MAX_LEN 1024       /* a photo's name in the section (as photo.c) */

int report_kind_of(const char *name)
{
    static const char *const kinds[] = {"signin", "scores", "attendance"};

    for (int i = 0; name != NULL && i < 3; i++)
        if (strcmp(name, kinds[i]) == 0)
            return i;
    return -1;
}

int report_format_of(const char *name)
{
    if (name == NULL || strcmp(name, "csv") == 0)
        return REPORT_CSV;
    return strcmp(name, "html") == 0 ? REPORT_HTML : -1;
}

void report_mask_id(const char *id, char *out, size_t outsz)
{
    size_t n = 0, i = 0, len = 0;

    /* Characters, not bytes: an ID is ASCII, but nothing of a stray
     * multi-byte one may be half shown. */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        n += (*p & 0xC0) != 0x80;
    for (const unsigned char *p = (const unsigned char *)id; *p && len + 5 < outsz; i++) {
        size_t cl = 1;
        size_t tail = n >= 10 ? 4 : n / 2 < 4 ? n / 2 : 4;
        int keep = (n >= 10 && i < 4) || i + tail >= n;

        while ((p[cl] & 0xC0) == 0x80)
            cl++;
        if (keep) {
            memcpy(out + len, p, cl);
            len += cl;
        } else {
            out[len++] = '*';
        }
        p += cl;
    }
    out[len] = '\0';
}

/* ---- gathering (the store) ---- */

struct gather {
    json_t *rows;
    json_t *by_id; /* candidate id -> row */
    json_t *incidents;
    int found;
    int64_t starts_at, ends_at;
    const char *session;
};

static void take_session(const struct store_session *s, void *arg)
{
    struct gather *g = arg;

    g->found = 1;
    g->starts_at = s->starts_at;
    g->ends_at = s->ends_at;
}

static void take_candidate(const struct store_candidate *c, void *arg)
{
    struct gather *g = arg;
    char masked[256], id[24];
    json_t *row;

    report_mask_id(c->id_number ? c->id_number : "", masked, sizeof(masked));
    row = json_pack("{s:I, s:i, s:s, s:s, s:s, s:s, s:s, s:s?, s:s, s:I, s:n, s:n, s:I, s:b}", "id",
                    (json_int_t)c->id, "seat", c->seat, "ticket", c->ticket, "name", c->name,
                    "id_masked", masked, "occupation", c->occupation, "level", c->level, "photo",
                    c->photo, "state", store_cand_state_name(c->state), "signin_at", (json_int_t)0,
                    "status", "score", "submitted_at", (json_int_t)0, "moved", 0);
    if (row == NULL)
        return;
    snprintf(id, sizeof(id), "%lld", (long long)c->id);
    json_object_set(g->by_id, id, row);
    json_array_append_new(g->rows, row);
}

static void take_signin(const struct store_signin *s, void *arg)
{
    json_object_set_new(arg, "signin_at", json_integer(s->at));
}

/* The sealed result's bytes, kept as they are: read (report_settle) off
 * the loop, where parsing a room's results (each with every answer) costs
 * what the loop cannot spare. */
static void take_result(const struct store_result *res, void *arg)
{
    json_object_set_new(arg, "sealed", json_stringn((const char *)res->sealed, res->sealed_len));
}

/* The sealed result, as sealed: its status, score and time. */
static void settle_row(json_t *row)
{
    const char *sealed = json_string_value(json_object_get(row, "sealed"));
    json_t *doc = sealed != NULL ? json_loads(sealed, 0, NULL) : NULL;

    if (doc != NULL) {
        json_object_set(row, "status", json_object_get(doc, "status"));
        if (json_is_integer(json_object_get(doc, "score")))
            json_object_set(row, "score", json_object_get(doc, "score"));
        json_object_set_new(row, "submitted_at",
                            json_integer(json_integer_value(json_object_get(doc, "submitted_at"))));
    }
    json_object_del(row, "sealed");
    json_decref(doc);
}

static json_t *row_of(struct gather *g, int64_t id)
{
    char key[24];

    snprintf(key, sizeof(key), "%lld", (long long)id);
    return json_object_get(g->by_id, key);
}

/* A move of this session's candidate (an audit event of kind "move"). */
static void take_move(const struct store_event *e, void *arg)
{
    struct gather *g = arg;
    json_t *body = json_loads(e->body, 0, NULL);
    json_t *row = row_of(g, e->candidate_id);

    if (row != NULL && json_is_string(json_object_get(body, "kind")) &&
        strcmp(json_string_value(json_object_get(body, "kind")), "move") == 0)
        json_object_set_new(row, "moved", json_true());
    json_decref(body);
}

/* An incident of this session: its body names the session, or (a sign-in
 * incident) only the candidate. */
static void take_incident(const struct store_event *e, void *arg)
{
    struct gather *g = arg;
    json_t *body = json_loads(e->body, 0, NULL);
    json_t *row = row_of(g, e->candidate_id);
    const char *session = json_string_value(json_object_get(body, "session"));
    json_t *seat = json_object_get(body, "seat");

    if ((session != NULL && strcmp(session, g->session) == 0) || (session == NULL && row != NULL))
        json_array_append_new(
            g->incidents,
            json_pack("{s:I, s:O?, s:O?, s:O?, s:O?}", "at", (json_int_t)e->at, "seat",
                      json_is_integer(seat) ? seat : json_object_get(row, "seat"), "ticket",
                      json_object_get(body, "ticket") ? json_object_get(body, "ticket")
                                                      : json_object_get(row, "ticket"),
                      "name", json_object_get(row, "name"), "text", json_object_get(body, "text")));
    json_decref(body);
}

/* By seat; candidates without a seat last, by ticket. */
static int by_seat(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    json_int_t sx = json_integer_value(json_object_get(x, "seat"));
    json_int_t sy = json_integer_value(json_object_get(y, "seat"));

    if ((sx <= 0) != (sy <= 0))
        return sx <= 0 ? 1 : -1;
    if (sx != sy)
        return sx < sy ? -1 : 1;
    return strcmp(json_string_value(json_object_get(x, "ticket")),
                  json_string_value(json_object_get(y, "ticket")));
}

static void sort_rows(json_t *rows)
{
    jarray_sort(rows, by_seat); /* out of memory: in roster order */
}

static json_t *count_up(const json_t *rows, const json_t *incidents)
{
    int n[N_COUNTS] = {0};
    size_t i;
    json_t *row, *out = json_object();

    json_array_foreach(rows, i, row)
    {
        const char *status = json_string_value(json_object_get(row, "status"));

        n[0]++;
        n[1] += json_integer_value(json_object_get(row, "signin_at")) > 0;
        if (status != NULL) {
            n[2] += strcmp(status, "absent") == 0;
            n[3] += strcmp(status, "submitted") == 0;
            n[4] += strcmp(status, "auto_submitted") == 0;
        }
        n[5] += json_is_true(json_object_get(row, "moved"));
    }
    n[6] = (int)json_array_size(incidents);
    for (i = 0; i < N_COUNTS; i++)
        json_object_set_new(out, count_names[i][0], json_integer(n[i]));
    return out;
}

int report_gather(struct store *st, const char *session, json_t **out)
{
    struct gather g = {.session = session};
    size_t i;
    json_t *row;

    *out = NULL;
    if (store_get_session(st, session, take_session, &g) < 0 || !g.found)
        return ER_SESSION_NOT_FOUND;
    g.rows = json_array();
    g.by_id = json_object();
    g.incidents = json_array();
    store_foreach_candidate(st, session, take_candidate, &g);
    /* A visitor must not call the store: the sign-ins and results after. */
    json_array_foreach(g.rows, i, row)
    {
        int64_t id = json_integer_value(json_object_get(row, "id"));

        store_last_signin(st, id, take_signin, row);
        store_get_result(st, id, take_result, row);
    }
    store_foreach_event(st, STORE_EVENT_AUDIT, take_move, &g);
    store_foreach_event(st, STORE_EVENT_INCIDENT, take_incident, &g);
    sort_rows(g.rows);
    *out = json_pack("{s:s, s:I, s:I, s:O, s:o}", "session", session, "starts_at",
                     (json_int_t)g.starts_at, "ends_at", (json_int_t)g.ends_at, "rows", g.rows,
                     "incidents", g.incidents);
    json_decref(g.rows);
    json_decref(g.by_id);
    return *out != NULL ? 0 : ER_NOMEM;
}

/* ---- the package: room.json, and the photos ---- */

static void take_registration(const struct store_registration *reg, void *arg)
{
    snprintf(arg, PKG_MAX_NAME + 1, "%s", reg->plan_id);
}

struct latest {
    char *path;
    int64_t version;
};

static void take_package(const struct store_package *pkg, void *arg)
{
    struct latest *l = arg;

    l->version = pkg->version;
    snprintf(l->path, ROOM_PATH_MAX, "%s", pkg->path);
}

int report_package(struct store *st, char path[ROOM_PATH_MAX], int64_t *version)
{
    char plan[PKG_MAX_NAME + 1] = "";
    struct latest l = {path, 0};

    store_foreach_registration(st, take_registration, plan);
    if (plan[0] == '\0')
        return ER_NOT_REGISTERED;
    if (store_latest_package(st, plan, take_package, &l) < 0)
        return ER_SYNC_NO_PACKAGE;
    *version = l.version;
    return 0;
}

/* The photos section, streamed (the layout of photo.c: u16 name length,
 * name, u32 size, the JPEG, big endian): the JPEGs named in want are kept,
 * as data: URIs, into want. */
struct pick {
    json_t *want; /* photo name -> null, then its data: URI */
    enum { NLEN, NAME, JPEG } part;
    uint8_t head[NAME_MAX_LEN + 4];
    size_t have, need;
    uint32_t left;
    char name[NAME_MAX_LEN + 1];
    int keep;
    struct dynbuf jpeg;
};

static int jpeg_done(struct pick *p)
{
    char *b64;
    json_t *uri;

    if (!p->keep)
        return 0;
    b64 = base64_encode((const uint8_t *)(p->jpeg.buf ? p->jpeg.buf : ""), p->jpeg.len);
    if (b64 == NULL)
        return ER_NOMEM;
    uri = json_sprintf("data:image/jpeg;base64,%s", b64);
    free(b64);
    dynbuf_reset(&p->jpeg);
    return uri != NULL && json_object_set_new(p->want, p->name, uri) == 0 ? 0 : ER_NOMEM;
}

static int header_done(struct pick *p)
{
    size_t nlen;
    const uint8_t *sz;

    if (p->part == NLEN) {
        nlen = (size_t)p->head[0] << 8 | p->head[1];
        if (nlen == 0 || nlen > NAME_MAX_LEN)
            return ER_PKG_CORRUPT;
        p->part = NAME;
        p->have = 0;
        p->need = nlen + 4;
        return 0;
    }
    nlen = p->need - 4;
    sz = p->head + nlen;
    memcpy(p->name, p->head, nlen);
    p->name[nlen] = '\0';
    p->left = (uint32_t)sz[0] << 24 | (uint32_t)sz[1] << 16 | (uint32_t)sz[2] << 8 | sz[3];
    p->keep = json_object_get(p->want, p->name) != NULL && p->left <= PHOTO_MAX;
    p->part = JPEG;
    p->have = 0;
    p->need = 2;
    if (p->left == 0) {
        p->part = NLEN;
        return jpeg_done(p);
    }
    return 0;
}

static int pick_sink(void *arg, const uint8_t *data, size_t n)
{
    struct pick *p = arg;
    int rc = 0;

    while (n > 0 && rc == 0) {
        size_t take;

        if (p->part == JPEG) {
            take = p->left < n ? p->left : n;
            if (p->keep)
                rc = dynbuf_add(&p->jpeg, data, take);
            p->left -= (uint32_t)take;
            if (rc == 0 && p->left == 0) {
                p->part = NLEN;
                rc = jpeg_done(p);
            }
        } else {
            take = p->need - p->have < n ? p->need - p->have : n;
            memcpy(p->head + p->have, data, take);
            p->have += take;
            if (p->have == p->need)
                rc = header_done(p);
        }
        data += take;
        n -= take;
    }
    return rc;
}

static int read_photos(struct pkg_reader *rd, json_t *data)
{
    struct pick *p = calloc(1, sizeof(*p));
    json_t *row;
    size_t i;
    int rc;

    if (p == NULL)
        return ER_NOMEM;
    p->want = json_object();
    p->need = 2;
    dynbuf_init(&p->jpeg, PHOTO_MAX);
    json_array_foreach(json_object_get(data, "rows"), i, row)
    {
        const char *name = json_string_value(json_object_get(row, "photo"));

        if (name != NULL)
            json_object_set_new(p->want, name, json_null());
    }
    rc = pkg_read(rd, "photos", NULL, pick_sink, p);
    if (rc == ER_PKG_NO_SECTION)
        rc = 0; /* a package without photos: the sheet has empty frames */
    if (rc == 0)
        json_object_set(data, "photos", p->want);
    json_decref(p->want);
    dynbuf_free(&p->jpeg);
    free(p);
    return rc;
}

int report_add_package(json_t *data, const char *path, const struct pkg_trust *trust, int photos)
{
    struct pkg_reader *rd = NULL;
    char *text = NULL;
    size_t len = 0;
    json_t *doc = NULL, *row, *rows = json_object_get(data, "rows");
    size_t i;
    int rc;

    json_array_foreach(rows, i, row) settle_row(row);
    json_object_set_new(data, "counts", count_up(rows, json_object_get(data, "incidents")));
    rc = pkg_open(path, trust, &rd);

    if (rc == 0)
        rc = room_read_section(rd, "room.json", NULL, &text, &len);
    if (rc == 0 && (doc = json_loadb(text, len, 0, NULL)) == NULL)
        rc = ER_PKG_CORRUPT;
    if (rc == 0) {
        json_object_set(data, "plan", json_object_get(doc, "plan"));
        json_object_set(data, "room", json_object_get(doc, "room"));
    }
    if (rc == 0 && photos)
        rc = read_photos(rd, data);
    json_decref(doc);
    free(text);
    if (rd != NULL)
        pkg_close(rd);
    return rc;
}

/* ---- rendering ---- */

struct out {
    struct dynbuf *b;
    int rc;
    int csv;
};

static void put(struct out *o, const char *s)
{
    if (o->rc == 0)
        o->rc = dynbuf_add_str(o->b, s);
}

/* A CSV field (RFC 4180: quoted when it holds a comma, a quote or a line
 * break, quotes doubled), or HTML text escaped. */
static void text(struct out *o, const char *s)
{
    if (s == NULL)
        return;
    if (o->csv && strpbrk(s, ",\"\r\n") == NULL) {
        put(o, s);
        return;
    }
    if (o->csv)
        put(o, "\"");
    for (const char *p = s; *p && o->rc == 0; p++) {
        char c[2] = {*p, '\0'};

        if (o->csv)
            put(o, *p == '"' ? "\"\"" : c);
        else if (*p == '<')
            put(o, "&lt;");
        else if (*p == '>')
            put(o, "&gt;");
        else if (*p == '&')
            put(o, "&amp;");
        else if (*p == '"')
            put(o, "&quot;");
        else if (*p == '\'')
            put(o, "&#39;");
        else
            put(o, c);
    }
    if (o->csv)
        put(o, "\"");
}

/* One cell: a CSV field (last ends the line) or a <td>. */
static void cell(struct out *o, const char *s, int last)
{
    if (!o->csv)
        put(o, "<td>");
    text(o, s);
    if (o->csv)
        put(o, last ? "\r\n" : ",");
    else
        put(o, "</td>");
}

/* A time in the room's local time: the date too (a CSV line stands on its
 * own), the time of day alone (a page's head says the day), or the start
 * (the day and hour). "" for none. */
enum when_fmt { W_FULL, W_TIME, W_START, W_HM };

static void when(int64_t t, enum when_fmt f, char *out, size_t outsz)
{
    time_t tt = (time_t)t;
    struct tm tm;

    out[0] = '\0';
    if (t <= 0 || localtime_r(&tt, &tm) == NULL)
        return;
    if (f == W_FULL)
        strftime(out, outsz, "%Y-%m-%d %H:%M:%S", &tm);
    else if (f == W_TIME)
        strftime(out, outsz, "%H:%M:%S", &tm);
    else if (f == W_START)
        strftime(out, outsz, "%Y-%m-%d %H:%M", &tm);
    else
        strftime(out, outsz, "%H:%M", &tm);
}

static const char *str(const json_t *row, const char *key)
{
    const char *s = json_string_value(json_object_get(row, key));

    return s != NULL ? s : "";
}

static void seat_text(const json_t *row, char *out, size_t outsz)
{
    json_int_t seat = json_integer_value(json_object_get(row, "seat"));

    if (seat > 0)
        snprintf(out, outsz, "%lld", (long long)seat);
    else
        snprintf(out, outsz, "%s", MSG_UNSEATED);
}

/* The status in the proctor's words: the sealed result's, else the state. */
static const char *status_zh(const json_t *row)
{
    const char *status = json_string_value(json_object_get(row, "status"));
    int state = store_cand_state_from(str(row, "state"));

    if (status != NULL && strcmp(status, "auto_submitted") == 0)
        return MSG_AUTO;
    if (status != NULL && strcmp(status, "absent") == 0)
        return MSG_ABSENT;
    if (status != NULL)
        return store_cand_state_zh(STORE_CAND_SUBMITTED);
    return state >= 0 ? store_cand_state_zh(state) : "";
}

/* 合格 / 不合格 by the plan's pass mark, 缺考, or "" without a result. */
static const char *outcome(const json_t *row, json_int_t pass_mark)
{
    const char *status = json_string_value(json_object_get(row, "status"));
    const json_t *score = json_object_get(row, "score");

    if (status != NULL && strcmp(status, "absent") == 0)
        return MSG_ABSENT;
    if (!json_is_integer(score))
        return "";
    return json_integer_value(score) >= pass_mark ? MSG_PASSED : MSG_FAILED;
}

static void row_signin(struct out *o, const json_t *data, const json_t *row)
{
    char seat[32], at[32];
    const char *uri =
        json_string_value(json_object_get(json_object_get(data, "photos"), str(row, "photo")));

    seat_text(row, seat, sizeof(seat));
    when(json_integer_value(json_object_get(row, "signin_at")), o->csv ? W_FULL : W_TIME, at,
         sizeof(at));
    if (!o->csv)
        put(o, "<tr>");
    cell(o, seat, 0);
    if (!o->csv) {
        put(o, "<td class=\"photo\">");
        if (uri != NULL) {
            put(o, "<img alt=\"\" src=\"");
            put(o, uri); /* base64: nothing to escape */
            put(o, "\">");
        }
        put(o, "</td>");
    }
    cell(o, str(row, "ticket"), 0);
    cell(o, str(row, "name"), 0);
    cell(o, str(row, "id_masked"), 0);
    cell(o, str(row, "occupation"), 0);
    cell(o, str(row, "level"), 0);
    cell(o, at, 0);
    if (!o->csv)
        put(o, "<td class=\"sign\"></td></tr>\n");
    else
        cell(o, "", 1);
}

static void row_scores(struct out *o, const json_t *data, const json_t *row)
{
    char seat[32], at[32], score[24] = "";
    json_int_t pass_mark =
        json_integer_value(json_object_get(json_object_get(data, "plan"), "pass_mark"));

    seat_text(row, seat, sizeof(seat));
    if (json_is_integer(json_object_get(row, "score")))
        snprintf(score, sizeof(score), "%lld",
                 (long long)json_integer_value(json_object_get(row, "score")));
    /* An absent candidate's result has the time it was recorded, not a
     * submission's. */
    if (strcmp(outcome(row, pass_mark), MSG_ABSENT) != 0)
        when(json_integer_value(json_object_get(row, "submitted_at")), o->csv ? W_FULL : W_TIME, at,
             sizeof(at));
    else
        at[0] = '\0';
    if (!o->csv)
        put(o, "<tr>");
    cell(o, seat, 0);
    cell(o, str(row, "ticket"), 0);
    cell(o, str(row, "name"), 0);
    cell(o, str(row, "occupation"), 0);
    cell(o, str(row, "level"), 0);
    cell(o, score, 0);
    cell(o, outcome(row, pass_mark), 0);
    cell(o, status_zh(row), 0);
    cell(o, at, 1);
    if (!o->csv)
        put(o, "</tr>\n");
}

static void row_incident(struct out *o, const json_t *inc)
{
    char at[32], seat[24] = "";

    when(json_integer_value(json_object_get(inc, "at")), o->csv ? W_FULL : W_TIME, at, sizeof(at));
    if (json_integer_value(json_object_get(inc, "seat")) > 0)
        snprintf(seat, sizeof(seat), "%lld",
                 (long long)json_integer_value(json_object_get(inc, "seat")));
    if (!o->csv)
        put(o, "<tr>");
    cell(o, at, 0);
    cell(o, seat, 0);
    cell(o, str(inc, "ticket"), 0);
    cell(o, str(inc, "name"), 0);
    cell(o, str(inc, "text"), 1);
    if (!o->csv)
        put(o, "</tr>\n");
}

/* A CSV header line, or a table's head: its columns from the same list. */
static void head(struct out *o, const char *columns, const char *meta, int extra_photo)
{
    char *cols = strdup(columns), *save = NULL;
    int n = 0;

    if (cols == NULL) {
        o->rc = ER_NOMEM;
        return;
    }
    if (o->csv) {
        put(o, columns);
        put(o, "\r\n");
        free(cols);
        return;
    }
    for (const char *c = columns; *c; c++)
        n += *c == ',';
    put(o, "<table><thead><tr class=\"meta\"><th colspan=\"");
    {
        char span[16];

        snprintf(span, sizeof(span), "%d", n + 1 + extra_photo);
        put(o, span);
    }
    put(o, "\">");
    text(o, meta);
    put(o, "</th></tr>\n<tr>");
    for (char *c = strtok_r(cols, ",", &save); c != NULL; c = strtok_r(NULL, ",", &save)) {
        put(o, "<th>");
        put(o, c);
        put(o, "</th>");
        if (extra_photo && strcmp(c, "座位号") == 0)
            put(o, "<th>" MSG_HEAD_PHOTO "</th>");
    }
    put(o, "</tr></thead>\n<tbody>\n");
    free(cols);
}

static void html_begin(struct out *o, const char *title, const char *meta)
{
    const struct web_file *css = web_file_find("report.css");

    put(o, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>");
    text(o, title);
    put(o, " ");
    text(o, meta);
    put(o, "</title><style>\n");
    /* The page's style is agent/web/report.css, built in (static.c). */
    if (css != NULL && o->rc == 0)
        o->rc = dynbuf_add(o->b, css->bytes, css->size);
    put(o, "</style></head><body>\n<h1>");
    text(o, title);
    put(o, "</h1>\n");
}

static void html_end(struct out *o, size_t n, int signature)
{
    char total[64];

    snprintf(total, sizeof(total), MSG_PAGE_TOTAL, n);
    put(o, "<footer><p>");
    put(o, total);
    put(o, "</p>");
    if (signature)
        put(o, "<p class=\"signature\">" MSG_PROCTOR_SIGN "</p>");
    put(o, "</footer>\n</body></html>\n");
}

static void counts(struct out *o, const json_t *data, const char *meta)
{
    const json_t *c = json_object_get(data, "counts");

    if (o->csv) {
        put(o, CSV_COUNTS "\r\n");
    } else {
        put(o, "<table class=\"counts\"><thead><tr class=\"meta\"><th colspan=\"2\">");
        text(o, meta);
        put(o, "</th></tr><tr><th>项目</th><th>人数</th></tr></thead><tbody>\n");
    }
    for (size_t i = 0; i < N_COUNTS; i++) {
        char n[24];

        snprintf(n, sizeof(n), "%lld",
                 (long long)json_integer_value(json_object_get(c, count_names[i][0])));
        if (!o->csv)
            put(o, "<tr>");
        cell(o, count_names[i][1], 0);
        cell(o, n, 1);
        if (!o->csv)
            put(o, "</tr>\n");
    }
    put(o, o->csv ? "\r\n" : "</tbody></table>\n");
}

/* "考试计划 P　考点 X　考场 R01（name）　场次 S1　2026-12-03 09:00–10:30". */
static void meta_line(const json_t *data, char *out, size_t outsz)
{
    const json_t *plan = json_object_get(data, "plan"), *room = json_object_get(data, "room");
    char day[64], end[16], room_text[256], span[96];

    when(json_integer_value(json_object_get(data, "starts_at")), W_START, day, sizeof(day));
    when(json_integer_value(json_object_get(data, "ends_at")), W_HM, end, sizeof(end));
    snprintf(span, sizeof(span), "%s–%s", day, end);
    snprintf(room_text, sizeof(room_text), "%s（%s）", str(room, "id"), str(room, "name"));
    snprintf(out, outsz, MSG_META, str(plan, "institution_name"), str(plan, "id"),
             str(room, "site_name")[0] ? str(room, "site_name") : str(room, "site"), room_text,
             str(data, "session"), span);
}

int report_render(const json_t *data, enum report_kind kind, enum report_format fmt,
                  struct dynbuf *b)
{
    static const char *const titles[] = {MSG_TITLE_SIGNIN, MSG_TITLE_SCORES, MSG_TITLE_ATTENDANCE};
    struct out o = {b, 0, fmt == REPORT_CSV};
    const json_t *rows = json_object_get(data, "rows");
    const json_t *incidents = json_object_get(data, "incidents");
    const json_t *v;
    char meta[1024];
    size_t i;

    meta_line(data, meta, sizeof(meta));
    if (o.csv)
        put(&o, "\xEF\xBB\xBF"); /* the BOM: Excel reads the file as UTF-8 */
    else
        html_begin(&o, titles[kind], meta);
    if (kind == REPORT_ATTENDANCE) {
        counts(&o, data, meta);
        if (!o.csv)
            put(&o, "<h2>" MSG_INCIDENT_LIST "</h2>\n");
        if (!o.csv && json_array_size(incidents) == 0)
            put(&o, "<p>" MSG_NO_INCIDENTS "</p>\n");
        else
            head(&o, CSV_INCIDENTS, meta, 0);
        json_array_foreach(incidents, i, v) row_incident(&o, v);
        if (!o.csv && json_array_size(incidents) > 0)
            put(&o, "</tbody></table>\n");
        if (!o.csv)
            put(&o, "<footer><p class=\"signature\">" MSG_PROCTOR_SIGN "</p></footer>\n"
                    "</body></html>\n");
        return o.rc;
    }
    head(&o, kind == REPORT_SIGNIN ? CSV_SIGNIN : CSV_SCORES, meta,
         kind == REPORT_SIGNIN && !o.csv);
    json_array_foreach(rows, i, v)
    {
        if (kind == REPORT_SIGNIN)
            row_signin(&o, data, v);
        else
            row_scores(&o, data, v);
    }
    if (!o.csv) {
        put(&o, "</tbody></table>\n");
        html_end(&o, json_array_size(rows), 1);
    }
    return o.rc;
}

const char *report_kind_zh(enum report_kind kind)
{
    static const char *const titles[] = {MSG_TITLE_SIGNIN, MSG_TITLE_SCORES, MSG_TITLE_ATTENDANCE};

    return titles[kind];
}
