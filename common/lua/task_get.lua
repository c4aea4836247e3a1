-- task_get: a task of the task API (the second front door).
-- ARGV: 1 key hash, 2 task id
-- Reply: {"ok", field, value, ...} | {"unauthorized"} | {"not_found"}
--        | {"forbidden"}
local a = caller_acct(ARGV[1])
if not a then return { 'unauthorized' } end
local owner = redis.call('GET', 'rl:taskidx:' .. ARGV[2])
if not owner then return { 'not_found' } end
if owner ~= a then return { 'forbidden' } end
local h = redis.call('HGETALL', 'rl:job:{' .. a .. '}:' .. ARGV[2])
if #h == 0 then return { 'not_found' } end
table.insert(h, 1, 'ok')
return h
