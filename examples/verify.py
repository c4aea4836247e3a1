#!/usr/bin/env python3
"""Verifies a reelay webhook delivery (Python standard library only).

    REELAY_API_KEY=... python3 verify.py --key HEADERS_FILE BODY_FILE
    REELAY_WEBHOOK_SECRET=whsec_... python3 verify.py --secret \
        [--now UNIX_SECONDS] HEADERS_FILE BODY_FILE

HEADERS_FILE holds the request's headers as "Name: value" lines, BODY_FILE
the raw body bytes exactly as received. Prints "valid" and exits 0, or
"invalid: REASON" and exits 1.

The key or secret comes from the environment, never the command line
(where any user of the machine can read it in ps).

--key checks the CreativeAI scheme: X-CreativeAI-Signature is "sha256=" and
the hex HMAC-SHA256 of the raw body keyed with your API key.

--secret checks the Standard Webhooks scheme (PUT /v1/account/webhooks
{"signing": "standard"} or "both"): webhook-signature holds one or more
space-separated "v1,BASE64" signatures, BASE64 being the HMAC-SHA256 of
"{webhook-id}.{webhook-timestamp}.{raw body}" keyed with the base64-decoded
part of the secret after "whsec_"; the timestamp must be within 5 minutes
of now (--now sets "now", for test vectors). Remember webhook-id to drop a
replay that is still within the window.

In your handler, call verify_creativeai() or verify_standard() on the raw
body before parsing it as JSON.
"""

import base64
import hashlib
import hmac
import os
import re
import sys
import time

TOLERANCE_S = 5 * 60


def verify_creativeai(raw_body, headers, api_key):
    """True when X-CreativeAI-Signature signs raw_body (bytes) with
    api_key; headers maps lower-cased names to values."""
    expected = "sha256=" + hmac.new(api_key.encode(), raw_body,
                                    hashlib.sha256).hexdigest()
    received = headers.get("x-creativeai-signature", "")
    return hmac.compare_digest(expected.encode(), received.encode())


def verify_standard(raw_body, headers, secret, now=None):
    """None when the Standard Webhooks headers sign raw_body with secret
    within the tolerance, else the reason it does not."""
    msg_id = headers.get("webhook-id")
    stamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and stamp and signatures):
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    if not re.fullmatch(r"[0-9]{1,12}", stamp):
        return "malformed webhook-timestamp"
    now = time.time() if now is None else now
    if abs(now - int(stamp)) > TOLERANCE_S:
        return "timestamp outside the tolerance"
    if secret.startswith("whsec_"):
        secret = secret[len("whsec_"):]
    try:
        key = base64.b64decode(secret, validate=True)
    except ValueError:
        return "the secret is not whsec_BASE64"
    signed = msg_id.encode() + b"." + stamp.encode() + b"." + raw_body
    expected = base64.b64encode(hmac.new(key, signed,
                                         hashlib.sha256).digest())
    for entry in signatures.split(" "):
        version, _, sig = entry.partition(",")
        if version == "v1" and hmac.compare_digest(expected, sig.encode()):
            return None
    return "no matching signature"


def read_headers(path):
    headers = {}
    with open(path, "rb") as f:
        for line in f.read().decode("utf-8").splitlines():
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
    return headers


def main(argv):
    args = argv[1:]
    opts = {}
    while len(args) > 2 and args[0] in ("--key", "--secret", "--now"):
        if args[0] == "--now":
            opts[args[0]] = args[1]
            args = args[2:]
        else:
            opts[args[0]] = True
            args = args[1:]
    if len(args) != 2 or ("--key" in opts) == ("--secret" in opts):
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    env = "REELAY_API_KEY" if "--key" in opts else "REELAY_WEBHOOK_SECRET"
    secret = os.environ.get(env, "")
    if not secret:
        sys.stderr.write("%s is not set\n" % env)
        return 2
    headers = read_headers(args[0])
    with open(args[1], "rb") as f:
        body = f.read()
    if "--key" in opts:
        why = None if verify_creativeai(body, headers, secret) \
            else "signature mismatch"
    else:
        now = float(opts["--now"]) if "--now" in opts else None
        why = verify_standard(body, headers, secret, now)
    print("valid" if why is None else "invalid: " + why)
    return 0 if why is None else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
