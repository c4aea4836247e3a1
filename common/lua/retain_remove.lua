-- retain_remove: removes finished jobs whose retention has passed, with
-- everything that belongs to them alone: the hash, the attempt log, the
-- dedup keys of both terminal statuses, the task index entry (a task's,
-- when it names this account), the entries in the account's job index,
-- failed-delivery index and the index of finished jobs. The verdict is
-- made again here (retain_verdict): a job not done, whose webhook is
-- pending or was redelivered, or that finished within the retention,
-- stays; a job archived from an older version of itself (its webhook
-- fields moved since: wh_token, wh_attempts, wh_state) stays too, and
-- the next round archives it again. A busy job's index entry moves on to
-- now - retention + recheck, so the step looks at it again `recheck` ms
-- later instead of every round. The account of each removed job joins
-- the accounts whose ledger entries the step archives next. Safe to run
-- twice: a job gone is only cleaned up after (its index entries).
-- KEYS: 1 the retention lock, 2 the index of finished jobs, 3 the
--       outbox, 4 the accounts with ledger entries to archive, 5 stats,
--       then seven per job: 6 its hash, 7 its attempt log, 8 the
--       account's job index, 9 its failed-delivery index, 10 the dedup
--       key of "completed", 11 of "failed", 12 the task index entry of
--       its id (touched only for a task: an id "task_...")
-- ARGV: 1 holder id, 2 lock (ms), 3 retention (ms), 4 recheck (ms), then
--       four per job: its ref, and the wh_token, wh_attempts and wh_state
--       its archived copy holds ("" for an absent field); or "-" in the
--       three: no archive is kept, remove any version; or "!" in the
--       three: it was not archived (its read found it not ready), so it
--       is never removed here, only moved on (busy, young) or cleaned up
--       after (gone)
-- Reply: {"ok", removed, busy, changed, gone} | {"skipped"}
if not retain_lock(KEYS[1], ARGV[1], ARGV[2]) then return { 'skipped' } end
local fin, ob, work, st = KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = now_ms()
local cutoff = now - tonumber(ARGV[3])
local later = cutoff + tonumber(ARGV[4])
local removed, busy, changed, gone = 0, 0, 0, 0

local function same(f, i)
    if ARGV[i + 1] == '-' then return true end
    if ARGV[i + 1] == '!' then return false end
    return (f[3] or '') == ARGV[i + 1] and (f[4] or '') == ARGV[i + 2] and
        (f[2] or '') == ARGV[i + 3]
end

for i = 5, #ARGV, 4 do
    local b = 6 + 7 * ((i - 5) / 4)
    local ref = ARGV[i]
    local a, j = ref_parts(ref)
    local v, f = retain_verdict(KEYS[b], ob, ref, cutoff)
    if not a then
        redis.call('ZREM', fin, ref) -- malformed: nothing to remove
        gone = gone + 1
    elseif v == 'busy' then
        redis.call('ZADD', fin, 'XX', later, ref)
        busy = busy + 1
    elseif v == 'young' then
        redis.call('ZADD', fin, 'XX', tonumber(f[5]), ref)
        busy = busy + 1
    elseif v == 'ready' and not same(f, i) then
        changed = changed + 1
    else
        -- ready, or gone (another round removed it, or only leftovers
        -- of it are here): the same clean-up
        if v == 'ready' then
            redis.call('SADD', work, a)
            removed = removed + 1
        else
            gone = gone + 1
        end
        redis.call('DEL', KEYS[b], KEYS[b + 1], KEYS[b + 4], KEYS[b + 5])
        if string.sub(j, 1, 5) == 'task_' and
            redis.call('GET', KEYS[b + 6]) == a then
            redis.call('DEL', KEYS[b + 6])
        end
        redis.call('ZREM', KEYS[b + 2], j)
        redis.call('ZREM', KEYS[b + 3], j)
        redis.call('ZREM', fin, ref)
    end
end
if removed > 0 then
    redis.call('HINCRBY', st, 'jobs_removed', removed)
end
return { 'ok', removed, busy, changed, gone }
