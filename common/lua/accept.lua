-- accept: authenticate, rate-limit, check idempotency, debit, create and
-- queue a job, count it active, append the ledger entry. All or nothing;
-- the 202 goes out after this.
-- The caller found the account from the key first (key_resolve.lua);
-- the key record is checked again here: it must still name that account
-- and not be revoked.
-- KEYS: 1 the API key's record, 2 account, 3 job, 4 the account's job
--       index, 5 ledger, 6 queue, 7 stats, then 8 the idempotency record
--       when ARGV 3 is not "", then the task index entry when the job is
--       a task (its id starts "task_")
-- ARGV: 1 key hash, 2 job id, 3 idempotency key ("" = none),
--       4 body hash, 5 price, 6 created_at (ms), 7 202 body,
--       8 idempotency TTL (s), 9 rate per second (0 = no limit),
--       10 burst, 11 most active jobs per account (0 = no limit),
--       12 account id, 13.. job field/value pairs
-- Reply: {"ok", acct} | {"replay", job id, 202 body} | {"unauthorized"}
--        | {"rate_limited", retry after ms} | {"credits", balance, price}
--        | {"concurrency", limit, active} | {"idem_conflict"}
--        | {"collision"}
local kk = KEYS[1]
local a = ARGV[12]
if key_acct(kk) ~= a then return { 'unauthorized' } end
local ik = ARGV[3] ~= '' and KEYS[8] or nil
local tk = KEYS[ik and 9 or 8]
if ik then
    local prev = redis.call('GET', ik)
    if prev then
        local p = cjson.decode(prev)
        if p.h ~= ARGV[4] then return { 'idem_conflict' } end
        return { 'replay', p.j, p.r }
    end
end
-- Every refusal below changes nothing: the rate-limit token is spent
-- only once the job is certain to be written.
local rate = tonumber(ARGV[9])
local tokens, tnow
if rate > 0 then
    tnow = now_ms()
    tokens = bucket_peek(kk, rate, tonumber(ARGV[10]), tnow)
    if tokens < 1 then
        return { 'rate_limited', tostring(bucket_wait_ms(tokens, rate)) }
    end
end
local price = tonumber(ARGV[5])
local ak = KEYS[2]
-- active_jobs counts the account's jobs not yet completed or failed; the
-- terminal write takes each one off exactly once (release_active). It is
-- read only when there is a limit.
local max_active = tonumber(ARGV[11])
local acc = max_active > 0
    and redis.call('HMGET', ak, 'credits', 'active_jobs')
    or redis.call('HMGET', ak, 'credits')
local bal = tonumber(acc[1] or '0')
if bal < price then return { 'credits', tostring(bal), tostring(price) } end
if max_active > 0 then
    local active = tonumber(acc[2] or '0')
    if active >= max_active then
        return { 'concurrency', tostring(max_active), tostring(active) }
    end
end
local j = ARGV[2]
local jk = KEYS[3]
if redis.call('EXISTS', jk) == 1 then return { 'collision' } end
if tokens then bucket_spend(kk, tokens, tnow) end
local now = ARGV[6]
local fields = { 'id', j, 'acct', a, 'key_hash', ARGV[1], 'status', 'pending',
    'state', 'queued', 'credits', price, 'fence', 0, 'recoveries', 0,
    'chain_idx', 0, 'failover_used', 0, 'created_at', now,
    'updated_at', now, 'wh_state', 'none', 'active', 1 }
for i = 13, #ARGV, 2 do
    fields[#fields + 1] = ARGV[i]
    fields[#fields + 1] = ARGV[i + 1]
end
redis.call('HSET', jk, unpack(fields))
redis.call('ZADD', KEYS[4], now, j)
if tk then
    -- The task API tells "not yours" (403) from "no such task" (404).
    redis.call('SET', tk, a)
end
redis.call('HINCRBY', ak, 'jobs', 1)
redis.call('HINCRBY', ak, 'active_jobs', 1)
money_move({ acct = ak, ledger = KEYS[5] }, 'debit', -price, j, 'submit',
    now)
redis.call('RPUSH', KEYS[6], a .. '|' .. j)
redis.call('HINCRBY', KEYS[7], 'jobs_accepted', 1)
if ik then
    redis.call('SET', ik, cjson.encode({ h = ARGV[4], j = j, r = ARGV[7] }),
        'EX', tonumber(ARGV[8]))
end
return { 'ok', a }
