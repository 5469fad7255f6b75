/* The upstream test_faultproxy puts behind the proxy (upstream.c), and the
 * socket helpers both sides of the test use. */
#ifndef EXAMROOM_TEST_UPSTREAM_H
#define EXAMROOM_TEST_UPSTREAM_H

#include <stddef.h>

/* Listens on 127.0.0.1 (an ephemeral port, put in *port) and serves on
 * threads until up_stop(), which joins them all. 0, or -1. */
int up_start(int *port);
void up_stop(void);

int up_accepted(void);         /* connections accepted so far */
int up_requests(void);         /* whole requests (HTTP, or TLS app records) */
size_t up_tls_app_bytes(void); /* TLS application-data bytes received */

/* Whether the last whole HTTP request received was exactly req. */
int up_last_is(const unsigned char *req, size_t len);

/* Byte i of every /bytes/N answer. */
unsigned char up_pattern(size_t i);

/* Blocking helpers: 0, or -1 on error or end of stream. */
int up_send_all(int fd, const void *buf, size_t len);
int up_recv_exact(int fd, void *buf, size_t len);

/* The first needle in hay[0..len), or NULL. */
const char *up_find(const char *hay, size_t len, const char *needle);

#endif
