-- account_create: a new account with its first API key and a grant.
-- KEYS: 1 rl:key:<hash>, 2 rl:acct:{A}
-- ARGV: 1 account id, 2 credits, 3 signing key, 4 key prefix (shown)
-- Reply: "ok" | "exists"
local now = now_ms()
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1
then
    return 'exists'
end
redis.call('HSET', KEYS[1], 'acct', ARGV[1], 'created_at', now,
    'prefix', ARGV[4])
redis.call('HSET', KEYS[2], 'credits', 0, 'granted', 0, 'debited', 0,
    'refunded', 0, 'sign_key', ARGV[3], 'created_at', now,
    'updated_at', now)
redis.call('SADD', 'rl:accounts', ARGV[1])
ledger_move(ARGV[1], 'grant', tonumber(ARGV[2]), '', 'signup', now)
return 'ok'
