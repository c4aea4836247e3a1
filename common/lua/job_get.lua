-- job_get: a job of the account that owns the API key.
-- ARGV: 1 key hash, 2 job id
-- Reply: {"ok", field, value, ...} | {"unauthorized"} | {"not_found"}
local key = redis.call('HMGET', 'rl:key:' .. ARGV[1], 'acct', 'revoked_at')
local a = key[1]
if not a or key[2] then return { 'unauthorized' } end
local h = redis.call('HGETALL', 'rl:job:{' .. a .. '}:' .. ARGV[2])
if #h == 0 then return { 'not_found' } end
table.insert(h, 1, 'ok')
return h
