'use strict';
// BullMQ reference for bench/submit.sh and bench/e2e.sh: the same accept
// path as reelay's broker, done honestly on Node + ioredis + BullMQ.
//
//   node service.js account CREDITS   -> prints "api_key rk_..." (creates
//                                        an account with a sealed key)
//   node service.js serve PORT        -> HTTP API on 127.0.0.1:PORT
//
// POST /v1/video/generations, per request:
//   1. auth: SHA-256 of the Bearer key -> HGET bq:key:<hash> account
//   2. validation of model / prompt / duration / aspect_ratio / webhook_url
//   3. one Lua script: credit check-and-debit, job hash, ledger entry
//   4. queue.add('render', {id, account})  (BullMQ's own Lua script)
//   5. 202 with the job object and a Location header
// Environment: REDIS_PORT (6379), MASTER_KEY (64 hex, seals the API keys).
const http = require('node:http');
const crypto = require('node:crypto');
const Redis = require('ioredis');
const { Queue } = require('bullmq');

const REDIS_PORT = Number(process.env.REDIS_PORT || 6379);
const MASTER = Buffer.from(process.env.MASTER_KEY || '00'.repeat(32), 'hex');
const QUEUE = 'renders';
const MAX_BODY = 65536;
const PRICES = {
  'kling-v3': { 5: 3, 10: 6 },
  seedance: { 5: 2, 10: 4 },
  'kling-o3-pro': { 5: 5, 10: 10 },
};
const ASPECTS = new Set(['16:9', '9:16', '1:1']);

const DEBIT = `
local bal = tonumber(redis.call('HGET', KEYS[1], 'credits') or '0')
local price = tonumber(ARGV[1])
if bal < price then return -1 end
redis.call('HINCRBY', KEYS[1], 'credits', -price)
redis.call('HINCRBY', KEYS[1], 'debited', price)
redis.call('HINCRBY', KEYS[1], 'jobs', 1)
redis.call('HSET', KEYS[2], unpack(ARGV, 4))
redis.call('LPUSH', KEYS[3], cjson.encode({kind = 'debit', job = ARGV[3],
  delta = -price, at = tonumber(ARGV[2])}))
return bal - price`;

function seal(plain) {
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', MASTER, iv);
  const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return Buffer.concat([iv, ct, c.getAuthTag()]).toString('base64');
}

function unseal(sealed) {
  const b = Buffer.from(sealed, 'base64');
  const d = crypto.createDecipheriv('aes-256-gcm', MASTER, b.subarray(0, 12));
  d.setAuthTag(b.subarray(b.length - 16));
  return Buffer.concat([d.update(b.subarray(12, b.length - 16)),
    d.final()]).toString('utf8');
}

function redisOpts() {
  return { host: '127.0.0.1', port: REDIS_PORT, maxRetriesPerRequest: null,
    enableAutoPipelining: true };
}

async function createAccount(credits) {
  const r = new Redis(redisOpts());
  const key = 'rk_' + crypto.randomBytes(30).toString('base64url').slice(0, 40);
  const hash = crypto.createHash('sha256').update(key).digest('hex');
  const acct = 'acct_' + crypto.randomBytes(8).toString('hex');
  await r.hset('bq:acct:' + acct, 'credits', credits, 'debited', 0, 'jobs', 0);
  await r.hset('bq:key:' + hash, 'account', acct, 'sealed', seal(key));
  console.log('account_id ' + acct);
  console.log('api_key ' + key);
  r.disconnect();
}

function reply(res, status, obj, extra) {
  const body = JSON.stringify(obj);
  const h = { 'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body) };
  if (extra) Object.assign(h, extra);
  res.writeHead(status, h);
  res.end(body);
}

function error(res, status, type, message, param) {
  reply(res, status, { error: { type, code: type, message, param: param || null } });
}

function duration(v) {
  if (v === undefined) return 5;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') {
    const m = /^(\d+)s?$/.exec(v);
    if (m) return Number(m[1]);
  }
  return -1;
}

function validUrl(s) {
  if (typeof s !== 'string' || s.length > 2048) return false;
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') &&
      !u.username && !u.password;
  } catch (e) {
    return false;
  }
}

