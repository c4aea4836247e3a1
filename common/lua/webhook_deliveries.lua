-- webhook_deliveries: a job's webhook state and its attempt log, for the
-- account that owns the API key.
-- ARGV: 1 key hash, 2 job id
-- Reply: {"ok", status, webhook_url, wh_state, wh_attempts,
--         {attempt JSON, ... oldest first}} | {"unauthorized"} |
--        {"not_found"}
local key = redis.call('HMGET', 'rl:key:' .. ARGV[1], 'acct', 'revoked_at')
local a = key[1]
if not a or key[2] then return { 'unauthorized' } end
local jk = 'rl:job:{' .. a .. '}:' .. ARGV[2]
local h = redis.call('HMGET', jk, 'status', 'webhook_url', 'wh_state',
    'wh_attempts')
if not h[1] then return { 'not_found' } end
return { 'ok', h[1], h[2] or '', h[3] or 'none', h[4] or '0',
    redis.call('LRANGE', 'rl:dlv:{' .. a .. '}:' .. ARGV[2], 0, -1) }
