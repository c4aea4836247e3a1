/*
 * rl_loop - the one libevent loop of a process, configured the same way
 * everywhere: epoll's change list on, so the many add/remove calls a
 * burst of HTTP requests makes on one socket within a loop turn become
 * one epoll_ctl at the end of the turn. (The change list is unsafe only
 * for file descriptors duplicated with dup(); none of ours are.)
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_LOOP_H
#define RL_LOOP_H

struct event_base;

/* A new loop (caller owns, event_base_free), or NULL when libevent
 * cannot make one. */
struct event_base *rl_loop_new(void);

#endif
