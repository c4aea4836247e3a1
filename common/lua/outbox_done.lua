-- outbox_done: records one delivery attempt and its outcome, under the
-- token of the claim it was made with.
-- KEYS: 1 job key, 2 rl:dlv:{A}:J (attempt log), 3 rl:dedup:{A}:J:<status>
-- ARGV: 1 ref, 2 token ("" = fail-open delivery made without a claim),
--       3 outcome (delivered|retry|failed), 4 delay before the next
--       attempt (ms, retry only),
--       5 attempt JSON, 6 dedup TTL (s)
-- Reply: "ok" | "stale"
-- rl:stats counts webhooks_delivered and webhooks_failed, and
-- webhooks_fail_open: deliveries (2xx) made without a claim while Redis
-- could not be asked (the attempt JSON says "fail_open": true).
-- A late record (fail-open, token "") of a failed or retried attempt of
-- a job already delivered is logged but changes nothing else: it must
-- not re-queue the entry nor erase the dedup key that keeps the
-- (job, status) from being delivered again.
-- Safe to run twice: a record already in the log (same bytes, which hold
-- the attempt's start time and number) is not applied again, so a caller
-- that lost the reply may send it again.
local jk = KEYS[1]
if redis.call('EXISTS', jk) == 0 then
    return 'stale' -- never recreate a job hash from a late record
end
for _, rec in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
    if rec == ARGV[5] then return 'ok' end
end
if ARGV[2] ~= '' and redis.call('HGET', jk, 'wh_token') ~= ARGV[2] then
    return 'stale'
end
local now = now_ms()
local _, a, j = job_key(ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[5])
redis.call('LTRIM', KEYS[2], -100, -1)
redis.call('HINCRBY', jk, 'wh_attempts', 1)
redis.call('HSET', jk, 'wh_last_at', now)
if ARGV[3] ~= 'delivered' and redis.call('GET', KEYS[3]) == 'delivered' then
    return 'ok'
end
if ARGV[3] == 'delivered' then
    redis.call('SET', KEYS[3], 'delivered', 'EX', tonumber(ARGV[6]))
    redis.call('ZREM', 'rl:outbox', ARGV[1])
    redis.call('HSET', jk, 'wh_state', 'delivered')
    redis.call('ZREM', whfail_key(a), j)
    redis.call('HINCRBY', 'rl:stats', 'webhooks_delivered', 1)
    local ok, rec = pcall(cjson.decode, ARGV[5])
    if ok and type(rec) == 'table' and rec.fail_open == true then
        redis.call('HINCRBY', 'rl:stats', 'webhooks_fail_open', 1)
    end
elseif ARGV[3] == 'retry' then
    local due = now + tonumber(ARGV[4])
    redis.call('ZADD', 'rl:outbox', 'XX', due, ARGV[1])
    redis.call('HSET', jk, 'wh_next_at', due)
else
    redis.call('ZREM', 'rl:outbox', ARGV[1])
    redis.call('DEL', KEYS[3])
    redis.call('HSET', jk, 'wh_state', 'failed')
    -- Failed events can be listed and recovered for the dedup window.
    redis.call('ZADD', whfail_key(a), now, j)
    redis.call('ZREMRANGEBYSCORE', whfail_key(a), '-inf',
        now - tonumber(ARGV[6]) * 1000)
    redis.call('HINCRBY', 'rl:stats', 'webhooks_failed', 1)
end
return 'ok'
