/* examroom card-reader --server URL --device DEV [--state FILE]: runs on a
 * room PC with an ID card reader beside it (issue 14). It pairs with the
 * room's server as a reader (the proctor approves its code for the PC's
 * seat, as for a terminal), keeps its token in the state file (0600), and
 * then drives the reader with the door's driver (idreader_serve.c) on its
 * own libuv loop. The last card read goes to the server (the card's text
 * block, an id of this read and its age; the server decodes and judges it)
 * at once and again every 5 s, which is also the reader's heartbeat: a call
 * that failed, or a server that restarted, is made good by the next. A card
 * is sent for SEATCARD_TTL_S after its read. The seat's terminal then shows
 * the card; the sign-in takes its ID number from the server.
 *
 * HTTP calls run on the thread pool, one at a time and in order, so the
 * loop that answers the reader never waits for the network. Output: one
 * line whenever what the server says changes, for the journal. Exit status
 * 0 on SIGTERM/SIGINT; 1 when the pairing is refused, or revoked (the
 * server says not_paired twice running: the state file is removed, and a
 * restart asks for a new code). */
#include "http.h"
#include "idreader.h"

#include <curl/curl.h> /* curl_global_init */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEARTBEAT_MS  5000
#define REVOKED_AFTER 2 /* not_paired answers in a row */
#define PAIR_POLL_S   2

/* What the technician and the journal read (zh-CN, in one place). */
#define MSG_CODE                                                                                                                 \
    "阅读器配对码：%s\n请监考老师在监考台的“待配对的终端”中批准，或在考场服务器上执行 " \
    "examroom pair approve %s --seat 座位号（这台电脑的座位号）。\n"
#define MSG_PAIRED  "已配对：本阅读器属于 %d 号座位。\n"
#define MSG_RUNNING "阅读器 %s 已启动，请把身份证放在阅读器上。\n"
#define MSG_CARD    "座位 %d：%s\n"
#define MSG_SERVER  "考场服务器暂时连不上（%s），5 秒后自动重试。\n"
#define MSG_STATE   "无法保存配对信息到 %s（%s）。请检查该目录的权限。"

/* One blocking call to the room's server: its status and JSON body (NULL
 * if none). 0, or ER_READER_SERVER when it cannot be reached. */
static int call(const char *server, const char *method, const char *path, const char *bearer,
                const char *body, long *status, json_t **doc)
{
    char url[600];
    int rc;

    snprintf(url, sizeof(url), "%s%s", server, path);
    rc = room_http(url, method, bearer, body, 10, status, doc);
    return rc == -1 ? ER_READER_SERVER : rc;
}

/* ---- pairing, before the loop runs ---- */

struct bridge {
    char server[512];
    const char *state;
    char token[80];
    int seat;
    uv_loop_t loop;
    uv_timer_t heartbeat;
    uv_signal_t sigterm, sigint;
    struct idreaders *readers;
    /* calls waiting for the thread pool, in order; one in flight */
    struct job *head, *tail;
    int busy, stopping, revoked, refusals;
    uv_work_t work;
    /* the last card read: its text block, this read's id, when (loop ms) */
    uint8_t text[IDR_TEXT_LEN];
    char read[17];
    uint64_t read_at;
    int has_card;
    char said[512]; /* what the server said last, printed once */
};

static int load_state(struct bridge *b)
{
    json_t *doc = json_load_file(b->state, 0, NULL);
    int rc;

    rc = ER_STORE_NOT_FOUND;
    /* A token for another server is no token here. */
    if (json_is_string(json_object_get(doc, "token")) &&
        json_is_integer(json_object_get(doc, "seat")) &&
        json_is_string(json_object_get(doc, "server")) &&
        strcmp(json_string_value(json_object_get(doc, "server")), b->server) == 0 &&
        json_string_length(json_object_get(doc, "token")) < sizeof(b->token)) {
        snprintf(b->token, sizeof(b->token), "%s",
                 json_string_value(json_object_get(doc, "token")));
        b->seat = (int)json_integer_value(json_object_get(doc, "seat"));
        rc = 0;
    }
    json_decref(doc);
    return rc;
}

static int save_state(const struct cli_ctx *ctx, struct bridge *b)
{
    json_t *doc =
        json_pack("{s:s, s:s, s:i}", "server", b->server, "token", b->token, "seat", b->seat);
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    int rc = text != NULL ? fs_write_atomic(b->state, text, strlen(text), 0600) : ER_NOMEM;

    json_decref(doc);
    free(text);
    if (rc < 0)
        return cli_fail_detail(ctx, rc, MSG_STATE, b->state, er_strerror(rc));
    return 0;
}

/* Asks for a code, shows it, and waits for the proctor. 0, or an exit
 * status already reported. */
