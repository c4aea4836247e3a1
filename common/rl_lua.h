/*
 * rl_lua - the Redis Lua scripts of reelay, embedded at build time from
 * common/lua/<name>.lua (see embed.cmake). Each script's contract (KEYS, ARGV,
 * reply) is written at the top of its .lua file.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_LUA_H
#define RL_LUA_H

typedef struct {
    const char *name;   /* file name without .lua */
    const char *source; /* the script text */
} rl_lua_source_t;

/* Every script, terminated by {NULL, NULL}. */
extern const rl_lua_source_t rl_lua_sources[];

#endif
