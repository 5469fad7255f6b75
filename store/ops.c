/* Operations: what a write carries to the thread pool (its statements, with
 * copies of their parameters, so the caller's buffers may go away at once),
 * and store_op_exec(), which runs one inside the batch's transaction. */
#include "internal.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- ops ---- */

struct op *store_op_new(enum op_kind kind, store_done_cb cb, void *arg)
{
    struct op *op = calloc(1, sizeof(*op));

    if (op == NULL)
        return NULL;
    op->kind = kind;
    op->scope = kind == OP_ANSWER ? OP_SCOPE_NONE : OP_SCOPE_ALL;
    op->cb = cb;
    op->arg = arg;
    op->tail = &op->steps;
    return op;
}

void store_op_free(struct op *op)
{
    if (op == NULL)
        return;
    while (op->steps != NULL) {
        struct step *next = op->steps->next;

        free(op->steps);
        op->steps = next;
    }
    free(op);
}

int store_op_step(struct op *op, int stmt, int flags, int n, const struct param *ps)
{
    size_t extra = 0, off = 0;
    struct step *s;

    for (int i = 0; i < n; i++)
        extra += ps[i].type == PT_TEXT || ps[i].type == PT_BLOB ? ps[i].n + 1 : 0;
    s = calloc(1, sizeof(*s) + extra);
    if (s == NULL)
        return ER_NOMEM;
    s->stmt = stmt;
    s->flags = flags;
    s->n = n;
    for (int i = 0; i < n; i++) {
        s->p[i] = ps[i];
        if (ps[i].type == PT_TEXT || ps[i].type == PT_BLOB) {
            memcpy(s->data + off, ps[i].p, ps[i].n);
            s->data[off + ps[i].n] = 0;
            s->p[i].p = s->data + off;
            off += ps[i].n + 1;
        }
    }
    *op->tail = s;
    op->tail = &s->next;
    return 0;
}

/* ---- running ops (thread pool) ---- */

int store_is_fatal(int status)
{
    switch (status) {
    case 0:
    case ER_STORE_NOT_FOUND:
    case ER_STORE_CONFLICT:
    case ER_STORE_CHAIN:
    case ER_STORE_STALE_REV:
    case ER_PKG_OLD_VERSION:
        return 0;
    default:
        return 1;
    }
}

static void bind_step(sqlite3_stmt *s, const struct step *step)
{
    for (int i = 0; i < step->n; i++) {
        const struct param *p = &step->p[i];

        switch (p->type) {
        case PT_NULL:
            sqlite3_bind_null(s, i + 1);
            break;
        case PT_INT:
            sqlite3_bind_int64(s, i + 1, p->i);
            break;
        case PT_TEXT:
            sqlite3_bind_text(s, i + 1, p->p, (int)p->n, SQLITE_STATIC);
            break;
        case PT_BLOB:
            sqlite3_bind_blob(s, i + 1, p->p, (int)p->n, SQLITE_STATIC);
            break;
        }
    }
}

/* Runs a statement that returns no row (or whose rows are not needed). */
static int run_step(struct store *st, const struct step *step, struct store_ack *ack)
{
    sqlite3_stmt *s = st->ws[step->stmt];
    int rc, err;

    bind_step(s, step);
    rc = sqlite3_step(s);
    err = store_map_rc(rc);
    if (err != 0 && store_is_fatal(err))
        log_error("store: %s", sqlite3_errmsg(st->w));
    else if (err == 0 && (step->flags & STEP_NEED_CHANGE) && sqlite3_changes(st->w) == 0)
        err = ER_STORE_NOT_FOUND;
    else if (err == 0 && (step->flags & STEP_ROWID))
        ack->id = sqlite3_last_insert_rowid(st->w);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return err;
}

static int exec_answer(struct store *st, struct op *op)
{
    const struct step *step = op->steps;
    sqlite3_stmt *get = st->ws[W_ANSWER_GET];
    int err = run_step(st, step, &op->ack), rc;

    if (err != 0)
        return err;
    if (sqlite3_changes(st->w) == 1) {
        op->ack.rev = step->p[3].i;
        return 0;
    }
    /* Stale: report what is stored, read in the same transaction. */
    sqlite3_bind_int64(get, 1, step->p[0].i);
    sqlite3_bind_text(get, 2, step->p[1].p, (int)step->p[1].n, SQLITE_STATIC);
    rc = sqlite3_step(get);
    if (rc == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(get, 1);

        op->ack.rev = sqlite3_column_int64(get, 0);
        snprintf(op->ack.answer, sizeof(op->ack.answer), "%s", a != NULL ? a : "");
        err = ER_STORE_STALE_REV;
    } else {
        err = rc == SQLITE_DONE ? ER_INTERNAL : store_map_rc(rc);
    }
    sqlite3_reset(get);
    sqlite3_clear_bindings(get);
    return err;
}

