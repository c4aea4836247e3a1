-- retain_ledger_pop: moves the oldest entries of an account's ledger out
-- of Redis once they are archived, keeping the books exact: what they
-- add up to is carried in the account (carried_granted, carried_debited,
-- carried_refunded), so the ledger in Redis plus the carried sums is
-- still granted, debited and refunded (reelay audit checks it), and
-- ledger_archived counts them.
--
-- An entry may go when it is the next at the tail, is older than the
-- retention, is readable (a known type, a whole number of credits: what
-- the audit could not read stays for it to report), and the job it
-- names, if any, is no longer in Redis (removed by retain_remove.lua):
-- the entries of a job in Redis stay with it, so the audit still finds
-- its debit. The entries are given as read (retain_ledger_read.lua),
-- the oldest first; the first one that may not go ends the run.
--
-- Mode "check" only counts them; mode "pop" removes them. A check that
-- finds none, or a pop that stops before the end of what it was given
-- or empties the ledger, takes the account off the accounts to look at
-- (a later removal of its jobs puts it back).
-- Fenced by ledger_archived: a pop whose ledger_archived is not the one
-- read (a pop ran since: this one is a replay) answers "changed" and
-- changes nothing.
-- KEYS: 1 the retention lock, 2 the account, 3 its ledger, 4 the
--       accounts with ledger entries to archive, 5.. the hash of each job
--       an entry names, in the order of the entries
-- ARGV: 1 holder id, 2 lock (ms), 3 retention (ms), 4 mode ("check" |
--       "pop"), 5 account id, 6 ledger_archived as read, then two per
--       entry: its text, "1" when it names a job (its hash is the next
--       of KEYS 5..) or "0"
-- Reply: {"ok", entries that may go (check) or went (pop)} | {"changed"}
--        | {"skipped"}
if not retain_lock(KEYS[1], ARGV[1], ARGV[2]) then return { 'skipped' } end
local ak, lk, work = KEYS[2], KEYS[3], KEYS[4]
local base = tonumber(redis.call('HGET', ak, 'ledger_archived') or '0') or 0
if base ~= tonumber(ARGV[6]) then return { 'changed' } end
local cutoff = now_ms() - tonumber(ARGV[3])
local carried = { grant = 'carried_granted', debit = 'carried_debited',
    refund = 'carried_refunded' }
local sums = { grant = 0, debit = 0, refund = 0 }
local n, ki = 0, 5
for i = 7, #ARGV, 2 do
    local jk
    if ARGV[i + 1] == '1' then
        jk = KEYS[ki]
        ki = ki + 1
    end
    if redis.call('LINDEX', lk, -1 - n) ~= ARGV[i] then break end
    local ok, e = pcall(cjson.decode, ARGV[i])
    if not ok or type(e) ~= 'table' or not carried[e.type] then break end
    local at, c = tonumber(e.at), tonumber(e.credits)
    if not at or at > cutoff or not c or c < 0 or c ~= math.floor(c) then
        break
    end
    if jk and redis.call('EXISTS', jk) == 1 then break end
    sums[e.type] = sums[e.type] + c
    n = n + 1
end
if ARGV[4] == 'pop' and n > 0 then
    for _ = 1, n do redis.call('RPOP', lk) end
    for kind, field in pairs(carried) do
        if sums[kind] > 0 then
            redis.call('HINCRBY', ak, field, sums[kind])
        end
    end
    redis.call('HINCRBY', ak, 'ledger_archived', n)
end
local given = (#ARGV - 6) / 2
if (ARGV[4] == 'check' and n == 0) or (ARGV[4] == 'pop' and
        (n < given or redis.call('LLEN', lk) == 0)) then
    redis.call('SREM', work, ARGV[5])
end
return { 'ok', n }
