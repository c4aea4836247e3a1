-- key_resolve: the account that owns an API key. The C side needs it
-- before any script of the account: every key that script touches
-- (rl:acct, rl:job, rl:idem of that account, ...) is built in C and
-- declared in KEYS, and its name holds the account id. The script that
-- follows checks the key record again (it is among its KEYS), so a key
-- revoked in between is refused there.
-- KEYS: 1 the API key's record
-- Reply: {"ok", acct} | {"unauthorized"} (unknown or revoked)
local key = redis.call('HMGET', KEYS[1], 'acct', 'revoked_at')
if not key[1] or key[2] then return { 'unauthorized' } end
return { 'ok', key[1] }
