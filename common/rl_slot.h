/*
 * rl_slot - the Redis Cluster hash slot of a key, and the key a command
 * is routed by.
 *
 * A key's slot is CRC16(k) mod 16384, CRC16 being the XMODEM variant
 * (polynomial 0x1021, initial value 0, not reflected, no final xor:
 * "123456789" gives 0x31C3), and k the whole key unless it holds a hash
 * tag: then k is what lies between the first '{' and the first '}'
 * after it, when that is not empty. "{user1000}.following" and
 * "{user1000}.followers" share a slot; "foo{}{bar}" hashes whole.
 *
 * The key of a command: EVAL, EVALSHA, their _RO forms and FCALL route
 * by their first KEY (the argument after numkeys), or by none when
 * numkeys is 0; commands that take no key (PING, INFO, SCAN, CLUSTER,
 * ...: the table in rl_slot.c) by none; every other command by its
 * first argument. A command whose first key is elsewhere (XREAD, OBJECT
 * ENCODING, ...) is routed by its first argument, which may be the
 * wrong node: the cluster then answers MOVED and the client follows it,
 * at the cost of a round trip.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_SLOT_H
#define RL_SLOT_H

#include <stddef.h>
#include <stdint.h>

#define RL_SLOT_COUNT 16384 /* slots of a Redis Cluster */

/* CRC16/XMODEM of len bytes. */
uint16_t rl_slot_crc16(const char *buf, size_t len);

/* The slot (0..RL_SLOT_COUNT-1) of a key of len bytes (binary safe). */
int rl_slot_key(const char *key, size_t len);

/* The slot of the key a command is routed by (see above), or -1 when
 * it has none. argv holds argc > 0 arguments; lens may be NULL for
 * NUL-terminated ones. */
int rl_slot_command(int argc, const char *const *argv, const size_t *lens);

#endif
