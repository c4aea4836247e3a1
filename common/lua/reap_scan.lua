-- reap_scan: the first step of the reaper's sweep of one partition. Only
-- one process sweeps a partition per period: this takes the partition's
-- reaper lock (held for one period) or answers "skipped". Then it reads
-- what the sweep acts on, for the caller to name those jobs' keys:
-- dispatched refs past their claim deadline (never claimed: lost on the
-- way, or the worker died first), workers whose lease expired, and the
-- head of the queue (jobs waiting past their maximum wait are failed
-- there). reap_unclaimed, reap_worker and reap_expire then act, each
-- checking again what it was told.
-- KEYS: 1 reaper lock, 2 dispatched, 3 workers, 4 queue
-- ARGV: 1 holder id, 2 period (ms), 3 most due refs and dead workers,
--       4 most refs of the queue's head
-- Reply: {"ok", {due refs}, {dead worker ids}, {queue head refs}} |
-- {"skipped"}
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return { 'skipped' } end
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
local now = now_ms()
local limit = tonumber(ARGV[3])
return { 'ok',
    redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, limit),
    redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, limit),
    redis.call('LRANGE', KEYS[4], 0, tonumber(ARGV[4]) - 1) }
