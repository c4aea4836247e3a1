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
-- ARGV: 1 worker id, 2 lease (ms), 3 retired id or "", 4 max recoveries
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
local exp = now + tonumber(ARGV[2])
redis.call('ZADD', 'rl:workers', exp, ARGV[1])
return exp
