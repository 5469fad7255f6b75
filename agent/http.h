/* Private to agent/: the HTTP layer's request and what the handlers share
 * (http.c, signin.c). */
#ifndef EXAMROOM_AGENT_HTTP_H
#define EXAMROOM_AGENT_HTTP_H

#include "agent.h"

#define BODY_MAX (16 * 1024) /* a request body, at most */

struct http_req {
    struct daemon *d;
    struct MHD_Connection *conn;
    char *body;
    size_t len, cap;
    int too_large, suspended, orphaned;
    unsigned status; /* the answer, once an asynchronous call has it */
    json_t *answer;
    char code[32]; /* the pairing code a pending approval is for */
    char token[65];
    int seat;
    /* sign-in: the writes still on their way, the first failure, the answer */
    int waiting, failed;
    json_t *ready;
};

/* Suspends the connection until answer_later() gives its answer. */
enum MHD_Result http_suspend(struct http_req *q);

/* The answer of a call that waited for the store: resumes the connection
 * (or, when it went meanwhile, frees the request). Takes body. */
void answer_later(struct http_req *q, unsigned status, json_t *body);

/* The token of "Authorization: Bearer TOKEN", or NULL. */
const char *http_bearer(struct MHD_Connection *conn);

/* POST /api/v1/signin (signin.c). */
enum MHD_Result http_signin(struct http_req *q);

/* GET /api/v1/photo (photo.c): the signed-in candidate's own photo. */
enum MHD_Result http_photo(struct http_req *q);

#endif
