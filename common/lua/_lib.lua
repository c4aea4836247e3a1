-- _lib.lua: helpers prepended to every reelay script (see embed.cmake).
-- Every script below reads the clock from Redis TIME, never from the
-- caller, so deadlines do not depend on any process's clock.

local function now_ms()
    local t = redis.call('TIME')
    return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The account that owns the API key record kk (rl:key:<hash>), or nil
-- when the key is unknown or revoked (the caller answers
-- "unauthorized"). Scripts that declare the record in KEYS pass it.
local function key_acct(kk)
    local key = redis.call('HMGET', kk, 'acct', 'revoked_at')
    if not key[1] or key[2] then return nil end
    return key[1]
end

-- Appends {status, phase, at, reason} to the job's status history, a
-- JSON array kept as text: the entry is added to the text, so the
-- history is never decoded and encoded again here (that cost grew with
-- every entry; its readers parse it). A history that is not an array's
-- text starts afresh.
local function history_append(jk, entry)
    local raw = redis.call('HGET', jk, 'history')
    local e = cjson.encode(entry)
    local h
    if not raw or not string.find(raw, '^%[.*%]$') or
        string.find(raw, '^%[%s*%]$') then
        h = '[' .. e .. ']'
    else
        h = string.sub(raw, 1, -2) .. ',' .. e .. ']'
    end
    redis.call('HSET', jk, 'history', h)
end

-- Token bucket on hash key k (fields tokens, at), in two steps so that a
-- caller can refuse for another reason (402) without spending a token:
-- bucket_peek returns the tokens available now (fractional) and
-- bucket_spend takes one of them.
local function bucket_peek(k, rate, burst, now)
    local b = redis.call('HMGET', k, 'tokens', 'at')
    local tokens = tonumber(b[1]) or burst
    local at = tonumber(b[2]) or now
    return math.min(burst, tokens + (now - at) * rate / 1000)
end

-- The milliseconds until a bucket holding `tokens` has one whole token.
local function bucket_wait_ms(tokens, rate)
    return math.ceil((1 - tokens) * 1000 / rate)
end

local function bucket_spend(k, tokens, now)
    redis.call('HSET', k, 'tokens', tokens - 1, 'at', now)
end

-- The account's webhook settings a delivery is signed and retried with
-- (deliverer/webhook.h WEBHOOK_F_*). outbox_claim hands them to the
-- deliverer with the job's fields, and job_finish to the worker for its
-- COMPLETION message, so that a delivery made fail-open from that
-- message signs and retries as a claimed one does. The secrets stay
-- sealed (rl_aead) as they are stored.
local ACCT_WEBHOOK_FIELDS = { 'wh_signing', 'wh_schedule', 'wh_secret',
    'wh_secret_prev', 'wh_secret_prev_until' }

-- "A|J" -> account id, job id (nil when malformed). Data, not a key.
local function ref_parts(ref)
    return string.match(ref, '^([^|]+)|(.+)$')
end