function serve(port) {
  const redis = new Redis(redisOpts());
  const queue = new Queue(QUEUE, { connection: redisOpts() });
  redis.defineCommand('debit', { numberOfKeys: 3, lua: DEBIT });

  async function submit(req, res, raw) {
    const auth = req.headers.authorization || '';
    if (!auth.startsWith('Bearer '))
      return error(res, 401, 'authentication_error', 'missing API key');
    const hash = crypto.createHash('sha256').update(auth.slice(7)).digest('hex');
    const acct = await redis.hget('bq:key:' + hash, 'account');
    if (!acct) return error(res, 401, 'authentication_error', 'unknown API key');
    let b;
    try {
      b = JSON.parse(raw);
    } catch (e) {
      return error(res, 400, 'invalid_request_error', 'body is not JSON');
    }
    if (b === null || typeof b !== 'object')
      return error(res, 400, 'invalid_request_error', 'body is not an object');
    const prices = PRICES[b.model];
    if (!prices) return error(res, 400, 'invalid_request_error', 'unknown model', 'model');
    if (typeof b.prompt !== 'string' || b.prompt.length < 1 || b.prompt.length > 2500)
      return error(res, 400, 'invalid_request_error', 'bad prompt', 'prompt');
    const d = duration(b.duration);
    const price = prices[d];
    if (!price) return error(res, 400, 'invalid_request_error', 'bad duration', 'duration');
    const ar = b.aspect_ratio === undefined ? '16:9' : b.aspect_ratio;
    if (!ASPECTS.has(ar))
      return error(res, 400, 'invalid_request_error', 'bad aspect_ratio', 'aspect_ratio');
    if (b.webhook_url !== undefined && !validUrl(b.webhook_url))
      return error(res, 400, 'invalid_request_error', 'bad webhook_url', 'webhook_url');
    const now = Date.now();
    const id = 'vgen_' + crypto.randomBytes(16).toString('base64url');
    const createdAt = new Date(now).toISOString();
    const left = await redis.debit('bq:acct:' + acct, 'bq:job:' + id,
      'bq:ledger:' + acct, price, now, id,
      'id', id, 'account', acct, 'key_hash', hash, 'model', b.model,
      'prompt', b.prompt, 'duration', d, 'aspect_ratio', ar,
      'webhook_url', b.webhook_url || '', 'status', 'pending',
      'credits', price, 'created_at', now);
    if (left < 0)
      return error(res, 402, 'insufficient_credits', 'not enough credits');
    await queue.add('render', { id }, { removeOnComplete: true,
      removeOnFail: 1000, attempts: 3, backoff: { type: 'fixed', delay: 500 } });
    reply(res, 202, { id, object: 'video.generation', status: 'pending',
      model: b.model, prompt: b.prompt, duration: d + 's', aspect_ratio: ar,
      webhook_url: b.webhook_url || null, credits: price,
      failover_used: false, created_at: createdAt, phase: 'Queued' },
    { Location: '/v1/video/generations/' + id });
  }

  const server = http.createServer({ keepAliveTimeout: 75000 }, (req, res) => {
    if (req.method === 'GET' && req.url === '/readyz')
      return redis.ping().then(() => reply(res, 200, { status: 'ok' }),
        () => reply(res, 503, { status: 'unavailable' }));
    if (req.method !== 'POST' || req.url !== '/v1/video/generations')
      return error(res, 404, 'not_found', 'no route');
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return error(res, 413, 'invalid_request_error', 'body too large');
      submit(req, res, Buffer.concat(chunks).toString('utf8')).catch((e) => {
        if (!res.headersSent) {
          res.setHeader('Retry-After', '1');
          error(res, 503, 'service_unavailable', String(e.message || e));
        }
      });
    });
  });
  server.listen(port, '127.0.0.1', () => console.log('listening 127.0.0.1:' + port));
  const stop = () => {
    server.close();
    Promise.allSettled([queue.close(), redis.quit()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

module.exports = { unseal, redisOpts, QUEUE };

if (require.main === module) {
  const [cmd, arg] = process.argv.slice(2);
  if (cmd === 'account') createAccount(Number(arg || 1000000)).catch((e) => {
    console.error(e);
    process.exit(1);
  });
  else if (cmd === 'serve') serve(Number(arg));
  else {
    console.error('usage: node service.js account CREDITS | serve PORT');
    process.exit(2);
  }
}
