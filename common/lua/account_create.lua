-- account_create: a new account with its first API key and a grant.
-- KEYS: 1 the key's record, 2 the account, 3 its key index, 4 the set of
--       every account, 5 its ledger
-- ARGV: 1 account id, 2 credits, 3 sealed key (AES-256-GCM, for
--       signing), 4 key id, 5 key prefix (shown in listings), 6 the key's
--       hash (SHA-256 hex)
-- Reply: "ok" | "exists"
local now = now_ms()
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1
then
    return 'exists'
end
local a = ARGV[1]
redis.call('HSET', KEYS[1], 'acct', a, 'created_at', now, 'id', ARGV[4],
    'prefix', ARGV[5], 'sealed', ARGV[3])
redis.call('HSET', KEYS[3], ARGV[4], ARGV[6])
redis.call('HSET', KEYS[2], 'credits', 0, 'granted', 0, 'debited', 0,
    'refunded', 0, 'jobs', 0, 'jobs_completed', 0, 'jobs_failed', 0,
    'created_at', now, 'updated_at', now)
redis.call('SADD', KEYS[4], a)
money_move({ acct = KEYS[2], ledger = KEYS[5] }, 'grant', tonumber(ARGV[2]),
    '', 'signup', now)
return 'ok'
