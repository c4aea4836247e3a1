-- webhook_failed: jobs of the account that owns the API key whose
-- delivery failed for good: the caller read them from the account's
-- failed-delivery index (rl:whfail, oldest first) and asks for a batch
-- of them; a job that is gone is answered as not listed. The caller
-- found the account from the key first (key_resolve.lua); the key record
-- is checked again here.
-- KEYS: 1 the API key's record, 2.. the job hash of each job
-- ARGV: 1 account id, 2.. the job ids (in the order of KEYS 2..)
-- Reply: {"ok", {listed (1|0), status, webhook_url, wh_attempts, ...}
--         (four per job)} | {"unauthorized"}
if key_acct(KEYS[1]) ~= ARGV[1] then return { 'unauthorized' } end
local out = {}
for i = 2, #KEYS do
    local h = redis.call('HMGET', KEYS[i], 'status', 'webhook_url',
        'wh_attempts')
    out[#out + 1] = h[1] and '1' or '0'
    out[#out + 1] = h[1] or ''
    out[#out + 1] = h[2] or ''
    out[#out + 1] = h[3] or '0'
end
return { 'ok', out }
