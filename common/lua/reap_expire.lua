-- reap_expire: fails the jobs at the head of the queue that waited past
-- their maximum wait (no worker took them: none running, or all full),
-- refunding them, and pops refs at the head that lead nowhere (taken or
-- finished already, or malformed). The queue is mostly in accept order,
-- but requeued jobs (recovered, or dispatched and never claimed) go to
-- its tail behind younger ones: the sweep stops at the first queued job
-- not yet due, so a due one behind it fails when it reaches the head (at
-- the latest once the jobs ahead are due too) or when a worker's claim
-- finds it due (claim.lua). It works on the head as reap_scan read it
-- and stops where the queue is not that any more.
-- KEYS: 1 reaper lock, 2 queue, 3 outbox, 4 stats, 5 finished jobs,
--       6.. job, account and ledger of each ref marked "1" (refs_as_read)
-- ARGV: 1 holder id, 2.. pairs (ref, "1" | "0"): the head, in order
-- Reply: {"ok", expired, "1" when it went through every ref given, else
-- "0"} | {"skipped"} (the lock is another's now)
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return { 'skipped' } end
local now = now_ms()
local expired, all = 0, '1'
local refs = refs_as_read(2, 6,
    { queue = KEYS[2], outbox = KEYS[3], stats = KEYS[4],
        finished = KEYS[5] })
for _, r in ipairs(refs) do
    local ref, k = r[1], r[2]
    if redis.call('LINDEX', KEYS[2], 0) ~= ref then
        all = '0'
        break
    end
    local state = k and redis.call('HGET', k.job, 'state')
    if state == 'queued' and not job_expire_if_due(k, ref, now) then
        all = '0'
        break
    end
    -- Expired now, a stale ref (taken or finished already) or a
    -- malformed one: either way nothing is left to dispatch.
    redis.call('LPOP', KEYS[2])
    if state == 'queued' then expired = expired + 1 end
end
if expired > 0 then redis.call('HINCRBY', KEYS[4], 'reaped', expired) end
return { 'ok', expired, all }
