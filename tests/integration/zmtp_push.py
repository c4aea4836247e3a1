"""Announces a job's completion to a deliverer again, as a worker that
re-emits it after a crash would: the msgpack encoding of a COMPLETION
(proto/rl_proto.h: [version, type, acct, job_id, status, sign_key,
{field: value}]; Python standard library only, just enough of the
format for that one message), pushed over CURVE by tools/zpeer.c with a
worker's key pair, or with any other key (or none) to show the
deliverer refuses it.
"""

import os
import re
import struct
import tempfile

import rkeys

RL_PROTO_VERSION = 1
RL_MSG_COMPLETION = 5

def _completion_fields():
    """The job fields a worker puts in a COMPLETION, read from the one
    list the worker and the deliverer use (rl_jobview_webhook_fields in
    common/rl_jobview.c), so this peer cannot drift from them."""
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "..", "common", "rl_jobview.c")
    with open(src) as f:
        text = f.read()
    m = re.search(r"rl_jobview_webhook_fields\(size_t \*n\)\s*\{[^{]*"
                  r"\{(.*?)\};", text, re.S)
    if m is None:
        raise RuntimeError("field list not found in %s" % src)
    fields = tuple(re.findall(r'"([a-z_]+)"', m.group(1)))
    if "id" not in fields or "status" not in fields:
        raise RuntimeError("implausible field list in %s: %r"
                           % (src, fields))
    return fields


COMPLETION_FIELDS = _completion_fields()


# ---- msgpack (the subset a COMPLETION uses) -----------------------------

def _str(s):
    b = s.encode("utf-8")
    n = len(b)
    if n < 32:
        return bytes([0xa0 | n]) + b
    if n < 0x100:
        return b"\xd9" + bytes([n]) + b
    if n < 0x10000:
        return b"\xda" + struct.pack(">H", n) + b
    return b"\xdb" + struct.pack(">I", n) + b


def _map(d):
    n = len(d)
    head = bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)
    return head + b"".join(_str(k) + _str(v) for k, v in d.items())


def completion(acct, job_id, status, sign_key, fields):
    """The encoded COMPLETION frame."""
    return (bytes([0x97, RL_PROTO_VERSION, RL_MSG_COMPLETION]) +
            _str(acct) + _str(job_id) + _str(status) + _str(sign_key) +
            _map(fields))


def completion_of(redis, acct, job_id):
    """The COMPLETION a worker would send for the job as Redis holds it
    now (its fields and the sealed key it was submitted with)."""
    h = redis.hgetall(rkeys.job(acct, job_id))
    sealed = redis.hget(rkeys.apikey(h["key_hash"]), "sealed") or ""
    fields = {k: h[k] for k in COMPLETION_FIELDS if k in h}
    return completion(acct, job_id, h["status"], sealed, fields)


# ---- the push ------------------------------------------------------------

def push(cluster, endpoint, frames, key="worker", repeat=1):
    """Pushes each frame (bytes; or one frame) `repeat` times to the PULL
    socket bound at endpoint, over CURVE with the cluster's key pair
    `key` (a listed worker's by default; harness.Cluster.zpeer), every
    message queued before the handshake so that they leave in one write
    and the deliverer reads them in one loop turn. Returns (exit status,
    output) of reelay-zpeer: 0 once the handshake succeeded and the
    messages were handed to the kernel, 3 when the handshake was
    refused."""
    if isinstance(frames, bytes):
        frames = [frames]
    args = []
    for f in frames:
        fd, path = tempfile.mkstemp(prefix="frame-", dir=cluster.tmp)
        with os.fdopen(fd, "wb") as out:
            out.write(f)
        args += ["--frame", path]
    args += ["--repeat", str(repeat)]
    return cluster.zpeer("push", endpoint, *args, key=key,
                         server="deliverer")
