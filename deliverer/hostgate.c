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
#include "rl_breaker.h"
#include "rl_log.h"

struct s_host;

/* One parked item, on its host's queue and on the gate's. */
typedef struct s_parked {
    TAILQ_ENTRY(s_parked) host_link; /* in host->parked */
    TAILQ_ENTRY(s_parked) all_link;  /* in g->parked */
    struct s_host *host;             /* where it waits */
    void *item;                      /* the caller's, borrowed */
    int64_t since;                   /* epoch ms it was parked */
} s_parked_t;

typedef struct s_host {
    char *host;                    /* tree key, owned */
    long inflight;                 /* admitted attempts not released */
    rl_breaker_t breaker;          /* retryable failures open it */
    TAILQ_HEAD(, s_parked) parked; /* items waiting, oldest first */
    long nparked;                  /* entries of parked */
    long latency_ms;    /* moving average of attempt latency, -1 none */
    bool idle;          /* on g->idle: holds nothing */
    int64_t idle_since; /* epoch ms it last let go of something */
    TAILQ_ENTRY(s_host) idle_link; /* in g->idle while idle */
} s_host_t;

struct hostgate {
    void *root;                    /* tsearch tree of s_host_t by host */
    size_t n;                      /* hosts in it */
    TAILQ_HEAD(, s_parked) parked; /* every parked item, oldest first */
    TAILQ_HEAD(, s_host) idle;     /* idle hosts, by idle_since */
    long per_host;                 /* concurrency limit */
    rl_breaker_conf_t breaker;     /* every host's breaker: failures that
                                      open it, its cool-down; trials always
                                      report (release or cancel) */
    long remember_ms;              /* how long an idle host is kept */
    long fast_park;                /* items a fast host may park */
    long fast_ms;                  /* "fast": average latency below this */
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
    TAILQ_INIT(&h->parked);
    if (tsearch(h, &g->root, s_cmp) == NULL) {
        rl_log_errorx("hostgate: out of memory");
        abort();
    }
    g->n++;
    return h;
}

/* Frees h, which holds nothing. */
static void
s_forget(hostgate_t *g, s_host_t *h)
{
    assert(h->inflight == 0 && h->nparked == 0);
    if (h->idle)
        TAILQ_REMOVE(&g->idle, h, idle_link);
    tdelete(h, &g->root, s_cmp);
    g->n--;
    free(h->host);
    free(h);
}

/* h takes an attempt or an item: it leaves the idle queue. */
static void
s_busy(hostgate_t *g, s_host_t *h)
{
    if (!h->idle)
        return;
    TAILQ_REMOVE(&g->idle, h, idle_link);
    h->idle = false;
}

/* h let go of an attempt or an item at now_ms. A host left holding
 * nothing is forgotten at once when it has nothing to remember either;
 * else it joins the idle queue, to be forgotten remember_ms later
 * (hostgate_forget_idle). A fast host's average is kept that long: a
 * deliverer claims in bursts, and an average forgotten between two of
 * them would never let it park; a breaker's state is kept at least
 * through its cool-down. */
static void
s_settle(hostgate_t *g, s_host_t *h, int64_t now_ms)
{
    if (h->inflight > 0 || h->nparked > 0 || h->idle)
        return;
    if (h->latency_ms < 0 && h->breaker.failures == 0 &&
        h->breaker.state == RL_BREAKER_CLOSED) {
        s_forget(g, h);
        return;
    }
    h->idle = true;
    h->idle_since = now_ms;
    TAILQ_INSERT_TAIL(&g->idle, h, idle_link);
}

hostgate_t *
hostgate_new(long per_host, int failures, long cooldown_ms)
{
    hostgate_t *g;

    assert(per_host > 0 && failures > 0 && cooldown_ms >= 0);
    g = rl_calloc(1, sizeof *g);
    TAILQ_INIT(&g->parked);
    TAILQ_INIT(&g->idle);
    g->per_host = per_host;
    g->breaker.failures = failures;
    g->breaker.cooldown_ms = cooldown_ms;
    g->breaker.trial_ms = 0;
    g->remember_ms =
        cooldown_ms > HOSTGATE_REMEMBER_MS ? cooldown_ms : HOSTGATE_REMEMBER_MS;
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
                        : h->latency_ms + (latency_ms - h->latency_ms) /
                                              HOSTGATE_LATENCY_WEIGHT;
}

