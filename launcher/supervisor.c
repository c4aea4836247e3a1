/*
 * supervisor - child processes with restarts.
 * SPDX-License-Identifier: MIT
 */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_fmt.h"
#include "rl_log.h"

#define SUPERVISOR_BACKOFF_MIN_MS 200
#define SUPERVISOR_BACKOFF_MAX_MS 5000
#define SUPERVISOR_STABLE_MS 30000

typedef struct {
    supervisor_t *owner;
    char name[64];
    char *argv[SUPERVISOR_MAX_ARGS + 1];
    char *env[SUPERVISOR_MAX_ENV + 1]; /* added to the environment */
    pid_t pid;                         /* -1 while not running */
    int64_t started;                   /* monotonic ms */
    long backoff_ms;
    unsigned restarts;
    struct event *restart; /* backoff timer */
} child_t;

struct supervisor {
    struct event_base *base;
    char *log_dir;
    child_t children[SUPERVISOR_MAX_CHILDREN];
    size_t n;
    bool stopping;
};

static int
s_spawn(child_t *c)
{
    char path[1024];
    if (rl_fmt(path, sizeof path, "%s/%s.log", c->owner->log_dir, c->name) !=
        0) {
        rl_log_errorx("%s: log path too long", c->name);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* Logs may carry what a user sent: owner only, also when an
         * older launcher made the file readable to others. */
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            (void)fchmod(fd, 0600);
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        for (size_t k = 0; c->env[k] != NULL; k++)
            putenv(c->env[k]);
        setpgid(0, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(c->argv[0], c->argv);
        fprintf(stderr, "exec %s: %s\n", c->argv[0], strerror(errno));
        _exit(127);
    }
    c->pid = pid;
    c->started = rl_clock_mono_ms();
    rl_log_info("started %s (pid %d)", c->name, (int)pid);
    return 0;
}

static void
s_on_restart(evutil_socket_t fd, short what, void *arg)
{
    child_t *c = arg;
    (void)fd;
    (void)what;
    if (!c->owner->stopping && c->pid < 0) {
        c->restarts++;
        if (s_spawn(c) != 0)
            rl_log_warn("cannot restart %s", c->name);
    }
}

supervisor_t *
supervisor_new(struct event_base *base, const char *log_dir)
{
    supervisor_t *s = rl_calloc(1, sizeof *s);
    s->base = base;
    s->log_dir = rl_strdup(log_dir);
    return s;
}

void
supervisor_destroy(supervisor_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    supervisor_t *s = *p;
    for (size_t i = 0; i < s->n; i++) {
        child_t *c = &s->children[i];
        event_free(c->restart);
        for (size_t k = 0; c->argv[k] != NULL; k++)
            free(c->argv[k]);
        for (size_t k = 0; c->env[k] != NULL; k++) {
            explicit_bzero(c->env[k], strlen(c->env[k]));
            free(c->env[k]);
        }
    }
    free(s->log_dir);
    free(s);
    *p = NULL;
}

int
supervisor_add(supervisor_t *s, const char *name, const char *const *argv)
{
    return supervisor_add_env(s, name, argv, NULL);
}

int
supervisor_add_env(supervisor_t *s, const char *name, const char *const *argv,
                   const char *const *env)
{
    size_t nargs = 0, nenv = 0;
    while (argv[nargs] != NULL)
        nargs++;
    while (env != NULL && env[nenv] != NULL)
        nenv++;
    if (s->n >= SUPERVISOR_MAX_CHILDREN || nargs > SUPERVISOR_MAX_ARGS ||
        nenv > SUPERVISOR_MAX_ENV) {
        rl_log_errorx("%s: too many children, arguments or variables", name);
        return -1;
    }
    child_t *c = &s->children[s->n];
    memset(c, 0, sizeof *c);
    if (rl_fmt(c->name, sizeof c->name, "%s", name) != 0) {
        rl_log_errorx("%s: name too long", name);
        return -1;
    }
    c->owner = s;
    for (size_t k = 0; k < nargs; k++)
        c->argv[k] = rl_strdup(argv[k]);
    for (size_t k = 0; k < nenv; k++)
        c->env[k] = rl_strdup(env[k]);
    c->pid = -1;
    c->backoff_ms = SUPERVISOR_BACKOFF_MIN_MS;
    c->restart = evtimer_new(s->base, s_on_restart, c);
    s->n++;
    return s_spawn(c);
}

pid_t
supervisor_pid(const supervisor_t *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->children[i].name, name) == 0)
            return s->children[i].pid;
    return -1;
}

static child_t *
s_find_pid(supervisor_t *s, pid_t pid)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->children[i].pid == pid)
            return &s->children[i];
    return NULL;
}

static void
s_exited(child_t *c, int status)
{
    c->pid = -1;
    if (c->owner->stopping) { /* asked to: no news */
        rl_log_info("%s stopped (status %d)", c->name,
                    WIFSIGNALED(status) ? -WTERMSIG(status)
                                        : WEXITSTATUS(status));
        return;
    }
    if (WIFSIGNALED(status))
        rl_log_warnx("%s killed by signal %d", c->name, WTERMSIG(status));
    else
        rl_log_warnx("%s exited with status %d", c->name, WEXITSTATUS(status));
    if (rl_clock_mono_ms() - c->started > SUPERVISOR_STABLE_MS)
        c->backoff_ms = SUPERVISOR_BACKOFF_MIN_MS;
    struct timeval tv = {c->backoff_ms / 1000, (c->backoff_ms % 1000) * 1000};
    evtimer_add(c->restart, &tv);
    rl_log_info("restarting %s in %ld ms", c->name, c->backoff_ms);
    c->backoff_ms *= 2;
    if (c->backoff_ms > SUPERVISOR_BACKOFF_MAX_MS)
        c->backoff_ms = SUPERVISOR_BACKOFF_MAX_MS;
}

void
supervisor_reap(supervisor_t *s)
{
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        child_t *c = s_find_pid(s, pid);
        if (c != NULL)
            s_exited(c, status);
    }
}

static size_t
s_running(const supervisor_t *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->children[i].pid > 0)
            n++;
    return n;
}

void
supervisor_stop_all(supervisor_t *s, long grace_ms)
{
    s->stopping = true;
    /* Roles first, Redis (the first child) last, so roles can finish
     * their last writes. */
    for (size_t i = s->n; i-- > 0;)
        if (s->children[i].pid > 0)
            kill(s->children[i].pid, SIGTERM);
    int64_t until = rl_clock_mono_ms() + grace_ms;
    while (s_running(s) > 0 && rl_clock_mono_ms() < until) {
        supervisor_reap(s);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    for (size_t i = 0; i < s->n; i++) {
        if (s->children[i].pid > 0) {
            rl_log_warnx("%s did not stop: SIGKILL", s->children[i].name);
            kill(s->children[i].pid, SIGKILL);
            waitpid(s->children[i].pid, NULL, 0);
            s->children[i].pid = -1;
        }
    }
}

void
supervisor_print(const supervisor_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        printf("  %-14s pid %-7d restarts %u\n", s->children[i].name,
               (int)s->children[i].pid, s->children[i].restarts);
}
