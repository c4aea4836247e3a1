-- webhook_failed: the events of the account that owns the API key whose
-- delivery failed for good since a time (rl:whfail:{A}), oldest first.
-- ARGV: 1 key hash, 2 since (epoch ms), 3 most entries
-- Reply: {"ok", {job id, failed at (ms), status, webhook_url,
--         wh_attempts, ...}, more (0|1)} | {"unauthorized"}
local a = caller_acct(ARGV[1])
if not a then return { 'unauthorized' } end
local max = tonumber(ARGV[3])
local out, n = {}, 0
local ids = redis.call('ZRANGEBYSCORE', whfail_key(a), ARGV[2], '+inf',
    'WITHSCORES', 'LIMIT', 0, max + 1)
for i = 1, #ids, 2 do
    if n >= max then break end
    local j = ids[i]
    local h = redis.call('HMGET', job_key_of(a, j), 'status', 'webhook_url',
        'wh_attempts')
    if h[1] then
        n = n + 1
        out[#out + 1] = j
        out[#out + 1] = ids[i + 1]
        out[#out + 1] = h[1]
        out[#out + 1] = h[2] or ''
        out[#out + 1] = h[3] or '0'
    end
end
return { 'ok', out, #ids > 2 * max and 1 or 0 }