static void
s_free_node(void *node)
{
    s_host_t *h = node;
    s_parked_t *p;

    while ((p = TAILQ_FIRST(&h->parked)) != NULL) {
        TAILQ_REMOVE(&h->parked, p, host_link);
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

/* The admission check of a known host: its breaker, then its limit. A
 * trial waits until the attempts admitted before the breaker opened are
 * over, so that it alone speaks for the host. */
static hostgate_verdict_t
s_admit(const hostgate_t *g, s_host_t *h, int64_t now_ms, long *wait_ms)
{
    switch (rl_breaker_peek(&h->breaker, &g->breaker, now_ms, wait_ms)) {
    case RL_BREAKER_REFUSE:
        return HOSTGATE_OPEN;
    case RL_BREAKER_TRIAL:
        if (h->inflight > 0)
            return HOSTGATE_BUSY; /* attempts from before still out */
        (void)rl_breaker_allow(&h->breaker, &g->breaker, now_ms, wait_ms);
        return HOSTGATE_OK; /* this attempt is the trial */
    case RL_BREAKER_ALLOW:
        break;
    }
    return h->inflight < g->per_host ? HOSTGATE_OK : HOSTGATE_BUSY;
}

hostgate_verdict_t
hostgate_acquire(hostgate_t *g, const char *host, int64_t now_ms, long *wait_ms)
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
    if (v == HOSTGATE_OK) {
        h->inflight++;
        s_busy(g, h);
    }
    return v;
}

void
hostgate_release(hostgate_t *g, const char *host, bool failed, int64_t now_ms)
{
    s_host_t *h = s_find(g, host);

    if (h == NULL || h->inflight == 0)
        return; /* not admitted here: nothing to release */
    h->inflight--;
    if (!failed) {
        rl_breaker_success(&h->breaker);
    } else {
        rl_breaker_state_t was = h->breaker.state;
        rl_breaker_failure(&h->breaker, &g->breaker, now_ms);
        if (h->breaker.state == RL_BREAKER_OPEN && was != RL_BREAKER_OPEN)
            rl_log_info("webhook host %s: failing (%d in a row), paused "
                        "for %ld ms",
                        host, h->breaker.failures, g->breaker.cooldown_ms);
    }
    s_settle(g, h, now_ms);
}

void
hostgate_cancel(hostgate_t *g, const char *host, int64_t now_ms)
{
    s_host_t *h = s_find(g, host);

    if (h == NULL || h->inflight == 0)
        return; /* not admitted here */
    h->inflight--;
    rl_breaker_cancel(&h->breaker, now_ms); /* a trial: the next one tries */
    s_settle(g, h, now_ms);
}

bool
hostgate_park(hostgate_t *g, const char *host, void *item, int64_t now_ms)
{
    s_host_t *h = s_find(g, host);
    s_parked_t *p;

    assert(item != NULL);
    if (h == NULL || h->breaker.state != RL_BREAKER_CLOSED)
        return false;
    long limit =
        h->latency_ms >= 0 && h->latency_ms < g->fast_ms ? g->fast_park : 0;
    if (h->nparked >= limit)
        return false;
    p = rl_calloc(1, sizeof *p);
    p->host = h;
    p->item = item;
    p->since = now_ms;
    TAILQ_INSERT_TAIL(&h->parked, p, host_link);
    TAILQ_INSERT_TAIL(&g->parked, p, all_link);
    h->nparked++;
    s_busy(g, h);
    return true;
}

/* Takes p off both queues and frees it; returns its item. Its host may
 * be forgotten. */
static void *
s_unpark_one(hostgate_t *g, s_parked_t *p, int64_t now_ms)
{
    s_host_t *h = p->host;
    void *item = p->item;

    TAILQ_REMOVE(&h->parked, p, host_link);
    TAILQ_REMOVE(&g->parked, p, all_link);
    h->nparked--;
    free(p);
    s_settle(g, h, now_ms);
    return item;
}

void *
hostgate_unpark(hostgate_t *g, const char *host, int64_t now_ms,
                long max_wait_ms, bool *admitted)
{
    s_host_t *h = s_find(g, host);
    s_parked_t *p = h != NULL ? TAILQ_FIRST(&h->parked) : NULL;
    long dummy;

    *admitted = false;
    if (p == NULL)
        return NULL;
    if (h->breaker.state == RL_BREAKER_CLOSED &&
        now_ms - p->since <= max_wait_ms) {
        if (s_admit(g, h, now_ms, &dummy) != HOSTGATE_OK)
            return NULL; /* still busy: it keeps its place */
        h->inflight++;
        *admitted = true;
    }
    return s_unpark_one(g, p, now_ms);
}

void
hostgate_drain(hostgate_t *g, int64_t now_ms, void (*fn)(void *item, void *arg),
               void *arg)
{
    s_parked_t *p;

    assert(g != NULL && fn != NULL);
    while ((p = TAILQ_FIRST(&g->parked)) != NULL)
        fn(s_unpark_one(g, p, now_ms), arg);
}

size_t
hostgate_expire(hostgate_t *g, int64_t now_ms, long max_wait_ms,
                void (*fn)(void *item, void *arg), void *arg)
{
    s_parked_t *p;
    size_t n = 0;

    assert(g != NULL && fn != NULL);
    while ((p = TAILQ_FIRST(&g->parked)) != NULL &&
           now_ms - p->since > max_wait_ms) {
        fn(s_unpark_one(g, p, now_ms), arg);
        n++;
    }
    return n;
}

size_t
hostgate_forget_idle(hostgate_t *g, int64_t now_ms)
{
    s_host_t *h;
    size_t n = 0;

    assert(g != NULL);
    while ((h = TAILQ_FIRST(&g->idle)) != NULL &&
           now_ms - h->idle_since > g->remember_ms) {
        s_forget(g, h);
        n++;
    }
    return n;
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
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
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
