/* examcenter plan sample: a synthetic plan directory in the import format,
 * so that trials, the demo, the tests and the benchmarks need no file from
 * outside the repository. Everything but the session times follows from the
 * options and the seed. All names, ID numbers and questions are invented. */
#include "plan_internal.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SAMPLE_SEATS       32
#define SAMPLE_MINUTES     90
#define SAMPLE_BREAK       30 /* between one session and the next */
#define SAMPLE_INSTITUTION "示例职业技能鉴定中心"
#define SAMPLE_TZ_OFFSET   (8 * 3600) /* Asia/Shanghai */

static const char *const surnames[] = {"陈", "李", "张", "黄", "王",   "刘",  "林",
                                       "梁", "吴", "何", "郑", "周",   "罗",  "谢",
                                       "冯", "邓", "曾", "许", "欧阳", "司徒"};
static const char *const given[] = {"伟", "芳", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇",
                                    "军", "杰", "娟", "涛", "明", "超", "秀", "霞", "平", "辉",
                                    "嘉", "欣", "宇", "浩", "婷", "俊", "玲", "斌", "华", "锦"};
/* Area codes of Guangdong (广州、深圳、佛山、惠州、潮州). */
static const char *const areas[] = {"440103", "440104", "440106", "440111",
                                    "440305", "440604", "441302", "445102"};

static const struct occupation {
    const char *name, *level, *paper, *topic;
} occupations[] = {
    {"计算机操作员", "四级", "papers/computer-operator-4.json", "计算机操作"},
    {"电子商务师", "四级", "papers/e-commerce-4.json", "电子商务"},
};

struct rng {
    uint64_t s;
};

