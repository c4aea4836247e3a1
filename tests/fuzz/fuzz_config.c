/*
 * fuzz_config - the configuration every role reads at start:
 * rl_config_load() of an INI file (libinih and every key's parser and
 * validator) with REELAY_<SECTION>_<KEY> environment overrides.
 *
 * Input: the file's text, then optionally a line "%%env" followed by
 * NAME=VALUE lines set in the environment for the load (names not
 * starting with REELAY_ are skipped).
 *
 * Properties: a refused file says why; an accepted one holds what the
 * roles rely on without checking again: every model's provider, failover
 * chain and prices resolve, every name and alias finds its own model,
 * every provider type has an adapter, each role's endpoint lists are
 * long enough, the addresses split, and the deliverer's allowlist
 * parses (else a config the check accepts stops a deliverer).
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapter.h"
#include "fz.h"
#include "rl_cidr.h"
#include "rl_crypto.h"
#include "ssrf.h"

#define S_ENV_MARK "\n%%env\n"
#define S_MAX_ENV 32

static char s_path[64]; /* /proc/self/fd/N of s_fd */
static int s_fd = -1;   /* a temporary file, unlinked at once */

static void
s_check_model(const rl_config_t *c, size_t i)
{
    const rl_model_conf_t *m = &c->models[i];

    FZ_CHECK(m->provider >= 0 && (size_t)m->provider < c->nproviders,
             "model %s: provider %d", m->name, m->provider);
    FZ_CHECK(m->nprices >= 1 && m->nprices <= RL_CONFIG_MAX_PRICES,
             "model %s: %zu prices", m->name, m->nprices);
    for (size_t k = 0; k < m->nprices; k++)
        FZ_CHECK(m->prices[k].seconds > 0 && m->prices[k].credits >= 0 &&
                     rl_config_price(m, m->prices[k].seconds) ==
                         m->prices[k].credits,
                 "model %s: price %zu", m->name, k);
    FZ_CHECK(m->nchain <= RL_CONFIG_MAX_CHAIN, "model %s: chain", m->name);
    for (size_t k = 0; k < m->nchain; k++) {
        FZ_CHECK(m->chain[k] >= 0 && (size_t)m->chain[k] < c->nmodels &&
                     (size_t)m->chain[k] != i,
                 "model %s: chain entry %d", m->name, m->chain[k]);
        for (size_t l = 0; l < k; l++)
            FZ_CHECK(m->chain[l] != m->chain[k], "model %s: twice", m->name);
    }
    FZ_CHECK(rl_config_model(c, m->name) == m, "model %s not found by name",
             m->name);
    for (size_t k = 0; k < m->naliases; k++)
        FZ_CHECK(rl_config_model(c, m->aliases[k]) == m,
                 "alias %s of %s finds another model", m->aliases[k], m->name);
    FZ_CHECK(m->upstream_model != NULL && m->upstream_model[0] != '\0',
             "model %s: no upstream model", m->name);
}

static void
s_check(const rl_config_t *c)
{
    char host[256], why[200];
    int port = 0;
    uint8_t key[RL_AEAD_KEY_LEN];
    ssrf_allow_t allow;

    for (size_t i = 0; i < c->nproviders; i++)
        FZ_CHECK(adapter_find(c->providers[i].type) != NULL,
                 "provider type %s has no adapter", c->providers[i].type);
    for (size_t i = 0; i < c->nmodels; i++)
        s_check_model(c, i);
    FZ_CHECK(c->ningress >= (size_t)c->brokers &&
                 c->ndispatch >= (size_t)c->brokers &&
                 c->ncompletion >= (size_t)c->deliverers,
             "endpoint lists shorter than the processes");
    FZ_CHECK(rl_config_split_addr(c->http_listen, host, sizeof host, &port) ==
                 0,
             "http listen %s does not split", c->http_listen);
    FZ_CHECK(c->master_key[0] == '\0' ||
                 rl_aead_parse_key(c->master_key, key) == 0,
             "master key accepted but does not parse");
    FZ_CHECK(ssrf_allow_parse(&allow, (const char *const *)c->webhook_allow,
                              c->nwebhook_allow, why, sizeof why) == 0,
             "[webhook] allow accepted, refused by the deliverer: %s", why);
    FZ_CHECK(c->nretries >= 1 && c->nlong_schedule >= 1 &&
                 c->naspect_ratios >= 1,
             "an empty schedule or ratio list");
}

/* Sets the NAME=VALUE lines of env; names set go into names[]. */
static size_t
s_setenv(char *env, char **names)
{
    size_t n = 0;

    for (char *line = env, *next; line != NULL && n < S_MAX_ENV; line = next) {
        char *eq;
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        eq = strchr(line, '=');
        if (eq == NULL || strncmp(line, "REELAY_", 7) != 0)
            continue;
        *eq = '\0';
        if (setenv(line, eq + 1, 1) == 0)
            names[n++] = line;
    }
    return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *mark = memmem(data, size, S_ENV_MARK, strlen(S_ENV_MARK));
    size_t flen = mark != NULL ? (size_t)(mark - (const char *)data) : size;
    char *env = NULL, *names[S_MAX_ENV], err[512];
    size_t nenv = 0;
    rl_config_t *c;

    fz_setup();
    if (s_fd < 0) {
        char tmp[] = "/tmp/reelay-fuzz-config-XXXXXX";
        s_fd = mkstemp(tmp);
        FZ_CHECK(s_fd >= 0, "no temporary file");
        unlink(tmp);
        snprintf(s_path, sizeof s_path, "/proc/self/fd/%d", s_fd);
    }
    FZ_CHECK(ftruncate(s_fd, 0) == 0 &&
                 pwrite(s_fd, data, flen, 0) == (ssize_t)flen,
             "cannot write %s", s_path);
    if (mark != NULL) {
        size_t off = flen + strlen(S_ENV_MARK);
        env = strndup((const char *)data + off, size - off);
        nenv = s_setenv(env, names);
    }
    err[0] = '\0';
    c = rl_config_load(s_path, err, sizeof err);
    if (c != NULL)
        s_check(c);
    else
        FZ_CHECK(err[0] != '\0', "a refused config without a reason");
    rl_config_destroy(&c);
    for (size_t i = 0; i < nenv; i++)
        unsetenv(names[i]);
    free(env);
    return 0;
}
