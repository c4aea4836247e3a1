/*
 * reelay-simulator - a loopback HTTP server speaking the Kling, Seedance
 * (BytePlus Ark), Runway, OpenAI, Replicate, fal, Kinovi, Luma, MiniMax
 * and Veo video APIs, with each task's behaviour scripted
 * by "[sim ...]" prompt directives (sim_script.h). Integration tests only.
 *
 * The simulator is a stack, each layer using only those below it:
 *   simulator.c  the process: arguments, the HTTP server, routing to the
 *                APIs, the output files and the /_sim/ control endpoints
 *                (tasks, stats, requests, reset, behaviour)
 *   sim_apis.c   the table of APIs, one row per provider type (base URLs)
 *   sim_<api>.c  one API each: its routes, shapes and error spellings
 *   sim_core.c   the services an API is given (sim_api.h): tasks,
 *                scripted submits and polls, held requests, output URLs
 *   sim_task.c, sim_index.c, sim_reqlog.c, sim_http.c, sim_script.c
 *                a task, the hash index, the request log, HTTP readers
 *                and replies, the prompt directives
 * SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <jansson.h>

#include "rl_alloc.h"
#include "rl_log.h"
#include "rl_loop.h"
#include "sim_apis.h"
#include "sim_core.h"
#include "sim_http.h"
#include "sim_reqlog.h"

#define SIM_DEFAULT_MAX_TASKS 1000000
#define SIM_MAX_BODY (32 * 1024 * 1024) /* i2v carries base64 images */
#define SIM_CONN_TIMEOUT_S 600          /* idle or held connections */

static const char s_output[] = SIM_OUTPUT_PATH;

/* The process context, passed as every callback's arg. */
typedef struct sim {
    const sim_config_t *cfg;  /* borrowed */
    struct event_base *base;  /* the loop */
    struct evhttp *http;      /* the server */
    struct event *sig_int;    /* SIGINT */
    struct event *sig_term;   /* SIGTERM */
    sim_core_t *core;         /* tasks, counters, held requests */
    struct sim_reqlog reqlog; /* the latest API requests */
} sim_t;

/* ---- control endpoints ----------------------------------------------- */

/* {"submit": 400|429|500|503|"capacity"|"hang"|"ok", "count": N} */
static void
s_ctl_behaviour(sim_t *sim, struct evhttp_request *req)
{
    static const struct {
        int status;
        const char *word;
        sim_submit_t what;
    } map[] = {
        {0, "ok", SIM_SUBMIT_OK},
        {400, "400", SIM_SUBMIT_400},
        {429, "429", SIM_SUBMIT_429},
        {500, "500", SIM_SUBMIT_500},
        {503, "503", SIM_SUBMIT_503},
        {-1, "hang", SIM_SUBMIT_HANG},
        {-1, "capacity", SIM_SUBMIT_CAPACITY},
    };
    json_t *body = sim_body_json(req);
    const json_t *submit = json_object_get(body, "submit");
    const json_t *count = json_object_get(body, "count");
    int found = -1;

    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if ((json_is_integer(submit) &&
             json_integer_value(submit) == map[i].status) ||
            (json_is_string(submit) &&
             strcmp(json_string_value(submit), map[i].word) == 0))
            found = (int)i;
    if (found < 0 || (count != NULL && (!json_is_integer(count) ||
                                        json_integer_value(count) < 0 ||
                                        json_integer_value(count) > INT_MAX))) {
        json_decref(body);
        sim_reply_json(req, 400, json_pack("{s:s}", "error", "bad behaviour"));
        return;
    }
    sim_core_force_submit(sim->core, map[found].what,
                          count != NULL ? (unsigned)json_integer_value(count)
                                        : 1);
    json_decref(body);
    sim_reply_json(req, 200, json_pack("{s:b}", "ok", 1));
}

/* ---- dispatch -------------------------------------------------------- */

/* GET /output/<task_id>.mp4: a few bytes of MP4 for a known task. */
static void
s_output_get(sim_t *sim, struct evhttp_request *req, const char *path)
{
    char id[SIM_ID_LEN];

    if (sim_path_id(path, s_output, ".mp4", id, sizeof id) &&
        sim_core_find(sim->core, id) != NULL)
        sim_reply_video(req);
    else
        sim_reply_json(req, 404, json_pack("{s:s}", "error", "not found"));
}

