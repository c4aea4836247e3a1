-- job_get: a job of the account that owns the API key. The caller found
-- the account from the key first (key_resolve.lua); the key record is
-- checked again here.
-- KEYS: 1 the API key's record, 2 the job
-- ARGV: 1 account id
-- Reply: {"ok", field, value, ...} | {"unauthorized"} | {"not_found"}
if key_acct(KEYS[1]) ~= ARGV[1] then return { 'unauthorized' } end
local h = redis.call('HGETALL', KEYS[2])
if #h == 0 then return { 'not_found' } end
table.insert(h, 1, 'ok')
return h
