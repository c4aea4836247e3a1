-- heartbeat: renews every lease of one worker at once (the lease is the
-- worker's entry in rl:workers; its jobs are in rl:wjobs:<worker>).
--
-- A worker that lost its lease dropped every job from memory and took a
-- new owner id; its first renewal under the new id names the old one
-- (ARGV 3) and retires it here: the jobs Redis still lists as the old
-- id's are recovered as the reaper recovers a dead worker's
-- (recover_worker: each gets a new fencing token and one more recovery
-- counted, and goes back on the queue, or is failed and refunded past
-- max_recoveries), and the old id leaves rl:workers, so a claim of the old id still on its way (sent on a
-- connection that stalled) is refused. Without this a renewal landing
-- before the reaper saw the lease expire would leave those jobs leased
-- to nobody; without the count a job that keeps costing its workers the
-- lease would loop forever. Safe to repeat.
--
-- ARGV 5.. are refs the worker gave up on while holding its lease (a
-- claim or a write whose outcome stayed unknown through its retries):
-- each one still leased to this owner is recovered the same way, and
-- leaves the owner's job set. Safe to repeat: a ref recovered once is no
-- longer leased to it.
-- ARGV: 1 worker id, 2 lease (ms), 3 retired id or "", 4 max recoveries,
-- 5.. refs handed back
-- Reply: the new expiry (ms, Redis clock)
local now = now_ms()
local old = ARGV[3]
if old ~= '' then
    local requeued, failed = recover_worker(old, tonumber(ARGV[4]),
        'worker lost its lease; requeued', now)
    if requeued + failed > 0 then
        redis.call('HINCRBY', 'rl:stats', 'released', requeued + failed)
    end
    if failed > 0 then
        redis.call('HINCRBY', 'rl:stats', 'released_failed', failed)
    end
end
local given_up, given_up_failed = 0, 0
for i = 5, #ARGV do
    local ref = ARGV[i]
    local jk = job_key(ref)
    if jk and redis.call('HGET', jk, 'owner') == ARGV[1] and
        redis.call('HGET', jk, 'state') == 'leased' then
        if recover_job(jk, ref, tonumber(ARGV[4]),
                'worker gave the job up; requeued', now) then
            given_up_failed = given_up_failed + 1
        end
        given_up = given_up + 1
    end
    redis.call('SREM', 'rl:wjobs:' .. ARGV[1], ref)
end
if given_up > 0 then
    redis.call('HINCRBY', 'rl:stats', 'given_up', given_up)
end
if given_up_failed > 0 then
    redis.call('HINCRBY', 'rl:stats', 'given_up_failed', given_up_failed)
end
local exp = now + tonumber(ARGV[2])
redis.call('ZADD', 'rl:workers', exp, ARGV[1])
return exp
