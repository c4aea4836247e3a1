-- job_update: a fenced write of job fields by the worker holding it.
-- KEYS: 1 job, 2 stats
-- ARGV: 1 fence, 2 history entry JSON ("" = none), 3.. field/value pairs
-- Reply: "ok" | "stale"
local cur = redis.call('HMGET', KEYS[1], 'fence', 'state')
if cur[1] ~= ARGV[1] or cur[2] ~= 'leased' then
    redis.call('HINCRBY', KEYS[2], 'stale_writes', 1)
    return 'stale'
end
local now = now_ms()
local fields = { 'updated_at', now }
for i = 3, #ARGV, 2 do
    fields[#fields + 1] = ARGV[i]
    fields[#fields + 1] = ARGV[i + 1]
end
redis.call('HSET', KEYS[1], unpack(fields))
if ARGV[2] ~= '' then
    local e = cjson.decode(ARGV[2])
    e.at = now
    history_append(KEYS[1], e)
end
return 'ok'
