-- reap_unclaimed: puts back on the queue the dispatched refs that were
-- never claimed by their claim deadline (reap_scan read them). A ref no
-- longer dispatched, or not due yet, is left alone; one whose job is not
-- queued any more (claimed, finished, gone) just leaves the set.
-- KEYS: 1 reaper lock, 2 dispatched, 3 queue, 4 stats, 5.. job, account
--       and ledger of each ref marked "1" (refs_as_read)
-- ARGV: 1 holder id, 2.. pairs (ref, "1" | "0")
-- Reply: {"ok", requeued} | {"skipped"} (the lock is another's now)
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return { 'skipped' } end
local now = now_ms()
local n = 0
for _, r in ipairs(refs_as_read(2, 5, {})) do
    local ref, k = r[1], r[2]
    local due = redis.call('ZSCORE', KEYS[2], ref)
    if due and tonumber(due) <= now then
        redis.call('ZREM', KEYS[2], ref)
        if k and redis.call('HGET', k.job, 'state') == 'queued' then
            redis.call('RPUSH', KEYS[3], ref)
            n = n + 1
        end
    end
end
if n > 0 then redis.call('HINCRBY', KEYS[4], 'reaped', n) end
return { 'ok', n }
