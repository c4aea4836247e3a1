"""The Redis key layout of common/rl_keys.h, for tests that look into
Redis. Python 3 standard library only.

The state is split into PARTITIONS partitions, each with its own hash
tag; an account's keys carry its partition's tag (FNV-1a of the account
id, mod PARTITIONS), as do the queue, outbox, leases and counters of its
jobs. These builders must name exactly what the C builders name: a test
that reads a key built here and finds nothing would fail, so the suite
checks the two against each other wherever it reads a key.
"""

PARTITIONS = 16

# Partition i's tag and the Redis Cluster slot it hashes to
# (common/rl_keys.c has the same table).
TAGS = [
    "p0-0", "p1-3", "p2-19", "p3-12", "p4-49", "p5-42", "p6-69", "p7-62",
    "p8-19", "p9-12", "p10-139", "p11-11", "p12-28", "p13-23", "p14-79",
    "p15-9",
]


def partition(name):
    """The partition of an account id, an API key hash or a task id."""
    h = 2166136261
    for b in name.encode():
        h ^= b
        h = (h * 16777619) & 0xFFFFFFFF
    # murmur3's finaliser: every input bit reaches every output bit
    # (FNV alone leaves its low bits to the input's low bits, and its
    # top bits barely to the last bytes)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    return h >> 28


def tag_of(name):
    return TAGS[partition(name)]


def ref_partition(ref):
    return partition(ref.split("|", 1)[0])


def acct(a):
    return "rl:acct:{%s}:%s" % (tag_of(a), a)


def job(a, j):
    return "rl:job:{%s}:%s:%s" % (tag_of(a), a, j)


def job_of_ref(ref):
    a, j = ref.split("|", 1)
    return job(a, j)


def ledger(a):
    return "rl:ledger:{%s}:%s" % (tag_of(a), a)


def apikey(key_hash):
    return "rl:key:{%s}:%s" % (tag_of(key_hash), key_hash)


def idem(a, key):
    return "rl:idem:{%s}:%s:%s" % (tag_of(a), a, key)


def deliveries(a, j):
    return "rl:dlv:{%s}:%s:%s" % (tag_of(a), a, j)


def dedup(a, j, status):
    return "rl:dedup:{%s}:%s:%s:%s" % (tag_of(a), a, j, status)


def acct_keys(a):
    return "rl:keys:{%s}:%s" % (tag_of(a), a)


def acct_jobs(a):
    return "rl:jobs:{%s}:%s" % (tag_of(a), a)


def whfail(a):
    return "rl:whfail:{%s}:%s" % (tag_of(a), a)


def taskidx(task):
    return "rl:taskidx:{%s}:%s" % (tag_of(task), task)


def _part(what, p):
    return "rl:%s:{%s}" % (what, TAGS[p])


def queue(p):
    return _part("queue", p)


def dispatched(p):
    return _part("dispatched", p)


def workers(p):
    return _part("workers", p)


def worker_jobs(p, worker):
    return "rl:wjobs:{%s}:%s" % (TAGS[p], worker)


def outbox(p):
    return _part("outbox", p)


def stats(p):
    return _part("stats", p)


def render_avg(p):
    return _part("render_avg", p)


def accounts(p):
    return _part("accounts", p)


def reaper_lock(p):
    return _part("lock:reaper", p)


def finished(p):
    return _part("finished", p)


def retain_ledger(p):
    return _part("retain:ledger", p)


def retain_lock(p):
    return _part("lock:retain", p)


def key_partition(key):
    """The partition whose tag a key carries ("rl:queue:{p3-12}" -> 3), or
    None for a key without one of the partitions' tags: for checking that
    a script's KEYS are all of one partition, as Redis Cluster needs."""
    i = key.find("{")
    j = key.find("}", i + 1) if i >= 0 else -1
    if j < 0:
        return None
    tag = key[i + 1:j]
    return TAGS.index(tag) if tag in TAGS else None


def all_of(builder):
    """Every partition's key of one kind: all_of(outbox)."""
    return [builder(p) for p in range(PARTITIONS)]


def stat(r, field):
    """A counter summed over the partitions (r: a redis client with
    hget(key, field) -> str|None)."""
    return sum(int(r.hget(stats(p), field) or 0) for p in range(PARTITIONS))


def ref(a, j):
    """The ref "A|J" of a job."""
    return "%s|%s" % (a, j)


def of_ref(builder, a_ref):
    """The key of one kind of the partition of a ref:
    of_ref(outbox, "A|J")."""
    return builder(ref_partition(a_ref))


def of_acct(builder, a):
    """The key of one kind of the partition of account a:
    of_acct(queue, "acct_x")."""
    return builder(partition(a))


def total(r, cmd, builder):
    """A count summed over the partitions' keys of one kind:
    total(r, "ZCARD", outbox), total(r, "LLEN", queue)."""
    return sum(int(r.call(cmd, builder(p)) or 0) for p in range(PARTITIONS))


def zmembers(r, builder, withscores=False):
    """The members of every partition's zset of one kind, partition by
    partition: zmembers(r, workers) (r: a redis client with
    zrange(key, withscores=...))."""
    out = []
    for p in range(PARTITIONS):
        out += r.zrange(builder(p), withscores=withscores)
    return out


def outbox_score(r, a_ref):
    """The score of a ref in its partition's outbox (its next delivery
    due, ms), or None when it is not there (r: a redis client with
    zscore(key, member) -> float|None)."""
    return r.zscore(of_ref(outbox, a_ref), a_ref)


BASE62 = ("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
          "abcdefghijklmnopqrstuvwxyz")


def steer(name, p):
    """name with its last character rewritten so that partition(name) is
    p, trying each base62 character in turn from name's own, as
    rl_keys_steer_id does: for made-up ids that must land in the
    partition of the account they belong to (an API key hash, a task
    id). Names that differ in their last character only may steer to the
    same name: make them differ before it ("h1_0", "h2_0")."""
    if not name or not 0 <= p < PARTITIONS:
        raise ValueError("steer(%r, %r)" % (name, p))
    head, last = name[:-1], name[-1]
    start = BASE62.index(last) if last in BASE62 else 0
    for i in range(len(BASE62)):
        c = BASE62[(start + i) % len(BASE62)]
        if partition(head + c) == p:
            return head + c
    # About one name in 55 has no such last character (C draws another
    # id then): a made-up name grows by one character instead.
    return steer(name + "0", p)


def steer_to(name, a):
    """steer(name, the partition of account a)."""
    return steer(name, partition(a))


PROVIDER_HEALTH = "rl:provider_health"
LOCK_HEALTH = "rl:lock:health"