/* splitmix64: small, and the same everywhere. */
static uint64_t next(struct rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static unsigned pick(struct rng *r, unsigned n)
{
    return (unsigned)(next(r) % n);
}

struct layout {
    unsigned candidates, rooms, seats, sessions, photo_kib;
    unsigned per_session[PKG_MAX_SESSIONS];
    char date[PKG_MAX_SESSIONS][32], start[PKG_MAX_SESSIONS][16], end[PKG_MAX_SESSIONS][16];
    char plan_id[96];
};

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;

    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* A session starting at local time t (seconds, UTC+8); one that runs past
 * midnight ends the next day (its end before its start), so a sample made
 * at any time of day starts when asked (--start-in). */
static int64_t place_session(struct layout *l, int k, int64_t local)
{
    int64_t day = local / 86400, minute = (local % 86400) / 60;
    int y, m, d;

    civil_from_days(day, &y, &m, &d);
    snprintf(l->date[k], sizeof(l->date[k]), "%04d-%02d-%02d", y, m, d);
    snprintf(l->start[k], sizeof(l->start[k]), "%02d:%02d", (int)(minute / 60), (int)(minute % 60));
    snprintf(l->end[k], sizeof(l->end[k]), "%02d:%02d", (int)((minute + SAMPLE_MINUTES) / 60 % 24),
             (int)((minute + SAMPLE_MINUTES) % 60));
    if (k == 0)
        snprintf(l->plan_id, sizeof(l->plan_id), "%04d%02d%02d-%s", y, m, d, SAMPLE_INSTITUTION);
    return day * 86400 + minute * 60; /* local */
}

static int plan_layout(const struct plan_sample_opts *o, struct layout *l)
{
    unsigned most;
    int64_t local;

    memset(l, 0, sizeof(*l));
    l->candidates = o->candidates != 0 ? o->candidates : 60;
    l->sessions = o->sessions != 0 ? o->sessions : 2;
    if (l->sessions > PKG_MAX_SESSIONS)
        return ER_USAGE; /* more than a room's package can carry */
    l->photo_kib = o->photo_kib;
    /* As evenly as can be, the first sessions taking one more. */
    for (unsigned k = 0; k < l->sessions; k++)
        l->per_session[k] = l->candidates / l->sessions + (k < l->candidates % l->sessions);
    most = l->per_session[0];
    l->rooms = o->rooms != 0 ? o->rooms : (most + SAMPLE_SEATS - 1) / SAMPLE_SEATS;
    if (l->rooms == 0)
        l->rooms = 1;
    l->seats = (most + l->rooms - 1) / l->rooms;
    if (l->seats < SAMPLE_SEATS)
        l->seats = SAMPLE_SEATS;
    if (l->seats > PLAN_MAX_SEATS || l->rooms > 999)
        return ER_USAGE; /* more candidates than rooms can hold */
    /* Whole minutes, from the next minute on; each session a break after
     * the one before. */
    local = ((o->now + SAMPLE_TZ_OFFSET) / 60 + 1 + o->start_in_minutes) * 60;
    for (int k = 0; k < (int)l->sessions; k++)
        local = place_session(l, k, local) + (SAMPLE_MINUTES + SAMPLE_BREAK) * 60;
    return 0;
}

/* ---- files ---- */

static int write_bytes(const char *dir, const char *rel, const void *data, size_t n)
{
    char path[4096];
    FILE *f;
    int ok;

    if (snprintf(path, sizeof(path), "%s/%s", dir, rel) >= (int)sizeof(path))
        return ER_USAGE;
    f = fopen(path, "wb");
    if (f == NULL)
        return ER_IO;
    ok = fwrite(data, 1, n, f) == n;
    ok &= fclose(f) == 0;
    return ok ? 0 : ER_IO;
}

static int write_json(const char *dir, const char *rel, json_t *v)
{
    char *text = v != NULL ? json_dumps(v, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
    int rc = text != NULL ? write_bytes(dir, rel, text, strlen(text)) : ER_NOMEM;

    free(text);
    json_decref(v);
    return rc;
}

/* Creates dir, or accepts it when it exists and is empty. */
static int make_dir(const char *dir)
{
    DIR *d;
    struct dirent *e;
    int empty = 1;

    if (mkdir(dir, 0755) == 0)
        return 0;
    if (errno != EEXIST)
        return ER_IO;
    d = opendir(dir);
    if (d == NULL)
        return ER_IO;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            empty = 0;
    closedir(d);
    return empty ? 0 : ER_USAGE;
}

static json_t *sample_item(struct rng *r, const struct occupation *occ, unsigned n)
{
    static const char *const letters[] = {"A", "B", "C", "D"};
    char id[16], stem[256], key[5] = {0}, opt[64];
    json_t *options = json_object();
    const char *type;
    int points;

    snprintf(id, sizeof(id), "%u", n);
    if (n <= 10) {
        type = "single", points = 5;
        key[0] = (char)('A' + pick(r, 4));
    } else if (n <= 15) {
        unsigned mask = 0, k = 0;

        type = "multiple", points = 6;
        /* Two to four of the four options: the masks with two or more bits. */
        while (mask == 0 || (mask & (mask - 1)) == 0)
            mask = pick(r, 16);
        for (unsigned b = 0; b < 4; b++)
            if (mask & (1u << b))
                key[k++] = (char)('A' + b);
    } else {
        type = "judge", points = 4;
        key[0] = pick(r, 2) ? 'T' : 'F';
    }
    snprintf(stem, sizeof(stem), "（示例题）关于%s的第 %u 题：以下说法中%s？", occ->topic, n,
             points == 4 ? "是否正确" : "正确的是");
    for (unsigned b = 0; points != 4 && b < 4; b++) {
        snprintf(opt, sizeof(opt), "示例选项 %s%u", letters[b], n);
        json_object_set_new(options, letters[b], json_string(opt));
    }
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:i}", "id", id, "type", type, "stem", stem,
                     "options", options, "key", key, "points", points);
}

static int write_paper(const char *dir, struct rng *r, const struct occupation *occ)
{
    char title[128];
    json_t *items = json_array();

    snprintf(title, sizeof(title), "%s（%s）理论知识（示例）", occ->name, occ->level);
    for (unsigned n = 1; n <= 20; n++)
        json_array_append_new(items, sample_item(r, occ, n));
    return write_json(dir, occ->paper,
                      json_pack("{s:s, s:s, s:s, s:s, s:o}", "title", title, "occupation",
                                occ->name, "level", occ->level, "subject", "理论知识", "items",
                                items));
}

