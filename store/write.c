/* The public writes: each checks its input on the caller's side (a bad
 * argument is returned, the callback never runs), copies it into an op and
 * queues it for the next transaction. */
#include "internal.h"

#include <openssl/rand.h>
#include <time.h>

#define NP(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A new op for st, or why not: the store is closing, cb is missing, memory. */
static int new_op(struct store *st, enum op_kind kind, store_done_cb cb, void *arg, struct op **out)
{
    if (st == NULL || cb == NULL)
        return ER_USAGE;
    if (st->closing)
        return ER_STORE_CLOSED;
    *out = store_op_new(kind, cb, arg);
    return *out != NULL ? 0 : ER_NOMEM;
}

/* Queues op when building it went well; else frees it and returns err. */
static int queue(struct store *st, struct op *op, int err)
{
    if (err != 0) {
        store_op_free(op);
        return err;
    }
    return store_submit(st, op);
}

static int scoped_step(struct store *st, int64_t scope, int stmt, int flags, int n,
                       const struct param *ps, store_done_cb cb, void *arg)
{
    struct op *op = NULL;
    int err = new_op(st, OP_STEPS, cb, arg, &op);

    if (err != 0)
        return err;
    op->scope = scope;
    return queue(st, op, store_op_step(op, stmt, flags, n, ps));
}

/* A write that may change anything the loop keeps (store_generation()). */
static int one_step(struct store *st, int stmt, int flags, int n, const struct param *ps,
                    store_done_cb cb, void *arg)
{
    return scoped_step(st, OP_SCOPE_ALL, stmt, flags, n, ps, cb, arg);
}

/* The scope of a write of one candidate's rows: an id that cannot be a
 * candidate's changes nothing, but is not trusted to: everything. */
static int64_t candidate_scope(int64_t candidate_id)
{
    return candidate_id > 0 ? candidate_id : OP_SCOPE_ALL;
}

/* A write of only this candidate's rows (store_candidate_generation()). */
static int candidate_step(struct store *st, int64_t candidate_id, int stmt, int flags, int n,
                          const struct param *ps, store_done_cb cb, void *arg)
{
    return scoped_step(st, candidate_scope(candidate_id), stmt, flags, n, ps, cb, arg);
}

/* The wall clock's milliseconds (big-endian) then 8 random bytes: ids made
 * one after another sort one after another, so the primary-key indexes of
 * events, results and outbox grow at their right edge instead of dirtying a
 * random page each (measured on sign-ins: WAL page writes 8.1 -> 4.5). The
 * random half keeps them unique; nothing reads meaning from either. */
static int new_uid(uint8_t uid[STORE_UID_LEN])
{
    struct timespec ts;
    uint64_t ms;

    clock_gettime(CLOCK_REALTIME, &ts);
    ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    for (int i = 7; i >= 0; i--, ms >>= 8)
        uid[i] = (uint8_t)ms;
    return RAND_bytes(uid + 8, STORE_UID_LEN - 8) == 1 ? 0 : ER_RANDOM;
}

int store_set_room(struct store *st, const struct store_room *room, store_done_cb cb, void *arg)
{
    if (room == NULL || room->center_url == NULL || room->center_key == NULL ||
        room->center_key_len == 0)
        return ER_USAGE;
    const struct param ps[] = {
        PT(room->name),
        PT(room->center_url),
        PB(room->center_key, room->center_key_len),
        PT(room->center_ca),
        PB(room->room_pubkey_len > 0 ? room->room_pubkey : NULL, room->room_pubkey_len),
        PI(now_s()),
    };
    return one_step(st, W_ROOM_UPSERT, 0, NP(ps), ps, cb, arg);
}

int store_add_registration(struct store *st, const struct store_registration *reg, store_done_cb cb,
                           void *arg)
{
    if (reg == NULL || reg->plan_id == NULL || reg->center_room == NULL)
        return ER_USAGE;
    const struct param ps[] = {
        PT(reg->plan_id), PT(reg->center_room),
        PT(reg->site),    PB(reg->credential_len > 0 ? reg->credential : NULL, reg->credential_len),
        PI(now_s()),
    };
    return one_step(st, W_REG_INSERT, 0, NP(ps), ps, cb, arg);
}

