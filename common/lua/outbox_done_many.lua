-- outbox_done_many: records several delivery attempts in one call, each
-- exactly as outbox_done would (see there); a deliverer sends the
-- attempts that finished within one loop turn together.
-- KEYS: 1 outbox, 2 stats, then four per attempt: its job, attempt log,
--       dedup key and the account's failed-delivery index
-- ARGV: 1 dedup TTL (s), then six per attempt, in the same order: ref,
--       token, outcome, delay (ms), attempt JSON, fail-open ("1" | "0")
-- Reply: one "ok" | "stale" per attempt, in order
local out = {}
local now = now_ms()
local n = (#KEYS - 2) / 4
for i = 0, n - 1 do
    local k = { outbox = KEYS[1], stats = KEYS[2], job = KEYS[3 + 4 * i],
        log = KEYS[4 + 4 * i], dedup = KEYS[5 + 4 * i],
        whfail = KEYS[6 + 4 * i] }
    local a = 1 + 6 * i
    out[#out + 1] = record_attempt(k, ARGV[a + 1], ARGV[a + 2], ARGV[a + 3],
        ARGV[a + 4], ARGV[a + 5], ARGV[1], ARGV[a + 6] == '1', now)
end
return out