static void
s_dispatch(struct evhttp_request *req, void *arg)
{
    sim_t *sim = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    enum evhttp_cmd_type m = evhttp_request_get_command(req);

    if (path == NULL)
        path = "";
    if (strncmp(path, "/_sim/", 6) != 0)
        sim_reqlog_add(&sim->reqlog, m, evhttp_request_get_uri(req));
    if (sim_apis_route(sim->core, req, m, path))
        return;
    if (m == EVHTTP_REQ_GET &&
        strncmp(path, s_output, sizeof s_output - 1) == 0) {
        s_output_get(sim, req, path);
    } else if (m == EVHTTP_REQ_GET && strcmp(path, "/_sim/stats") == 0) {
        sim_core_reply_stats(sim->core, req);
    } else if (m == EVHTTP_REQ_GET && strcmp(path, "/_sim/tasks") == 0) {
        sim_core_reply_tasks(sim->core, req);
    } else if (m == EVHTTP_REQ_GET && strcmp(path, "/_sim/requests") == 0) {
        sim_reqlog_reply(&sim->reqlog, req);
    } else if (m == EVHTTP_REQ_POST && strcmp(path, "/_sim/reset") == 0) {
        sim_core_reset(sim->core);
        sim_reqlog_clear(&sim->reqlog);
        sim_reply_json(req, 200, json_pack("{s:b}", "ok", 1));
    } else if (m == EVHTTP_REQ_POST && strcmp(path, "/_sim/behaviour") == 0) {
        s_ctl_behaviour(sim, req);
    } else {
        sim_reply_json(req, 404, json_pack("{s:s}", "error", "not found"));
    }
}

/* ---- process --------------------------------------------------------- */

static void
s_on_signal(evutil_socket_t sig, short what, void *arg)
{
    sim_t *sim = arg;
    (void)what;
    rl_log_info("signal %d, exiting", (int)sig);
    event_base_loopbreak(sim->base);
}

static void
s_sim_destroy(sim_t **p)
{
    sim_t *sim = *p;
    if (sim == NULL)
        return;
    /* Freeing the server closes every connection, which releases each
     * held request (sim_core_hold); the core frees what is left. */
    if (sim->http != NULL)
        evhttp_free(sim->http);
    sim_core_destroy(&sim->core);
    sim_reqlog_clear(&sim->reqlog);
    if (sim->sig_term != NULL)
        event_free(sim->sig_term);
    if (sim->sig_int != NULL)
        event_free(sim->sig_int);
    if (sim->base != NULL)
        event_base_free(sim->base);
    free(sim);
    *p = NULL;
}

static sim_t *
s_sim_new(const sim_config_t *cfg)
{
    sim_t *sim = rl_calloc(1, sizeof *sim);
    sim->cfg = cfg;
    sim->base = rl_loop_new();
    if (sim->base == NULL)
        goto fail;
    sim->core = sim_core_new(cfg, sim->base);
    if (sim->core == NULL)
        goto fail;
    sim->http = evhttp_new(sim->base);
    sim->sig_int = evsignal_new(sim->base, SIGINT, s_on_signal, sim);
    sim->sig_term = evsignal_new(sim->base, SIGTERM, s_on_signal, sim);
    if (sim->http == NULL || sim->sig_int == NULL || sim->sig_term == NULL ||
        event_add(sim->sig_int, NULL) != 0 ||
        event_add(sim->sig_term, NULL) != 0)
        goto fail;
    evhttp_set_gencb(sim->http, s_dispatch, sim);
    evhttp_set_max_body_size(sim->http, SIM_MAX_BODY);
    evhttp_set_timeout(sim->http, SIM_CONN_TIMEOUT_S);
    evhttp_set_allowed_methods(sim->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
                                              EVHTTP_REQ_DELETE |
                                              EVHTTP_REQ_PUT | EVHTTP_REQ_HEAD);
    return sim;
fail:
    rl_log_errorx("cannot set up the event loop");
    s_sim_destroy(&sim);
    return NULL;
}

/* Binds host:port (port 0 = any) with a deep backlog, then prints
 * "listening HOST:PORT" for the test harness. */