int store_put_package(struct store *st, const struct store_package *pkg, store_done_cb cb,
                      void *arg)
{
    struct op *op = NULL;
    int err;

    if (pkg == NULL || pkg->plan_id == NULL || pkg->path == NULL || pkg->version < 1 ||
        (unsigned)pkg->state > STORE_PKG_REJECTED)
        return ER_USAGE;
    const struct param ps[] = {
        PT(pkg->plan_id),
        PI(pkg->version),
        PB(pkg->header_hash, STORE_HASH_LEN),
        PT(pkg->path),
        PT(store_pkg_states[pkg->state]),
        PI(now_s()),
    };
    err = new_op(st, OP_PACKAGE, cb, arg, &op);
    if (err != 0)
        return err;
    return queue(st, op, store_op_step(op, W_PKG_UPSERT, 0, NP(ps), ps));
}

static int roster_valid(const struct store_roster *r)
{
    if (r == NULL || (r->n_sessions > 0 && r->sessions == NULL) ||
        (r->n_seats > 0 && r->seats == NULL) || (r->n_candidates > 0 && r->candidates == NULL))
        return 0;
    for (size_t i = 0; i < r->n_sessions; i++)
        if (r->sessions[i].id == NULL || r->sessions[i].plan_id == NULL)
            return 0;
    for (size_t i = 0; i < r->n_seats; i++)
        if (r->seats[i].seat < 1)
            return 0;
    for (size_t i = 0; i < r->n_candidates; i++) {
        const struct store_candidate *c = &r->candidates[i];

        if (c->session_id == NULL || c->ticket == NULL || c->name == NULL || c->id_number == NULL ||
            c->occupation == NULL || c->level == NULL || c->paper_id == NULL || c->seat < 0)
            return 0;
    }
    return 1;
}

static int roster_steps(struct op *op, const struct store_roster *r)
{
    int err = 0;

    for (size_t i = 0; err == 0 && i < r->n_sessions; i++) {
        const struct store_session *s = &r->sessions[i];
        const struct param ps[] = {
            PT(s->id),
            PT(s->plan_id),
            PI(s->starts_at),
            PI(s->ends_at),
            PI(s->late_admission_minutes),
            PI(s->earliest_submit_minutes),
        };
        err = store_op_step(op, W_SESSION_UPSERT, 0, NP(ps), ps);
    }
    for (size_t i = 0; err == 0 && i < r->n_seats; i++) {
        const struct param ps[] = {
            PI(r->seats[i].seat),
            PT(r->seats[i].label),
            PI(r->seats[i].spare ? 1 : 0),
        };
        err = store_op_step(op, W_SEAT_UPSERT, 0, NP(ps), ps);
    }
    for (size_t i = 0; err == 0 && i < r->n_candidates; i++) {
        const struct store_candidate *c = &r->candidates[i];
        const struct param ps[] = {
            PT(c->session_id),
            PT(c->ticket),
            PT(c->name),
            PT(c->gender),
            PT(c->id_type),
            PT(c->id_number),
            PT(c->occupation),
            PT(c->level),
            PT(c->paper_id),
            PT(c->photo),
            c->seat > 0 ? PI(c->seat) : PN,
        };
        err = store_op_step(op, W_CAND_UPSERT, 0, NP(ps), ps);
    }
    return err;
}

int store_load_roster(struct store *st, const struct store_roster *roster, store_done_cb cb,
                      void *arg)
{
    struct op *op = NULL;
    int err;

    if (!roster_valid(roster))
        return ER_USAGE;
    err = new_op(st, OP_STEPS, cb, arg, &op);
    if (err != 0)
        return err;
    return queue(st, op, roster_steps(op, roster));
}

int store_set_session_state(struct store *st, const char *session_id,
                            enum store_session_state state, const uint8_t *sealed_key,
                            size_t sealed_key_len, store_done_cb cb, void *arg)
{
    if (session_id == NULL || (unsigned)state >= STORE_SESSION_STATE_COUNT)
        return ER_USAGE;
    const struct param ps[] = {
        PT(session_id),
        PT(store_session_states[state]),
        PB(sealed_key_len > 0 ? sealed_key : NULL, sealed_key_len),
    };
    return one_step(st, W_SESSION_STATE, STEP_NEED_CHANGE, NP(ps), ps, cb, arg);
}

