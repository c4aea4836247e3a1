-- bench/first_attempt.lua: per terminal job with a webhook, the ms from
-- its terminal write (completed_at, Redis time, failed jobs too) to the start
-- of its first delivery attempt (the "at" of rl:dlv's first record, the
-- deliverer's wall clock: same machine). Run after a bench, once:
--   redis-cli -p PORT --eval bench/first_attempt.lua
-- Reply: "n=N p50_ms=X p99_ms=Y max_ms=Z" (KEYS is fine here: a bench
-- database, read once, after the load).
local d = {}
for _, jk in ipairs(redis.call('KEYS', 'rl:job:{*}:*')) do
    local a, j = string.match(jk, '^rl:job:{([^}]*)}:(.*)$')
    local done = tonumber(redis.pcall('HGET', jk, 'completed_at') or '')
    local rec = a and redis.call('LINDEX', 'rl:dlv:{' .. a .. '}:' .. j, 0)
    if done and rec then
        local ok, o = pcall(cjson.decode, rec)
        if ok and type(o) == 'table' and tonumber(o.at) then
            d[#d + 1] = tonumber(o.at) - done
        end
    end
end
if #d == 0 then return 'n=0' end
table.sort(d)
local function q(p) return d[math.max(1, math.ceil(#d * p))] end
return string.format('n=%d p50_ms=%d p99_ms=%d max_ms=%d', #d, q(0.5),
    q(0.99), d[#d])
