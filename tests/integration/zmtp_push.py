"""Announces a job's completion to a deliverer again, as a worker that
re-emits it after a crash would: a minimal ZeroMQ PUSH peer (ZMTP 3.0,
NULL mechanism, one message per connection) and the msgpack encoding of
a COMPLETION (proto/rl_proto.h: [version, type, acct, job_id, status,
sign_key, {field: value}]). Python standard library only; it speaks
just enough of both formats for that one message.
"""

import os
import re
import socket
import struct

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
    h = redis.hgetall("rl:job:{%s}:%s" % (acct, job_id))
    sealed = redis.hget("rl:key:" + h["key_hash"], "sealed") or ""
    fields = {k: h[k] for k in COMPLETION_FIELDS if k in h}
    return completion(acct, job_id, h["status"], sealed, fields)


# ---- ZMTP 3.0 -----------------------------------------------------------

def _greeting():
    return (b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" +
            b"NULL" + b"\x00" * 16 + b"\x00" + b"\x00" * 31)


def _frame(flags, body):
    if len(body) < 0x100:
        return bytes([flags, len(body)]) + body
    return bytes([flags | 0x02]) + struct.pack(">Q", len(body)) + body


def _ready(socket_type):
    name = b"Socket-Type"
    prop = bytes([len(name)]) + name + struct.pack(">I", len(socket_type)) \
        + socket_type
    return _frame(0x04, b"\x05READY" + prop)


def _read_exact(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError("peer closed during the ZMTP handshake")
        out += chunk
    return out


def _read_frame(sock):
    flags = _read_exact(sock, 1)[0]
    if flags & 0x02:
        n = struct.unpack(">Q", _read_exact(sock, 8))[0]
    else:
        n = _read_exact(sock, 1)[0]
    return flags, _read_exact(sock, n)


def push(endpoint, frame, timeout=5.0):
    """Connects to a PULL socket bound at endpoint ("tcp://HOST:PORT"),
    completes the handshake (the peer's READY is read, so the message
    goes to a live socket) and sends one single-frame message."""
    host, port = endpoint[len("tcp://"):].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(_greeting() + _ready(b"PUSH"))
        peer = _read_exact(s, 64)
        if peer[0] != 0xff or peer[9] != 0x7f or peer[10] < 3:
            raise ConnectionError("not a ZMTP 3 peer: %r" % peer[:12])
        flags, body = _read_frame(s)
        if not (flags & 0x04) or not body.startswith(b"\x05READY"):
            raise ConnectionError("expected READY, got %r" % body[:16])
        s.sendall(_frame(0x00, frame))
        s.shutdown(socket.SHUT_WR)
        # The peer closes once it has read everything; waiting for that
        # makes sure the message was taken before we return.
        while s.recv(4096):
            pass
