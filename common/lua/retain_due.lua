-- retain_due: the first step of a retention round (docs/retention.md):
-- takes or renews the retention lock for the caller, then names the
-- round's work: the refs of finished jobs whose retention has passed,
-- the oldest first, and accounts whose ledger may hold entries to
-- archive. Changes nothing else.
-- KEYS: 1 the retention lock, 2 the index of finished jobs, 3 the
--       accounts with ledger entries to archive
-- ARGV: 1 holder id, 2 lock (ms), 3 retention (ms), 4 most refs,
--       5 most accounts
-- Reply: {"ok", now (ms, Redis clock), {ref...}, {account id...}}
--        | {"skipped"} (another holder has the lock)
if not retain_lock(KEYS[1], ARGV[1], ARGV[2]) then return { 'skipped' } end
local now = now_ms()
local refs = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf',
    now - tonumber(ARGV[3]), 'LIMIT', 0, tonumber(ARGV[4]))
local accts = {}
if tonumber(ARGV[5]) > 0 then
    accts = redis.call('SRANDMEMBER', KEYS[3], tonumber(ARGV[5]))
end
return { 'ok', now, refs, accts }