static int write_plan_json(const char *dir, const struct layout *l)
{
    json_t *rooms = json_array(), *sessions = json_array();

    for (unsigned i = 0; i < l->rooms; i++) {
        char id[16], name[32];

        snprintf(id, sizeof(id), "R%02u", i + 1);
        snprintf(name, sizeof(name), "第%u考场", i + 1);
        json_array_append_new(rooms, json_pack("{s:s, s:s, s:s, s:s, s:i}", "id", id, "site", "S01",
                                               "site_name", "示例考点", "name", name, "seats",
                                               (int)l->seats));
    }
    for (unsigned k = 0; k < l->sessions; k++) {
        json_t *papers = json_array();
        char id[16];

        for (size_t o = 0; o < 2; o++)
            json_array_append_new(papers,
                                  json_pack("{s:s, s:s, s:s, s:s}", "occupation",
                                            occupations[o].name, "level", occupations[o].level,
                                            "subject", "理论知识", "paper", occupations[o].paper));
        snprintf(id, sizeof(id), "S%u", k + 1);
        json_array_append_new(sessions, json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:o}", "id", id,
                                                  "date", l->date[k], "start", l->start[k], "end",
                                                  l->end[k], "late_admission_minutes", 15,
                                                  "earliest_submit_minutes", 30, "papers", papers));
    }
    return write_json(dir, PLAN_FILE_JSON,
                      json_pack("{s:s, s:{s:s, s:s}, s:s, s:i, s:o, s:o}", "id", l->plan_id,
                                "institution", "code", "44019999", "name", SAMPLE_INSTITUTION,
                                "timezone", "Asia/Shanghai", "pass_mark", 60, "rooms", rooms,
                                "sessions", sessions));
}

/* A minimal baseline JPEG, 96x128 mid-grey, one component: every 8x8 block
 * has DC difference 0 and ends at once (EOB), so the entropy-coded data is
 * two one-bit codes per block. A comment segment carries the ticket, so no
 * two photos are the same file. */
static size_t sample_jpeg(const char *ticket, size_t pad, uint8_t *out, size_t cap)
{
    static const uint8_t head[] = {
        0xFF, 0xD8,                                                               /* SOI */
        0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, /* APP0 */
    };
    static const uint8_t frame[] = {
        0xFF, 0xC0, 0x00, 0x0B, 8, 0, 128, 0, 96, 1, 1, 0x11, 0, /* SOF0: 96 wide, 128 high */
        /* DHT: DC table 0 and AC table 0, one code of length 1 each (symbol 0: DC
         * category 0, AC end of block). */
        0xFF, 0xC4, 0x00, 0x14, 0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xC4,
        0x00, 0x14, 0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xDA, 0x00, 0x08,
        1, 1, 0x00, 0, 63, 0, /* SOS */
    };
    size_t n = 0, tl = strlen(ticket);
    const size_t blocks = (96 / 8) * (128 / 8), data = blocks * 2 / 8;

    if (tl > 64 ||
        sizeof(head) + 4 + tl + 69 + sizeof(frame) + data + 2 + pad + pad / 60000 * 4 + 4 > cap)
        return 0;
    memcpy(out, head, sizeof(head));
    n = sizeof(head);
    out[n++] = 0xFF, out[n++] = 0xFE, out[n++] = 0, out[n++] = (uint8_t)(2 + tl); /* COM */
    memcpy(out + n, ticket, tl);
    n += tl;
    /* Padding for big packages: more comment segments (at most 65533 bytes
     * each), which decoders skip; varied bytes, so no two photos are alike. */
    while (pad > 0) {
        size_t k = pad < 60000 ? pad : 60000;

        out[n++] = 0xFF, out[n++] = 0xFE, out[n++] = (uint8_t)((k + 2) >> 8),
        out[n++] = (uint8_t)(k + 2);
        for (size_t i = 0; i < k; i++)
            out[n + i] = (uint8_t)((i * 131 + tl * 7 + (size_t)ticket[tl - 1]) >> 3);
        n += k;
        pad -= k;
    }
    out[n++] = 0xFF, out[n++] = 0xDB, out[n++] = 0, out[n++] = 0x43, out[n++] = 0; /* DQT */
    memset(out + n, 1, 64);
    n += 64;
    memcpy(out + n, frame, sizeof(frame));
    n += sizeof(frame);
    memset(out + n, 0, data); /* "0" (DC 0) "0" (EOB) for every block */
    n += data;
    out[n++] = 0xFF, out[n++] = 0xD9; /* EOI */
    return n;
}

static void sample_idnum(struct rng *r, int male, char out[IDNUM_LEN + 1], const char *area)
{
    int y, m, d;
    unsigned seq = pick(r, 500) * 2 + (male ? 1 : 0);
    char body[64];

    civil_from_days((int64_t)pick(r, 13514), &y, &m, &d); /* 1970-01-01 .. 2006-12-31 */
    /* Area (6), birth date (8) and sequence (3): 17 characters. Formatted in
     * a roomier buffer, since the compiler cannot bound y, m and d. */
    snprintf(body, sizeof(body), "%.6s%04d%02d%02d%03u", area, y, m, d, seq % 1000);
    memcpy(out, body, IDNUM_LEN - 1);
    out[17] = idnum_check_char(out);
    out[18] = '\0';
}

