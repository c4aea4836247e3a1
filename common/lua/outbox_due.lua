-- outbox_due: the outbox entries of one partition due now (Redis clock),
-- lowest score first: what a deliverer's scan then claims by name
-- (outbox_claim), naming their keys.
-- KEYS: 1 outbox
-- ARGV: 1 most refs
-- Reply: array of refs (possibly empty)
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms(), 'LIMIT', 0,
    tonumber(ARGV[1]))
