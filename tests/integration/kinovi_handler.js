#!/usr/bin/env node
// kinovi_handler.js - the task API's documented webhook handler (Kinovi
// "Webhooks" page) made runnable with Node's built-in http module only
// (no npm), as a team migrating from that API would run it.
//
//   node kinovi_handler.js [--key API_KEY]... [--fail-next N]
//
// What the example does, kept as is:
//   const { data } = req.body;
//   if (data.state === 'success') saveVideo(data.taskId, data.output[0].url)
//   else if (data.state === 'fail') log data.error?.message
//   res.status(200).json({ message: 'ok' })
// plus the documented best practice "use taskId to deduplicate": a second
// callback for a taskId already processed is counted as a duplicate and
// not saved again.
//
// Beyond the example: X-CreativeAI-Signature ("sha256=" + hex HMAC-SHA256
// of the raw body keyed with the API key) is checked against the keys
// given with --key (or added with POST /_control {"key": K}); a mismatch
// is counted in bad_signatures but, like the example, the callback is
// still processed and answered 200, so the extra header changes nothing
// for a handler that ignores it.
//
// Listens on 127.0.0.1:0 and prints "listening 127.0.0.1:PORT".
// Test endpoints:
//   GET  /_state    {saved:{taskId:url}, failed:{taskId:message},
//                    duplicates:N, bad_signatures:N}
//   GET  /_log      every request received, in order: {path, headers,
//                    body (raw text), answered, signature_ok, at_ms}
//   POST /_control  {"fail_next": N, "status": S}: answer the next N
//                    callbacks with S (default 500) before processing them
//                    {"key": K}: one more key to verify signatures with
'use strict';

const http = require('http');
const crypto = require('crypto');

const keys = [];
let failNext = 0;
let failStatus = 500;
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--key' && i + 1 < process.argv.length) {
    keys.push(process.argv[++i]);
  } else if (a === '--fail-next' && i + 1 < process.argv.length) {
    failNext = parseInt(process.argv[++i], 10) || 0;
  } else {
    process.stderr.write(`usage: node kinovi_handler.js [--key KEY]... ` +
                         `[--fail-next N]\n`);
    process.exit(2);
  }
}

const state = { saved: {}, failed: {}, duplicates: 0, bad_signatures: 0 };
const processed = new Set(); // taskIds already handled (idempotency)
const log = [];

function verify(rawBody, header) {
  const received = Buffer.from(String(header || '').replace(/^sha256=/, ''));
  return keys.some((k) => {
    const expected = Buffer.from(crypto.createHmac('sha256', k)
      .update(rawBody).digest('hex'));
    return expected.length === received.length &&
      crypto.timingSafeEqual(expected, received);
  });
}

function saveVideo(taskId, url) {
  state.saved[taskId] = url;
}

function reply(res, status, obj) {
  const text = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json',
                          'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

// The documented handler, on the raw Node request.
function webhook(req, res, raw, entry) {
  let body;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    entry.answered = 400;
    return reply(res, 400, { message: 'bad json' });
  }
  entry.signature_ok = verify(raw, req.headers['x-creativeai-signature']);
  if (!entry.signature_ok) state.bad_signatures++;
  if (failNext > 0) {
    failNext--;
    entry.answered = failStatus;
    return reply(res, failStatus, { message: 'try again' });
  }
  const { data } = body;
  if (processed.has(data.taskId)) {
    state.duplicates++;
  } else {
    processed.add(data.taskId);
    if (data.state === 'success') {
      const videoUrl = data.output[0].url;
      saveVideo(data.taskId, videoUrl);
    } else if (data.state === 'fail') {
      console.error('Failed:', data.taskId, data.error?.message);
      state.failed[data.taskId] = data.error?.message;
    }
  }
  entry.answered = 200;
  reply(res, 200, { message: 'ok' });
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url, 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/_state') {
      return reply(res, 200, state);
    }
    if (req.method === 'GET' && url.pathname === '/_log') {
      return reply(res, 200, log);
    }
    if (req.method === 'POST' && url.pathname === '/_control') {
      let cmd;
      try {
        cmd = JSON.parse(raw.toString('utf8'));
      } catch (e) {
        return reply(res, 400, { message: 'bad json' });
      }
      if (Number.isInteger(cmd.fail_next)) failNext = cmd.fail_next;
      if (Number.isInteger(cmd.status)) failStatus = cmd.status;
      if (typeof cmd.key === 'string') keys.push(cmd.key);
      return reply(res, 200, { fail_next: failNext, status: failStatus,
                               keys: keys.length });
    }
    if (req.method !== 'POST') {
      return reply(res, 404, { message: 'not found' });
    }
    const entry = { path: url.pathname, headers: req.headers,
                    body: raw.toString('utf8'), answered: 0,
                    signature_ok: false, at_ms: Date.now() };
    log.push(entry);
    try {
      webhook(req, res, raw, entry);
    } catch (e) {
      // A callback the example's code cannot handle (e.g. no data).
      console.error('handler error:', e && e.message);
      entry.answered = 500;
      entry.error = String(e && e.message);
      reply(res, 500, { message: 'handler error' });
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`listening ${a.address}:${a.port}\n`);
});

function stop() {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
