/*
 * rl_keys - builds the Redis key names documented in rl_keys.h.
 * SPDX-License-Identifier: MIT
 */
#include "rl_keys.h"

#include <stdio.h>
#include <string.h>

#include "rl_fmt.h"

int
rl_keys_acct(char *buf, size_t len, const char *acct)
{
    return rl_fmt(buf, len, "rl:acct:{%s}", acct);
}

int
rl_keys_job(char *buf, size_t len, const char *acct, const char *job)
{
    return rl_fmt(buf, len, "rl:job:{%s}:%s", acct, job);
}

int
rl_keys_ledger(char *buf, size_t len, const char *acct)
{
    return rl_fmt(buf, len, "rl:ledger:{%s}", acct);
}

int
rl_keys_apikey(char *buf, size_t len, const char *key_hash_hex)
{
    return rl_fmt(buf, len, "rl:key:%s", key_hash_hex);
}

int
rl_keys_idem(char *buf, size_t len, const char *acct, const char *idem)
{
    return rl_fmt(buf, len, "rl:idem:{%s}:%s", acct, idem);
}

int
rl_keys_deliveries(char *buf, size_t len, const char *acct, const char *job)
{
    return rl_fmt(buf, len, "rl:dlv:{%s}:%s", acct, job);
}

int
rl_keys_dedup(char *buf, size_t len, const char *acct, const char *job,
              const char *status)
{
    return rl_fmt(buf, len, "rl:dedup:{%s}:%s:%s", acct, job, status);
}

int
rl_keys_worker_jobs(char *buf, size_t len, const char *worker)
{
    return rl_fmt(buf, len, "rl:wjobs:%s", worker);
}

int
rl_keys_acct_keys(char *buf, size_t len, const char *acct)
{
    return rl_fmt(buf, len, "rl:keys:{%s}", acct);
}

int
rl_keys_acct_jobs(char *buf, size_t len, const char *acct)
{
    return rl_fmt(buf, len, "rl:jobs:{%s}", acct);
}

int
rl_keys_whfail(char *buf, size_t len, const char *acct)
{
    return rl_fmt(buf, len, "rl:whfail:{%s}", acct);
}

int
rl_keys_taskidx(char *buf, size_t len, const char *task)
{
    return rl_fmt(buf, len, "rl:taskidx:%s", task);
}

int
rl_keys_ref(char *buf, size_t len, const char *acct, const char *job)
{
    return rl_fmt(buf, len, "%s|%s", acct, job);
}

int
rl_keys_parse_ref(const char *ref, char *acct, size_t acct_len, char *job,
                  size_t job_len)
{
    const char *bar = strchr(ref, '|');
    if (bar == NULL || bar == ref || bar[1] == '\0')
        return -1;
    size_t alen = (size_t)(bar - ref);
    size_t jlen = strlen(bar + 1);
    if (alen >= acct_len || jlen >= job_len)
        return -1;
    memcpy(acct, ref, alen);
    acct[alen] = '\0';
    memcpy(job, bar + 1, jlen + 1);
    return 0;
}
