/*
 * hostgate - per-host concurrency limit and circuit breaker.
 * SPDX-License-Identifier: MIT
 */
#include "hostgate.h"

#include <assert.h>
#include <ctype.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "rl_alloc.h"
#include "rl_log.h"

typedef enum { S_CLOSED, S_OPEN, S_HALF_OPEN } s_state_t;

typedef struct {
    char *host;           /* tree key, owned */
    long inflight;        /* admitted attempts not released */
    int failures;         /* retryable failures in a row */
    s_state_t state;      /* breaker state */
    int64_t open_until;   /* OPEN: epoch ms the cool-down ends */
} s_host_t;

struct hostgate {
    void *root;           /* tsearch tree of s_host_t by host */
    size_t n;             /* hosts in it */
    long per_host;        /* concurrency limit */
    int failures;         /* failures that open a breaker */
    long cooldown_ms;     /* how long it stays open */
};

static int
s_cmp(const void *a, const void *b)
{
    return strcmp(((const s_host_t *)a)->host, ((const s_host_t *)b)->host);
}

static s_host_t *
s_find(const hostgate_t *g, const char *host)
{
    s_host_t key;
    void *const *node;

    key.host = (char *)host;
    node = tfind(&key, &g->root, s_cmp);
    return node != NULL ? *node : NULL;
}

static s_host_t *
s_add(hostgate_t *g, const char *host)
{
    s_host_t *h;

    if (g->n >= HOSTGATE_MAX_HOSTS)
        return NULL;
    h = rl_calloc(1, sizeof *h);
    h->host = rl_strdup(host);
    if (tsearch(h, &g->root, s_cmp) == NULL) {
        rl_log_errorx("hostgate: out of memory");
        abort();
    }
    g->n++;
    return h;
}

/* Forgets a host that has nothing to remember. */
static void
s_maybe_forget(hostgate_t *g, s_host_t *h)
{
    if (h->inflight > 0 || h->failures > 0 || h->state != S_CLOSED)
        return;
    tdelete(h, &g->root, s_cmp);
    g->n--;
    free(h->host);
    free(h);
}

hostgate_t *
hostgate_new(long per_host, int failures, long cooldown_ms)
{
    hostgate_t *g;

    assert(per_host > 0 && failures > 0 && cooldown_ms >= 0);
    g = rl_calloc(1, sizeof *g);
    g->per_host = per_host;
    g->failures = failures;
    g->cooldown_ms = cooldown_ms;
    return g;
}

static void
s_free_node(void *node)
{
    s_host_t *h = node;

    free(h->host);
    free(h);
}

void
hostgate_destroy(hostgate_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    tdestroy((*p)->root, s_free_node);
    free(*p);
    *p = NULL;
}

/* The admission check of a known host. */
static hostgate_verdict_t
s_admit(const hostgate_t *g, s_host_t *h, int64_t now_ms, long *wait_ms)
{
    switch (h->state) {
    case S_OPEN:
        if (now_ms < h->open_until) {
            *wait_ms = (long)(h->open_until - now_ms);
            return HOSTGATE_OPEN;
        }
        if (h->inflight > 0)
            return HOSTGATE_BUSY; /* attempts from before still out */
        h->state = S_HALF_OPEN; /* this attempt is the trial */
        return HOSTGATE_OK;
    case S_HALF_OPEN:
        *wait_ms = 0;
        return HOSTGATE_OPEN;
    case S_CLOSED:
        break;
    }
    return h->inflight < g->per_host ? HOSTGATE_OK : HOSTGATE_BUSY;
}

hostgate_verdict_t
hostgate_acquire(hostgate_t *g, const char *host, int64_t now_ms,
                 long *wait_ms)
{
    s_host_t *h;
    long dummy;
    hostgate_verdict_t v;

    assert(g != NULL && host != NULL);
    wait_ms = wait_ms != NULL ? wait_ms : &dummy;
    *wait_ms = 0;
    h = s_find(g, host);
    if (h == NULL)
        h = s_add(g, host);
    if (h == NULL)
        return HOSTGATE_BUSY;
    v = s_admit(g, h, now_ms, wait_ms);
    if (v == HOSTGATE_OK)
        h->inflight++;
    return v;
}

void
hostgate_release(hostgate_t *g, const char *host, bool failed,
                 int64_t now_ms)
{
    s_host_t *h = s_find(g, host);

    if (h == NULL || h->inflight == 0)
        return; /* not admitted here: nothing to release */
    h->inflight--;
    if (!failed) {
        h->failures = 0;
        h->state = S_CLOSED;
    } else if (h->state == S_HALF_OPEN || ++h->failures >= g->failures) {
        if (h->state != S_OPEN)
            rl_log_info("webhook host %s: failing (%d in a row), paused "
                        "for %ld ms", host, h->failures, g->cooldown_ms);
        h->state = S_OPEN;
        h->open_until = now_ms + g->cooldown_ms;
    }
    s_maybe_forget(g, h);
}

long
hostgate_inflight(const hostgate_t *g, const char *host)
{
    const s_host_t *h = s_find(g, host);

    return h != NULL ? h->inflight : 0;
}

size_t
hostgate_hosts(const hostgate_t *g)
{
    return g->n;
}

const char *
hostgate_verdict_name(hostgate_verdict_t v)
{
    switch (v) {
    case HOSTGATE_OK:
        return "ok";
    case HOSTGATE_BUSY:
        return "busy";
    case HOSTGATE_OPEN:
        break;
    }
    return "open";
}

int
hostgate_key(const char *url, char *out, size_t out_len)
{
    CURLU *u = curl_url();
    char *host = NULL;
    char *port = NULL;
    int rc = -1;
    int n;

    if (u == NULL || url == NULL ||
        curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
            CURLUE_OK)
        goto out;
    for (char *c = host; *c != '\0'; c++)
        *c = (char)tolower((unsigned char)*c);
    n = snprintf(out, out_len, "%s:%s", host, port);
    rc = (n < 0 || (size_t)n >= out_len) ? -1 : 0;
out:
    curl_free(port);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}
