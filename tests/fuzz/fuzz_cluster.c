/*
 * fuzz_cluster - what a Redis Cluster (or an operator's config) tells
 * the client, as outside bytes: a CLUSTER SLOTS reply in RESP
 * (rl_cmap_parse, after hiredis's own reader), a redirection error's
 * text (rl_cmap_redirect), the [redis] cluster seed list
 * (rl_cmap_seeds_parse and its config validator), and the slot of any
 * key (rl_slot_key, rl_slot_command).
 *
 * Input: the same bytes feed every parser (RESP replies are read from
 * them one after the other until the reader stops).
 *
 * Properties: an accepted map's owners all name a listed master, its
 * slot count is the slots owned, every master's host is a non-empty
 * host name and its port 1..65535; a refused one says why. MOVED and
 * ASK name a slot 0..16383 and such an address, and the text built
 * back from them reads the same. An accepted seed list has 1..16
 * addresses of the same kind, and the config validator agrees. Slots
 * are 0..16383; a key's hash tag alone has its slot.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "fz.h"
#include "rl_cmap.h"
#include "rl_config_parse.h"
#include "rl_slot.h"

#define S_ASKED "10.0.0.1"
#define S_MAX_ELEMENTS 100000 /* array elements a reply may announce */
#define S_MAX_REPLIES 8

static void
s_check_addr(const rl_cmap_addr_t *a, const char *what)
{
    size_t len = strnlen(a->host, RL_CMAP_HOST_MAX);
    FZ_CHECK(len > 0 && len < RL_CMAP_HOST_MAX, "%s: host length %zu", what,
             len);
    FZ_CHECK(strspn(a->host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
                             "TUVWXYZ0123456789.-:_") == len,
             "%s: host '%s'", what, a->host);
    FZ_CHECK(a->port >= 1 && a->port <= 65535, "%s: port %d", what, a->port);
}

static void
s_check_map(const redisReply *r)
{
    static rl_cmap_t map;
    char why[128] = "";
    size_t owned = 0;

    if (rl_cmap_parse(r, S_ASKED, &map, why, sizeof why) != 0) {
        FZ_CHECK(why[0] != '\0', "a map refused without a reason");
        return;
    }
    FZ_CHECK(map.naddrs <= RL_CMAP_MAX_MASTERS, "%zu masters", map.naddrs);
    for (size_t i = 0; i < map.naddrs; i++)
        s_check_addr(&map.addrs[i], "master");
    for (size_t s = 0; s < RL_SLOT_COUNT; s++) {
        if (map.owner[s] == RL_CMAP_NO_OWNER)
            continue;
        FZ_CHECK(map.owner[s] < map.naddrs, "slot %zu owner %u", s,
                 map.owner[s]);
        owned++;
    }
    FZ_CHECK(owned == map.nslots, "%zu slots owned, %zu counted", owned,
             map.nslots);
}

/* Whether an array header of data announces more than S_MAX_ELEMENTS
 * elements. hiredis 0.14's reader allocates the announced count up
 * front (later hiredis caps it, maxelements): that is hiredis's, not
 * rl_cmap's, and what announces it is a node that authenticated; such
 * inputs are left out so the target fuzzes the parser, not malloc. */
static bool
s_huge_array(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        if (data[i] != '*' || (i > 0 && data[i - 1] != '\n'))
            continue;
        unsigned long long n = 0;
        for (size_t j = i + 1; j < size && data[j] >= '0' && data[j] <= '9';
             j++)
            if ((n = n * 10 + (data[j] - '0')) > S_MAX_ELEMENTS)
                return true;
    }
    return false;
}

static void
s_replies(const uint8_t *data, size_t size)
{
    if (s_huge_array(data, size))
        return;
    redisReader *rd = redisReaderCreate();
    void *reply = NULL;

    FZ_CHECK(rd != NULL, "no reader");
    if (redisReaderFeed(rd, (const char *)data, size) == REDIS_OK)
        for (int i = 0; i < S_MAX_REPLIES; i++) {
            reply = NULL;
            if (redisReaderGetReply(rd, &reply) != REDIS_OK || reply == NULL)
                break;
            s_check_map(reply);
            if (((redisReply *)reply)->type == REDIS_REPLY_ERROR) {
                const redisReply *e = reply;
                rl_cmap_redirect_t rd2;
                (void)rl_cmap_redirect(e->str, e->len, S_ASKED, &rd2);
            }
            freeReplyObject(reply);
        }
    redisReaderFree(rd);
}

static void
s_redirect(const char *text, size_t len)
{
    rl_cmap_redirect_t rd, again;
    char back[RL_CMAP_HOST_MAX + 64];
    rl_cmap_kind_t kind = rl_cmap_redirect(text, len, S_ASKED, &rd);

    FZ_CHECK(kind == rd.kind, "kind returned %d, stored %d", kind, rd.kind);
    if (kind != RL_CMAP_MOVED && kind != RL_CMAP_ASK)
        return;
    FZ_CHECK(rd.slot >= 0 && rd.slot < RL_SLOT_COUNT, "slot %d", rd.slot);
    s_check_addr(&rd.addr, "redirection");
    snprintf(back, sizeof back, "%s %d %s:%d",
             kind == RL_CMAP_MOVED ? "MOVED" : "ASK", rd.slot, rd.addr.host,
             rd.addr.port);
    FZ_CHECK(rl_cmap_redirect(back, strlen(back), "x", &again) == kind &&
                 again.slot == rd.slot && again.addr.port == rd.addr.port &&
                 strcmp(again.addr.host, rd.addr.host) == 0,
             "'%s' reads back differently", back);
}

static void
s_seeds(const char *text)
{
    rl_cmap_addr_t seeds[RL_CMAP_MAX_SEEDS];
    char why[128] = "";
    int n =
        rl_cmap_seeds_parse(text, seeds, RL_CMAP_MAX_SEEDS, why, sizeof why);
    int valid = rl_config_check_cluster(text, why, sizeof why) == 0;

    if (n < 0) {
        FZ_CHECK(why[0] != '\0', "a seed list refused without a reason");
        FZ_CHECK(!valid || text[0] == '\0', "the validator accepts '%s'", text);
        return;
    }
    FZ_CHECK(n >= 1 && n <= RL_CMAP_MAX_SEEDS, "%d seeds", n);
    FZ_CHECK(valid, "the validator refuses '%s'", text);
    for (int i = 0; i < n; i++)
        s_check_addr(&seeds[i], "seed");
}

static void
s_slots(const char *text, size_t len)
{
    const char *open = memchr(text, '{', len);
    int slot = rl_slot_key(text, len);
    const char *argv[] = {"EVALSHA", "sha", "1", text};
    const size_t lens[] = {7, 3, 1, len};

    FZ_CHECK(slot >= 0 && slot < RL_SLOT_COUNT, "slot %d", slot);
    FZ_CHECK(rl_slot_command(4, argv, lens) == slot, "EVALSHA's key slot");
    if (open != NULL) {
        size_t from = (size_t)(open - text) + 1;
        const char *close = memchr(open + 1, '}', len - from);
        if (close != NULL && close > open + 1)
            FZ_CHECK(rl_slot_key(open + 1, (size_t)(close - open - 1)) == slot,
                     "the hash tag's slot");
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len = 0;
    fz_in_t in = {data, size};
    char *text = fz_rest(&in, &len);

    fz_setup();
    s_replies(data, size);
    s_redirect(text, len);
    s_seeds(text);
    s_slots(text, len);
    free(text);
    return 0;
}
