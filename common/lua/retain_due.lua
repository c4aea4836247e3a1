-- retain_due: the first step of a retention round (docs/retention.md):
-- takes or renews the retention lock for the caller, then names the
-- round's work: the refs of finished jobs whose retention has passed,
-- the oldest first, and accounts whose ledger may hold entries to
-- archive. Changes nothing else, but drops from the index a ref that
-- no job can have: not "A|J", or longer than ARGV 6 (only a hand or a
-- corruption puts one there; left, it would take a place in every
-- round, and its caller could not name its keys).
-- KEYS: 1 the retention lock, 2 the index of finished jobs, 3 the
--       accounts with ledger entries to archive
-- ARGV: 1 holder id, 2 lock (ms), 3 retention (ms), 4 most refs,
--       5 most accounts, 6 longest ref
-- Reply: {"ok", now (ms, Redis clock), {ref...}, {account id...}}
--        | {"skipped"} (another holder has the lock)
if not retain_lock(KEYS[1], ARGV[1], ARGV[2]) then return { 'skipped' } end
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf',
    now - tonumber(ARGV[3]), 'LIMIT', 0, tonumber(ARGV[4]))
local refs = {}
for _, ref in ipairs(due) do
    if ref_parts(ref) and #ref <= tonumber(ARGV[6]) then
        refs[#refs + 1] = ref
    else
        redis.call('ZREM', KEYS[2], ref)
    end
end
local accts = {}
if tonumber(ARGV[5]) > 0 then
    accts = redis.call('SRANDMEMBER', KEYS[3], tonumber(ARGV[5]))
end
return { 'ok', now, refs, accts }
