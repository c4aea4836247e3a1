-- dispatch_take: moves up to n queued refs to the dispatched set, each
-- with a claim deadline; the broker then sends them to workers.
-- KEYS: 1 queue, 2 dispatched
-- ARGV: 1 n, 2 claim timeout (ms)
-- Reply: array of refs (possibly empty)
local refs = redis.call('LPOP', KEYS[1], tonumber(ARGV[1]))
if not refs then return {} end
local deadline = now_ms() + tonumber(ARGV[2])
local args = {}
for i = 1, #refs do
    args[#args + 1] = deadline
    args[#args + 1] = refs[i]
end
redis.call('ZADD', KEYS[2], unpack(args))
return refs
