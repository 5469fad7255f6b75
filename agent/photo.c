/* The candidates' photos. The package on disk stays encrypted and the
 * daemon keeps no photo: once serve is ready, a job on the thread pool opens
 * the package a second time, verifies every chunk (pkg_verify) and reads the
 * photos section once to index it (each photo's name, offset and size; a
 * few dozen bytes a candidate); GET /api/v1/photo then decrypts the
 * signed-in candidate's own photo from those offsets (pkg_read_range: only
 * the chunks that hold it, each authenticated by its GCM tag)
 * and lets it go with the answer. A roster's photos are personal data and,
 * at 10,000 candidates, hundreds of megabytes: neither belongs in memory. */
#include "http.h"

#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 1024 /* a photo's file name in the section */
/* Photos indexed at most: far above a room's roster (999 seats a session). */
#define PHOTOS_MAX 1000000

/* What a candidate reads (zh-CN, in one place). */
#define MSG_NO_PHOTO  "没有找到您的照片，请告知监考老师。"
#define MSG_LOADING   "照片正在加载，请几秒后再试。"
#define MSG_BAD_PHOTO "照片无法读取（试卷包可能已损坏），请告知监考老师。"
/* What the proctor reads (the console's candidate dialog). */
#define MSG_NO_CANDIDATE   "没有这个准考证号的考生。请核对准考证号。"
#define MSG_NO_PHOTO_ADMIN "试卷包中没有该考生的照片。请核对考生的证件。"

struct photo {
    char *name;
    uint64_t offset; /* of the JPEG in the section's plaintext */
    uint32_t size;
};

/* The section is a run of: u16 name length, name, u32 size, the JPEG (big
 * endian). The index is built as the section streams by, chunk by chunk. */
struct photos {
    struct dynbuf list; /* struct photo[]: photo_list(p), n_photos(p) */
    /* the parser: where it is in the section, and in the current record */
    uint64_t pos;
    enum { NLEN, NAME, JPEG } part; /* NAME: the name and the size after it */
    uint8_t head[4 + NAME_MAX_LEN];
    size_t have, want;
    uint32_t left; /* JPEG bytes still to pass */
};

static struct photo *photo_list(const struct photos *p)
{
    return (struct photo *)(void *)p->list.buf;
}

static size_t n_photos(const struct photos *p)
{
    return p->list.len / sizeof(struct photo);
}

void photos_free(struct photos *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < n_photos(p); i++)
        free(photo_list(p)[i].name);
    dynbuf_free(&p->list);
    free(p);
}

static int add_photo(struct photos *p, const uint8_t *name, size_t nlen, uint32_t size)
{
    struct photo ph = {.name = malloc(nlen + 1), .offset = p->pos, .size = size};
    int rc;

    if (ph.name == NULL)
        return ER_NOMEM;
    memcpy(ph.name, name, nlen);
    ph.name[nlen] = '\0';
    rc = dynbuf_add(&p->list, &ph, sizeof(ph));
    if (rc < 0)
        free(ph.name);
    return rc;
}

/* pkg_sink_fn: one authenticated chunk of the section, indexed. Anything
 * that does not add up is ER_PKG_CORRUPT. */
static int index_sink(void *arg, const uint8_t *data, size_t n)
{
    struct photos *p = arg;

    while (n > 0) {
        size_t take;

        if (p->part == JPEG) {
            take = p->left < n ? p->left : n;
            p->left -= (uint32_t)take;
            if (p->left == 0) {
                p->part = NLEN;
                p->have = 0;
                p->want = 2;
            }
        } else {
            take = p->want - p->have < n ? p->want - p->have : n;
            memcpy(p->head + p->have, data, take);
            p->have += take;
        }
        data += take;
        n -= take;
        p->pos += take;
        if (p->part == JPEG || p->have < p->want)
            continue;
        if (p->part == NLEN) {
            size_t nlen = (size_t)p->head[0] << 8 | p->head[1];

            if (nlen == 0 || nlen > NAME_MAX_LEN)
                return ER_PKG_CORRUPT;
            p->part = NAME;
            p->have = 0;
            p->want = nlen + 4; /* the name, then the size */
        } else {
            size_t nlen = p->want - 4;
            const uint8_t *sz = p->head + nlen;
            uint32_t size =
                (uint32_t)sz[0] << 24 | (uint32_t)sz[1] << 16 | (uint32_t)sz[2] << 8 | sz[3];
            int rc = add_photo(p, p->head, nlen, size);

            if (rc < 0)
                return rc;
            p->left = size;
            p->part = size > 0 ? JPEG : NLEN;
            p->have = 0;
            p->want = 2;
        }
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct photo *)a)->name, ((const struct photo *)b)->name);
}

/* ---- the index, on the thread pool ---- */

struct index_job {
    uv_work_t work;
    struct daemon *d;
    char path[ROOM_PATH_MAX];
    struct pkg_trust trust;
    struct photos *photos;
    int rc;
};

