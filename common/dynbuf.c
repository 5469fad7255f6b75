/* The growable buffer with a cap (common.h): the one place where a buffer's
 * growth, its limit and size_t overflow are checked. */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_ALLOC 32

void dynbuf_init(struct dynbuf *b, size_t max)
{
    *b = (struct dynbuf){.max = max};
}

/* Room for n more bytes and the NUL after them. */
static int make_room(struct dynbuf *b, size_t n)
{
    size_t need, size;
    char *p;

    /* len + n + 1 must neither pass the cap nor wrap around. */
    if (n > b->max - b->len || n >= SIZE_MAX - b->len)
        return ER_TOO_LARGE;
    need = b->len + n + 1;
    if (need <= b->alloc)
        return 0;
    size = b->alloc ? b->alloc : FIRST_ALLOC;
    while (size < need)
        size = size > SIZE_MAX / 2 ? need : size * 2;
    /* No more than the cap can use (max + 1 cannot wrap: need <= it). */
    if (b->max < SIZE_MAX && size > b->max + 1)
        size = b->max + 1;
    p = realloc(b->buf, size);
    if (p == NULL)
        return ER_NOMEM;
    b->buf = p;
    b->alloc = size;
    return 0;
}

int dynbuf_add(struct dynbuf *b, const void *data, size_t n)
{
    int rc = make_room(b, n);

    if (rc < 0)
        return rc;
    if (n > 0)
        memcpy(b->buf + b->len, data, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return 0;
}

int dynbuf_add_str(struct dynbuf *b, const char *s)
{
    return dynbuf_add(b, s, strlen(s));
}

int dynbuf_vprintf(struct dynbuf *b, const char *fmt, va_list ap)
{
    va_list again;
    int n, rc;

    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, again);
    va_end(again);
    if (n < 0)
        return ER_INTERNAL;
    rc = make_room(b, (size_t)n);
    if (rc < 0)
        return rc;
    vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int dynbuf_printf(struct dynbuf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = dynbuf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int dynbuf_truncate(struct dynbuf *b, size_t len)
{
    if (len > b->len)
        return ER_USAGE;
    b->len = len;
    if (b->buf != NULL)
        b->buf[len] = '\0';
    return 0;
}

void dynbuf_reset(struct dynbuf *b)
{
    dynbuf_truncate(b, 0);
}

void dynbuf_free(struct dynbuf *b)
{
    free(b->buf);
    dynbuf_init(b, b->max);
}

char *dynbuf_take(struct dynbuf *b, size_t *len)
{
    char *p = b->buf;

    if (p == NULL)
        p = calloc(1, 1);
    if (p == NULL)
        return NULL;
    if (len != NULL)
        *len = b->len;
    dynbuf_init(b, b->max);
    return p;
}
