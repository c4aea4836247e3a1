/*
 * reelay-simulator - a loopback HTTP server speaking the Kling, Seedance
 * (BytePlus Ark), Runway, OpenAI, Replicate, fal, Kinovi, Luma, MiniMax
 * and Veo video APIs, with each task's behaviour scripted
 * by "[sim ...]" prompt directives (sim_script.h). Integration tests only.
 * This file: the process, routing, held requests, output files and the
 * /_sim/ control endpoints (tasks, stats, requests: the request log of
 * sim_reqlog.c, reset, behaviour); the APIs are in sim_kling.c, sim_seedance.c
 * and sim_<api>.c for the others (base URLs: sim.h),
 * tasks in sim_index.c, replies in sim_http.c, shared types in sim.h.
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
#include "rl_crypto.h"
#include "rl_log.h"
#include "rl_loop.h"
#include "sim.h"

#define SIM_DEFAULT_MAX_TASKS 1000000
#define SIM_MAX_BODY (32 * 1024 * 1024) /* i2v carries base64 images */
#define SIM_CONN_TIMEOUT_S 600           /* idle or held connections */

static const char s_kling_t2v[] = "/v1/videos/text2video";
static const char s_kling_i2v[] = "/v1/videos/image2video";
static const char s_ark_tasks[] = "/api/v3/contents/generations/tasks";
static const char s_output[] = "/output/";

/* A request held unanswered until its client disconnects. libevent 2.1
 * stops reading a connection while its request is being handled, so it
 * would not notice the client leaving; `watch` peeks at the socket. */
struct sim_hold {
    TAILQ_ENTRY(sim_hold) link;      /* sim->holds */
    struct evhttp_request *req;      /* freed by libevent or s_hold_closed */
    struct evhttp_connection *evcon; /* the request's connection */
    struct event *watch;             /* EV_READ on the connection's socket */
    struct sim *sim;                 /* back pointer */
};

/* ---- holds ----------------------------------------------------------- */

/* The held request's connection is going away. If libevent saw the
 * client leave, it has detached the request (evcon == NULL) and left it
 * to us; otherwise the connection frees the request itself. */
static void
s_hold_closed(struct evhttp_connection *evcon, void *arg)
{
    struct sim_hold *h = arg;
    (void)evcon;
    if (evhttp_request_get_connection(h->req) == NULL)
        evhttp_request_free(h->req);
    if (h->watch != NULL)
        event_free(h->watch);
    TAILQ_REMOVE(&h->sim->holds, h, link);
    free(h);
}

/* The held connection's socket is readable: on EOF or an error the
 * client is gone, and freeing the connection frees the request and runs
 * s_hold_closed. Pipelined bytes just end the watch. */
static void
s_hold_watch(evutil_socket_t fd, short what, void *arg)
{
    struct sim_hold *h = arg;
    char byte;
    (void)what;
    ssize_t n = recv(fd, &byte, 1, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        event_add(h->watch, NULL);
    else if (n <= 0)
        evhttp_connection_free(h->evcon);
}

/* Never answers req; it is released when the client disconnects. */
void
sim_hold(sim_t *sim, struct evhttp_request *req)
{
    struct sim_hold *h = rl_calloc(1, sizeof *h);
    h->req = req;
    h->evcon = evhttp_request_get_connection(req);
    h->sim = sim;
    evutil_socket_t fd =
        bufferevent_getfd(evhttp_connection_get_bufferevent(h->evcon));
    h->watch = event_new(sim->base, fd, EV_READ, s_hold_watch, h);
    if (h->watch == NULL || event_add(h->watch, NULL) != 0)
        rl_log_warnx("cannot watch a held connection");
    TAILQ_INSERT_TAIL(&sim->holds, h, link);
    evhttp_connection_set_closecb(h->evcon, s_hold_closed, h);
}

/* ---- output files ---------------------------------------------------- */

void
sim_output_url(const sim_t *sim, const struct sim_task *t, char *out,
               size_t len)
{
    const char *origin = sim->origin;
    const char *host = origin + strlen("http://");
    int n = -1;
    switch (t->script.output) {
    case SIM_OUTPUT_OK:
        n = snprintf(out, len, "%s%s%s.mp4", origin, s_output, t->id);
        break;
    case SIM_OUTPUT_JAVASCRIPT:
        n = snprintf(out, len, "javascript:alert(document.cookie)//%s",
                     t->id);
        break;
    case SIM_OUTPUT_DATA:
        n = snprintf(out, len, "data:text/html,<script>alert(1)</script>");
        break;
    case SIM_OUTPUT_FILE:
        n = snprintf(out, len, "file:///etc/passwd");
        break;
    case SIM_OUTPUT_RELATIVE:
        n = snprintf(out, len, "%s%s.mp4", s_output, t->id);
        break;
    case SIM_OUTPUT_USERINFO:
        n = snprintf(out, len, "http://user:pass@%s%s%s.mp4", host, s_output,
                     t->id);
        break;
    case SIM_OUTPUT_CRLF:
        n = snprintf(out, len, "%s%s%s.mp4\r\nX-Injected: 1", origin,
                     s_output, t->id);
        break;
    }
    assert(n > 0 && (size_t)n < len);
    (void)n;
}

/* ---- control endpoints ----------------------------------------------- */

static json_t *
s_task_summary(const struct sim_task *t)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s,s:i,s:I,s:I,s:I,s:b,s:b,"
                     "s:s}",
                     "task_id", t->id, "api", sim_script_api_name(t->api),
                     "model", t->model, "prompt", t->prompt,
                     "external_task_id", t->external_id, "status",
                     sim_script_state_name(t->api, t->state), "polls",
                     (int)t->polls, "created_ms", (json_int_t)t->created_ms,
                     "first_poll_ms", (json_int_t)t->first_poll_ms,
                     "last_poll_ms", (json_int_t)t->last_poll_ms,
                     "cancelled", t->cancelled, "deleted", t->deleted,
                     "endpoint",
                     t->api == SIM_API_SEEDANCE ? "tasks"
                     : t->api != SIM_API_KLING  ? sim_script_api_name(t->api)
                     : t->i2v                   ? "image2video"
                                                : "text2video");
}

