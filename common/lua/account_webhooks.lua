-- account_webhooks: the webhook settings of the account that owns the
-- API key (PUT /v1/account/webhooks): signing scheme, retry schedule
-- and the Standard Webhooks secret. The caller passes a fresh sealed
-- secret when it may be needed (a rotation, or a scheme other than
-- creativeai named), else ""; it is stored when a rotation is asked
-- for, or when a scheme that needs a secret is chosen and the account
-- has none. On a rotation the current secret becomes wh_secret_prev and
-- keeps signing until wh_secret_prev_until (now + grace).
-- The caller found the account from the key first (key_resolve.lua); the
-- key record is checked again here.
-- KEYS: 1 the caller's key record, 2 the account
-- ARGV: 1 signing ("" = keep; creativeai|standard|both), 2 schedule
--       ("" = keep; default|long), 3 rotate ("1" | "0"), 4 new sealed
--       secret ("" = none), 5 grace (ms), 6 account id
-- Reply: {"ok", signing, schedule, new secret stored (0|1), has a
--         secret (0|1), previous secret's expiry (ms, "" none)} |
--        {"unauthorized"}
if key_acct(KEYS[1]) ~= ARGV[6] then return { 'unauthorized' } end
local ak = KEYS[2]
local now = now_ms()
local cur = redis.call('HMGET', ak, 'wh_signing', 'wh_schedule',
    'wh_secret', 'wh_secret_prev_until')
local signing = ARGV[1] ~= '' and ARGV[1] or (cur[1] or 'creativeai')
local schedule = ARGV[2] ~= '' and ARGV[2] or (cur[2] or 'default')
local stored = 0
local until_ms = cur[4] or ''
if ARGV[4] ~= '' and
    (ARGV[3] == '1' or (signing ~= 'creativeai' and not cur[3])) then
    if cur[3] and ARGV[3] == '1' then
        until_ms = tostring(now + tonumber(ARGV[5]))
        redis.call('HSET', ak, 'wh_secret_prev', cur[3],
            'wh_secret_prev_until', until_ms)
    end
    redis.call('HSET', ak, 'wh_secret', ARGV[4])
    stored = 1
end
redis.call('HSET', ak, 'wh_signing', signing, 'wh_schedule', schedule)
local has = (stored == 1 or cur[3]) and 1 or 0
return { 'ok', signing, schedule, stored, has, until_ms }
