-- reap_worker: takes back the jobs of a worker whose lease on this
-- partition expired (reap_scan found it; the caller read its job set):
-- each ref still leased to it is recovered (job_recover: a new fencing
-- token so its writes are refused, one more recovery, back on the queue,
-- or failed and refunded past max recoveries), and leaves its job set.
-- Once the set is empty the worker is forgotten (its set and its lease
-- entry), so a late claim or renewal of that id is refused. A worker
-- whose lease is not expired (any more) is left alone: "alive". A set
-- larger than one call is taken in several; an expired worker adds no
-- job (claims need the lease), so the set only shrinks.
-- KEYS: 1 reaper lock, 2 workers, 3 the worker's job set, 4 queue,
--       5 outbox, 6 stats, 7 finished jobs, 8.. job, account and ledger
--       of each ref marked "1" (refs_as_read)
-- ARGV: 1 holder id, 2 worker id, 3 max recoveries, 4.. pairs
--       (ref, "1" | "0") from its job set
-- Reply: {"ok", requeued, failed, refs left in its set} | {"alive"} |
-- {"skipped"} (the lock is another's now)
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return { 'skipped' } end
local now = now_ms()
local w = ARGV[2]
local exp = redis.call('ZSCORE', KEYS[2], w)
if exp and tonumber(exp) > now then return { 'alive' } end
local maxrec = tonumber(ARGV[3])
local requeued, failed = 0, 0
local refs = refs_as_read(4, 8,
    { queue = KEYS[4], outbox = KEYS[5], stats = KEYS[6],
        finished = KEYS[7] })
for _, r in ipairs(refs) do
    local ref, k = r[1], r[2]
    if k then
        local f = redis.call('HMGET', k.job, 'owner', 'state')
        if f[1] == w and f[2] == 'leased' then
            if job_recover(k, ref, maxrec, 'worker lease expired; requeued',
                    now) then
                failed = failed + 1
            else
                requeued = requeued + 1
            end
        end
    end
    redis.call('SREM', KEYS[3], ref)
end
local left = redis.call('SCARD', KEYS[3])
if left == 0 then
    redis.call('ZREM', KEYS[2], w)
end
if requeued + failed > 0 then
    redis.call('HINCRBY', KEYS[6], 'reaped', requeued + failed)
end
return { 'ok', requeued, failed, left }
