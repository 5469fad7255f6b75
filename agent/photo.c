/* The candidates' photos: read from the verified package when the daemon
 * starts and kept in memory only (they are personal data; the package on
 * disk stays encrypted). GET /api/v1/photo answers the signed-in candidate's
 * own photo, for the sign-in confirmation and the exam page header. */
#include "http.h"

#include <stdlib.h>
#include <string.h>

#define MSG_NO_PHOTO "没有找到您的照片，请告知监考老师。"

struct photo {
    const char *name; /* not terminated: nlen bytes */
    size_t nlen;
    const uint8_t *jpeg;
    size_t size;
};

struct photos {
    uint8_t *data;
    size_t len;
    struct photo *list;
    size_t n;
};

/* The section is a run of: u16 name length, name, u32 size, the JPEG (big
 * endian). Anything that does not add up is ER_PKG_CORRUPT. */
static int photos_index(struct photos *p)
{
    size_t at = 0, n = 0, cap = 0;

    while (at < p->len) {
        size_t nlen, size;

        if (p->len - at < 2)
            return ER_PKG_CORRUPT;
        nlen = (size_t)p->data[at] << 8 | p->data[at + 1];
        at += 2;
        if (nlen == 0 || p->len - at < nlen + 4)
            return ER_PKG_CORRUPT;
        size = (size_t)p->data[at + nlen] << 24 | (size_t)p->data[at + nlen + 1] << 16 |
               (size_t)p->data[at + nlen + 2] << 8 | p->data[at + nlen + 3];
        if (p->len - at - nlen - 4 < size)
            return ER_PKG_CORRUPT;
        if (n == cap) {
            struct photo *l = realloc(p->list, (cap = cap ? cap * 2 : 64) * sizeof(*l));

            if (l == NULL)
                return ER_NOMEM;
            p->list = l;
        }
        p->list[n++] =
            (struct photo){(const char *)p->data + at, nlen, p->data + at + nlen + 4, size};
        at += nlen + 4 + size;
    }
    p->n = n;
    return 0;
}

void photos_free(struct photos *p)
{
    if (p == NULL)
        return;
    free(p->data);
    free(p->list);
    free(p);
}

int photos_load(struct pkg_reader *pkg, struct photos **out)
{
    struct photos *p = calloc(1, sizeof(*p));
    int rc;

    if (p == NULL)
        return ER_NOMEM;
    rc = room_read_section(pkg, "photos", NULL, (char **)&p->data, &p->len);
    if (rc == 0)
        rc = photos_index(p);
    if (rc < 0) {
        photos_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

static const struct photo *photo_named(const struct photos *p, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; p != NULL && i < p->n; i++)
        if (p->list[i].nlen == n && memcmp(p->list[i].name, name, n) == 0)
            return &p->list[i];
    return NULL;
}

enum MHD_Result http_photo(struct http_req *q)
{
    struct signed_in k;
    const struct photo *ph;
    struct MHD_Response *r;
    enum MHD_Result ok;

    if (http_candidate(q, &k) < 0)
        return http_not_signed_in(q);
    ph = photo_named(q->d->photos, k.photo);
    if (ph == NULL)
        return daemon_error(q->conn, MHD_HTTP_NOT_FOUND, "no_photo", MSG_NO_PHOTO);
    /* The daemon keeps the photos until libmicrohttpd has stopped. */
    r = MHD_create_response_from_buffer(ph->size, (void *)ph->jpeg, MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "image/jpeg");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    ok = MHD_queue_response(q->conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}
