-- key_revoke: revokes key id ARGV[1] of the caller's account. It stops
-- authenticating at once; its sealed copy stays, so jobs submitted with
-- it are still signed with it. The last active key cannot be revoked.
-- KEYS: 1 rl:key:<hash of the caller's key>
-- ARGV: 1 key id
-- Reply: {"ok"} | {"unauthorized"} | {"not_found"} | {"last_key"}
local a = key_acct(KEYS[1])
if not a then return { 'unauthorized' } end
local ks = 'rl:keys:{' .. a .. '}'
local h = redis.call('HGET', ks, ARGV[1])
if not h then return { 'not_found' } end
local kk = 'rl:key:' .. h
if redis.call('HEXISTS', kk, 'revoked_at') == 1 then return { 'ok' } end
local active = 0
for _, hh in ipairs(redis.call('HVALS', ks)) do
    if redis.call('HEXISTS', 'rl:key:' .. hh, 'revoked_at') == 0 then
        active = active + 1
    end
end
if active <= 1 then return { 'last_key' } end
redis.call('HSET', kk, 'revoked_at', now_ms())
return { 'ok' }