static int
s_sim_listen(sim_t *sim)
{
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)sim->cfg->port)};
    socklen_t len = sizeof sin;

    if (inet_pton(AF_INET, sim->cfg->host, &sin.sin_addr) != 1) {
        rl_log_errorx("bad listen address %s", sim->cfg->host);
        return -1;
    }
    struct evconnlistener *lev = evconnlistener_new_bind(
        sim->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
        SOMAXCONN, (struct sockaddr *)&sin, sizeof sin);
    if (lev == NULL) {
        rl_log_error("bind %s:%d", sim->cfg->host, sim->cfg->port);
        return -1;
    }
    if (evhttp_bind_listener(sim->http, lev) == NULL) {
        evconnlistener_free(lev);
        return -1;
    }
    if (getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)&sin,
                    &len) != 0)
        return -1;
    int port = ntohs(sin.sin_port);
    if (sim_core_set_origin(sim->core, sim->cfg->host, port) != 0)
        return -1;
    printf("listening %s:%d\n", sim->cfg->host, port);
    fflush(stdout);
    return 0;
}

/* Lets thousands of keep-alive connections in: soft fd limit = hard. */
static void
s_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            rl_log_warn("setrlimit(RLIMIT_NOFILE)");
    }
}

/* Splits "HOST:PORT" into cfg. Returns 0 or -1. */
static int
s_parse_listen(const char *arg, sim_config_t *cfg)
{
    const char *colon = strrchr(arg, ':');
    char *end = NULL;
    if (colon == NULL || (size_t)(colon - arg) >= sizeof cfg->host)
        return -1;
    memcpy(cfg->host, arg, (size_t)(colon - arg));
    cfg->host[colon - arg] = '\0';
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || port < 0 ||
        port > 65535)
        return -1;
    cfg->port = (int)port;
    return 0;
}

static void
s_usage(FILE *f)
{
    fprintf(f, "usage: reelay-simulator --listen 127.0.0.1:PORT [--name NAME]\n"
               "       [--max-tasks N] [--log-level error|warn|info|debug]\n"
               "environment: REELAY_SIM_KLING_AK and REELAY_SIM_KLING_SK, the\n"
               "       Kling access and secret key its JWTs must carry (both\n"
               "       or neither; neither: any bearer token)\n");
}

/* The value of environment variable `name`, or NULL when unset or "". */
static const char *
s_env_set(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Parses the command line and environment into *cfg. Returns 0, or -1
 * after a message. */
static int
s_parse_args(int argc, char **argv, sim_config_t *cfg)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"name", required_argument, NULL, 'n'},
        {"max-tasks", required_argument, NULL, 'm'},
        {"log-level", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool listen = false;
    int c;
    char *end = NULL;
    long n;

    *cfg = (sim_config_t){.max_tasks = SIM_DEFAULT_MAX_TASKS};
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (s_parse_listen(optarg, cfg) != 0)
                goto bad;
            listen = true;
            break;
        case 'n':
            cfg->name = optarg;
            break;
        case 'm':
            errno = 0;
            n = strtol(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || n < 1 || n > INT_MAX)
                goto bad;
            cfg->max_tasks = (size_t)n;
            break;
        case 'v':
            if ((n = rl_log_level_parse(optarg)) < 0)
                goto bad;
            rl_log_init("reelay-simulator", (rl_log_level_t)n);
            break;
        case 'h':
            s_usage(stdout);
            exit(0);
        default:
            goto bad;
        }
    }
    /* Secrets come from the environment: a command line is visible to
     * every user of the host. */
    cfg->kling_ak = s_env_set("REELAY_SIM_KLING_AK");
    cfg->kling_sk = s_env_set("REELAY_SIM_KLING_SK");
    if (!listen || optind != argc ||
        (cfg->kling_ak == NULL) != (cfg->kling_sk == NULL))
        goto bad;
    return 0;
bad:
    s_usage(stderr);
    return -1;
}

int
main(int argc, char **argv)
{
    sim_config_t cfg;
    sim_t *sim = NULL;
    int rc = 1;

    rl_log_init("reelay-simulator", RL_LOG_WARN);
    if (s_parse_args(argc, argv, &cfg) != 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    s_raise_nofile();
    if ((sim = s_sim_new(&cfg)) == NULL || s_sim_listen(sim) != 0)
        goto out;
    if (event_base_dispatch(sim->base) == 0 || event_base_got_break(sim->base))
        rc = 0;
out:
    s_sim_destroy(&sim);
    return rc;
}