/* Streams every task as one JSON array, oldest first. */
static void
s_ctl_tasks(sim_t *sim, struct evhttp_request *req)
{
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    const struct sim_task *t;
    const char *sep = "";

    evbuffer_add(out, "[", 1);
    TAILQ_FOREACH(t, &sim->order, order) {
        json_t *doc = s_task_summary(t);
        evbuffer_add_printf(out, "%s", sep);
        json_dump_callback(doc, sim_dump_cb, out, JSON_COMPACT);
        json_decref(doc);
        sep = ",";
    }
    evbuffer_add(out, "]", 1);
    evhttp_add_header(evhttp_request_get_output_headers(req),
                      "Content-Type", "application/json");
    evhttp_send_reply(req, 200, "OK", NULL);
}

static void
s_ctl_stats(sim_t *sim, struct evhttp_request *req)
{
    size_t held = 0;
    const struct sim_hold *h;
    TAILQ_FOREACH(h, &sim->holds, link)
        held++;
    sim_reply_json(req, 200,
                 json_pack("{s:I,s:I,s:I,s:I,s:I}", "submits",
                           (json_int_t)sim->submits, "polls",
                           (json_int_t)sim->polls, "cancels",
                           (json_int_t)sim->cancels, "tasks",
                           (json_int_t)sim->tasks.count, "held",
                           (json_int_t)held));
}

/* {"submit": 400|429|500|503|"capacity"|"hang"|"ok", "count": N} */
static void
s_ctl_behaviour(sim_t *sim, struct evhttp_request *req)
{
    static const struct {
        int status;
        const char *word;
        sim_submit_t what;
    } map[] = {
        {0, "ok", SIM_SUBMIT_OK},          {400, "400", SIM_SUBMIT_400},
        {429, "429", SIM_SUBMIT_429},      {500, "500", SIM_SUBMIT_500},
        {503, "503", SIM_SUBMIT_503},      {-1, "hang", SIM_SUBMIT_HANG},
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
                                        json_integer_value(count) >
                                            INT_MAX))) {
        json_decref(body);
        sim_reply_json(req, 400, json_pack("{s:s}", "error", "bad behaviour"));
        return;
    }
    sim->forced_submit = map[found].what;
    sim->forced_count = count != NULL ? (unsigned)json_integer_value(count)
                                      : 1;
    if (sim->forced_submit == SIM_SUBMIT_OK)
        sim->forced_count = 0;
    json_decref(body);
    sim_reply_json(req, 200, json_pack("{s:b}", "ok", 1));
}

/* ---- dispatch -------------------------------------------------------- */

/* Matches path against a collection: 0 for the collection itself, 1 for
 * "prefix/ID" (ID decoded into id), -1 otherwise. */
static int
s_route(const char *path, const char *prefix, char *id, size_t id_len)
{
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) != 0)
        return -1;
    if (path[n] == '\0')
        return 0;
    const char *rest = path + n + 1;
    size_t len = strlen(rest);
    if (path[n] != '/' || len == 0 || len >= id_len ||
        strchr(rest, '/') != NULL)
        return -1;
    memcpy(id, rest, len + 1);
    return sim_id_decode(id, id_len) ? 1 : -1;
}

