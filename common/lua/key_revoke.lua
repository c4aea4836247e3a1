-- key_revoke: revokes key id ARGV[2] of the caller's account. It stops
-- authenticating at once; its sealed copy stays, so jobs submitted with
-- it are still signed with it. The last active key cannot be revoked.
-- The caller found the account from the key (key_resolve.lua) and read
-- its key index, to declare every key record; both are checked here.
-- KEYS: 1 the caller's key record, 2 the account's key index, 3.. the
--       record of each key of the index
-- ARGV: 1 account id, 2 key id, 3.. the index as read: key id, key hash,
--       ... (in the order of KEYS 3..)
-- Reply: {"ok"} | {"unauthorized"} | {"not_found"} | {"last_key"}
--        | {"changed"}
if key_acct(KEYS[1]) ~= ARGV[1] then return { 'unauthorized' } end
local keys = key_index_as_read(KEYS[2], 3, 3)
if not keys then return { 'changed' } end
local kk
for _, k in ipairs(keys) do
    if k[1] == ARGV[2] then kk = k[3] end
end
if not kk then return { 'not_found' } end
if redis.call('HEXISTS', kk, 'revoked_at') == 1 then return { 'ok' } end
local active = 0
for _, k in ipairs(keys) do
    if redis.call('HEXISTS', k[3], 'revoked_at') == 0 then
        active = active + 1
    end
end
if active <= 1 then return { 'last_key' } end
redis.call('HSET', kk, 'revoked_at', now_ms())
return { 'ok' }