static int pair(const struct cli_ctx *ctx, struct bridge *b)
{
    char code[40], secret[80], path[128];
    long status;
    json_t *doc;
    int rc = call(b->server, "POST", "/api/v1/terminals", NULL, "{\"device\":\"reader\"}", &status,
                  &doc);

    if (rc == 0 && status != 201) {
        const char *m = json_string_value(json_object_get(doc, "message"));

        rc = cli_fail_detail(ctx, ER_PAIR_REFUSED, "%s", m != NULL ? m : "");
        json_decref(doc);
        return rc;
    }
    if (rc < 0 || !json_is_string(json_object_get(doc, "pairing_code")) ||
        !json_is_string(json_object_get(doc, "pairing_secret"))) {
        json_decref(doc);
        return cli_fail(ctx, ER_READER_SERVER);
    }
    snprintf(code, sizeof(code), "%s", json_string_value(json_object_get(doc, "pairing_code")));
    snprintf(secret, sizeof(secret), "%s",
             json_string_value(json_object_get(doc, "pairing_secret")));
    json_decref(doc);
    printf(MSG_CODE, code, code);
    fflush(stdout);
    snprintf(path, sizeof(path), "/api/v1/terminals/%s", code);
    for (;;) {
        sleep(PAIR_POLL_S);
        rc = call(b->server, "GET", path, secret, NULL, &status, &doc);
        if (rc == 0 && status == 200 && json_is_string(json_object_get(doc, "terminal_token")) &&
            json_string_length(json_object_get(doc, "terminal_token")) < sizeof(b->token)) {
            snprintf(b->token, sizeof(b->token), "%s",
                     json_string_value(json_object_get(doc, "terminal_token")));
            b->seat = (int)json_integer_value(json_object_get(doc, "seat"));
            json_decref(doc);
            /* Kept before it is said: a restart now needs no new code. */
            rc = save_state(ctx, b);
            if (rc == 0) {
                printf(MSG_PAIRED, b->seat);
                fflush(stdout);
            }
            return rc;
        }
        if (rc == 0 && (status == 410 || status == 404)) {
            const char *m = json_string_value(json_object_get(doc, "message"));

            rc = m != NULL ? cli_fail_detail(ctx, ER_READER_REVOKED, "%s", m)
                           : cli_fail(ctx, ER_READER_REVOKED);
            json_decref(doc);
            return rc;
        }
        if (rc < 0) {
            printf(MSG_SERVER, er_name(rc));
            fflush(stdout);
        }
        json_decref(doc);
    }
}

/* ---- the loop: the reader, and the calls on the thread pool ---- */

struct job {
    struct job *next;
    char method[8], path[40];
    char *body; /* malloc'd, or NULL */
    long status;
    json_t *doc;
    int rc;
};

static void run_next(struct bridge *b);

static void job_work(uv_work_t *w)
{
    struct bridge *b = w->data;
    struct job *j = b->head;

    j->rc = call(b->server, j->method, j->path, b->token, j->body, &j->status, &j->doc);
}

static void stop(struct bridge *b);

static void job_done(uv_work_t *w, int status)
{
    struct bridge *b = w->data;
    struct job *j = b->head;
    const char *m = json_string_value(json_object_get(j->doc, "message"));
    const char *e = json_string_value(json_object_get(j->doc, "error"));
    char line[600];

    (void)status;
    b->head = j->next;
    if (b->head == NULL)
        b->tail = NULL;
    b->busy = 0;
    line[0] = '\0';
    if (j->rc < 0)
        snprintf(line, sizeof(line), MSG_SERVER, er_name(j->rc));
    else if (m != NULL)
        snprintf(line, sizeof(line), MSG_CARD, b->seat, m);
    /* Revoked: said so twice running, not once (a store that failed a
     * read answers 401 too). */
    b->refusals = j->rc == 0 && j->status == 401 && e != NULL && strcmp(e, "not_paired") == 0
                      ? b->refusals + 1
                      : 0;
    if (b->refusals >= REVOKED_AFTER) {
        b->revoked = 1;
        stop(b);
    } else if (line[0] != '\0' && strcmp(line, b->said) != 0) {
        fputs(line, stdout);
        fflush(stdout);
        snprintf(b->said, sizeof(b->said), "%s", line);
    }
    json_decref(j->doc);
    free(j->body);
    free(j);
    run_next(b);
}

static void run_next(struct bridge *b)
{
    if (b->busy || b->head == NULL || b->stopping)
        return;
    b->busy = 1;
    b->work.data = b;
    if (uv_queue_work(&b->loop, &b->work, job_work, job_done) < 0)
        b->busy = 0;
}

/* Queues a call (body is taken). */
static void enqueue(struct bridge *b, const char *method, const char *path, char *body)
{
    struct job *j;

    if (b->stopping || (j = calloc(1, sizeof(*j))) == NULL) {
        free(body);
        return;
    }
    snprintf(j->method, sizeof(j->method), "%s", method);
    snprintf(j->path, sizeof(j->path), "%s", path);
    j->body = body;
    if (b->tail != NULL)
        b->tail->next = j;
    else
        b->head = j;
    b->tail = j;
    run_next(b);
}

/* Sends the last card read (or none): at once after a read; on the
 * heartbeat only when no call is waiting already. */
