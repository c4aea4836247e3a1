-- webhook_deliveries: a job's webhook state and its attempt log, for the
-- account that owns the API key. The caller found the account from the
-- key first (key_resolve.lua); the key record is checked again here.
-- KEYS: 1 the API key's record, 2 the job, 3 its attempt log
-- ARGV: 1 account id
-- Reply: {"ok", status, webhook_url, wh_state, wh_attempts,
--         {attempt JSON, ... oldest first}} | {"unauthorized"} |
--        {"not_found"}
if key_acct(KEYS[1]) ~= ARGV[1] then return { 'unauthorized' } end
local h = redis.call('HMGET', KEYS[2], 'status', 'webhook_url', 'wh_state',
    'wh_attempts')
if not h[1] then return { 'not_found' } end
return { 'ok', h[1], h[2] or '', h[3] or 'none', h[4] or '0',
    redis.call('LRANGE', KEYS[3], 0, -1) }
