-- task_get: a task of the task API (the second front door). The caller
-- found the account from the key first (key_resolve.lua); the key record
-- is checked again here.
-- KEYS: 1 the API key's record, 2 the task's index entry, 3 the task's
--       job hash under the caller's account
-- ARGV: 1 account id
-- Reply: {"ok", field, value, ...} | {"unauthorized"} | {"not_found"}
--        | {"forbidden"}
local a = ARGV[1]
if key_acct(KEYS[1]) ~= a then return { 'unauthorized' } end
local owner = redis.call('GET', KEYS[2])
if not owner then return { 'not_found' } end
if owner ~= a then return { 'forbidden' } end
local h = redis.call('HGETALL', KEYS[3])
if #h == 0 then return { 'not_found' } end
table.insert(h, 1, 'ok')
return h
