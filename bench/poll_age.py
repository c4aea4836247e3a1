#!/usr/bin/env python3
"""Samples how long ago the worker last polled each job (bench/inflight.sh).

    poll_age.py REDIS_PORT INTERVAL_MS SAMPLE SNAPSHOTS GAP_S

Picks SAMPLE job hashes (SCAN rl:job:*), then SNAPSHOTS times, GAP_S apart,
reads their last_poll_at (wall ms, written by the worker on every poll
answer) in one pipeline and computes age = now - last_poll_at. A job
polled on time never shows an age above INTERVAL_MS plus the poll's round
trip, so max(0, age - INTERVAL_MS) is a lower bound of how late the next
poll is at that instant. Prints "late_p50_ms=.. late_p99_ms=.. late_max_ms=..
age_p99_ms=.. samples=.. never_polled=..".
"""
import socket
import sys
import time


def cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class R:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.f = self.s.makefile("rb")

    def reply(self):
        line = self.f.readline().rstrip(b"\r\n")
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-"):
            return rest.decode()
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data.decode()
        if t == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise ValueError(line)

    def pipe(self, cmds):
        self.s.sendall(b"".join(cmds))
        return [self.reply() for _ in cmds]


def pct(v, p):
    if not v:
        return 0
    v = sorted(v)
    return v[min(len(v) - 1, max(0, int(-(-p * len(v) // 100)) - 1))]


def main():
    port, interval, sample, snaps, gap = (int(sys.argv[1]), int(sys.argv[2]),
                                          int(sys.argv[3]), int(sys.argv[4]),
                                          float(sys.argv[5]))
    r = R(port)
    keys, cursor = [], "0"
    while len(keys) < sample:
        cursor, batch = r.pipe([cmd("SCAN", cursor, "MATCH", "rl:job:*",
                                    "COUNT", 1000)])[0]
        keys += batch
        if cursor == "0":
            break
    keys = keys[:sample]
    late, ages, never = [], [], 0
    for i in range(snaps):
        vals = r.pipe([cmd("HGET", k, "last_poll_at") for k in keys])
        now = time.time() * 1000
        for v in vals:
            if v is None:
                never += 1
                continue
            age = now - int(v)
            ages.append(age)
            late.append(max(0.0, age - interval))
        if i + 1 < snaps:
            time.sleep(gap)
    print("late_p50_ms=%.0f late_p99_ms=%.0f late_max_ms=%.0f age_p99_ms=%.0f "
          "samples=%d never_polled=%d" % (pct(late, 50), pct(late, 99),
                                          max(late or [0]), pct(ages, 99),
                                          len(ages), never))


if __name__ == "__main__":
    main()