void
sim_not_allowed(struct evhttp_request *req)
{
    sim_reply_json(req, 405, json_pack("{s:s}", "error", "method not allowed"));
}

/* The API routes; false when path is not one of them. */
static bool
s_dispatch_api(sim_t *sim, struct evhttp_request *req,
               enum evhttp_cmd_type m, const char *path)
{
    static bool (*const routes[])(sim_t *, struct evhttp_request *,
                                  enum evhttp_cmd_type, const char *) = {
        sim_runway_route, sim_openai_route,  sim_replicate_route,
        sim_fal_route,    sim_kinovi_route,  sim_luma_route,
        sim_minimax_route, sim_veo_route,
    };
    char id[SIM_ID_LEN];
    int r;

    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (routes[i](sim, req, m, path))
            return true;
    for (int i2v = 0; i2v < 2; i2v++) {
        r = s_route(path, i2v ? s_kling_i2v : s_kling_t2v, id, sizeof id);
        if (r == 0 && m == EVHTTP_REQ_POST)
            sim_kling_submit(sim, req, i2v);
        else if (r == 1 && m == EVHTTP_REQ_GET)
            sim_kling_poll(sim, req, i2v, id);
        else if (r >= 0)
            sim_not_allowed(req);
        if (r >= 0)
            return true;
    }
    r = s_route(path, s_ark_tasks, id, sizeof id);
    if (r == 0 && m == EVHTTP_REQ_POST)
        sim_seedance_submit(sim, req);
    else if (r == 1 && m == EVHTTP_REQ_GET)
        sim_seedance_poll(sim, req, id);
    else if (r == 1 && m == EVHTTP_REQ_DELETE)
        sim_seedance_cancel(sim, req, id);
    else if (r >= 0)
        sim_not_allowed(req);
    return r >= 0;
}

/* GET /output/<task_id>.mp4: a few bytes of MP4 for a known task. */
static void
s_output_get(sim_t *sim, struct evhttp_request *req, const char *path)
{
    char id[SIM_ID_LEN];

    if (sim_path_id(path, s_output, ".mp4", id, sizeof id) &&
        sim_task_find(sim, id) != NULL)
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
    if (s_dispatch_api(sim, req, m, path))
        return;
    if (m == EVHTTP_REQ_GET &&
        strncmp(path, s_output, sizeof s_output - 1) == 0) {
        s_output_get(sim, req, path);
    } else if (m == EVHTTP_REQ_GET && strcmp(path, "/_sim/stats") == 0) {
        s_ctl_stats(sim, req);
    } else if (m == EVHTTP_REQ_GET && strcmp(path, "/_sim/tasks") == 0) {
        s_ctl_tasks(sim, req);
    } else if (m == EVHTTP_REQ_GET && strcmp(path, "/_sim/requests") == 0) {
        sim_reqlog_reply(&sim->reqlog, req);
    } else if (m == EVHTTP_REQ_POST && strcmp(path, "/_sim/reset") == 0) {
        sim_clear(sim);
        sim_index_init(&sim->tasks);
        sim_index_init(&sim->prompts);
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
    /* Freeing the server closes every connection; s_hold_closed runs
     * for each held request and unlinks it. */
    if (sim->http != NULL)
        evhttp_free(sim->http);
    struct sim_hold *h;
    while ((h = TAILQ_FIRST(&sim->holds)) != NULL) {
        TAILQ_REMOVE(&sim->holds, h, link);
        free(h);
    }
    if (sim->sig_term != NULL)
        event_free(sim->sig_term);
    if (sim->sig_int != NULL)
        event_free(sim->sig_int);
    sim_clear(sim);
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
    TAILQ_INIT(&sim->order);
    TAILQ_INIT(&sim->holds);
    sim_index_init(&sim->tasks);
    sim_index_init(&sim->prompts);
    if (rl_random_id("", 4, sim->salt, sizeof sim->salt) != 0)
        goto fail;
    sim->base = rl_loop_new();
    if (sim->base == NULL)
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
                                              EVHTTP_REQ_PUT |
                                              EVHTTP_REQ_HEAD);
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
    snprintf(sim->origin, sizeof sim->origin, "http://%s:%d", sim->cfg->host,
             port);
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
    fprintf(f,
            "usage: reelay-simulator --listen 127.0.0.1:PORT [--name NAME]\n"
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
        case 'n': cfg->name = optarg; break;
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
        case 'h': s_usage(stdout); exit(0);
        default: goto bad;
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
    if (event_base_dispatch(sim->base) == 0 ||
        event_base_got_break(sim->base))
        rc = 0;
out:
    s_sim_destroy(&sim);
    return rc;
}
