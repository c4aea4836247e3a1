'use strict';
// BullMQ reference pipeline of bench/e2e.sh: the jobs that service.js
// accepted (job hash + queue.add) are run by a BullMQ Worker with
// concurrency CONCURRENCY (100) in one Node process. Per job:
//   1. HGETALL the job hash, mark it processing
//   2. POST SIM_URL/v1/videos/text2video (Kling API shape, Bearer token;
//      the simulator runs without REELAY_SIM_KLING_AK so any bearer works)
//   3. every POLL_MS: GET /v1/videos/text2video/{task_id} until "succeed"
//      (or "failed": the job fails)
//   4. job hash -> completed with output_url and completed_at
//   5. the webhook: the job object as JSON, signed HMAC-SHA256(API key,
//      body) hex in X-CreativeAI-Signature: sha256=..., the key unsealed
//      (AES-256-GCM) from bq:key:<hash>; POSTed with a keep-alive agent;
//      a non-2xx throws, so BullMQ retries the job (attempts: 3)
//   node pipeline.js worker
// Environment: REDIS_PORT, MASTER_KEY, SIM_URL, POLL_MS (10),
// CONCURRENCY (100).
const http = require('node:http');
const crypto = require('node:crypto');
const Redis = require('ioredis');
const { Worker } = require('bullmq');
const { unseal, redisOpts, QUEUE } = require('./service.js');

const SIM = process.env.SIM_URL || 'http://127.0.0.1:8090';
const POLL_MS = Number(process.env.POLL_MS || 10);
const CONCURRENCY = Number(process.env.CONCURRENCY || 100);
const simAgent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const hookAgent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function request(agent, method, url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode,
        body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.setTimeout(10000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

async function sim(method, path, obj) {
  const body = obj ? JSON.stringify(obj) : undefined;
  const headers = { Authorization: 'Bearer bench' };
  if (body) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = Buffer.byteLength(body);
  }
  const r = await request(simAgent, method, SIM + path, headers, body);
  if (r.status !== 200) throw new Error(`simulator ${method} ${path}: ${r.status}`);
  const doc = JSON.parse(r.body);
  if (doc.code !== 0) throw new Error(`simulator code ${doc.code}: ${doc.message}`);
  return doc.data;
}

function run() {
  const redis = new Redis(redisOpts());
  const keys = new Map(); // key_hash -> unsealed key (as a signer caches it)

  async function processor(job) {
    const id = job.data.id;
    const jk = 'bq:job:' + id;
    const j = await redis.hgetall(jk);
    if (!j.id) throw new Error('job hash missing: ' + id);
    await redis.hset(jk, 'status', 'processing', 'started_at', Date.now());
    const task = await sim('POST', '/v1/videos/text2video', {
      model_name: j.model, prompt: j.prompt, duration: String(j.duration),
      aspect_ratio: j.aspect_ratio, external_task_id: id });
    let data;
    for (;;) {
      await sleep(POLL_MS);
      data = await sim('GET', '/v1/videos/text2video/' + task.task_id);
      if (data.task_status === 'succeed' || data.task_status === 'failed') break;
    }
    if (data.task_status !== 'succeed') throw new Error('render failed');
    const url = data.task_result.videos[0].url;
    const completedAt = Date.now();
    await redis.hset(jk, 'status', 'completed', 'output_url', url,
      'completed_at', completedAt, 'task_id', task.task_id);
    if (!j.webhook_url) return;
    let key = keys.get(j.key_hash);
    if (key === undefined) {
      key = unseal(await redis.hget('bq:key:' + j.key_hash, 'sealed'));
      keys.set(j.key_hash, key);
    }
    const body = JSON.stringify({ id, object: 'video.generation',
      status: 'completed', model: j.model, prompt: j.prompt,
      duration: j.duration + 's', aspect_ratio: j.aspect_ratio,
      output_url: url, credits: Number(j.credits), failover_used: false,
      created_at: new Date(Number(j.created_at)).toISOString(),
      completed_at: new Date(completedAt).toISOString() });
    const sig = crypto.createHmac('sha256', key).update(body).digest('hex');
    const r = await request(hookAgent, 'POST', j.webhook_url, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      'X-CreativeAI-Event': 'video.generation.completed',
      'X-CreativeAI-Delivery-Id': id,
      'X-CreativeAI-Signature': 'sha256=' + sig,
      'User-Agent': 'bullmq-bench/1' }, body);
    if (r.status < 200 || r.status > 299) throw new Error('webhook answered ' + r.status);
    await redis.hset(jk, 'wh_state', 'delivered');
  }

  const worker = new Worker(QUEUE, processor, { connection: redisOpts(),
    concurrency: CONCURRENCY });
  worker.on('failed', (job, err) => console.error('failed', job && job.id, err.message));
  worker.on('ready', () => console.log('ready'));
  const stop = () => {
    Promise.allSettled([worker.close(true), redis.quit()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[2] === 'worker') run();
else {
  console.error('usage: node pipeline.js worker');
  process.exit(2);
}
