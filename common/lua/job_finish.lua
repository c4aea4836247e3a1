-- job_finish: the terminal write of a job, with its refund (on failure)
-- and its outbox entry, in one step. Fenced.
-- KEYS: 1 job key, 2 rl:wjobs:<worker>
-- ARGV: 1 fence, 2 ref, 3 status (completed|failed), 4 reason,
--       5 price billed (completed: the model that rendered it may be a
--       cheaper backup; the difference is refunded once),
--       6.. field/value pairs (output_url, error_code, error_message...)
-- Reply: {"ok", sealed signing key, field, value, ...} | {"stale"}: every
-- field of the job, then the account's webhook settings that are set,
-- prefixed "acct:" (acct_webhook_fields, as outbox_claim hands them to a
-- deliverer), so a COMPLETION carries what a fail-open delivery is
-- signed and retried with.
-- The same write again under the same fence, once the first has landed
-- (its reply was lost and the worker retries), gets that answer again
-- and changes nothing: only the holder of a fence finishes a job under
-- it (a takeover or a recovery takes a new one), so a job done under
-- this fence was done by this write.
local jk = KEYS[1]
local _, a, j = job_key(ARGV[2])

local function answer()
    local h = acct_webhook_fields(a, redis.call('HGETALL', jk))
    table.insert(h, 1, sealed_key(jk))
    table.insert(h, 1, 'ok')
    return h
end

redis.call('SREM', KEYS[2], ARGV[2])
local cur = redis.call('HMGET', jk, 'fence', 'state', 'credits',
    'credits_refunded')
if cur[1] == ARGV[1] and cur[2] == 'done' then
    return answer()
end
if cur[1] ~= ARGV[1] or cur[2] ~= 'leased' then
    redis.call('HINCRBY', 'rl:stats', 'stale_writes', 1)
    return { 'stale' }
end
local now = now_ms()
local fields = { 'updated_at', now }
for i = 6, #ARGV, 2 do
    fields[#fields + 1] = ARGV[i]
    fields[#fields + 1] = ARGV[i + 1]
end
if ARGV[3] == 'completed' then
    -- after the worker's fields: these win over any of the same name
    local done = { 'status', 'completed', 'state', 'done',
        'phase', 'Finishing', 'progress', 100, 'eta_s', 0,
        'completed_at', now, 'owner', '' }
    for _, x in ipairs(done) do fields[#fields + 1] = x end
    redis.call('HSET', jk, unpack(fields))
    release_active(jk, a)
    history_append(jk, { status = 'completed', at = now, reason = ARGV[4] })
    local charged = tonumber(cur[3] or '0')
    local billed = tonumber(ARGV[5])
    if billed < charged and not cur[4] then
        redis.call('HSET', jk, 'credits_refunded', charged - billed)
        ledger_move(a, 'refund', charged - billed, j,
            'failover to a cheaper model', now)
    end
    to_outbox(jk, ARGV[2], now)
    -- A running average of render times per model feeds the ETA.
    local r = redis.call('HMGET', jk, 'model_used', 'render_ms')
    local model, took = r[1], tonumber(r[2] or '')
    if model and took then
        local avg = tonumber(redis.call('HGET', 'rl:render_avg', model) or '')
        avg = avg and math.floor(avg * 0.8 + took * 0.2) or took
        redis.call('HSET', 'rl:render_avg', model, avg)
    end
    redis.call('HINCRBY', 'rl:stats', 'jobs_completed', 1)
    redis.call('HINCRBY', acct_key(a), 'jobs_completed', 1)
else
    redis.call('HSET', jk, unpack(fields))
    local code = redis.call('HGET', jk, 'error_code') or 'failed'
    fail_job(jk, ARGV[2], a, j, code, ARGV[4], now)
end
return answer()
