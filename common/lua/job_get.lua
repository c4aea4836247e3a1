-- job_get: a job of the account that owns the API key.
-- ARGV: 1 key hash, 2 job id
-- Reply: {"ok", field, value, ...} | {"unauthorized"} | {"not_found"}
local a = caller_acct(ARGV[1])
if not a then return { 'unauthorized' } end
local h = redis.call('HGETALL', 'rl:job:{' .. a .. '}:' .. ARGV[2])
if #h == 0 then return { 'not_found' } end
table.insert(h, 1, 'ok')
return h
