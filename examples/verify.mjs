// Verifies a reelay webhook delivery signed with the CreativeAI scheme,
// with node:crypto only.
//
//   REELAY_API_KEY=... node verify.mjs HEADERS_FILE BODY_FILE
//
// The key comes from the environment, never the command line (where any
// user of the machine can read it in ps).
//
// HEADERS_FILE holds the request's headers as "Name: value" lines,
// BODY_FILE the raw body bytes exactly as received. Prints "valid" and
// exits 0, or "invalid: REASON" and exits 1.
//
// X-CreativeAI-Signature is "sha256=" and the lowercase hex HMAC-SHA256
// of the raw body keyed with your API key. Verify the raw bytes before
// parsing them: re-serialised JSON does not match. This scheme signs the
// body only; drop a replay by remembering X-CreativeAI-Delivery-Id (one
// success per job and status) or choose Standard Webhooks signing
// (verify-standard.mjs), which signs a timestamp too.
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export function verifyCreativeAi(rawBody, signatureHeader, apiKey) {
  const expected = 'sha256=' +
    crypto.createHmac('sha256', apiKey).update(rawBody).digest('hex');
  const a = Buffer.from(expected);
  const b = Buffer.from(String(signatureHeader || ''));
  // timingSafeEqual throws on buffers of different byte lengths (a
  // header of the right character count can still differ in bytes).
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

// "Name: value" lines -> {lower-cased name: value}
export function readHeaders(path) {
  const headers = {};
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] =
        line.slice(colon + 1).trim();
  }
  return headers;
}

// In an Express handler (app.use(express.raw({type: 'application/json'}))):
//   if (!verifyCreativeAi(req.body, req.get('X-CreativeAI-Signature'), KEY))
//     return res.status(401).send('invalid signature');

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [headersFile, bodyFile] = process.argv.slice(2);
  const apiKey = process.env.REELAY_API_KEY;
  if (!bodyFile || !apiKey) {
    console.error('usage: REELAY_API_KEY=... node verify.mjs ' +
                  'HEADERS_FILE BODY_FILE');
    process.exit(2);
  }
  const headers = readHeaders(headersFile);
  const ok = verifyCreativeAi(readFileSync(bodyFile),
                              headers['x-creativeai-signature'], apiKey);
  console.log(ok ? 'valid' : 'invalid: signature mismatch');
  process.exit(ok ? 0 : 1);
}
