-- account_get: the caller's account, keys and (optionally) a page of its
-- ledger, newest first.
-- The ledger only grows at its head, so an entry's position counted from
-- the tail (the oldest is 0) never changes: the cursor is such a position,
-- "the entries older than this one", and pages stay put while new
-- entries arrive. Entries the retention step moved to the archive
-- (retain_ledger_pop.lua, counted in the account's ledger_archived) left
-- the tail; positions count them too, so a cursor stays put across that
-- move, and a page never reaches back into the archive.
-- The caller found the account from the key (key_resolve.lua) and read
-- its key index, to declare every key record; both are checked here.
-- KEYS: 1 the caller's key record, 2 the account's key index, 3 the
--       account, 4 its ledger, 5.. the record of each key of the index
-- ARGV: 1 account id, 2 ledger cursor ("" = from the newest), 3 ledger
--       count (0 = no ledger), 4.. the index as read: key id, key hash,
--       ... (in the order of KEYS 5..)
-- Reply: {"ok", acct, {account field, value...}, {key id, prefix,
--         created_at, revoked_at...}, {ledger entries...}, the cursor after
--         the page (0 = nothing older)} | {"unauthorized"} | {"changed"}
local a = ARGV[1]
if key_acct(KEYS[1]) ~= a then return { 'unauthorized' } end
local keys = key_index_as_read(KEYS[2], 4, 5)
if not keys then return { 'changed' } end
local list = {}
for _, k in ipairs(keys) do
    local r = redis.call('HMGET', k[3], 'prefix', 'created_at', 'revoked_at')
    list[#list + 1] = k[1]
    list[#list + 1] = r[1] or ''
    list[#list + 1] = r[2] or ''
    list[#list + 1] = r[3] or ''
end
local ledger = {}
local n = tonumber(ARGV[3])
local lk = KEYS[4]
local len = redis.call('LLEN', lk)
local base = tonumber(redis.call('HGET', KEYS[3], 'ledger_archived') or
    '0') or 0
local cursor = math.min((tonumber(ARGV[2]) or len + base) - base, len)
if n > 0 and cursor > 0 then
    ledger = redis.call('LRANGE', lk, len - cursor, len - cursor + n - 1)
end
local older = math.max(cursor - #ledger, 0)
return { 'ok', a, redis.call('HGETALL', KEYS[3]), list, ledger,
    older > 0 and older + base or 0 }
