-- outbox_claim: a deliverer takes due outbox entries under a token.
-- Each taken entry is pushed back by `lease` ms, so a deliverer that dies
-- mid-attempt delays the entry but never loses it. An entry whose
-- (job, status) was already delivered is dropped (dedup).
-- ARGV: 1 limit, 2 lease (ms), 3 dedup TTL (s), 4 n: how many refs
--       follow (0 = any due entries, up to limit), 5..4+n those refs (the
--       fast path: completions just announced; each claimed when due,
--       once however often it is listed),
--       then the job fields to read (rl_jobview_webhook_fields: what the
--       webhook is rendered from, not the whole job)
-- Reply: array of {ref, token, sealed signing key, field, value, ...};
-- the fields are the job's that are set, then the account's webhook
-- settings that are set, prefixed "acct:" (_lib.lua
-- ACCT_WEBHOOK_FIELDS; see deliverer/webhook.h).
local now = now_ms()
local nrefs = tonumber(ARGV[4])
local refs = {}
if nrefs > 0 then
    -- A ref announced twice in one batch (a completion sent again) is
    -- claimed once: one token, one attempt.
    local seen = {}
    for i = 5, 4 + nrefs do
        local s = not seen[ARGV[i]] and
            redis.call('ZSCORE', 'rl:outbox', ARGV[i])
        seen[ARGV[i]] = true
        if s and tonumber(s) <= now then refs[#refs + 1] = ARGV[i] end
    end
else
    refs = redis.call('ZRANGEBYSCORE', 'rl:outbox', '-inf', now,
        'LIMIT', 0, tonumber(ARGV[1]))
end
-- Each job is read with one HMGET: its status and key hash, then the
-- webhook's fields. A batch's jobs mostly share an account and a key,
-- so their sealed key and the account's settings are read once each.
local fields = { 'status', 'key_hash' }
for i = 5 + nrefs, #ARGV do fields[#fields + 1] = ARGV[i] end
local sealed_of, acct_of = {}, {}
local out = {}
for _, ref in ipairs(refs) do
    local jk, a, j = job_key(ref)
    local v = jk and redis.call('HMGET', jk, unpack(fields))
    local status = v and v[1]
    if not status then
        redis.call('ZREM', 'rl:outbox', ref)
    else
        local dk = dedup_key(a, j, status)
        if redis.call('GET', dk) == 'delivered' then
            redis.call('ZREM', 'rl:outbox', ref)
            redis.call('HSET', jk, 'wh_state', 'delivered')
        else
            local token = redis.call('HINCRBY', jk, 'wh_token', 1)
            redis.call('ZADD', 'rl:outbox', now + tonumber(ARGV[2]), ref)
            redis.call('SET', dk, 'sending:' .. token, 'EX',
                tonumber(ARGV[3]))
            local kh = v[2]
            if kh and not sealed_of[kh] then
                sealed_of[kh] = redis.call('HGET', 'rl:key:' .. kh,
                    'sealed') or ''
            end
            local h = { ref, tostring(token), kh and sealed_of[kh] or '' }
            for i = 3, #fields do
                if v[i] then
                    h[#h + 1] = fields[i]
                    h[#h + 1] = v[i]
                end
            end
            if not acct_of[a] then acct_of[a] = acct_webhook_fields(a, {}) end
            for _, x in ipairs(acct_of[a]) do h[#h + 1] = x end
            out[#out + 1] = h
        end
    end
end
return out