-- Records one webhook attempt and its outcome under the token of the
-- claim it was made with (outbox_done.lua has the rules; outbox_done and
-- outbox_done_many call this). fail_open: a delivery made while Redis
-- could not be asked (counted in rl:stats webhooks_fail_open when it
-- delivered); now: the caller's now_ms(), read once per call of its
-- script. Returns 'ok' | 'stale'.
--
-- Safe to run twice, in O(1): a record is sent again only when the
-- reply to its first send was lost, and until that one is answered its
-- deliverer writes nothing else for the job (failopen.c keeps a job's
-- records in order and leaves its claims alone). Only other deliverers
-- can write in between: one record per claim, so one round of attempts
-- (at most RL_CONFIG_MAX_RETRIES = 16) fits the last 16 records. A
-- record that landed is among those, so they are all that is compared
-- (not the whole log, up to 100 records, for each record). Beyond them,
-- a claimed record is refused as stale anyway (a newer claim holds the
-- entry); a fail-open one (token "") would need a whole round of other
-- deliverers' attempts between its two sends to be applied twice.
local RECORD_REPLAY_WINDOW = 16
local ATTEMPT_LOG_MAX = 100 -- records kept per job
--
-- k holds the keys, all from the script's KEYS: job (the job hash), log
-- (its attempt log), dedup (its dedup key for the status delivered),
-- outbox, stats and whfail (the account's failed-delivery index).
local function record_attempt(k, ref, token, outcome, delay, json, ttl,
        fail_open, now)
    local jk, lk, dk = k.job, k.log, k.dedup
    -- status is set on every job hash: none means the job is gone
    local cur = redis.call('HMGET', jk, 'status', 'wh_token', 'wh_state')
    if not cur[1] then
        return 'stale' -- never recreate a job hash from a late record
    end
    for _, rec in ipairs(redis.call('LRANGE', lk, -RECORD_REPLAY_WINDOW,
            -1)) do
        if rec == json then return 'ok' end
    end
    if token ~= '' and cur[2] ~= token then
        return 'stale'
    end
    local _, j = ref_parts(ref)
    if redis.call('RPUSH', lk, json) > ATTEMPT_LOG_MAX then
        redis.call('LTRIM', lk, -ATTEMPT_LOG_MAX, -1)
    end
    redis.call('HINCRBY', jk, 'wh_attempts', 1)
    if outcome ~= 'delivered' and redis.call('GET', dk) == 'delivered' then
        redis.call('HSET', jk, 'wh_last_at', now)
        return 'ok'
    end
    if outcome == 'delivered' then
        redis.call('SET', dk, 'delivered', 'EX', tonumber(ttl))
        redis.call('ZREM', k.outbox, ref)
        redis.call('HSET', jk, 'wh_last_at', now, 'wh_state', 'delivered')
        -- listed as failed only by a failed record before this one (a
        -- fail-open delivery racing a claimed attempt), which set that
        -- state; a redelivery takes the job off the list itself
        if cur[3] == 'failed' then
            redis.call('ZREM', k.whfail, j)
        end
        redis.call('HINCRBY', k.stats, 'webhooks_delivered', 1)
        if fail_open then
            redis.call('HINCRBY', k.stats, 'webhooks_fail_open', 1)
        end
    elseif outcome == 'retry' then
        local due = now + tonumber(delay)
        redis.call('ZADD', k.outbox, 'XX', due, ref)
        redis.call('HSET', jk, 'wh_last_at', now, 'wh_next_at', due)
    else
        redis.call('ZREM', k.outbox, ref)
        redis.call('DEL', dk)
        redis.call('HSET', jk, 'wh_last_at', now, 'wh_state', 'failed')
        -- Failed events can be listed and recovered for the dedup window.
        redis.call('ZADD', k.whfail, now, j)
        redis.call('ZREMRANGEBYSCORE', k.whfail, '-inf',
            now - tonumber(ttl) * 1000)
        redis.call('HINCRBY', k.stats, 'webhooks_failed', 1)
    end
    return 'ok'
end

-- ---------------------------------------------------------------------
-- Keyed helpers. Every key they touch is one their script was given in
-- KEYS (the C side builds it: common/rl_keys.h), passed in the table k:
--   k.job     the job hash           k.acct    the account hash
--   k.ledger  the account's ledger   k.outbox  the outbox zset
--   k.stats   the counters hash      k.queue   the dispatch queue list
--   k.finished the index of finished jobs (a terminal write adds the
--             job's ref, scored by its finish: the retention step
--             reads it)
-- A helper uses only the fields it names; none makes a key name.

-- Appends a ledger entry to k.ledger and moves the balance of k.acct by
-- delta, in one step; j is the job id the entry names ('' for none).
local function money_move(k, kind, delta, j, reason, now)
    local bal = redis.call('HINCRBY', k.acct, 'credits', delta)
    if kind == 'debit' then
        redis.call('HINCRBY', k.acct, 'debited', -delta)
    elseif kind == 'refund' then
        redis.call('HINCRBY', k.acct, 'refunded', delta)
    else
        redis.call('HINCRBY', k.acct, 'granted', delta)
    end
    redis.call('HSET', k.acct, 'updated_at', now)
    redis.call('LPUSH', k.ledger, cjson.encode({
        type = kind, credits = math.abs(delta), balance = bal,
        job = j, reason = reason, at = tonumber(now) }))
    return bal
end

-- Refunds what is left of k.job's charge, at most once (refunded_at).
local function job_refund(k, j, reason, now)
    if redis.call('HEXISTS', k.job, 'refunded_at') == 1 then return 0 end
    local charged = tonumber(redis.call('HGET', k.job, 'credits') or '0')
    local back = tonumber(redis.call('HGET', k.job, 'credits_refunded')
        or '0')
    local amount = charged - back
    redis.call('HSET', k.job, 'refunded_at', now)
    if amount > 0 then
        redis.call('HSET', k.job, 'credits_refunded', charged)
        money_move(k, 'refund', amount, j, reason, now)
    end
    return amount
end

-- Queues k.job's terminal state in k.outbox when it has a webhook.
local function job_to_outbox(k, ref, now)
    local url = redis.call('HGET', k.job, 'webhook_url')
    if url and url ~= '' then
        redis.call('ZADD', k.outbox, 'NX', now, ref)
        redis.call('HSET', k.job, 'wh_state', 'pending', 'wh_next_at', now)
    end
end

-- Takes k.job off its account's active_jobs, once (release_active above
-- says why the 'active' mark makes it once).
local function job_release(k)
    if redis.call('HDEL', k.job, 'active') == 1 then
        redis.call('HINCRBY', k.acct, 'active_jobs', -1)
    end
