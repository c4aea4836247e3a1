-- account_create: a new account with its first API key and a grant.
-- KEYS: 1 rl:key:<hash>, 2 rl:acct:{A}
-- ARGV: 1 account id, 2 credits, 3 sealed key (AES-256-GCM, for
--       signing), 4 key id, 5 key prefix (shown in listings)
-- Reply: "ok" | "exists"
local now = now_ms()
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1
then
    return 'exists'
end
local a = ARGV[1]
redis.call('HSET', KEYS[1], 'acct', a, 'created_at', now, 'id', ARGV[4],
    'prefix', ARGV[5], 'sealed', ARGV[3])
redis.call('HSET', 'rl:keys:{' .. a .. '}', ARGV[4], string.sub(KEYS[1], 8))
redis.call('HSET', KEYS[2], 'credits', 0, 'granted', 0, 'debited', 0,
    'refunded', 0, 'jobs', 0, 'jobs_completed', 0, 'jobs_failed', 0,
    'created_at', now, 'updated_at', now)
redis.call('SADD', 'rl:accounts', a)
ledger_move(a, 'grant', tonumber(ARGV[2]), '', 'signup', now)
return 'ok'
