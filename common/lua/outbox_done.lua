-- outbox_done: records one delivery attempt and its outcome, under the
-- token of the claim it was made with.
-- KEYS: 1 job, 2 its attempt log, 3 its dedup key for the status
--       delivered, 4 outbox, 5 stats, 6 the account's failed-delivery
--       index
-- ARGV: 1 ref, 2 token ("" = fail-open delivery made without a claim),
--       3 outcome (delivered|retry|failed), 4 delay before the next
--       attempt (ms, retry only),
--       5 attempt JSON, 6 dedup TTL (s), 7 "1" when it was delivered
--       fail-open (without a claim), else "0"
-- Reply: "ok" | "stale"
-- The stats count webhooks_delivered and webhooks_failed, and
-- webhooks_fail_open: deliveries (2xx) made without a claim while Redis
-- could not be asked (ARGV 7).
-- A late record (fail-open, token "") of a failed or retried attempt of
-- a job already delivered is logged but changes nothing else: it must
-- not re-queue the entry nor erase the dedup key that keeps the
-- (job, status) from being delivered again.
-- Safe to run twice: a record already among the last ones of the log
-- (same bytes, which hold the attempt's start time and number; _lib.lua
-- record_attempt says why the last 16 suffice) is not applied again, so
-- a caller that lost the reply may send it again.
local k = { job = KEYS[1], log = KEYS[2], dedup = KEYS[3],
    outbox = KEYS[4], stats = KEYS[5], whfail = KEYS[6] }
return record_attempt(k, ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5],
    ARGV[6], ARGV[7] == '1', now_ms())
