/*
 * rl_zkeys - the CURVE keys of each role.
 * SPDX-License-Identifier: MIT
 */
#include "rl_zkeys.h"

#include <stdio.h>
#include <string.h>

#include "rl_allow.h"
#include "rl_fmt.h"

static const char *const s_broker_domains[] = {"dispatch", "ingress"};
static const char *const s_deliverer_domains[] = {"completion"};

const char *const *
rl_zkeys_domains(const char *role, size_t *n)
{
    if (strcmp(role, "broker") == 0) {
        *n = sizeof s_broker_domains / sizeof s_broker_domains[0];
        return s_broker_domains;
    }
    if (strcmp(role, "deliverer") == 0) {
        *n = sizeof s_deliverer_domains / sizeof s_deliverer_domains[0];
        return s_deliverer_domains;
    }
    *n = 0;
    return NULL;
}

int
rl_zkeys_load(const rl_config_t *cfg, const char *role, rl_zkeys_t *out,
              char *err, size_t err_len)
{
    bool worker = strcmp(role, "worker") == 0;
    bool cli = strcmp(role, "cli") == 0;
    memset(out, 0, sizeof *out);
    if (!rl_curve_available()) {
        rl_fmt_msg(err, err_len,
                   "[zmq] curve is on but this libzmq has no "
                   "CURVE support");
        return -1;
    }
    if (rl_curve_load_pair(cfg, role, &out->own, err, err_len) != 0 ||
        ((worker || cli) &&
         rl_curve_load_public(cfg, "broker", out->broker, err, err_len) != 0) ||
        (worker && rl_curve_load_public(cfg, "deliverer", out->deliverer, err,
                                        err_len) != 0)) {
        rl_zkeys_wipe(out);
        return -1;
    }
    return 0;
}

int
rl_zkeys_check(const rl_config_t *cfg, const char *role, char *err,
               size_t err_len)
{
    rl_zkeys_t keys;
    size_t n = 0;
    if (!cfg->zmq_curve)
        return 0;
    if (rl_zkeys_load(cfg, role, &keys, err, err_len) != 0)
        return -1;
    rl_zkeys_wipe(&keys);
    const char *const *domains = rl_zkeys_domains(role, &n);
    for (size_t i = 0; i < n; i++) {
        char file[64], path[1024];
        if (rl_fmt(file, sizeof file, "%s.allow", domains[i]) != 0 ||
            rl_curve_path(cfg, file, path, sizeof path) != 0) {
            rl_fmt_msg(err, err_len, "[zmq] keys_dir: path too long");
            return -1;
        }
        rl_allow_t *a = rl_allow_new(path, err, err_len);
        if (a == NULL)
            return -1;
        rl_allow_destroy(&a);
    }
    return 0;
}

void
rl_zkeys_wipe(rl_zkeys_t *k)
{
    if (k != NULL)
        explicit_bzero(k, sizeof *k);
}
