/* The JSON position index: the line where each value of a JSON text starts,
 * by path. jansson parses the plan's JSON files but keeps no positions, and a
 * staff member told "papers/x.json: the key of item 7 is wrong" still has to
 * find item 7; so the same text is scanned once more here. The scanner is
 * iterative (a stack of open containers), so deep nesting costs heap, not
 * stack. */
#include "plan_internal.h"

#include <stdlib.h>
#include <string.h>

struct scan {
    const char *s;
    size_t len, pos;
    int line;
    struct dynbuf path; /* the path of the value being scanned */
    struct jpos *ix;
};

struct frame {
    int is_array;
    size_t index, plen; /* element index; path length of the container */
};

static void skip_ws(struct scan *sc)
{
    while (sc->pos < sc->len) {
        char c = sc->s[sc->pos];

        if (c == '\n')
            sc->line++;
        else if (c != ' ' && c != '\t' && c != '\r')
            return;
        sc->pos++;
    }
}

static int path_append(struct scan *sc, const char *bytes, size_t n)
{
    return dynbuf_add(&sc->path, bytes, n);
}

static int path_index(struct scan *sc, size_t index)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "/%zu", index);

    return path_append(sc, buf, (size_t)n);
}

static int record(struct scan *sc)
{
    struct jpos *ix = sc->ix;

    if (ix->n == ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 64;
        struct jpos_entry *v = realloc(ix->v, cap * sizeof(*v));

        if (v == NULL)
            return ER_NOMEM;
        ix->v = v;
        ix->cap = cap;
    }
    ix->v[ix->n].path = plan_strdup(sc->path.buf);
    if (ix->v[ix->n].path == NULL)
        return ER_NOMEM;
    ix->v[ix->n++].line = sc->line;
    return 0;
}

