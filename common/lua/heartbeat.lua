-- heartbeat: renews every lease of one worker at once (the lease is the
-- worker's entry in rl:workers; its jobs are in rl:wjobs:<worker>).
--
-- A worker that lost its lease dropped every job from memory and took a
-- new owner id; its first renewal under the new id names the old one
-- (ARGV 3) and retires it here: the jobs Redis still lists as the old
-- id's go back on the queue under a new fencing token, and the old id
-- leaves rl:workers, so a claim of the old id still on its way (sent on
-- a connection that stalled) is refused. Without this a renewal landing
-- before the reaper saw the lease expire would leave those jobs leased
-- to nobody. Safe to repeat.
-- ARGV: 1 worker id, 2 lease (ms), 3 retired id or ""
-- Reply: the new expiry (ms, Redis clock)
local now = now_ms()
local old = ARGV[3]
if old ~= '' then
    local wk = 'rl:wjobs:' .. old
    local n = 0
    for _, ref in ipairs(redis.call('SMEMBERS', wk)) do
        local jk = job_key(ref)
        if jk and redis.call('HGET', jk, 'owner') == old and
            redis.call('HGET', jk, 'state') == 'leased' then
            redis.call('HINCRBY', jk, 'fence', 1)
            requeue_job(jk, ref, 'worker lost its lease; requeued', now)
            n = n + 1
        end
    end
    redis.call('DEL', wk)
    redis.call('ZREM', 'rl:workers', old)
    if n > 0 then redis.call('HINCRBY', 'rl:stats', 'released', n) end
end
local exp = now + tonumber(ARGV[2])
redis.call('ZADD', 'rl:workers', exp, ARGV[1])
return exp
