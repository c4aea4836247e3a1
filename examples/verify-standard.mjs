// Verifies a reelay webhook delivery signed with Standard Webhooks
// (PUT /v1/account/webhooks {"signing": "standard"} or "both"), with the
// standardwebhooks npm package (npm ci in this directory first).
//
//   REELAY_WEBHOOK_SECRET=whsec_... node verify-standard.mjs \
//       HEADERS_FILE BODY_FILE
//
// The secret comes from the environment, never the command line (where
// any user of the machine can read it in ps).
//
// HEADERS_FILE holds the request's headers as "Name: value" lines,
// BODY_FILE the raw body bytes exactly as received. Prints "valid" and
// exits 0, or "invalid: REASON" and exits 1.
//
// The package checks webhook-signature (one or more "v1,BASE64", two
// during a secret rotation) over "{webhook-id}.{webhook-timestamp}.{body}"
// and refuses a webhook-timestamp more than 5 minutes from now.
// webhook-id ("msg_<job id>_<status>") stays the same across retries:
// remember it to drop a replay inside that window.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { readHeaders } from './verify.mjs';

// Returns the parsed event, or throws WebhookVerificationError.
export function verifyStandard(rawBody, headers, secret) {
  return new Webhook(secret).verify(rawBody, headers);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [headersFile, bodyFile] = process.argv.slice(2);
  const secret = process.env.REELAY_WEBHOOK_SECRET;
  if (!bodyFile || !secret) {
    console.error('usage: REELAY_WEBHOOK_SECRET=whsec_... ' +
                  'node verify-standard.mjs HEADERS_FILE BODY_FILE');
    process.exit(2);
  }
  try {
    verifyStandard(readFileSync(bodyFile), readHeaders(headersFile), secret);
    console.log('valid');
    process.exit(0);
  } catch (e) {
    console.log('invalid: ' + e.message);
    process.exit(1);
  }
}
