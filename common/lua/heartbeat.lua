-- heartbeat: renews every lease of one worker at once (the lease is the
-- worker's entry in rl:workers; its jobs are in rl:wjobs:<worker>).
-- ARGV: 1 worker id, 2 lease (ms)
-- Reply: the new expiry (ms, Redis clock)
local exp = now_ms() + tonumber(ARGV[2])
redis.call('ZADD', 'rl:workers', exp, ARGV[1])
return exp