int store_update_candidate(struct store *st, int64_t candidate_id, enum store_cand_state state,
                           int seat, int add_seconds, store_done_cb cb, void *arg)
{
    if ((unsigned)state >= STORE_CAND_STATE_COUNT || seat < 0)
        return ER_USAGE;
    const struct param ps[] = {
        PI(candidate_id),
        PT(store_cand_states[state]),
        seat > 0 ? PI(seat) : PN,
        PI(add_seconds),
    };
    return candidate_step(st, candidate_id, W_CAND_UPDATE, STEP_NEED_CHANGE, NP(ps), ps, cb, arg);
}

int store_add_time(struct store *st, int64_t candidate_id, int add_seconds, store_done_cb cb,
                   void *arg)
{
    const struct param ps[] = {PI(candidate_id), PI(add_seconds)};

    if (add_seconds <= 0)
        return ER_USAGE;
    return candidate_step(st, candidate_id, W_CAND_ADD_TIME, STEP_NEED_CHANGE, NP(ps), ps, cb, arg);
}

int store_check_in(struct store *st, int64_t candidate_id, int64_t at, store_done_cb cb, void *arg)
{
    const struct param ps[] = {PI(candidate_id), PI(at)};

    if (at <= 0)
        return ER_USAGE;
    return candidate_step(st, candidate_id, W_CAND_CHECK_IN, 0, NP(ps), ps, cb, arg);
}

int store_mark_running(struct store *st, int64_t candidate_id, store_done_cb cb, void *arg)
{
    const struct param ps[] = {PI(candidate_id)};

    return candidate_step(st, candidate_id, W_CAND_RUNNING, 0, NP(ps), ps, cb, arg);
}

int store_move_candidate(struct store *st, int64_t candidate_id, int seat, store_done_cb cb,
                         void *arg)
{
    struct op *op = NULL;
    int err;

    if (seat < 1)
        return ER_USAGE;
    const struct param move[] = {PI(candidate_id), PI(seat)};
    const struct param end[] = {PI(candidate_id), PI(now_s())};
    err = new_op(st, OP_STEPS, cb, arg, &op);
    if (err != 0)
        return err;
    op->scope = candidate_scope(candidate_id); /* their seat, their sign-ins */
    /* The seat and the end of the old seat's tokens together: never a
     * moment when the candidate is at the new seat and still answering at
     * the old one. */
    err = store_op_step(op, W_CAND_MOVE, STEP_NEED_CHANGE, NP(move), move);
    if (err == 0)
        err = store_op_step(op, W_SIGNIN_END_CAND, 0, NP(end), end);
    return queue(st, op, err);
}

int store_add_terminal(struct store *st, const char *pairing_code,
                       const uint8_t secret_hash[STORE_HASH_LEN], enum store_term_kind kind,
                       store_done_cb cb, void *arg)
{
    if (pairing_code == NULL || pairing_code[0] == '\0' || (unsigned)kind > STORE_TERM_READER)
        return ER_USAGE;
    const struct param ps[] = {PT(pairing_code), PI(now_s()),
                               secret_hash != NULL ? PB(secret_hash, STORE_HASH_LEN) : PN,
                               PT(store_term_kinds[kind])};
    return one_step(st, W_TERM_INSERT, STEP_ROWID, NP(ps), ps, cb, arg);
}

int store_approve_terminal(struct store *st, const char *pairing_code,
                           const uint8_t token_hash[STORE_HASH_LEN], int seat, store_done_cb cb,
                           void *arg)
{
    if (pairing_code == NULL || seat < 1)
        return ER_USAGE;
    const struct param ps[] = {
        PT(pairing_code),
        token_hash != NULL ? PB(token_hash, STORE_HASH_LEN) : PN,
        PI(seat),
        PI(now_s()),
    };
    return one_step(st, W_TERM_APPROVE, STEP_NEED_CHANGE, NP(ps), ps, cb, arg);
}

int store_issue_terminal_token(struct store *st, int64_t terminal_id,
                               const uint8_t token_hash[STORE_HASH_LEN], store_done_cb cb,
                               void *arg)
{
    if (token_hash == NULL)
        return ER_USAGE;
    const struct param ps[] = {PI(terminal_id), PB(token_hash, STORE_HASH_LEN)};

    return one_step(st, W_TERM_ISSUE, STEP_NEED_CHANGE, NP(ps), ps, cb, arg);
}

