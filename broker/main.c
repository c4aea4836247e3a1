/*
 * reelay-broker - the HTTP API, the ZeroMQ ingress, dispatch to workers
 * and the reaper, around one libevent loop.
 * SPDX-License-Identifier: MIT
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>
#include <zmq.h>

#include "broker.h"
#include "dispatch.h"
#include "http_api.h"
#include "ingress.h"
#include "master.h"
#include "reaper.h"
#include "retain.h"
#include "rl_cli.h"
#include "rl_log.h"
#include "rl_loop.h"
#include "rl_zap.h"

static void
s_on_signal(evutil_socket_t sig, short what, void *arg)
{
    broker_t *b = arg;
    (void)what;
    rl_log_info("signal %d: stopping", (int)sig);
    event_base_loopbreak(b->base);
}

/* CURVE on dispatch and ingress: our key pair, and the ZAP handler,
 * bound before either socket binds (libzmq admits every CURVE client
 * while no handler is bound). */
static int
s_curve(broker_t *b)
{
    char err[RL_CURVE_ERR_LEN];
    size_t n = 0;
    const char *const *domains = rl_zkeys_domains("broker", &n);
    if (!b->cfg->zmq_curve) {
        rl_log_warnx("[zmq] curve is off: ingress and dispatch admit anyone "
                     "who reaches them");
        return 0;
    }
    if (rl_zkeys_load(b->cfg, "broker", &b->keys, err, sizeof err) == 0)
        b->zap =
            rl_zap_new(b->base, b->zctx, b->cfg, domains, n, err, sizeof err);
    if (b->zap == NULL) {
        rl_log_errorx("%s", err);
        return -1;
    }
    return 0;
}

static int
s_start(broker_t *b)
{
    const rl_config_t *cfg = b->cfg;
    if (broker_master_load(b) == NULL)
        rl_log_warnx("no master key ([security] master_key or "
                     "%s/master.key): sign-up, new API keys and webhook "
                     "secrets answer 503 until there is one",
                     cfg->data_dir);
    b->base = rl_loop_new();
    b->zctx = zmq_ctx_new();
    b->redis = rl_redis_from_config(b->base, cfg);
    if (b->base == NULL || b->zctx == NULL || b->redis == NULL ||
        s_curve(b) != 0)
        return -1;
    b->signups = rl_addrlimit_new((double)cfg->signup_per_hour,
                                  (double)cfg->signup_per_hour / 60.0,
                                  BROKER_LIMIT_CLIENTS);
    b->dispatch = dispatch_new(b);
    b->ingress = ingress_new(b);
    rl_zkeys_wipe(&b->keys); /* the sockets hold their copies */
    if (b->dispatch == NULL || b->ingress == NULL)
        return -1;
    if (http_api_start(b) != 0)
        return -1;
    b->reaper = reaper_new(b);
    b->retain = retain_new(b);
    return b->retain != NULL ? 0 : -1;
}

static void
s_stop(broker_t *b)
{
    /* Redis first: freeing it answers every pending command (NULL, as
     * for a lost connection) while the reaper, the retention step, the
     * listener, the ingress and dispatch those answers go to are still
     * alive. */
    rl_redis_destroy(&b->redis);
    reaper_destroy(&b->reaper);
    retain_destroy(&b->retain);
    http_api_stop(b);
    ingress_destroy(&b->ingress);
    dispatch_destroy(&b->dispatch);
    rl_addrlimit_destroy(&b->signups);
    rl_zap_destroy(&b->zap);
    rl_zkeys_wipe(&b->keys);
    if (b->zctx != NULL)
        zmq_ctx_term(b->zctx);
    if (b->base != NULL)
        event_base_free(b->base);
    broker_master_wipe(b);
}

int
main(int argc, char **argv)
{
    rl_cli_t cli;
    if (rl_cli_parse(argc, argv, "broker", &cli) != 0)
        return 2;
    rl_config_t *cfg = rl_cli_config(&cli, "broker");
    if (cfg == NULL)
        return 2;
    if (cli.check_config) {
        rl_config_destroy(&cfg);
        return 0;
    }
    broker_t b = {.cfg = cfg, .index = cli.index};
    rl_cli_process_id("broker", b.id, sizeof b.id);
    signal(SIGPIPE, SIG_IGN);
    int rc = 1;
    if (s_start(&b) == 0) {
        struct event *sigint = evsignal_new(b.base, SIGINT, s_on_signal, &b);
        struct event *sigterm = evsignal_new(b.base, SIGTERM, s_on_signal, &b);
        event_add(sigint, NULL);
        event_add(sigterm, NULL);
        rl_log_info("listening on %s, ingress %s, dispatch %s",
                    cfg->http_listen, cfg->ingress[cli.index],
                    cfg->dispatch[cli.index]);
        event_base_dispatch(b.base);
        event_free(sigterm);
        event_free(sigint);
        rc = 0;
    }
    s_stop(&b);
    rl_config_destroy(&cfg);
    return rc;
}