end

-- Fails a job that is not terminal yet: status, refund, history, outbox,
-- the index of finished jobs, counters (k: job, acct, ledger, outbox,
-- finished, stats).
local function job_fail(k, ref, j, code, message, now)
    redis.call('HSET', k.job, 'status', 'failed', 'state', 'done',
        'error_code', code, 'error_message', message,
        'completed_at', now, 'updated_at', now, 'owner', '')
    job_release(k)
    history_append(k.job, { status = 'failed', at = now, reason = message })
    job_refund(k, j, code, now)
    job_to_outbox(k, ref, now)
    redis.call('ZADD', k.finished, now, ref)
    redis.call('HINCRBY', k.stats, 'jobs_failed', 1)
    redis.call('HINCRBY', k.acct, 'jobs_failed', 1)
end

-- Fails k.job if it still waits for a worker past its maximum wait
-- (expire_if_due above). Returns true when it did.
local function job_expire_if_due(k, ref, now)
    local f = redis.call('HMGET', k.job, 'state', 'deadline_at',
        'created_at')
    local deadline, created = tonumber(f[2] or ''), tonumber(f[3] or '')
    if f[1] ~= 'queued' or not deadline or deadline > now then
        return false
    end
    local _, j = ref_parts(ref)
    local waited = created and math.floor((now - created) / 1000) or 0
    local max = created and math.floor((deadline - created) / 1000) or 0
    job_fail(k, ref, j, 'timeout', 'job exceeded the maximum wait of ' ..
        max .. ' s (waited ' .. waited .. ' s, last phase Queued: no ' ..
        'worker took it in time)', now)
    return true
end