static void send_state(struct bridge *b, int now)
{
    uint64_t age = uv_now(&b->loop) - b->read_at;
    char hex[2 * IDR_TEXT_LEN + 1], *body = malloc(2 * IDR_TEXT_LEN + 96);

    if (body == NULL || (!now && b->head != NULL)) {
        free(body);
        return;
    }
    if (b->has_card && age < (uint64_t)SEATCARD_TTL_S * 1000) {
        hex_encode(b->text, IDR_TEXT_LEN, hex);
        snprintf(body, 2 * IDR_TEXT_LEN + 96, "{\"text\":\"%s\",\"read\":\"%s\",\"age_ms\":%llu}",
                 hex, b->read, (unsigned long long)age);
    } else {
        snprintf(body, 2 * IDR_TEXT_LEN + 96, "{\"none\":true}");
    }
    enqueue(b, "POST", "/api/v1/reader/card", body);
}

static json_t *on_card(void *ctx, const char *device, const struct idr_card *card,
                       const uint8_t *text)
{
    struct bridge *b = ctx;
    uint8_t id[8];

    (void)device;
    (void)card; /* the server decodes the text itself */
    if (crypto_random(id, sizeof(id)) < 0)
        return NULL;
    hex_encode(id, sizeof(id), b->read);
    memcpy(b->text, text, IDR_TEXT_LEN);
    b->read_at = uv_now(&b->loop);
    b->has_card = 1;
    send_state(b, 1);
    return NULL;
}

static const struct idr_events events = {.card = on_card};

static void on_heartbeat(uv_timer_t *t)
{
    send_state(t->data, 0);
}

static void stop(struct bridge *b)
{
    if (b->stopping)
        return;
    b->stopping = 1;
    idr_set_stop(b->readers);
    uv_close((uv_handle_t *)&b->heartbeat, NULL);
    uv_close((uv_handle_t *)&b->sigterm, NULL);
    uv_close((uv_handle_t *)&b->sigint, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)signum;
    stop(s->data);
}

int cmd_card_reader(struct cli_ctx *ctx, int argc, char **argv)
{
    static const char *const names[] = {"--server", "--device", "--state", NULL};
    struct bridge *b;
    char state[ROOM_PATH_MAX], *device;
    const char *server;
    int bad = 0, rc;

    b = calloc(1, sizeof(*b));
    if (b == NULL)
        return cli_fail(ctx, ER_NOMEM);
    server = cli_option(argc, argv, "--server", &bad);
    device = (char *)cli_option(argc, argv, "--device", &bad);
    b->state = cli_option(argc, argv, "--state", &bad);
    if (bad || server == NULL || device == NULL || cli_check_options(argc, argv, 1, names) < 0 ||
        (strncmp(server, "http://", 7) != 0 && strncmp(server, "https://", 8) != 0) ||
        strlen(server) >= sizeof(b->server)) {
        free(b);
        return cli_fail(ctx, ER_USAGE);
    }
    /* "http://host:8080/" and "http://host:8080" are one server. */
    snprintf(b->server, sizeof(b->server), "%s", server);
    for (size_t n = strlen(b->server); n > 8 && b->server[n - 1] == '/'; n--)
        b->server[n - 1] = '\0';
    if (b->state == NULL) {
        snprintf(state, sizeof(state), "%s/card-reader.json", ctx->data_dir);
        if (fs_mkdir_p(ctx->data_dir, 0700) < 0) {
            rc = cli_fail_detail(ctx, ER_IO, MSG_STATE, state, strerror(errno));
            free(b);
            return rc;
        }
        b->state = state;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = load_state(b) == 0 ? 0 : pair(ctx, b);
    if (rc != 0) {
        free(b);
        return rc;
    }
    uv_loop_init(&b->loop);
    rc = idr_set_start(&b->loop, &device, 1, &events, b, &b->readers);
    if (rc < 0) {
        uv_loop_close(&b->loop);
        free(b);
        return cli_fail(ctx, rc);
    }
    uv_timer_init(&b->loop, &b->heartbeat);
    b->heartbeat.data = b;
    uv_timer_start(&b->heartbeat, on_heartbeat, 0, HEARTBEAT_MS);
    uv_signal_init(&b->loop, &b->sigterm);
    uv_signal_init(&b->loop, &b->sigint);
    b->sigterm.data = b->sigint.data = b;
    uv_signal_start(&b->sigterm, on_signal, SIGTERM);
    uv_signal_start(&b->sigint, on_signal, SIGINT);
    printf(MSG_RUNNING, device);
    fflush(stdout);
    uv_run(&b->loop, UV_RUN_DEFAULT);
    idr_set_free(b->readers);
    uv_loop_close(&b->loop);
    /* Jobs never run (stopping): free what is left. */
    while (b->head != NULL) {
        struct job *j = b->head;

        b->head = j->next;
        free(j->body);
        free(j);
    }
    rc = 0;
    if (b->revoked) {
        unlink(b->state);
        rc = cli_fail(ctx, ER_READER_REVOKED);
    }
    free(b);
    return rc;
}
