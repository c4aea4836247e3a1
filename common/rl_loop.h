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

struct event;
struct event_base;

/* A new loop (caller owns, event_base_free), or NULL when libevent
 * cannot make one. Also ignores SIGPIPE for the process: a write to a
 * closed socket fails with EPIPE instead. */
struct event_base *rl_loop_new(void);

/* Runs the callback of `ev`, a pending persistent timer, on the next
 * loop turn, and its period restarts from then. (event_active(ev,
 * EV_TIMEOUT, 0) does not restart it: libevent reschedules the timer one
 * period after the deadline it still had pending, so the run after the
 * early one comes up to two periods later.) */
void rl_loop_run_now(struct event *ev);

#endif