int store_reject_terminal(struct store *st, const char *pairing_code, store_done_cb cb, void *arg)
{
    if (pairing_code == NULL)
        return ER_USAGE;
    const struct param ps[] = {PT(pairing_code)};

    return one_step(st, W_TERM_REJECT, STEP_NEED_CHANGE, NP(ps), ps, cb, arg);
}

int store_revoke_terminal(struct store *st, int64_t terminal_id, store_done_cb cb, void *arg)
{
    struct op *op = NULL;
    const struct param ps[] = {PI(terminal_id)};
    const struct param end[] = {PI(terminal_id), PI(now_s())};
    int err = new_op(st, OP_STEPS, cb, arg, &op);

    if (err != 0)
        return err;
    err = store_op_step(op, W_TERM_REVOKE, STEP_NEED_CHANGE, NP(ps), ps);
    if (err == 0)
        err = store_op_step(op, W_SIGNIN_END_TERM, 0, NP(end), end);
    return queue(st, op, err);
}

/* The steps of an event and its outbox row; ack->uid is its id. */
static int event_steps(struct op *op, const struct store_event *ev)
{
    uint8_t uid[STORE_UID_LEN];
    int64_t now = now_s();
    int err;

    if (ev == NULL || ev->body == NULL || (unsigned)ev->kind > STORE_EVENT_AUDIT)
        return ER_USAGE;
    err = new_uid(uid);
    if (err != 0)
        return err;
    const struct param event[] = {
        PB(uid, STORE_UID_LEN),
        PT(store_event_kinds[ev->kind]),
        ev->candidate_id > 0 ? PI(ev->candidate_id) : PN,
        PT(ev->body),
        PI(now),
    };
    const struct param outbox[] = {PB(uid, STORE_UID_LEN), PT("event"), PI(now)};
    memcpy(op->ack.uid, uid, STORE_UID_LEN);
    err = store_op_step(op, W_EVENT_INSERT, 0, NP(event), event);
    if (err == 0)
        err = store_op_step(op, W_OUTBOX_INSERT, 0, NP(outbox), outbox);
    return err;
}

int store_add_signin(struct store *st, int64_t candidate_id, int64_t terminal_id, int seat,
                     const uint8_t token_hash[STORE_HASH_LEN], const struct store_event *ev,
                     store_done_cb cb, void *arg)
{
    struct op *op = NULL;
    int err;

    if (token_hash == NULL || seat < 0 ||
        (ev != NULL && (ev->body == NULL || (unsigned)ev->kind > STORE_EVENT_AUDIT)))
        return ER_USAGE;
    const struct param ps[] = {
        PI(candidate_id), PI(terminal_id), seat > 0 ? PI(seat) : PN, PB(token_hash, STORE_HASH_LEN),
        PI(now_s()),
    };
    const struct param cand[] = {PI(candidate_id)};
    err = new_op(st, OP_STEPS, cb, arg, &op);
    if (err != 0)
        return err;
    /* Their sign-ins (the token before is replaced) and their state; the
     * terminal is only read, and the event is kept by nobody. */
    op->scope = candidate_scope(candidate_id);
    /* The sign-in is checked against the committed candidate and terminal
     * in the transaction (a move or a revoke queued ahead of it refuses
     * it), and the state and the attendance event go with it or not at
     * all. */
    err = store_op_step(op, W_SIGNIN_INSERT, STEP_NEED_CHANGE | STEP_ROWID, NP(ps), ps);
    if (err == 0)
        err = store_op_step(op, W_CAND_SIGNED_IN, 0, NP(cand), cand);
    if (err == 0 && ev != NULL)
        err = event_steps(op, ev);
    return queue(st, op, err);
}

