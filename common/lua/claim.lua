-- claim: a worker takes a dispatched job under a new fencing token.
-- KEYS: 1 job, 2 the worker's job set, 3 dispatched, 4 workers (leases),
--       5 account, 6 ledger, 7 outbox, 8 stats, 9 the index of
--       finished jobs (the last five for a job that expires here)
-- ARGV: 1 ref, 2 worker id, 3 "1" when the worker retries its own claim
-- (the reply to the first was lost), else "0"
-- Reply: {"ok", fence, field, value, ...} | {"refused", reason}; the
-- fields end with claim_intent "1" when the claim recorded the first
-- submit's attempt number (see below), "0" otherwise.
-- Claiming again a job this worker already holds returns the same token,
-- so a claim whose reply was lost can simply be retried. Such a retry
-- says claim_intent "1" when the job still has no upstream task: the
-- first run of the claim found none either (only the owner sets one, and
-- the worker submits nothing before this reply), so it recorded the
-- intent, and nothing was submitted under that attempt number since.
-- Any other claim by the holder (not a retry: a copy of the job the
-- worker no longer holds) says "0", so the worker writes a new intent.
-- A claim refused for want of a lease leaves the ref in rl:dispatched, so
-- the reaper requeues it at its claim deadline: such a claim may come
-- from a worker's retired owner id, late, after its dispatch entry was
-- all that still pointed at the job.
-- One read of what the claim decides on (expire_if_due, when it does
-- not expire the job, changes nothing).
local k = { job = KEYS[1], acct = KEYS[5], ledger = KEYS[6],
    outbox = KEYS[7], stats = KEYS[8], finished = KEYS[9] }
local f = redis.call('HMGET', KEYS[1], 'state', 'owner', 'task_id', 'status')
local state, task = f[1], f[3]
if state == 'leased' and f[2] == ARGV[2] then
    redis.call('ZREM', KEYS[3], ARGV[1])
    local h = redis.call('HGETALL', KEYS[1])
    h[#h + 1] = 'claim_intent'
    h[#h + 1] = (ARGV[3] == '1' and (not task or task == '')) and '1' or '0'
    table.insert(h, 1, redis.call('HGET', KEYS[1], 'fence'))
    table.insert(h, 1, 'ok')
    return h
end
if state ~= 'queued' then
    redis.call('ZREM', KEYS[3], ARGV[1])
    return { 'refused', state or 'missing' }
end
local now = now_ms()
if job_expire_if_due(k, ARGV[1], now) then
    redis.call('ZREM', KEYS[3], ARGV[1])
    return { 'refused', 'expired' }
end
local exp = redis.call('ZSCORE', KEYS[4], ARGV[2])
if not exp or tonumber(exp) < now then return { 'refused', 'no_lease' } end
redis.call('ZREM', KEYS[3], ARGV[1])
local fence = redis.call('HINCRBY', KEYS[1], 'fence', 1)
local w = { 'state', 'leased', 'owner', ARGV[2], 'updated_at', now }
if f[4] == 'pending' then
    for _, x in ipairs({ 'status', 'processing', 'phase', 'Queued' }) do
        w[#w + 1] = x
    end
end
redis.call('HSET', KEYS[1], unpack(w))
redis.call('SADD', KEYS[2], ARGV[1])
-- A job with no upstream task yet is about to be submitted: the claim
-- records the intent of that first submit (the next attempt number),
-- which saves the worker a write; a job with a task is resumed instead.
local intent = '0'
if not task or task == '' then
    redis.call('HINCRBY', KEYS[1], 'attempts', 1)
    intent = '1'
end
local h = redis.call('HGETALL', KEYS[1])
h[#h + 1] = 'claim_intent'
h[#h + 1] = intent
table.insert(h, 1, fence)
table.insert(h, 1, 'ok')
return h