static void index_work(uv_work_t *w)
{
    struct index_job *j = w->data;
    struct pkg_reader *rd = NULL;
    struct photos *p = calloc(1, sizeof(*p));
    int rc = p == NULL ? ER_NOMEM : pkg_open(j->path, &j->trust, &rd);

    if (p != NULL) {
        p->want = 2;
        dynbuf_init(&p->list, PHOTOS_MAX * sizeof(struct photo));
    }
    if (rc == 0)
        rc = pkg_verify(rd);
    if (rc == 0)
        rc = pkg_read(rd, "photos", NULL, index_sink, p);
    if (rc == 0 && (p->part != NLEN || p->have != 0))
        rc = ER_PKG_CORRUPT; /* the section ends inside a record */
    if (rc == ER_PKG_NO_SECTION)
        rc = 0; /* a package without photos: every photo is "not found" */
    if (rc == 0 && n_photos(p) > 1)
        qsort(photo_list(p), n_photos(p), sizeof(struct photo), by_name);
    pkg_close(rd);
    if (rc < 0) {
        photos_free(p);
        p = NULL;
    }
    j->photos = p;
    j->rc = rc;
}

static void index_done(uv_work_t *w, int status)
{
    struct index_job *j = w->data;
    struct daemon *d = j->d;

    if (status == 0 && j->rc == 0) {
        d->photos = j->photos;
        d->photos_state = 0;
        log_info("package verified again, %zu photos indexed", n_photos(j->photos));
    } else {
        photos_free(j->photos);
        d->photos_state = j->rc < 0 ? j->rc : ER_INTERNAL;
        log_error("the package does not verify now (%s): photos cannot be shown; fetch it again "
                  "(examroom fetch)",
                  er_name(d->photos_state));
    }
    free(j);
}

void photos_start(struct daemon *d, const char *path, int64_t version)
{
    struct index_job *j = calloc(1, sizeof(*j));

    d->photos_state = 1;
    if (j == NULL) {
        d->photos_state = ER_NOMEM;
        return;
    }
    j->d = d;
    j->work.data = j;
    snprintf(j->path, sizeof(j->path), "%s", path);
    room_package_trust(&d->r, version, &j->trust);
    if (uv_queue_work(&d->r.loop, &j->work, index_work, index_done) != 0) {
        d->photos_state = ER_INTERNAL;
        free(j);
    }
}

/* ---- GET /api/v1/photo and GET /admin/v1/candidates/{ticket}/photo ---- */

/* The photo of that name, decrypted, as image/jpeg (never stored). */
static enum MHD_Result send_photo(struct http_req *q, const char *name, const char *not_found)
{
    struct daemon *d = q->d;
    struct photo key = {0}, *ph;
    struct MHD_Response *r;
    enum MHD_Result ok;
    uint8_t *jpeg;

    if (d->photos_state > 0)
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "photos_loading", MSG_LOADING);
    if (d->photos_state < 0)
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "photos_broken", MSG_BAD_PHOTO);
    key.name = (char *)name;
    ph = d->photos != NULL && name[0] != '\0'
             ? bsearch(&key, photo_list(d->photos), n_photos(d->photos), sizeof(key), by_name)
             : NULL;
    if (ph == NULL)
        return daemon_error(q->conn, MHD_HTTP_NOT_FOUND, "no_photo", not_found);
    jpeg = malloc(ph->size > 0 ? ph->size : 1);
    if (jpeg == NULL)
        return MHD_NO;
    /* Two chunks at most for a photo under 64 KiB: a read from the page
     * cache and AES-GCM over 128 KiB, tens of microseconds. */
    if (pkg_read_range(d->pkg, "photos", NULL, ph->offset, ph->size, jpeg) < 0) {
        free(jpeg);
        log_error("photo %s: its chunk of the package does not verify", ph->name);
        return daemon_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "photos_broken", MSG_BAD_PHOTO);
    }
    r = MHD_create_response_from_buffer(ph->size, jpeg, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(jpeg);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "image/jpeg");
    daemon_headers(r, "no-store");
    ok = MHD_queue_response(q->conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

enum MHD_Result http_photo(struct http_req *q)
{
    struct signed_in k;

    if (http_candidate(q, &k) < 0)
        return http_not_signed_in(q);
    return send_photo(q, k.photo, MSG_NO_PHOTO);
}

static void take_candidate(const struct store_candidate *c, void *arg)
{
    signed_in_copy(arg, c);
}

/* The console's candidate dialog: the photo of a ticket's candidate in the
 * session of ?session= (else the one candidate_resolve() picks, as for the
 * proctor's actions). */
enum MHD_Result http_admin_photo(struct http_req *q, const char *ticket)
{
    const char *asked = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "session");
    char sid[PKG_MAX_NAME + 1];
    struct signed_in k = {0};

    if (asked != NULL && strlen(asked) > PKG_MAX_NAME)
        asked = NULL;
    if (candidate_resolve(q->d, ticket, asked, daemon_now_ms() / 1000, sid, sizeof(sid)) < 0 ||
        store_find_candidate(q->d->r.st, sid, ticket, take_candidate, &k) < 0 || k.id == 0)
        return daemon_error(q->conn, MHD_HTTP_NOT_FOUND, "no_candidate", MSG_NO_CANDIDATE);
    return send_photo(q, k.photo, MSG_NO_PHOTO_ADMIN);
}
