'use strict';
// Load client of bench/e2e.sh, bench/inflight.sh, bench/delivery.sh (Node
// standard library only). Submits N jobs with at most CONC requests in the
// air on keep-alive connections, keeps id -> send time (ms), then
// (unless --no-wait) waits for the receiver to have N deliveries, reads its
// --out file (one JSON record per webhook: at_ms, verified, body) and
// prints one line:
//   bench e2e_run jobs=N accepted=.. delivered=.. verified=.. lost=..
//     dup=.. jobs_per_s=.. p50_ms=.. p99_ms=.. max_ms=.. secs=..
// jobs_per_s = accepted / (last verified webhook at_ms - first send ms);
// latency = webhook at_ms - the client's send time of that job.
// The API key comes from the environment, not the command line (which
// every user of the host can read).
//   REELAY_BENCH_KEY=KEY node e2e-client.js --url URL --n N [--conc C]
//     [--prompt P] [--webhook URL] [--receiver URL --deliveries FILE]
//     [--timeout S] [--no-wait] [--ids FILE] [--label NAME]
const http = require('node:http');
const fs = require('node:fs');

function args() {
  const a = { conc: 64, timeout: 120, prompt: 'Product reveal animation on white background, slow dolly-in, soft studio light [sim render_ms=0 steps=0]', label: 'e2e_run' };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i++) {
    const k = v[i].replace(/^--/, '');
    if (k === 'no-wait') a.noWait = true;
    else a[k] = v[++i];
  }
  a.key = process.env.REELAY_BENCH_KEY;
  if (!a.key) throw new Error('REELAY_BENCH_KEY is not set');
  a.n = Number(a.n);
  a.conc = Number(a.conc);
  a.timeout = Number(a.timeout);
  return a;
}

const nowMs = () => performance.timeOrigin + performance.now();

function post(agent, url, headers, body) {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode,
        body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', (e) => resolve({ status: 0, body: String(e) }));
    req.end(body);
  });
}

function get(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    }).on('error', reject);
  });
}

function pct(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)];
}

async function main() {
  const a = args();
  const agent = new http.Agent({ keepAlive: true, maxSockets: a.conc });
  const body = JSON.stringify({ model: 'kling-v3', prompt: a.prompt,
    duration: '5s', aspect_ratio: '16:9',
    ...(a.webhook ? { webhook_url: a.webhook } : {}) });
  const headers = { 'Content-Type': 'application/json',
    Authorization: 'Bearer ' + a.key, 'Content-Length': Buffer.byteLength(body) };
  const sent = new Map();
  const errors = {};
  let next = 0;
  const t0 = nowMs();
  async function lane() {
    while (next < a.n) {
      next++;
      const t = nowMs();
      const r = await post(agent, a.url, headers, body);
      if (r.status === 202) sent.set(JSON.parse(r.body).id, t);
      else errors[r.status] = (errors[r.status] || 0) + 1;
    }
  }
  await Promise.all(Array.from({ length: Math.min(a.conc, a.n) }, lane));
  const tSubmitted = nowMs();
  agent.destroy();
  const subSecs = (tSubmitted - t0) / 1000;
  const errText = Object.entries(errors).map(([k, v]) => k + ':' + v).join(',') || 'none';
  if (a.ids) fs.writeFileSync(a.ids, [...sent.keys()].join('\n') + '\n');
  if (a.noWait) {
    console.log(`bench ${a.label} jobs=${a.n} accepted=${sent.size} errors=${errText} submit_secs=${subSecs.toFixed(2)} submit_rps=${(sent.size / subSecs).toFixed(0)}`);
    return;
  }
  const deadline = Date.now() + a.timeout * 1000;
  let count = 0;
  for (;;) {
    try {
      count = JSON.parse(await get(a.receiver + '/_health')).next_seq - 1;
    } catch (e) { /* receiver busy */ }
    if (count >= sent.size || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const lines = fs.readFileSync(a.deliveries, 'utf8').split('\n');
  const seen = new Map();
  let verified = 0, dup = 0, unknown = 0, other = 0, last = 0;
  for (const line of lines) {
    if (!line) continue;
    const rec = JSON.parse(line);
    let job;
    try { job = JSON.parse(rec.body); } catch (e) { other++; continue; }
    if (!rec.verified || job.status !== 'completed') { other++; continue; }
    const t = sent.get(job.id);
    if (t === undefined) { unknown++; continue; }
    if (seen.has(job.id)) { dup++; continue; }
    verified++;
    seen.set(job.id, rec.at_ms - t);
    if (rec.at_ms > last) last = rec.at_ms;
  }
  const lat = [...seen.values()].sort((x, y) => x - y);
  const secs = (last - t0) / 1000;
  console.log(`bench ${a.label} jobs=${a.n} accepted=${sent.size} errors=${errText} ` +
    `delivered=${count} verified=${verified} lost=${sent.size - verified} dup=${dup} ` +
    `unknown=${unknown} other=${other} submit_rps=${(sent.size / subSecs).toFixed(0)} ` +
    `jobs_per_s=${(verified / secs).toFixed(0)} p50_ms=${pct(lat, 50).toFixed(1)} ` +
    `p99_ms=${pct(lat, 99).toFixed(1)} max_ms=${pct(lat, 100).toFixed(1)} secs=${secs.toFixed(2)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
