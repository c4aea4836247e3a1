-- outbox_done_many: records several delivery attempts in one call, each
-- exactly as outbox_done would (see there); a deliverer sends the
-- attempts that finished within one loop turn together.
-- No KEYS: the keys travel in ARGV. The attempts of one batch belong to
-- any accounts, so its keys span slots, and like outbox_done every
-- record also writes the global rl:outbox and rl:stats. Grouping a batch
-- per account would cost the batching (a call per account) without
-- making the script single-slot while rl:outbox is one key; it becomes
-- worth it once the outbox is sharded (docs/internals.md, Redis):
-- then group per (account, shard) and pass the keys as KEYS.
-- ARGV: groups of 10, one per attempt: job key, attempt log key, dedup
--       key, ref, token, outcome, delay (ms), attempt JSON, dedup TTL (s),
--       fail-open ("1" | "0")
-- Reply: one "ok" | "stale" per attempt, in order
local out = {}
local now = now_ms()
for i = 1, #ARGV, 10 do
    out[#out + 1] = record_attempt(ARGV[i], ARGV[i + 1], ARGV[i + 2],
        ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6], ARGV[i + 7],
        ARGV[i + 8], ARGV[i + 9] == '1', now)
end
return out
