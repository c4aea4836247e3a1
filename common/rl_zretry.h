/*
 * rl_zretry - re-connects a CURVE client socket whose handshake a server
 * refused.
 *
 * libzmq gives up on an endpoint for good when a handshake fails (a ZAP
 * denial is a protocol error: no reconnect), so a worker started before
 * its key was listed would never connect, even after an operator lists
 * it. This watches the socket's monitor (an inproc PAIR on the loop,
 * rl_zsock) and, after a refused handshake, connects that endpoint again
 * after a delay that doubles from RL_ZRETRY_MIN_MS to RL_ZRETRY_MAX_MS
 * and starts over after a handshake succeeds. Each refusal is logged as
 * an error naming the endpoint, at most once per RL_ZRETRY_LOG_MS.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_ZRETRY_H
#define RL_ZRETRY_H

struct event_base;

#define RL_ZRETRY_MIN_MS 500
#define RL_ZRETRY_MAX_MS 30000
#define RL_ZRETRY_LOG_MS 10000
#define RL_ZRETRY_MAX_ENDPOINTS 16 /* retried at once per socket */

typedef struct rl_zretry rl_zretry_t;

/* Watches `sock` (a libzmq socket in zctx, before it connects); `what`
 * names the link in logs ("dispatch", "completion"). Returns the
 * watcher (caller owns; destroy it before closing sock) or NULL. */
rl_zretry_t *rl_zretry_new(struct event_base *base, void *zctx, void *sock,
                           const char *what);

/* Stops watching and frees. NULL-safe, sets *p to NULL. */
void rl_zretry_destroy(rl_zretry_t **p);

#endif
