-- retain_read: the records the archive keeps of jobs the retention step
-- is about to remove. For each ref its verdict (retain_verdict), and for
-- a job that may go its whole hash and attempt log. Writes nothing but
-- the lock.
-- KEYS: 1 the retention lock, 2 the outbox, then two per job: 3 its
--       hash, 4 its attempt log, ...
-- ARGV: 1 holder id, 2 lock (ms), 3 retention (ms), 4.. the refs, in the
--       order of their KEYS
-- Reply: {"ok", {verdict, {field, value, ...}, {attempt, ...}}, ...}: one
--        entry per ref, in order, the two lists empty unless the verdict
--        is "ready" | {"skipped"}
if not retain_lock(KEYS[1], ARGV[1], ARGV[2]) then return { 'skipped' } end
local cutoff = now_ms() - tonumber(ARGV[3])
local out = { 'ok' }
for i = 4, #ARGV do
    local b = 3 + 2 * (i - 4)
    local v = retain_verdict(KEYS[b], KEYS[2], ARGV[i], cutoff)
    if v == 'ready' then
        out[#out + 1] = { v, redis.call('HGETALL', KEYS[b]),
            redis.call('LRANGE', KEYS[b + 1], 0, -1) }
    else
        out[#out + 1] = { v, {}, {} }
    end
end
return out
