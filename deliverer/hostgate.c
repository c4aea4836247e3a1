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
#include <sys/queue.h>

#include <curl/curl.h>

#include "rl_alloc.h"
#include "rl_log.h"

typedef enum { S_CLOSED, S_OPEN, S_HALF_OPEN } s_state_t;

/* One parked item. */
typedef struct s_parked {
    STAILQ_ENTRY(s_parked) link;
    void *item;           /* the caller's, borrowed */
    int64_t since;        /* epoch ms it was parked */
} s_parked_t;

typedef struct {
    char *host;           /* tree key, owned */
    long inflight;        /* admitted attempts not released */
    int failures;         /* retryable failures in a row */
    s_state_t state;      /* breaker state */
    int64_t open_until;   /* OPEN: epoch ms the cool-down ends */
    STAILQ_HEAD(, s_parked) parked; /* items waiting, oldest first */
    long nparked;         /* entries of parked */
    long latency_ms;      /* moving average of attempt latency, -1 none */
    int64_t used_at;      /* epoch ms of its last release */
} s_host_t;

struct hostgate {
    void *root;           /* tsearch tree of s_host_t by host */
    size_t n;             /* hosts in it */
    long per_host;        /* concurrency limit */
    int failures;         /* failures that open a breaker */
    long cooldown_ms;     /* how long it stays open */
    long fast_park;       /* items a fast host may park */
    long fast_ms;         /* "fast": average latency below this */
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
    h->latency_ms = -1;
    STAILQ_INIT(&h->parked);
    if (tsearch(h, &g->root, s_cmp) == NULL) {
        rl_log_errorx("hostgate: out of memory");
        abort();
    }
    g->n++;
    return h;
}

/* True when h holds nothing but, maybe, a latency average older than
 * HOSTGATE_REMEMBER_MS at now_ms (or now_ms is 0: any age). */
static bool
s_idle(const s_host_t *h, int64_t now_ms)
{
    return h->inflight == 0 && h->failures == 0 && h->state == S_CLOSED &&
           h->nparked == 0 &&
           (h->latency_ms < 0 || now_ms - h->used_at > HOSTGATE_REMEMBER_MS);
}

/* Forgets a host that has nothing to remember. A fast host's average is
 * kept a while after it went idle: a deliverer claims in bursts, and an
 * average forgotten between two of them would never let it park. */
