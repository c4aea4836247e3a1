-- webhook_requeue: a deliberate redelivery of the last event of one job
-- ("one") or of every failed event of the account in a time range
-- ("range", POST /v1/webhooks/recover). Each one bypasses the dedup
-- "delivered" state: the (job, status) dedup key is deleted, the attempt
-- count reset, the claim token bumped (so a record of an attempt still
-- in the air is refused as stale and cannot mark the new round done),
-- wh_deliberate set (the attempts that follow are logged as deliberate),
-- a {"event":"redeliver","deliberate":true} entry appended to the
-- attempt log, the entry removed from rl:whfail:{A} and queued in
-- the outbox due now. Only terminal jobs with a webhook_url qualify.
-- ARGV: 1 key hash, 2 mode ("one" | "range"),
--       one:   3 job id
--       range: 3 from (epoch ms), 4 to (epoch ms), 5 most to requeue
-- Reply: one:   {"ok", status} | {"unauthorized"} | {"not_found"} |
--               {"not_terminal", status} | {"no_webhook"}
--        range: {"ok", requeued, more (0|1)} | {"unauthorized"}
local a = caller_acct(ARGV[1])
if not a then return { 'unauthorized' } end
local now = now_ms()

local function requeue(j, why)
    local jk = job_key_of(a, j)
    local h = redis.call('HMGET', jk, 'status', 'webhook_url')
    if not h[1] then return 'not_found' end
    if h[1] ~= 'completed' and h[1] ~= 'failed' then
        return 'not_terminal', h[1]
    end
    if not h[2] or h[2] == '' then return 'no_webhook' end
    local ref = a .. '|' .. j
    local lk = dlv_key(a, j)
    redis.call('DEL', dedup_key(a, j, h[1]))
    redis.call('HINCRBY', jk, 'wh_token', 1)
    redis.call('HSET', jk, 'wh_attempts', 0, 'wh_state', 'pending',
        'wh_next_at', now, 'wh_deliberate', 1)
    redis.call('ZADD', 'rl:outbox', now, ref)
    redis.call('ZREM', whfail_key(a), j)
    redis.call('RPUSH', lk, cjson.encode({ event = 'redeliver',
        deliberate = true, at = now, reason = why, status = h[1] }))
    redis.call('LTRIM', lk, -100, -1)
    redis.call('HINCRBY', 'rl:stats', 'webhooks_redelivered', 1)
    return 'ok', h[1]
end

if ARGV[2] == 'one' then
    local tag, status = requeue(ARGV[3], 'redeliver')
    return { tag, status }
end
local max = tonumber(ARGV[5])
local n = 0
local ids = redis.call('ZRANGEBYSCORE', whfail_key(a), ARGV[3], ARGV[4],
    'LIMIT', 0, max + 1)
for i, j in ipairs(ids) do
    if i > max then break end
    if requeue(j, 'recover') == 'ok' then
        n = n + 1
    else
        redis.call('ZREM', whfail_key(a), j) -- the job is gone
    end
end
return { 'ok', n, #ids > max and 1 or 0 }