-- Appends the settings of account hash ak that are set to the flat
-- field/value list h, each name prefixed "acct:" (acct_webhook_fields
-- above). Returns h.
local function acct_webhook_fields_of(ak, h)
    local w = redis.call('HMGET', ak, unpack(ACCT_WEBHOOK_FIELDS))
    for i, name in ipairs(ACCT_WEBHOOK_FIELDS) do
        if w[i] then
            h[#h + 1] = 'acct:' .. name
            h[#h + 1] = w[i]
        end
    end
    return h
end

-- The account's key index ks as its caller read it a moment ago: ARGV
-- from position `from` on holds key id, key hash pairs, and KEYS from
-- position `kfrom` on the record of each, in the same order. Returns a
-- list of {id, hash, record key}, or nil when the index is not that any
-- more (a key was added in between: the caller answers "changed" and the
-- C side reads it again).
local function key_index_as_read(ks, from, kfrom)
    local list = {}
    for i = from, #ARGV - 1, 2 do
        local id, h = ARGV[i], ARGV[i + 1]
        if redis.call('HGET', ks, id) ~= h then return nil end
        list[#list + 1] = { id, h, KEYS[kfrom + #list] }
    end
    if redis.call('HLEN', ks) ~= #list then return nil end
    return list
end

-- Puts k.job back on k.queue for another claim. The caller has already
-- bumped its fencing token, so the old owner's writes fail.
local function job_requeue(k, ref, reason, now)
    redis.call('HSET', k.job, 'state', 'queued', 'owner', '',
        'updated_at', now)
    history_append(k.job, { status = 'processing', at = now,
        reason = reason })
    redis.call('RPUSH', k.queue, ref)
end

-- Takes k.job back from a worker that lost it (the reaper saw its lease
-- expire, or the worker handed it back): a new fencing token so the old
-- owner's writes are refused, one more recovery, and back on k.queue;
-- past maxrec failed and refunded instead (poison containment: a job
-- that keeps costing workers their lease stops looping). k: job, acct,
-- ledger, queue, outbox, stats. Returns true when it failed the job.
local function job_recover(k, ref, maxrec, reason, now)
    redis.call('HINCRBY', k.job, 'fence', 1)
    local n = redis.call('HINCRBY', k.job, 'recoveries', 1)
    if n > maxrec then
        local _, j = ref_parts(ref)
        job_fail(k, ref, j, 'recovery_limit', 'job recovered ' ..
            (n - 1) .. ' times after worker loss; giving up', now)
        return true
    end
    job_requeue(k, ref, reason, now)
    return false
end

-- Refs a sweep read a moment ago, with their keys. ARGV from position
-- `from` to the end holds pairs (ref, "1" | "0"): "1" when the caller
-- declared the ref's job, account and ledger in KEYS (from position
-- `kfrom` on, three per ref, in order), "0" for a ref it could not name
-- keys for (malformed, or of another partition: nothing to act on).
-- Returns a list of {ref, k} with k the shared table `base` extended by
-- job, acct and ledger (nil for a "0" ref).
local function refs_as_read(from, kfrom, base)
    local list, at = {}, kfrom
    for i = from, #ARGV - 1, 2 do
        local k = nil
        if ARGV[i + 1] == '1' then
            k = { job = KEYS[at], acct = KEYS[at + 1],
                ledger = KEYS[at + 2] }
            for name, key in pairs(base) do k[name] = key end
            at = at + 3
        end
        list[#list + 1] = { ARGV[i], k }
    end
    return list
end

-- ---------------------------------------------------------------------
-- The retention step (docs/retention.md; broker/retain.c): finished
-- jobs leave Redis once their retention has passed, archived first.

-- Takes or renews the retention lock lk for holder, for ms. Returns
-- false when another holder has it (the caller then does nothing).
local function retain_lock(lk, holder, ms)
    local cur = redis.call('GET', lk)
    if cur and cur ~= holder then return false end
    redis.call('SET', lk, holder, 'PX', tonumber(ms))
    return true
end

-- Whether job hash jk (ref in the outbox ob or not) may leave Redis now,
-- with cutoff = now - retention:
--   'gone'   no hash (removed already, by this or another broker);
--   'busy'   not done, or its webhook is pending (wh_state, or the ref
--            still in the outbox): a delivery or a redelivery is on;
--   'young'  it finished after cutoff;
--   'ready'  it may go.
-- Also returns the job's wh_token, wh_attempts, wh_state and
-- completed_at: the version an archived copy was made from.
local function retain_verdict(jk, ob, ref, cutoff)
    local f = redis.call('HMGET', jk, 'state', 'wh_state', 'wh_token',
        'wh_attempts', 'completed_at', 'status')
    if not f[1] and not f[6] then return 'gone', f end
    if f[1] ~= 'done' or (f[6] ~= 'completed' and f[6] ~= 'failed') or
        f[2] == 'pending' or redis.call('ZSCORE', ob, ref) then
        return 'busy', f
    end
    local at = tonumber(f[5] or '')
    if at and at > cutoff then return 'young', f end
    return 'ready', f
end
