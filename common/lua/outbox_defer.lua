-- outbox_defer: a deliverer pushes back an entry it claimed but will not
-- attempt now (the webhook's host is at its concurrency limit or its
-- circuit breaker is open), without recording an attempt.
-- KEYS: 1 job, 2 outbox
-- ARGV: 1 ref, 2 claim token, 3 delay (ms)
-- Reply: "ok" | "stale" (a newer claim holds the entry, or it is gone)
-- Safe to run twice: it only moves the entry's due time.
local jk = KEYS[1]
if redis.call('HGET', jk, 'wh_token') ~= ARGV[2] then return 'stale' end
local due = now_ms() + tonumber(ARGV[3])
if redis.call('ZADD', KEYS[2], 'XX', 'CH', due, ARGV[1]) == 0 and
    not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
    return 'stale'
end
redis.call('HSET', jk, 'wh_next_at', due)
return 'ok'
