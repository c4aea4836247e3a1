-- key_create: another API key for the account that owns key KEYS[1]. The
-- caller found the account from the key first (key_resolve.lua); the key
-- record is checked again here.
-- KEYS: 1 the caller's key record, 2 the new key's record, 3 the
--       account's key index
-- ARGV: 1 sealed new key, 2 new key id, 3 new key prefix, 4 max keys,
--       5 account id, 6 the new key's hash (SHA-256 hex)
-- Reply: {"ok", acct} | {"unauthorized"} | {"too_many"}
local a = ARGV[5]
if key_acct(KEYS[1]) ~= a then return { 'unauthorized' } end
local ks = KEYS[3]
if redis.call('HLEN', ks) >= tonumber(ARGV[4]) then return { 'too_many' } end
local now = now_ms()
redis.call('HSET', KEYS[2], 'acct', a, 'created_at', now, 'id', ARGV[2],
    'prefix', ARGV[3], 'sealed', ARGV[1])
redis.call('HSET', ks, ARGV[2], ARGV[6])
return { 'ok', a }
