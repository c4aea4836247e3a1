-- key_create: another API key for the account that owns key KEYS[1].
-- KEYS: 1 rl:key:<hash of the caller's key>, 2 rl:key:<hash of the new key>
-- ARGV: 1 sealed new key, 2 new key id, 3 new key prefix, 4 max keys
-- Reply: {"ok", acct} | {"unauthorized"} | {"too_many"}
local a = key_acct(KEYS[1])
if not a then return { 'unauthorized' } end
local ks = 'rl:keys:{' .. a .. '}'
if redis.call('HLEN', ks) >= tonumber(ARGV[4]) then return { 'too_many' } end
local now = now_ms()
redis.call('HSET', KEYS[2], 'acct', a, 'created_at', now, 'id', ARGV[2],
    'prefix', ARGV[3], 'sealed', ARGV[1])
redis.call('HSET', ks, ARGV[2], string.sub(KEYS[2], 8))
return { 'ok', a }