static void
s_maybe_forget(hostgate_t *g, s_host_t *h)
{
    if (!s_idle(h, h->used_at))
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

void
hostgate_park_limits(hostgate_t *g, long fast_park, long fast_ms)
{
    assert(g != NULL && fast_park >= 0 && fast_ms >= 0);
    g->fast_park = fast_park;
    g->fast_ms = fast_ms;
}

void
hostgate_latency(hostgate_t *g, const char *host, long latency_ms)
{
    s_host_t *h = s_find(g, host);
    if (h == NULL || latency_ms < 0)
        return;
    h->latency_ms = h->latency_ms < 0
                        ? latency_ms
                        : h->latency_ms +
                              (latency_ms - h->latency_ms) /
                                  HOSTGATE_LATENCY_WEIGHT;
}

static void
s_free_node(void *node)
{
    s_host_t *h = node;
    s_parked_t *p;

    while ((p = STAILQ_FIRST(&h->parked)) != NULL) {
        STAILQ_REMOVE_HEAD(&h->parked, link);
        free(p);
    }
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
    h->used_at = now_ms;
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

void
hostgate_cancel(hostgate_t *g, const char *host)
{
    s_host_t *h = s_find(g, host);

    if (h == NULL || h->inflight == 0)
        return; /* not admitted here */
    h->inflight--;
    if (h->state == S_HALF_OPEN)
        h->state = S_OPEN; /* open_until has passed: the next one tries */
    s_maybe_forget(g, h);
}

bool
hostgate_park(hostgate_t *g, const char *host, void *item, int64_t now_ms)
{
    s_host_t *h = s_find(g, host);
    s_parked_t *p;

    assert(item != NULL);
    if (h == NULL || h->state != S_CLOSED)
        return false;
    long limit = h->latency_ms >= 0 && h->latency_ms < g->fast_ms
                     ? g->fast_park
                     : 0;
    if (h->nparked >= limit)
        return false;
    p = rl_calloc(1, sizeof *p);
    p->item = item;
    p->since = now_ms;
    STAILQ_INSERT_TAIL(&h->parked, p, link);
    h->nparked++;
    return true;
}

void *
hostgate_unpark(hostgate_t *g, const char *host, int64_t now_ms,
                long max_wait_ms, bool *admitted)
{
    s_host_t *h = s_find(g, host);
    s_parked_t *p = h != NULL ? STAILQ_FIRST(&h->parked) : NULL;
    long dummy;
    void *item;

    *admitted = false;
    if (p == NULL)
        return NULL;
    if (h->state == S_CLOSED && now_ms - p->since <= max_wait_ms) {
        if (s_admit(g, h, now_ms, &dummy) != HOSTGATE_OK)
            return NULL; /* still busy: it keeps its place */
        h->inflight++;
        *admitted = true;
    }
    STAILQ_REMOVE_HEAD(&h->parked, link);
    h->nparked--;
    item = p->item;
    free(p);
    s_maybe_forget(g, h);
    return item;
}

typedef struct {
    void (*fn)(void *item, void *arg);
    void *arg;
    int64_t before;       /* items parked before this epoch ms */
} s_drain_t;

/* Hands h's items parked before d->before to d->fn, oldest first. Hosts
 * are not forgotten here (the tree is being walked); the next release or
 * acquire of each does it. */
static void
s_drain_node(const void *node, VISIT which, void *arg)
{
    s_host_t *h = *(s_host_t *const *)node;
    s_drain_t *d = arg;
    s_parked_t *p;

    if (which != postorder && which != leaf)
        return; /* each node once */
    while ((p = STAILQ_FIRST(&h->parked)) != NULL && p->since < d->before) {
        STAILQ_REMOVE_HEAD(&h->parked, link);
        h->nparked--;
        d->fn(p->item, d->arg);
        free(p);
    }
}

void
hostgate_drain(hostgate_t *g, void (*fn)(void *item, void *arg), void *arg)
{
    s_drain_t d = {fn, arg, INT64_MAX};

    assert(g != NULL && fn != NULL);
    twalk_r(g->root, s_drain_node, &d);
}

typedef struct {
    s_host_t *idle[HOSTGATE_SWEEP_FORGET]; /* hosts to forget */
    size_t n;
    int64_t now_ms;
} s_forget_t;

static void
s_forget_node(const void *node, VISIT which, void *arg)
{
    s_host_t *h = *(s_host_t *const *)node;
    s_forget_t *f = arg;

    if ((which == postorder || which == leaf) && f->n < HOSTGATE_SWEEP_FORGET &&
        s_idle(h, f->now_ms))
        f->idle[f->n++] = h;
}

void
hostgate_expire(hostgate_t *g, int64_t now_ms, long max_wait_ms,
                void (*fn)(void *item, void *arg), void *arg)
{
    s_drain_t d = {fn, arg, now_ms - max_wait_ms};

    assert(g != NULL && fn != NULL);
    twalk_r(g->root, s_drain_node, &d);
}

void
hostgate_forget_idle(hostgate_t *g, int64_t now_ms)
{
    s_forget_t f = {{NULL}, 0, now_ms};

    assert(g != NULL);
    twalk_r(g->root, s_forget_node, &f);
    for (size_t i = 0; i < f.n; i++) { /* after the walk: it deletes */
        tdelete(f.idle[i], &g->root, s_cmp);
        g->n--;
        free(f.idle[i]->host);
        free(f.idle[i]);
    }
}

long
hostgate_parked(const hostgate_t *g, const char *host)
{
    const s_host_t *h = s_find(g, host);

    return h != NULL ? h->nparked : 0;
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
