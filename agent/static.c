/* The pages and their files (agent/web/), built into the program: GET (and
 * HEAD) /, /proctor and /static/NAME. One binary to install, pages that
 * always match this daemon's API, nothing read from disk. Each answer has
 * its strong ETag; a request whose If-None-Match names it gets 304. The
 * pages are the app shell that shows exam data: never stored (no-store);
 * the other files may be kept but are checked every time (no-cache). */
#include "http.h"
#include "static.h"

#include <string.h>

const struct web_file *web_file_find(const char *name)
{
    for (size_t i = 0; i < web_files_count; i++)
        if (strcmp(web_files[i].name, name) == 0)
            return &web_files[i];
    return NULL;
}

/* Does If-None-Match (a list of entity tags, or "*") name etag? Weak
 * comparison, as RFC 9110 asks for this header: a "W/" prefix is ignored. */
static int none_match(const char *header, const char *etag)
{
    size_t n = strlen(etag);

    while (header != NULL && *header != '\0') {
        header += strspn(header, " \t,");
        if (*header == '*')
            return 1;
        if (strncmp(header, "W/", 2) == 0)
            header += 2;
        if (strncmp(header, etag, n) == 0 && strchr(" \t,", header[n]) != NULL)
            return 1;
        header = strchr(header, ',');
    }
    return 0;
}

static enum MHD_Result send_file(struct http_req *q, const char *name)
{
    const struct web_file *f = web_file_find(name);
    const char *inm;
    struct MHD_Response *r;
    enum MHD_Result ok;
    unsigned status = MHD_HTTP_OK;
    int page;

    if (f == NULL)
        return http_not_found(q);
    page = strncmp(f->content_type, "text/html", 9) == 0;
    inm = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (none_match(inm, f->etag)) {
        status = MHD_HTTP_NOT_MODIFIED;
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    } else {
        r = MHD_create_response_from_buffer(f->size, (void *)f->bytes, MHD_RESPMEM_PERSISTENT);
    }
    if (r == NULL)
        return MHD_NO;
    if (status == MHD_HTTP_OK)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, f->content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, f->etag);
    daemon_headers(r, page ? "no-store" : "no-cache");
    ok = MHD_queue_response(q->conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

enum MHD_Result http_static(struct http_req *q, const char *name)
{
    return send_file(q, name);
}
