/*
 * rl_keys - builds the Redis key names documented in rl_keys.h.
 * SPDX-License-Identifier: MIT
 */
#include "rl_keys.h"

#include <stdint.h>
#include <string.h>

#include "rl_fmt.h"

/* Partition i's tag hashes (CRC16 mod 16384, as Redis Cluster does) to
 * a slot in [i * 1024 + 256, i * 1024 + 768): the first "p<i>-<n>" that
 * does. test_keys checks each slot. */
static const struct {
    const char *tag;
    int slot;
} s_parts[RL_PARTITIONS] = {
    {"p0-0", 313},     {"p1-3", 1642},    {"p2-19", 2382},    {"p3-12", 3729},
    {"p4-49", 4386},   {"p5-42", 5885},   {"p6-69", 6696},    {"p7-62", 7671},
    {"p8-19", 8677},   {"p9-12", 9786},   {"p10-139", 10562}, {"p11-11", 11583},
    {"p12-28", 12953}, {"p13-23", 13638}, {"p14-79", 15060},  {"p15-9", 15950},
};

static const char s_base62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

int
rl_keys_partition(const char *name)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    /* murmur3's finaliser, so that every input bit reaches every output
     * bit: FNV alone leaves its low bits to the input's low bits, and
     * its top bits barely to the last bytes (an id steered by its last
     * character could reach half the partitions). */
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return (int)(h >> (32 - RL_PARTITION_BITS));
}

int
rl_keys_ref_partition(const char *ref)
{
    const char *bar = strchr(ref, '|');
    if (bar == NULL || bar == ref || bar[1] == '\0')
        return -1;
    char acct[RL_KEY_MAX];
    size_t alen = (size_t)(bar - ref);
    if (alen >= sizeof acct)
        return -1;
    memcpy(acct, ref, alen);
    acct[alen] = '\0';
    return rl_keys_partition(acct);
}

const char *
rl_keys_tag(int p)
{
    return p >= 0 && p < RL_PARTITIONS ? s_parts[p].tag : NULL;
}

int
rl_keys_tag_slot(int p)
{
    return p >= 0 && p < RL_PARTITIONS ? s_parts[p].slot : -1;
}

/* The tag of the partition of name. */
static const char *
s_tag_of(const char *name)
{
    return s_parts[rl_keys_partition(name)].tag;
}

int
rl_keys_acct(char *buf, size_t len, const char *acct)
{
    return rl_fmt(buf, len, "rl:acct:{%s}:%s", s_tag_of(acct), acct);
}

int
rl_keys_job(char *buf, size_t len, const char *acct, const char *job)
{
    return rl_fmt(buf, len, "rl:job:{%s}:%s:%s", s_tag_of(acct), acct, job);
}

int
rl_keys_ledger(char *buf, size_t len, const char *acct)
{
    return rl_fmt(buf, len, "rl:ledger:{%s}:%s", s_tag_of(acct), acct);
}

int
rl_keys_apikey(char *buf, size_t len, const char *key_hash_hex)
{
    return rl_fmt(buf, len, "rl:key:{%s}:%s", s_tag_of(key_hash_hex),
                  key_hash_hex);
}

int
rl_keys_idem(char *buf, size_t len, const char *acct, const char *idem)
{
    return rl_fmt(buf, len, "rl:idem:{%s}:%s:%s", s_tag_of(acct), acct, idem);
}

int
rl_keys_deliveries(char *buf, size_t len, const char *acct, const char *job)
{
    return rl_fmt(buf, len, "rl:dlv:{%s}:%s:%s", s_tag_of(acct), acct, job);
}

int
rl_keys_dedup(char *buf, size_t len, const char *acct, const char *job,
              const char *status)
{
    return rl_fmt(buf, len, "rl:dedup:{%s}:%s:%s:%s", s_tag_of(acct), acct, job,
                  status);
}

int
rl_keys_acct_keys(char *buf, size_t len, const char *acct)
{
    return rl_fmt(buf, len, "rl:keys:{%s}:%s", s_tag_of(acct), acct);
}

int
rl_keys_acct_jobs(char *buf, size_t len, const char *acct)
{
    return rl_fmt(buf, len, "rl:jobs:{%s}:%s", s_tag_of(acct), acct);
}

int
rl_keys_whfail(char *buf, size_t len, const char *acct)
{
    return rl_fmt(buf, len, "rl:whfail:{%s}:%s", s_tag_of(acct), acct);
}

int
rl_keys_taskidx(char *buf, size_t len, const char *task)
{
    return rl_fmt(buf, len, "rl:taskidx:{%s}:%s", s_tag_of(task), task);
}

/* "rl:<what>:{<tag of p>}", or -1 when p is out of range. */
static int
s_part_key(char *buf, size_t len, const char *what, int p)
{
    if (p < 0 || p >= RL_PARTITIONS)
        return -1;
    return rl_fmt(buf, len, "rl:%s:{%s}", what, s_parts[p].tag);
}

int
rl_keys_queue(char *buf, size_t len, int p)
{
    return s_part_key(buf, len, "queue", p);
}

int
rl_keys_dispatched(char *buf, size_t len, int p)
{
    return s_part_key(buf, len, "dispatched", p);
}

int
rl_keys_workers(char *buf, size_t len, int p)
{
    return s_part_key(buf, len, "workers", p);
}

int
rl_keys_worker_jobs(char *buf, size_t len, int p, const char *worker)
{
    if (p < 0 || p >= RL_PARTITIONS)
        return -1;
    return rl_fmt(buf, len, "rl:wjobs:{%s}:%s", s_parts[p].tag, worker);
}

int
rl_keys_outbox(char *buf, size_t len, int p)
{
    return s_part_key(buf, len, "outbox", p);
}

int
rl_keys_stats(char *buf, size_t len, int p)
{
    return s_part_key(buf, len, "stats", p);
}

int
rl_keys_render_avg(char *buf, size_t len, int p)
{
    return s_part_key(buf, len, "render_avg", p);
}

int
rl_keys_accounts(char *buf, size_t len, int p)
{
    return s_part_key(buf, len, "accounts", p);
}

int
rl_keys_reaper_lock(char *buf, size_t len, int p)
{
    return s_part_key(buf, len, "lock:reaper", p);
}

int
rl_keys_finished(char *buf, size_t len, int p)
{
    return s_part_key(buf, len, "finished", p);
}

int
rl_keys_retain_ledger(char *buf, size_t len, int p)
{
    return s_part_key(buf, len, "retain:ledger", p);
}

int
rl_keys_retain_lock(char *buf, size_t len, int p)
{
    return s_part_key(buf, len, "lock:retain", p);
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

int
rl_keys_steer_id(char *id, int p)
{
    size_t n = strlen(id);
    if (n == 0 || p < 0 || p >= RL_PARTITIONS)
        return -1;
    const char *at = strchr(s_base62, id[n - 1]);
    size_t from = at != NULL ? (size_t)(at - s_base62) : 0;
    for (size_t i = 0; i < sizeof s_base62 - 1; i++) {
        id[n - 1] = s_base62[(from + i) % (sizeof s_base62 - 1)];
        if (rl_keys_partition(id) == p)
            return 0;
    }
    return -1;
}
