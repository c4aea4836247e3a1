-- account_get: the caller's account, keys and (optionally) a page of its
-- ledger, newest first.
-- The ledger only grows at its head, so an entry's position counted from
-- the tail (the oldest is 0) never changes: the cursor is such a position,
-- "the entries older than this one", and pages stay put while new
-- entries arrive.
-- KEYS: 1 rl:key:<hash of the caller's key>
-- ARGV: 1 ledger cursor ("" = from the newest), 2 ledger count (0 = no
--       ledger)
-- Reply: {"ok", acct, {account field, value...}, {key id, prefix,
--         created_at, revoked_at...}, {ledger entries...}, the cursor after
--         the page (0 = nothing older)} | {"unauthorized"}
local a = key_acct(KEYS[1])
if not a then return { 'unauthorized' } end
local list = {}
local kv = redis.call('HGETALL', 'rl:keys:{' .. a .. '}')
for i = 1, #kv, 2 do
    local k = redis.call('HMGET', 'rl:key:' .. kv[i + 1], 'prefix',
        'created_at', 'revoked_at')
    list[#list + 1] = kv[i]
    list[#list + 1] = k[1] or ''
    list[#list + 1] = k[2] or ''
    list[#list + 1] = k[3] or ''
end
local ledger = {}
local n = tonumber(ARGV[2])
local lk = ledger_key(a)
local len = redis.call('LLEN', lk)
local cursor = math.min(tonumber(ARGV[1]) or len, len)
if n > 0 and cursor > 0 then
    ledger = redis.call('LRANGE', lk, len - cursor, len - cursor + n - 1)
end
return { 'ok', a, redis.call('HGETALL', acct_key(a)), list, ledger,
    math.max(cursor - #ledger, 0) }