static void sample_name(struct rng *r, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s%s", surnames[pick(r, sizeof(surnames) / sizeof(surnames[0]))],
             given[pick(r, sizeof(given) / sizeof(given[0]))],
             pick(r, 3) ? given[pick(r, sizeof(given) / sizeof(given[0]))] : "");
}

/* One candidate's CSV row and photo. */
static int write_candidate(const char *dir, FILE *csv, struct rng *r, const struct layout *l,
                           unsigned i)
{
    unsigned k = 0, j = i;
    const struct occupation *occ;
    int male;
    char ticket[32], name[64], idnum[32], seat[12] = "", photo[48], rel[64];
    const char *id_type = "居民身份证";
    size_t pad = (size_t)l->photo_kib * 1024, cap = 512 + pad + pad / 60000 * 4 + 8, jn;
    uint8_t *jpeg = malloc(cap);
    int rc;

    while (j >= l->per_session[k]) /* the candidate's session, and place in it */
        j -= l->per_session[k++];
    occ = &occupations[j % 3 == 2];
    male = (int)pick(r, 2);
    snprintf(ticket, sizeof(ticket), "44019999%.2s%06u", l->plan_id + 2, i + 1);
    sample_name(r, name, sizeof(name));
    sample_idnum(r, male, idnum, areas[pick(r, sizeof(areas) / sizeof(areas[0]))]);
    if (i == 2) {
        id_type = "港澳台居民居住证"; /* 810000: Hong Kong residents */
        sample_idnum(r, male, idnum, "810000");
    } else if (i == 5) {
        id_type = "护照";
        snprintf(idnum, sizeof(idnum), "E%08u", (unsigned)pick(r, 100000000));
    }
    /* Every seventh candidate comes without a seat, to be arranged. */
    if (j % 7 != 3)
        snprintf(seat, sizeof(seat), "%u", j / l->rooms + 1);
    snprintf(photo, sizeof(photo), "%s.jpg", ticket);
    fprintf(csv, "%s,%s,%s,%s,%s,%s,%s,S%u,R%02u,%s,%s\n", ticket, name, male ? "男" : "女",
            id_type, idnum, occ->name, occ->level, k + 1, j % l->rooms + 1, seat, photo);
    if (jpeg == NULL)
        return ER_NOMEM;
    jn = sample_jpeg(ticket, pad, jpeg, cap);
    snprintf(rel, sizeof(rel), "%s/%s", PLAN_DIR_PHOTOS, photo);
    rc = jn > 0 ? write_bytes(dir, rel, jpeg, jn) : ER_INTERNAL;
    free(jpeg);
    return rc;
}

static int write_candidates(const char *dir, struct rng *r, const struct layout *l)
{
    char path[4096];
    FILE *csv;
    int rc = 0;

    if (snprintf(path, sizeof(path), "%s/%s", dir, PLAN_FILE_CANDIDATES) >= (int)sizeof(path))
        return ER_USAGE;
    csv = fopen(path, "w");
    if (csv == NULL)
        return ER_IO;
    fputs("准考证号,姓名,性别,证件类型,证件号码,职业,等级,场次,考场,座位号,照片\n", csv);
    for (unsigned i = 0; rc == 0 && i < l->candidates; i++)
        rc = write_candidate(dir, csv, r, l, i);
    if (fclose(csv) != 0 && rc == 0)
        rc = ER_IO;
    return rc;
}

int plan_sample_write(const char *dir, const struct plan_sample_opts *o)
{
    struct layout l;
    struct rng r = {.s = o->seed};
    char sub[4096];
    int rc = plan_layout(o, &l);

    if (rc == 0)
        rc = make_dir(dir);
    for (int k = 0; rc == 0 && k < 2; k++) {
        snprintf(sub, sizeof(sub), "%s/%s", dir, k == 0 ? "papers" : PLAN_DIR_PHOTOS);
        if (mkdir(sub, 0755) != 0)
            rc = ER_IO;
    }
    if (rc == 0)
        rc = write_plan_json(dir, &l);
    for (size_t k = 0; rc == 0 && k < 2; k++)
        rc = write_paper(dir, &r, &occupations[k]);
    if (rc == 0)
        rc = write_candidates(dir, &r, &l);
    return rc;
}
