-- webhook_requeue: a deliberate redelivery of the last event of one job
-- ("one") or of failed events of the account ("range", POST
-- /v1/webhooks/recover: the caller read the jobs failed in a time range
-- from the account's failed-delivery index and sends them in batches).
-- Each one bypasses the dedup "delivered" state: the (job, status) dedup
-- key is deleted, the attempt count reset, the claim token bumped (so a
-- record of an attempt still in the air is refused as stale and cannot
-- mark the new round done), wh_deliberate set (the attempts that follow
-- are logged as deliberate), a {"event":"redeliver","deliberate":true}
-- entry appended to the attempt log, the entry removed from the failed
-- index and queued in the outbox due now. Only terminal jobs with a
-- webhook_url qualify; in a range, only jobs still in the failed index
-- (another recovery may have taken them since they were read).
-- The caller found the account from the key first (key_resolve.lua);
-- the key record is checked again here.
-- KEYS: 1 the API key's record, 2 the account's failed-delivery index,
--       3 outbox, 4 stats, then four per job: 5 its hash, 6 its attempt
--       log, 7 its dedup key for "completed", 8 for "failed"
-- ARGV: 1 account id, 2 mode ("one" | "range"), 3.. the job ids (one:
--       one; in the order of their KEYS)
-- Reply: one:   {"ok", status} | {"unauthorized"} | {"not_found"} |
--               {"not_terminal", status} | {"no_webhook"}
--        range: {"ok", requeued} | {"unauthorized"}
local a = ARGV[1]
if key_acct(KEYS[1]) ~= a then return { 'unauthorized' } end
local wf, ob, st = KEYS[2], KEYS[3], KEYS[4]
local now = now_ms()

-- Job ARGV[i]: its keys are KEYS 5 + 4 (i - 3) ...
local function requeue(i, why)
    local j = ARGV[i]
    local b = 5 + 4 * (i - 3)
    local jk, lk = KEYS[b], KEYS[b + 1]
    local h = redis.call('HMGET', jk, 'status', 'webhook_url')
    if not h[1] then return 'not_found' end
    if h[1] ~= 'completed' and h[1] ~= 'failed' then
        return 'not_terminal', h[1]
    end
    if not h[2] or h[2] == '' then return 'no_webhook' end
    local ref = a .. '|' .. j
    redis.call('DEL', KEYS[h[1] == 'completed' and b + 2 or b + 3])
    redis.call('HINCRBY', jk, 'wh_token', 1)
    redis.call('HSET', jk, 'wh_attempts', 0, 'wh_state', 'pending',
        'wh_next_at', now, 'wh_deliberate', 1)
    redis.call('ZADD', ob, now, ref)
    redis.call('ZREM', wf, j)
    redis.call('RPUSH', lk, cjson.encode({ event = 'redeliver',
        deliberate = true, at = now, reason = why, status = h[1] }))
    redis.call('LTRIM', lk, -100, -1)
    redis.call('HINCRBY', st, 'webhooks_redelivered', 1)
    return 'ok', h[1]
end

if ARGV[2] == 'one' then
    local tag, status = requeue(3, 'redeliver')
    return { tag, status }
end
local n = 0
for i = 3, #ARGV do
    if redis.call('ZSCORE', wf, ARGV[i]) then
        if requeue(i, 'recover') == 'ok' then
            n = n + 1
        else
            redis.call('ZREM', wf, ARGV[i]) -- the job is gone
        end
    end
end
return { 'ok', n }
