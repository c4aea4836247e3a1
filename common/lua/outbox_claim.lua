-- outbox_claim: a deliverer takes due outbox entries of one partition
-- under a token, by name: refs a COMPLETION announced, or refs its scan
-- read (outbox_due). Each is claimed when due, once however often it is
-- listed. Each taken entry is pushed back by `lease` ms, so a deliverer
-- that dies mid-attempt delays the entry but never loses it. An entry
-- whose (job, status) was already delivered is dropped (dedup), as is
-- one whose job is gone.
-- KEYS: 1 outbox, then for each ref marked "1": its job, its dedup keys
--       for "completed" and for "failed" (the job's status picks one),
--       and its account
-- ARGV: 1 lease (ms), 2 dedup TTL (s), 3 n, 4..3+2n pairs (ref, "1" |
--       "0": "0" for a ref the caller could not name keys for; it is
--       dropped from the outbox), then the job fields to read
--       (rl_jobview_webhook_fields: what the webhook is rendered from,
--       not the whole job)
-- Reply: array of {ref, token, key hash, field, value, ...}; the fields
-- are the job's that are set, then the account's webhook settings that
-- are set, prefixed "acct:" (_lib.lua ACCT_WEBHOOK_FIELDS; see
-- deliverer/webhook.h). The deliverer finds the sealed signing key by
-- the key hash (the record of the API key the job was submitted with).
local now = now_ms()
local n = tonumber(ARGV[3])
local fields = { 'status', 'key_hash' }
for i = 4 + 2 * n, #ARGV do fields[#fields + 1] = ARGV[i] end
local seen, acct_of, out = {}, {}, {}
local at = 2
for i = 4, 3 + 2 * n, 2 do
    local ref, named = ARGV[i], ARGV[i + 1] == '1'
    local jk, dkc, dkf, ak = KEYS[at], KEYS[at + 1], KEYS[at + 2],
        KEYS[at + 3]
    if named then at = at + 4 end
    local s = not seen[ref] and redis.call('ZSCORE', KEYS[1], ref)
    seen[ref] = true
    if s and tonumber(s) <= now then
        local v = named and redis.call('HMGET', jk, unpack(fields))
        local status = v and v[1]
        local dk = (status == 'completed' and dkc) or
            (status == 'failed' and dkf) or nil
        if not dk then
            redis.call('ZREM', KEYS[1], ref)
        elseif redis.call('GET', dk) == 'delivered' then
            redis.call('ZREM', KEYS[1], ref)
            redis.call('HSET', jk, 'wh_state', 'delivered')
        else
            local token = redis.call('HINCRBY', jk, 'wh_token', 1)
            redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ref)
            redis.call('SET', dk, 'sending:' .. token, 'EX',
                tonumber(ARGV[2]))
            local h = { ref, tostring(token), v[2] or '' }
            for f = 3, #fields do
                if v[f] then
                    h[#h + 1] = fields[f]
                    h[#h + 1] = v[f]
                end
            end
            if not acct_of[ak] then
                acct_of[ak] = acct_webhook_fields_of(ak, {})
            end
            for _, x in ipairs(acct_of[ak]) do h[#h + 1] = x end
            out[#out + 1] = h
        end
    end
end
return out
