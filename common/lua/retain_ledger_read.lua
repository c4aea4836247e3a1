-- retain_ledger_read: the oldest entries of an account's ledger, for the
-- retention step to archive (retain_ledger_pop.lua says which may go).
-- The ledger grows at its head only and loses entries at its tail only
-- (retain_ledger_pop), so an entry's sequence number, ledger_archived +
-- its position from the tail (the oldest is 1), never changes.
-- KEYS: 1 the retention lock, 2 the account, 3 its ledger
-- ARGV: 1 holder id, 2 lock (ms), 3 most entries
-- Reply: {"ok", ledger_archived, {entry, ...}} (the oldest first)
--        | {"skipped"}
if not retain_lock(KEYS[1], ARGV[1], ARGV[2]) then return { 'skipped' } end
local base = tonumber(redis.call('HGET', KEYS[2], 'ledger_archived') or '0')
local tail = redis.call('LRANGE', KEYS[3], -tonumber(ARGV[3]), -1)
local out = {}
for i = #tail, 1, -1 do out[#out + 1] = tail[i] end
return { 'ok', base or 0, out }
