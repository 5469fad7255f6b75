/* The room's side of its packages: checking one, and loading its roster
 * into the store. Used by fetch, verify and unlock. */
#include "agent.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What a package lacks, in the words of the detail line a proctor reads
 * beside ER_PKG_NO_SECTION's sentence (zh-CN). */
#define MSG_SECTION_ROSTER     "考场名单（room.json）"
#define MSG_SECTION_PHOTOS     "考生照片（photos）"
#define MSG_SECTION_PAPER      "场次 %s 的试卷和答案（%s）"
#define MSG_SECTION_OTHER      "“%s”部分"
#define MSG_SECTION_SESSIONS   "考场名单中的场次列表（room.json 的 sessions）"
#define MSG_SECTION_CANDIDATES "考场名单中的考生列表（room.json 的 candidates）"
#define MSG_SECTION_SEATS      "考场名单中的座位数（room.json 的 room.seats）"

/* The last thing room_read_section or room_load_roster found missing. */
static char missing[PKG_MAX_NAME * 2 + 64];

const char *room_package_missing(void)
{
    return missing;
}

static void note_missing_section(const char *name)
{
    if (strcmp(name, "room.json") == 0)
        snprintf(missing, sizeof(missing), MSG_SECTION_ROSTER);
    else if (strcmp(name, "photos") == 0)
        snprintf(missing, sizeof(missing), MSG_SECTION_PHOTOS);
    else if (strncmp(name, "paper/", 6) == 0)
        snprintf(missing, sizeof(missing), MSG_SECTION_PAPER, name + 6, name);
    else
        snprintf(missing, sizeof(missing), MSG_SECTION_OTHER, name);
}

void room_package_trust(struct room *r, int64_t min_version, struct pkg_trust *t)
{
    struct room_contact contact;

    *t = (struct pkg_trust){r->center, r->wrap, (uint64_t)(min_version > 0 ? min_version : 0),
                            (int64_t)time(NULL)};
    /* Expiry against the center's clock when we know our offset to it. */
    if (room_read_contact(r, &contact) == 0)
        t->now += contact.clock_offset;
}

int room_open_package(struct room *r, const char *path, int64_t min_version,
                      struct pkg_reader **out)
{
    struct pkg_trust t;
    struct pkg_reader *rd;
    int rc;

    room_package_trust(r, min_version, &t);
    rc = pkg_open(path, &t, &rd);
    if (rc < 0)
        return rc;
    rc = pkg_verify(rd);
    if (rc < 0) {
        pkg_close(rd);
        return rc;
    }
    *out = rd;
    return 0;
}

/* A section read whole into memory (room.json, a paper): at most this. */
#define SECTION_MAX (1u << 30)

static int collect(void *arg, const uint8_t *data, size_t n)
{
    return dynbuf_add(arg, data, n);
}

int room_read_section(struct pkg_reader *rd, const char *name, const uint8_t *session_key,
                      char **out, size_t *len)
{
    struct dynbuf b;
    int rc;

    dynbuf_init(&b, SECTION_MAX);
    rc = pkg_read(rd, name, session_key, collect, &b);
    if (rc == 0) {
        *out = dynbuf_take(&b, len);
        if (*out == NULL)
            rc = ER_NOMEM;
    }
    if (rc == ER_TOO_LARGE)
        rc = ER_PKG_TOO_LARGE;
    if (rc == ER_PKG_NO_SECTION)
        note_missing_section(name);
    dynbuf_free(&b);
    return rc;
}

