-- webhook_deliveries: a job's webhook state and its attempt log, for the
-- account that owns the API key.
-- ARGV: 1 key hash, 2 job id
-- Reply: {"ok", status, webhook_url, wh_state, wh_attempts,
--         {attempt JSON, ... oldest first}} | {"unauthorized"} |
--        {"not_found"}
local a = caller_acct(ARGV[1])
if not a then return { 'unauthorized' } end
local h = redis.call('HMGET', job_key_of(a, ARGV[2]), 'status',
    'webhook_url', 'wh_state', 'wh_attempts')
if not h[1] then return { 'not_found' } end
return { 'ok', h[1], h[2] or '', h[3] or 'none', h[4] or '0',
    redis.call('LRANGE', dlv_key(a, ARGV[2]), 0, -1) }