int store_put_answer(struct store *st, int64_t candidate_id, const char *item, const char *answer,
                     int64_t rev, store_done_cb cb, void *arg)
{
    struct op *op = NULL;
    int err;

    if (item == NULL || answer == NULL || rev < 1 || item[0] == '\0' ||
        strlen(item) > STORE_ITEM_MAX || strlen(answer) > STORE_ANSWER_MAX)
        return ER_USAGE;
    const struct param ps[] = {PI(candidate_id), PT(item), PT(answer), PI(rev), PI(now_ms())};
    err = new_op(st, OP_ANSWER, cb, arg, &op);
    if (err != 0)
        return err;
    return queue(st, op, store_op_step(op, W_ANSWER_UPSERT, 0, NP(ps), ps));
}

int store_add_result(struct store *st, const struct store_result *res, store_done_cb cb, void *arg)
{
    struct op *op = NULL;
    uint8_t uid[STORE_UID_LEN];
    int64_t now = now_s();
    int err;

    if (res == NULL || res->sealed == NULL || res->sealed_len == 0 || res->chain_pos < 1)
        return ER_USAGE;
    err = new_uid(uid);
    if (err != 0)
        return err;
    const struct param result[] = {
        PB(uid, STORE_UID_LEN),
        PI(res->candidate_id),
        PI(res->chain_pos),
        PB(res->prev_hash, STORE_HASH_LEN),
        PN, /* the hash, computed in the transaction */
        PI(res->score),
        PB(res->sealed, res->sealed_len),
        PI(now),
    };
    const struct param outbox[] = {PB(uid, STORE_UID_LEN), PT("result"), PI(now)};
    err = new_op(st, OP_RESULT, cb, arg, &op);
    if (err != 0)
        return err;
    /* The candidate's state; the chain and the outbox are kept by nobody. */
    op->scope = candidate_scope(res->candidate_id);
    memcpy(op->ack.uid, uid, STORE_UID_LEN);
    op->ack.id = res->chain_pos;
    /* The state the result was decided on: absent only for a candidate
     * still registered, a submit only for one signed in or running. */
    int absent = res->state == STORE_CAND_ABSENT;
    const struct param state[] = {PI(res->candidate_id), PT(store_cand_state_name(res->state)),
                                  PT(absent ? "registered" : "signed_in"),
                                  PT(absent ? "registered" : "running")};
    err = store_op_step(op, W_RESULT_INSERT, 0, NP(result), result);
    if (err == 0)
        err = store_op_step(op, W_OUTBOX_INSERT, 0, NP(outbox), outbox);
    /* The result and the state that says so are durable together: a crash
     * between them would leave a candidate "running" with a sealed result,
     * answering on into nothing. */
    if (err == 0 && res->state != STORE_CAND_REGISTERED)
        err = store_op_step(op, W_CAND_RESULT_STATE, STEP_NEED_CHANGE, NP(state), state);
    return queue(st, op, err);
}

int store_add_event(struct store *st, const struct store_event *ev, store_done_cb cb, void *arg)
{
    struct op *op = NULL;
    int err;

    if (ev == NULL || ev->body == NULL || (unsigned)ev->kind > STORE_EVENT_AUDIT)
        return ER_USAGE;
    err = new_op(st, OP_STEPS, cb, arg, &op);
    if (err != 0)
        return err;
    op->scope = OP_SCOPE_NONE; /* events and the outbox: kept by nobody */
    return queue(st, op, event_steps(op, ev));
}

int store_ack_outbox(struct store *st, const uint8_t *receipt, size_t receipt_len,
                     const uint8_t (*ids)[STORE_UID_LEN], size_t n, store_done_cb cb, void *arg)
{
    struct op *op = NULL;
    int64_t now = now_s();
    int err;

    if (receipt == NULL || receipt_len == 0 || (n > 0 && ids == NULL))
        return ER_USAGE;
    const struct param rec[] = {PB(receipt, receipt_len), PI(now)};
    err = new_op(st, OP_ACK, cb, arg, &op);
    if (err != 0)
        return err;
    op->scope = OP_SCOPE_NONE; /* receipts and the outbox: kept by nobody */
    err = store_op_step(op, W_RECEIPT_INSERT, STEP_ROWID, NP(rec), rec);
    for (size_t i = 0; err == 0 && i < n; i++) {
        /* The receipt's id is bound in the transaction, once known. */
        const struct param mark[] = {PB(ids[i], STORE_UID_LEN), PI(now), PN};
        err = store_op_step(op, W_OUTBOX_ACK, 0, NP(mark), mark);
    }
    return queue(st, op, err);
}