/* The roster of the package (section room.json) into the store. */
int room_load_roster(struct room *r, struct pkg_reader *rd)
{
    char *text = NULL;
    size_t text_len;
    json_t *doc = NULL, *sess, *cands, *v;
    struct store_session *sessions = NULL;
    struct store_seat *seats = NULL;
    struct store_candidate *cand = NULL;
    char(*labels)[8] = NULL, (*papers)[160] = NULL;
    struct room_wait w = {0};
    size_t i, n_seats;
    int rc = room_read_section(rd, "room.json", NULL, &text, &text_len);
    const char *plan = pkg_get_info(rd)->plan_id;

    if (rc == 0 && (doc = json_loadb(text, text_len, 0, NULL)) == NULL)
        rc = ER_PKG_CORRUPT;
    sess = json_object_get(doc, "sessions");
    cands = json_object_get(doc, "candidates");
    v = json_object_get(json_object_get(doc, "room"), "seats");
    n_seats = (size_t)json_integer_value(v);
    /* Absent: the center left it out, and the proctor is told what. */
    if (rc == 0 && (sess == NULL || cands == NULL || v == NULL)) {
        snprintf(missing, sizeof(missing), "%s",
                 sess == NULL    ? MSG_SECTION_SESSIONS
                 : cands == NULL ? MSG_SECTION_CANDIDATES
                                 : MSG_SECTION_SEATS);
        rc = ER_PKG_NO_SECTION;
    }
    if (rc == 0 &&
        (!json_is_array(sess) || !json_is_array(cands) || n_seats == 0 || n_seats > 9999))
        rc = ER_PKG_CORRUPT;
    if (rc == 0) {
        sessions = calloc(json_array_size(sess) + 1, sizeof(*sessions));
        seats = calloc(n_seats, sizeof(*seats));
        labels = calloc(n_seats, sizeof(*labels));
        cand = calloc(json_array_size(cands) + 1, sizeof(*cand));
        papers = calloc(json_array_size(cands) + 1, sizeof(*papers));
        if (!sessions || !seats || !labels || !cand || !papers)
            rc = ER_NOMEM;
    }
    json_array_foreach(sess, i, v)
    {
        if (rc < 0)
            break;
        sessions[i] = (struct store_session){
            .id = json_string_value(json_object_get(v, "id")),
            .plan_id = plan,
            .starts_at = json_integer_value(json_object_get(v, "starts_at")),
            .ends_at = json_integer_value(json_object_get(v, "ends_at")),
            .late_admission_minutes =
                (int)json_integer_value(json_object_get(v, "late_admission_minutes")),
            .earliest_submit_minutes =
                (int)json_integer_value(json_object_get(v, "earliest_submit_minutes")),
        };
    }
    for (i = 0; rc == 0 && i < n_seats; i++) {
        snprintf(labels[i], sizeof(labels[i]), "%d", (int)(i + 1) % 100000);
        seats[i] = (struct store_seat){.seat = (int)i + 1, .label = labels[i]};
    }
    json_array_foreach(cands, i, v)
    {
        if (rc < 0)
            break;
        /* A candidate's paper is the session's paper for their occupation
         * and level (paper/SESSION holds them all). */
        snprintf(papers[i], sizeof(papers[i]), "%s/%s",
                 json_string_value(json_object_get(v, "occupation")),
                 json_string_value(json_object_get(v, "level")));
        cand[i] = (struct store_candidate){
            .session_id = json_string_value(json_object_get(v, "session")),
            .ticket = json_string_value(json_object_get(v, "ticket")),
            .name = json_string_value(json_object_get(v, "name")),
            .gender = json_string_value(json_object_get(v, "gender")),
            .id_type = json_string_value(json_object_get(v, "id_type")),
            .id_number = json_string_value(json_object_get(v, "id_number")),
            .occupation = json_string_value(json_object_get(v, "occupation")),
            .level = json_string_value(json_object_get(v, "level")),
            .paper_id = papers[i],
            .photo = json_string_value(json_object_get(v, "photo")),
            .seat = (int)json_integer_value(json_object_get(v, "seat")),
        };
    }
    if (rc == 0) {
        const struct store_roster roster = {sessions, json_array_size(sess), seats, n_seats,
                                            cand,     json_array_size(cands)};

        rc = room_write_wait(r, store_load_roster(r->st, &roster, room_done, &w), &w);
    }
    free(sessions);
    free(seats);
    free(labels);
    free(cand);
    free(papers);
    json_decref(doc);
    free(text);
    return rc;
}
