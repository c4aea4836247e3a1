-- reap: puts back jobs that were dispatched and never claimed, and the
-- jobs of workers whose lease expired (their fencing token is bumped so
-- the old worker's writes are refused). A job recovered more than
-- max_recoveries times is failed and refunded (poison containment). Jobs
-- at the head of the queue past their maximum wait (no worker took them:
-- none running, or all full) are failed and refunded. The queue is
-- mostly in accept order, but requeued jobs (recovered, or dispatched
-- and never claimed) go to its tail behind younger ones: the sweep stops
-- at the first queued job not yet due, so a due one behind it fails when
-- it reaches the head (at the latest once the jobs ahead are due too) or
-- when a worker's claim finds it due (claim.lua). Refs at the head that
-- lead nowhere (taken or finished already, or malformed) are popped.
-- Only one process sweeps per period: the caller must take the lock
-- rl:lock:reaper (held for one period) or the sweep is skipped.
-- ARGV: 1 max recoveries, 2 limit per sweep, 3 holder id, 4 period (ms)
-- Reply: {requeued unclaimed, recovered, failed, expired} | {} when
-- skipped
local holder = redis.call('GET', 'rl:lock:reaper')
if holder and holder ~= ARGV[3] then return {} end
redis.call('SET', 'rl:lock:reaper', ARGV[3], 'PX', tonumber(ARGV[4]))
local now = now_ms()
local limit = tonumber(ARGV[2])
local maxrec = tonumber(ARGV[1])
local unclaimed, recovered, failed = 0, 0, 0
local refs = redis.call('ZRANGEBYSCORE', 'rl:dispatched', '-inf', now,
    'LIMIT', 0, limit)
for _, ref in ipairs(refs) do
    redis.call('ZREM', 'rl:dispatched', ref)
    local jk = job_key(ref)
    if jk and redis.call('HGET', jk, 'state') == 'queued' then
        redis.call('RPUSH', 'rl:queue', ref)
        unclaimed = unclaimed + 1
    end
end
local dead = redis.call('ZRANGEBYSCORE', 'rl:workers', '-inf', now,
    'LIMIT', 0, 16)
for _, w in ipairs(dead) do
    local r, f = recover_worker(w, maxrec, 'worker lease expired; requeued',
        now)
    recovered, failed = recovered + r, failed + f
end
local expired = 0
for _ = 1, limit do
    local ref = redis.call('LINDEX', 'rl:queue', 0)
    if not ref then break end
    local jk = job_key(ref)
    local state = jk and redis.call('HGET', jk, 'state')
    if state == 'queued' and not expire_if_due(jk, ref, now) then break end
    -- Expired now, a stale ref (taken or finished already) or a
    -- malformed one: either way nothing is left to dispatch.
    redis.call('LPOP', 'rl:queue')
    if state == 'queued' then expired = expired + 1 end
end
if recovered + failed + unclaimed + expired > 0 then
    redis.call('HINCRBY', 'rl:stats', 'reaped',
        recovered + failed + unclaimed + expired)
end
return { unclaimed, recovered, failed, expired }
