-- heartbeat: renews a worker's lease on one partition (its entry in the
-- partition's workers zset; its jobs there are in its job set). A worker
-- renews every partition each period (worker/lease.c).
--
-- A worker that lost its lease dropped every job from memory and took a
-- new owner id; its first renewals under the new id name the old one
-- (ARGV 3) and retire it: its lease is ended at once (expiry 0), so a
-- claim of the old id still on its way (sent on a connection that
-- stalled) is refused, and the reaper's next sweep recovers the jobs
-- still leased to it as it recovers a dead worker's (reap_worker.lua).
-- Without this a renewal landing before its lease expired would leave
-- those jobs leased to nobody for the rest of that lease.
--
-- The refs after ARGV 4 are jobs of this partition the worker gave up on
-- while holding its lease (a claim or a write whose outcome stayed
-- unknown through its retries): each one still leased to this owner is
-- recovered (job_recover: a new fencing token, one more recovery, back
-- on the queue or failed past max recoveries), and leaves the owner's
-- job set. Safe to repeat: a ref recovered once is no longer leased to
-- it.
-- KEYS: 1 workers, 2 the worker's job set, 3 queue, 4 outbox, 5 stats,
--       6 finished jobs, 7.. job, account and ledger of each ref marked
--       "1" (refs_as_read)
-- ARGV: 1 worker id, 2 lease (ms), 3 retired id or "", 4 max recoveries,
--       5.. pairs (ref, "1" | "0") handed back
-- Reply: {"ok", the new expiry (ms, Redis clock)}
local now = now_ms()
local old = ARGV[3]
if old ~= '' and redis.call('ZSCORE', KEYS[1], old) then
    redis.call('ZADD', KEYS[1], 0, old)
end
local maxrec = tonumber(ARGV[4])
local given_up, given_up_failed = 0, 0
local refs = refs_as_read(5, 7,
    { queue = KEYS[3], outbox = KEYS[4], stats = KEYS[5],
        finished = KEYS[6] })
for _, r in ipairs(refs) do
    local ref, k = r[1], r[2]
    if k then
        local f = redis.call('HMGET', k.job, 'owner', 'state')
        if f[1] == ARGV[1] and f[2] == 'leased' then
            if job_recover(k, ref, maxrec,
                    'worker gave the job up; requeued', now) then
                given_up_failed = given_up_failed + 1
            end
            given_up = given_up + 1
        end
    end
    redis.call('SREM', KEYS[2], ref)
end
if given_up > 0 then
    redis.call('HINCRBY', KEYS[5], 'given_up', given_up)
end
if given_up_failed > 0 then
    redis.call('HINCRBY', KEYS[5], 'given_up_failed', given_up_failed)
end
local exp = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], exp, ARGV[1])
return { 'ok', exp }
