-- dispatch_take: moves up to n queued refs to the dispatched set, each
-- with a claim deadline; the broker then sends them to workers.
-- ARGV: 1 n, 2 claim timeout (ms)
-- Reply: array of refs (possibly empty)
local refs = redis.call('LPOP', 'rl:queue', tonumber(ARGV[1]))
if not refs then return {} end
local deadline = now_ms() + tonumber(ARGV[2])
local args = {}
for i = 1, #refs do
    args[#args + 1] = deadline
    args[#args + 1] = refs[i]
end
redis.call('ZADD', 'rl:dispatched', unpack(args))
return refs
