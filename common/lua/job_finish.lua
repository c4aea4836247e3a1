-- job_finish: the terminal write of a job, with its refund (on failure)
-- and its outbox entry, in one step. Fenced.
-- KEYS: 1 job, 2 the worker's job set, 3 account, 4 ledger, 5 outbox,
--       6 stats, 7 render averages, 8 the record of the API key the job
--       was submitted with (its sealed copy signs the webhook), 9 the
--       index of finished jobs (the retention step's)
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
local k = { job = jk, acct = KEYS[3], ledger = KEYS[4], outbox = KEYS[5],
    stats = KEYS[6], finished = KEYS[9] }
local _, j = ref_parts(ARGV[2])

local function answer()
    local h = acct_webhook_fields_of(k.acct, redis.call('HGETALL', jk))
    table.insert(h, 1, redis.call('HGET', KEYS[8], 'sealed') or '')
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
    redis.call('HINCRBY', k.stats, 'stale_writes', 1)
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
    job_release(k)
    history_append(jk, { status = 'completed', at = now, reason = ARGV[4] })
    local charged = tonumber(cur[3] or '0')
    local billed = tonumber(ARGV[5])
    if billed < charged and not cur[4] then
        redis.call('HSET', jk, 'credits_refunded', charged - billed)
        money_move(k, 'refund', charged - billed, j,
            'failover to a cheaper model', now)
    end
    job_to_outbox(k, ARGV[2], now)
    redis.call('ZADD', k.finished, now, ARGV[2])
    -- A running average of render times per model feeds the ETA.
    local r = redis.call('HMGET', jk, 'model_used', 'render_ms')
    local model, took = r[1], tonumber(r[2] or '')
    if model and took then
        local avg = tonumber(redis.call('HGET', KEYS[7], model) or '')
        avg = avg and math.floor(avg * 0.8 + took * 0.2) or took
        redis.call('HSET', KEYS[7], model, avg)
    end
    redis.call('HINCRBY', k.stats, 'jobs_completed', 1)
    redis.call('HINCRBY', k.acct, 'jobs_completed', 1)
else
    redis.call('HSET', jk, unpack(fields))
    local code = redis.call('HGET', jk, 'error_code') or 'failed'
    job_fail(k, ARGV[2], j, code, ARGV[4], now)
end
return answer()