/* A verified higher version of the plan refuses this one (rollback). */
static int exec_package(struct store *st, struct op *op)
{
    const struct step *step = op->steps;
    sqlite3_stmt *max = st->ws[W_PKG_MAX_VERIFIED];
    int rc, err;

    sqlite3_bind_text(max, 1, step->p[0].p, (int)step->p[0].n, SQLITE_STATIC);
    rc = sqlite3_step(max);
    err = rc == SQLITE_ROW ? 0 : store_map_rc(rc);
    if (rc == SQLITE_ROW && sqlite3_column_type(max, 0) != SQLITE_NULL &&
        sqlite3_column_int64(max, 0) > step->p[1].i)
        err = ER_PKG_OLD_VERSION;
    sqlite3_reset(max);
    sqlite3_clear_bindings(max);
    if (err == 0)
        err = run_step(st, step, &op->ack);
    /* Known version, other header hash: the upsert's WHERE changed nothing. */
    if (err == 0 && sqlite3_changes(st->w) == 0)
        err = ER_STORE_CONFLICT;
    return err;
}

static int exec_result(struct store *st, struct op *op)
{
    struct step *step = op->steps;
    sqlite3_stmt *head = st->ws[W_CHAIN_HEAD];
    uint8_t head_hash[STORE_HASH_LEN] = {0}, hash[STORE_HASH_LEN];
    int64_t head_pos = 0;
    int rc = sqlite3_step(head), err = 0;

    if (rc == SQLITE_ROW) {
        head_pos = sqlite3_column_int64(head, 0);
        if (sqlite3_column_bytes(head, 1) == STORE_HASH_LEN)
            memcpy(head_hash, sqlite3_column_blob(head, 1), STORE_HASH_LEN);
    } else if (rc != SQLITE_DONE) {
        err = store_map_rc(rc);
    }
    sqlite3_reset(head);
    if (err != 0)
        return err;
    if (step->p[2].i != head_pos + 1 || memcmp(step->p[3].p, head_hash, STORE_HASH_LEN) != 0)
        return ER_STORE_CHAIN;
    if (EVP_Digest(step->p[6].p, step->p[6].n, hash, NULL, EVP_sha256(), NULL) != 1)
        return ER_INTERNAL;
    step->p[4] = PB(hash, sizeof(hash));
    err = run_step(st, step, &op->ack);
    /* Then its outbox row, and the candidate's state when one was given. */
    for (struct step *s = step->next; err == 0 && s != NULL; s = s->next)
        err = run_step(st, s, &op->ack);
    step->p[4] = PN;
    return err;
}

static int exec_ack(struct store *st, struct op *op)
{
    int err = run_step(st, op->steps, &op->ack);

    for (struct step *s = op->steps->next; err == 0 && s != NULL; s = s->next) {
        s->p[2] = PI(op->ack.id);
        err = run_step(st, s, &op->ack);
        if (err == 0)
            op->ack.count += sqlite3_changes(st->w);
    }
    return err;
}

static int exec_steps(struct store *st, struct op *op)
{
    int err = 0;

    for (struct step *s = op->steps; err == 0 && s != NULL; s = s->next)
        err = run_step(st, s, &op->ack);
    return err;
}

static int control(struct store *st, int stmt)
{
    sqlite3_stmt *s = st->ws[stmt];
    int rc = sqlite3_step(s);

    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        log_error("store: %s: %s", store_wsql[stmt], sqlite3_errmsg(st->w));
    return store_map_rc(rc);
}

int store_op_exec(struct store *st, struct op *op)
{
    int err, e2;

    /* One statement is atomic on its own; an op of several gets a savepoint
     * so that, failing, it leaves nothing behind and the batch goes on. */
    if (op->kind == OP_ANSWER)
        return exec_answer(st, op);
    err = control(st, W_SAVEPOINT);
    if (err != 0)
        return err;
    switch (op->kind) {
    case OP_PACKAGE:
        err = exec_package(st, op);
        break;
    case OP_RESULT:
        err = exec_result(st, op);
        break;
    case OP_ACK:
        err = exec_ack(st, op);
        break;
    default:
        err = exec_steps(st, op);
        break;
    }
    if (store_is_fatal(err))
        return err; /* the whole transaction is rolled back */
    if (err != 0) {
        memset(&op->ack, 0, sizeof(op->ack));
        e2 = control(st, W_ROLLBACK_TO);
        if (e2 != 0)
            return e2;
    }
    e2 = control(st, W_RELEASE);
    return e2 != 0 ? e2 : err;
}