static int read_hex4(struct scan *sc, unsigned *out)
{
    unsigned v = 0;

    if (sc->pos + 4 > sc->len)
        return ER_PLAN_INVALID;
    for (int i = 0; i < 4; i++) {
        int h = hex_digit(sc->s[sc->pos++]);

        if (h < 0)
            return ER_PLAN_INVALID;
        v = v * 16 + (unsigned)h;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* One escape after the backslash, decoded to UTF-8 in out (4 bytes room). */
static int read_escape(struct scan *sc, char *out, size_t *n)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *e;
    unsigned cp, lo;

    if (sc->pos >= sc->len)
        return ER_PLAN_INVALID;
    e = strchr(from, sc->s[sc->pos]);
    if (sc->s[sc->pos] != 'u') {
        if (e == NULL || *e == '\0')
            return ER_PLAN_INVALID;
        sc->pos++;
        out[0] = to[e - from];
        *n = 1;
        return 0;
    }
    sc->pos++;
    if (read_hex4(sc, &cp) != 0)
        return ER_PLAN_INVALID;
    if (cp >= 0xD800 && cp < 0xDC00) {
        /* A high surrogate must be followed by "\u" and a low one. */
        if (sc->pos + 2 > sc->len || sc->s[sc->pos] != '\\' || sc->s[sc->pos + 1] != 'u')
            return ER_PLAN_INVALID;
        sc->pos += 2;
        if (read_hex4(sc, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
            return ER_PLAN_INVALID;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return ER_PLAN_INVALID;
    }
    *n = put_utf8(cp, out);
    return 0;
}

/* Scans a string at sc->pos (the opening quote). With key set, appends the
 * decoded string to the path as a key. */
static int scan_string(struct scan *sc, int key)
{
    int rc = 0;

    if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
        return ER_PLAN_INVALID;
    sc->pos++;
    if (key)
        rc = path_append(sc, "/", 1);
    while (rc == 0) {
        char c, buf[4];
        size_t n = 1;

        if (sc->pos >= sc->len)
            return ER_PLAN_INVALID;
        c = sc->s[sc->pos++];
        if (c == '"')
            return 0;
        if ((unsigned char)c < 0x20)
            return ER_PLAN_INVALID;
        buf[0] = c;
        if (c == '\\') {
            rc = read_escape(sc, buf, &n);
            if (rc != 0)
                return rc;
        }
        if (key && n == 1 && (buf[0] == '~' || buf[0] == '/'))
            rc = path_append(sc, buf[0] == '~' ? "~0" : "~1", 2);
        else if (key)
            rc = path_append(sc, buf, n);
    }
    return rc;
}

/* Numbers and literals: jansson has judged them; here they are only skipped. */
static int scan_scalar(struct scan *sc)
{
    size_t start = sc->pos;

    while (sc->pos < sc->len && strchr("+-.0123456789eEtruefalsn", sc->s[sc->pos]) != NULL &&
           sc->s[sc->pos] != '\0')
        sc->pos++;
    return sc->pos > start ? 0 : ER_PLAN_INVALID;
}

/* The stack of open containers: struct frame[] in a dynbuf. */
static struct frame *top(const struct dynbuf *st)
{
    return (struct frame *)(void *)(st->buf + st->len - sizeof(struct frame));
}

static size_t depth(const struct dynbuf *st)
{
    return st->len / sizeof(struct frame);
}

static void pop(struct dynbuf *st)
{
    dynbuf_truncate(st, st->len - sizeof(struct frame));
}

static int push(struct dynbuf *st, int is_array, size_t plen)
{
    struct frame f = {.is_array = is_array, .index = 0, .plen = plen};

    return dynbuf_add(st, &f, sizeof(f));
}

/* After "{" or ",": a key, its colon, and the path set for the value. */
static int scan_key(struct scan *sc, const struct frame *f)
{
    int rc;

    dynbuf_truncate(&sc->path, f->plen);
    skip_ws(sc);
    rc = scan_string(sc, 1);
    if (rc != 0)
        return rc;
    skip_ws(sc);
    if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
        return ER_PLAN_INVALID;
    sc->pos++;
    return 0;
}

/* Opens a container at sc->pos. Sets *closed when it is empty ("{}", "[]"). */
static int open_container(struct scan *sc, struct dynbuf *st, int *closed)
{
    int is_array = sc->s[sc->pos] == '[';
    int rc = push(st, is_array, sc->path.len);

    if (rc != 0)
        return rc;
    sc->pos++;
    skip_ws(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == (is_array ? ']' : '}')) {
        sc->pos++;
        pop(st);
        *closed = 1;
        return 0;
    }
    *closed = 0;
    if (is_array)
        return path_index(sc, 0);
    return scan_key(sc, top(st));
}

/* After a value: "," (next element or key) or the container's end, as many
 * times as containers end here. Sets *done when the root value is complete. */
static int after_value(struct scan *sc, struct dynbuf *st, int *done)
{
    while (depth(st) > 0) {
        struct frame *f = top(st);
        char c;

        skip_ws(sc);
        if (sc->pos >= sc->len)
            return ER_PLAN_INVALID;
        c = sc->s[sc->pos++];
        if (c == ',') {
            if (!f->is_array)
                return scan_key(sc, f);
            dynbuf_truncate(&sc->path, f->plen);
            return path_index(sc, ++f->index);
        }
        if (c != (f->is_array ? ']' : '}'))
            return ER_PLAN_INVALID;
        dynbuf_truncate(&sc->path, f->plen);
        pop(st);
    }
    *done = 1;
    return 0;
}

/* At most one frame an input byte (each opens with "[" or "{"). */
static int scan_all(struct scan *sc)
{
    struct dynbuf st;
    int rc = 0, done = 0;

    dynbuf_init(&st, sc->len < SIZE_MAX / sizeof(struct frame) - 1
                         ? (sc->len + 1) * sizeof(struct frame)
                         : SIZE_MAX);
    while (rc == 0 && !done) {
        int closed = 1;

        skip_ws(sc);
        if (sc->pos >= sc->len) {
            rc = ER_PLAN_INVALID;
            break;
        }
        rc = record(sc);
        if (rc != 0)
            break;
        if (sc->s[sc->pos] == '{' || sc->s[sc->pos] == '[')
            rc = open_container(sc, &st, &closed);
        else if (sc->s[sc->pos] == '"')
            rc = scan_string(sc, 0);
        else
            rc = scan_scalar(sc);
        if (rc == 0 && closed)
            rc = after_value(sc, &st, &done);
    }
    if (rc == 0) {
        skip_ws(sc);
        if (sc->pos != sc->len)
            rc = ER_PLAN_INVALID;
    }
    dynbuf_free(&st);
    return rc;
}

static int entry_cmp(const void *a, const void *b)
{
    const struct jpos_entry *x = a, *y = b;

    return strcmp(x->path, y->path);
}

int jpos_build(const char *text, size_t len, struct jpos *ix)
{
    struct scan sc = {.s = text, .len = len, .line = 1, .ix = ix};
    int rc;

    memset(ix, 0, sizeof(*ix));
    /* A path grows by at most 4 bytes an input byte ("[" adds "/0"). */
    dynbuf_init(&sc.path, len < (SIZE_MAX - 64) / 4 ? 4 * len + 64 : SIZE_MAX);
    rc = path_append(&sc, "", 0);
    if (rc == 0)
        rc = scan_all(&sc);
    dynbuf_free(&sc.path);
    if (rc != 0) {
        jpos_free(ix);
        return rc;
    }
    qsort(ix->v, ix->n, sizeof(*ix->v), entry_cmp);
    return 0;
}

void jpos_free(struct jpos *ix)
{
    for (size_t i = 0; i < ix->n; i++)
        free(ix->v[i].path);
    free(ix->v);
    memset(ix, 0, sizeof(*ix));
}

static int lookup(const struct jpos *ix, const char *path)
{
    struct jpos_entry key = {.path = (char *)path};
    const struct jpos_entry *e;

    if (ix->n == 0)
        return 0;
    e = bsearch(&key, ix->v, ix->n, sizeof(*ix->v), entry_cmp);
    return e != NULL ? e->line : 0;
}

int jpos_line(const struct jpos *ix, const char *path)
{
    char buf[512];
    size_t n = strlen(path);

    if (n >= sizeof(buf))
        return 0;
    memcpy(buf, path, n + 1);
    for (;;) {
        int line = lookup(ix, buf);
        char *slash;

        if (line > 0)
            return line;
        slash = strrchr(buf, '/');
        if (slash == NULL)
            return 0;
        *slash = '\0';
    }
}
