/*
 * egress - the SSRF guard of webhook connections and its refusal reasons.
 * SPDX-License-Identifier: MIT
 */
#include "egress.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "rl_alloc.h"
#include "rl_log.h"

struct egress {
    ssrf_allow_t allow; /* operator allowlist */
    uint64_t refused;   /* connects refused by the guard */
};

bool
egress_guard(const struct sockaddr *addr, void *arg)
{
    egress_t *eg = arg;
    char text[SSRF_ADDR_TEXT];

    if (ssrf_allowed(&eg->allow, NULL, addr, NULL))
        return true;
    eg->refused++;
    rl_log_warnx("webhook connect to %s refused: %s address not allowed",
                 ssrf_addr_text(addr, text, sizeof text),
                 ssrf_class_name(ssrf_classify(addr)));
    return false;
}

void
egress_refusal(const rl_http_resp_t *resp, char *out, size_t out_len)
{
    char text[SSRF_ADDR_TEXT];
    size_t used;

    assert(resp != NULL && out != NULL && out_len > 0);
    if (resp->nrefused == 0) {
        snprintf(out, out_len, "%s", EGRESS_REFUSED_AT_CONNECT);
        return;
    }
    used = (size_t)snprintf(out, out_len, "address not allowed: ");
    for (size_t i = 0; i < resp->nrefused && used < out_len; i++) {
        const struct sockaddr *addr =
            (const struct sockaddr *)&resp->refused_addr[i];
        used += (size_t)snprintf(out + used, out_len - used, "%s%s (%s)",
                                 i > 0 ? ", " : "",
                                 ssrf_addr_text(addr, text, sizeof text),
                                 ssrf_class_name(ssrf_classify(addr)));
    }
    if (resp->refused_more && used < out_len)
        used += (size_t)snprintf(out + used, out_len - used, ", ...");
    if (used >= out_len) /* cut: say so rather than end mid-address */
        snprintf(out, out_len, "%s", EGRESS_REFUSED_AT_CONNECT);
}

uint64_t
egress_refused(const egress_t *eg)
{
    return eg->refused;
}

egress_t *
egress_new(rl_http_t *http, const ssrf_allow_t *allow)
{
    egress_t *eg;

    assert(http != NULL && allow != NULL);
    eg = rl_calloc(1, sizeof *eg);
    eg->allow = *allow;
    rl_http_set_guard(http, egress_guard, eg);
    return eg;
}

void
egress_destroy(egress_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    free(*p);
    *p = NULL;
}
