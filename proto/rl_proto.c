/*
 * rl_proto - encode and decode the msgpack messages between reelay
 * processes. Each message type is described once, in s_specs[], and the
 * encoder, the decoder and the shared limit checks all walk that table.
 * SPDX-License-Identifier: MIT
 */
#include "rl_proto.h"

#include <assert.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rl_alloc.h"
#include "rl_text.h"

#define S_ENVELOPE 2                   /* version and type lead each array */
#define S_MAX_ARGS 5                   /* fields of the largest type */
#define S_MAX_COUNT ((int64_t)1 << 31) /* bound of credit and inflight */
#define S_HTTP_MIN 100
#define S_HTTP_MAX 599

/* How one member of rl_msg_t is checked, packed and unpacked. */
typedef enum {
    S_ID,     /* char[RL_PROTO_MAX_ID + 1], 1..RL_PROTO_MAX_ID bytes */
    S_STATUS, /* an S_ID reading "completed" or "failed" */
    S_STR,    /* owned char *, NULL packs as "", no NUL inside */
    S_BODY,   /* m->body and m->body_len, any bytes */
    S_INT,    /* int64_t in lo..hi */
    S_FIELDS, /* m->fields, a map of str to str on the wire */
} s_kind_t;

typedef struct {
    s_kind_t kind; /* checks and wire form of the member */
    size_t offset; /* offsetof the member in rl_msg_t */
    int64_t lo;    /* S_INT: smallest value accepted */
    int64_t hi;    /* S_INT: largest value accepted */
} s_arg_t;

typedef struct {
    const char *name;         /* returned by rl_proto_type_name() */
    size_t nargs;             /* fields after the envelope */
    s_arg_t args[S_MAX_ARGS]; /* in wire order */
} s_spec_t;

#define S_ARG(kind, member)                                                    \
    {                                                                          \
        (kind), offsetof(rl_msg_t, member), 0, 0                               \
    }
#define S_INT_ARG(member, lo, hi)                                              \
    {                                                                          \
        S_INT, offsetof(rl_msg_t, member), lo, hi                              \
    }
#define S_COUNT_ARG(member) S_INT_ARG(member, 0, S_MAX_COUNT)

static const s_spec_t s_specs[] = {
    [RL_MSG_DISPATCH] = {"dispatch",
                         2,
                         {S_ARG(S_ID, acct), S_ARG(S_ID, job_id)}},
    [RL_MSG_HELLO] = {"hello", 2, {S_ARG(S_ID, sender), S_COUNT_ARG(credit)}},
    [RL_MSG_CREDIT] = {"credit", 2, {S_ARG(S_ID, sender), S_COUNT_ARG(credit)}},
    [RL_MSG_HEARTBEAT] = {"heartbeat",
                          3,
                          {S_ARG(S_ID, sender), S_ARG(S_ID, incarnation),
                           S_COUNT_ARG(inflight)}},
    [RL_MSG_COMPLETION] = {"completion",
                           5,
                           {S_ARG(S_ID, acct), S_ARG(S_ID, job_id),
                            S_ARG(S_STATUS, status), S_ARG(S_STR, sign_key),
                            S_ARG(S_FIELDS, fields)}},
    [RL_MSG_SUBMIT] = {"submit",
                       3,
                       {S_ARG(S_STR, api_key), S_ARG(S_STR, idempotency_key),
                        S_ARG(S_BODY, body)}},
    [RL_MSG_REPLY] = {"reply",
                      2,
                      {S_INT_ARG(http_status, S_HTTP_MIN, S_HTTP_MAX),
                       S_ARG(S_BODY, body)}},
};

#define S_NSPECS (sizeof(s_specs) / sizeof(s_specs[0]))

/*
 * Frame pre-scan.
 *
 * msgpack-c allocates an array or map's slots as soon as it reads the
 * header, so five bytes (dd ff ff ff ff) ask for 96 GB (msgpack-c issues
 * #985 and #1013, no limit in the C API). Before handing a frame to
 * msgpack-c we walk its headers and reject any container that declares
 * more elements than bytes are left, which bounds every allocation by the
 * frame size. This is the only hand-written msgpack parsing here.
 */

typedef enum {
    S_HEAD_BAD,   /* 0xc1, never used */
    S_HEAD_BLOB,  /* scalar, str, bin or ext: skip its bytes */
    S_HEAD_ARRAY, /* the count is elements */
    S_HEAD_MAP,   /* the count is key/value pairs */
} s_head_kind_t;

typedef struct {
    uint8_t kind;     /* s_head_kind_t */
    uint8_t lenbytes; /* big-endian length or count after the tag */
    uint8_t extra;    /* fixed bytes after that (ext type, scalar value) */
} s_head_t;

#define S_B(lenbytes, extra)                                                   \
    {                                                                          \
        S_HEAD_BLOB, (lenbytes), (extra)                                       \
    }

/* Tags 0xc0..0xdf; the fix* ranges are handled in s_head(). By row: nil,
 * unused, false, true; bin 8/16/32, ext 8; ext 16/32, float 32/64; uint
 * 8..64; int 8..64; fixext 1/2/4/8; fixext 16, str 8/16/32; array 16/32,
 * map 16/32. */
static const s_head_t s_heads[32] = {
    S_B(0, 0),
    {S_HEAD_BAD, 0, 0},
    S_B(0, 0),
    S_B(0, 0),
    S_B(1, 0),
    S_B(2, 0),
    S_B(4, 0),
    S_B(1, 1),
    S_B(2, 1),
    S_B(4, 1),
    S_B(0, 4),
    S_B(0, 8),
    S_B(0, 1),
    S_B(0, 2),
    S_B(0, 4),
    S_B(0, 8),
    S_B(0, 1),
    S_B(0, 2),
    S_B(0, 4),
    S_B(0, 8),
    S_B(0, 2),
    S_B(0, 3),
    S_B(0, 5),
    S_B(0, 9),
    S_B(0, 17),
    S_B(1, 0),
    S_B(2, 0),
    S_B(4, 0),
    {S_HEAD_ARRAY, 2, 0},
    {S_HEAD_ARRAY, 4, 0},
    {S_HEAD_MAP, 2, 0},
    {S_HEAD_MAP, 4, 0},
};

/* Reads the item header at p (avail > 0 bytes): *skip is the bytes of
 * the header plus any payload, *children the items nested in it. Returns
 * 0, or -1 on an unused tag or a header cut short. */
static int
s_head(const uint8_t *p, size_t avail, uint64_t *skip, uint64_t *children)
{
    uint8_t tag = p[0];
    const s_head_t *h;
    uint64_t n = 0;

    *skip = 1;
    *children = 0;
    if (tag <= 0x7f || tag >= 0xe0)
        return 0;
    if (tag <= 0x9f) {
        *children = (uint64_t)(tag & 0x0f) * (tag <= 0x8f ? 2 : 1);
        return 0;
    }
    if (tag <= 0xbf) {
        *skip += tag & 0x1f;
        return 0;
    }
    h = &s_heads[tag - 0xc0];
    if (h->kind == S_HEAD_BAD || avail < 1u + h->lenbytes)
        return -1;
    for (size_t i = 1; i <= h->lenbytes; i++)
        n = (n << 8) | p[i];
    *skip += h->lenbytes + h->extra;
    if (h->kind == S_HEAD_BLOB)
        *skip += n;
    else
        *children = h->kind == S_HEAD_MAP ? 2 * n : n;
    return 0;
}

/* Walks the first msgpack item of buf and sets *end to the offset after
 * it. Returns -1 when the item is malformed, cut short, or declares more
 * nested items than bytes remain (each needs at least one). */
static int
s_scan(const uint8_t *buf, size_t len, size_t *end)
{
    uint64_t pending = 1;
    size_t off = 0;

    while (pending > 0) {
        uint64_t skip;
        uint64_t children;

        if (pending > len - off)
            return -1;
        if (s_head(buf + off, len - off, &skip, &children) != 0 ||
            skip > len - off)
            return -1;
        off += (size_t)skip;
        pending = pending - 1 + children;
    }
    *end = off;
    return 0;
}

/* Members and limits, shared by the encoder and the decoder. */

/* The spec of a wire or enum type, or NULL when unknown. */
static const s_spec_t *
s_spec(int64_t type)
{
    if (type <= 0 || (uint64_t)type >= S_NSPECS || s_specs[type].name == NULL)
        return NULL;
    return &s_specs[type];
}

/* The address of a's member in m. Not const: the decoder fills it. */
static void *
s_member(const rl_msg_t *m, const s_arg_t *a)
{
    return (char *)m + a->offset;
}

/* The body's length: body_len, or strlen(body) when body_len is 0, so a
 * sender that set only body still sends it. */
static size_t
s_body_len(const rl_msg_t *m)
{
    if (m->body == NULL)
        return 0;
    return m->body_len > 0 ? m->body_len : strlen(m->body);
}

static int
s_fail(const char **why, const char *reason)
{
    *why = reason;
    return -1;
}

static int
s_check_id(const char *id, const char **why)
{
    size_t n = strnlen(id, RL_PROTO_MAX_ID + 1);

    if (n == 0)
        return s_fail(why, "empty id");
    if (n > RL_PROTO_MAX_ID)
        return s_fail(why, "id too long");
    if (!rl_text_is_utf8(id, n))
        return s_fail(why, "string not UTF-8");
    return 0;
}

static int
s_check_status(const char *status, const char **why)
{
    if (s_check_id(status, why) != 0)
        return -1;
    if (strcmp(status, "completed") != 0 && strcmp(status, "failed") != 0)
        return s_fail(why, "status is not completed or failed");
    return 0;
}

static int
s_check_str(const char *s, const char **why)
{
    size_t n = s != NULL ? strnlen(s, RL_PROTO_MAX_STRING + 1) : 0;

    if (n > RL_PROTO_MAX_STRING)
        return s_fail(why, "string too long");
    if (!rl_text_is_utf8(s, n))
        return s_fail(why, "string not UTF-8");
    return 0;
}

static int
s_check_fields(const rl_msg_t *m, const char **why)
{
    if (m->nfields > RL_PROTO_MAX_FIELDS)
        return s_fail(why, "too many fields");
    for (size_t i = 0; i < m->nfields; i++) {
        const rl_msg_field_t *f = &m->fields[i];

        if (f->key == NULL || f->value == NULL || f->key[0] == '\0')
            return s_fail(why, "empty field");
        if (s_check_str(f->key, why) != 0 || s_check_str(f->value, why) != 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(m->fields[j].key, f->key) == 0)
                return s_fail(why, "duplicate field");
    }
    return 0;
}

static int
s_check_arg(const rl_msg_t *m, const s_arg_t *a, const char **why)
{
    const void *p = s_member(m, a);

    switch (a->kind) {
    case S_ID:
        return s_check_id(p, why);
    case S_STATUS:
        return s_check_status(p, why);
    case S_STR:
        return s_check_str(*(char *const *)p, why);
    case S_BODY:
        if (s_body_len(m) > RL_PROTO_MAX_STRING)
            return s_fail(why, "body too long");
        return 0;
    case S_INT:
        if (*(const int64_t *)p < a->lo || *(const int64_t *)p > a->hi)
            return s_fail(why, "integer out of range");
        return 0;
    case S_FIELDS:
        return s_check_fields(m, why);
    }
    return s_fail(why, "unknown field kind");
}

/* Checks every member of m's type against its limits. */
static int
s_check(const rl_msg_t *m, const s_spec_t *spec, const char **why)
{
    for (size_t i = 0; i < spec->nargs; i++)
        if (s_check_arg(m, &spec->args[i], why) != 0)
            return -1;
    return 0;
}

/* Appends copies of key and value (lengths without NUL) to m's fields. */
static void
s_append(rl_msg_t *m, const char *key, size_t klen, const char *value,
         size_t vlen)
{
    rl_msg_field_t *f;

    m->fields = rl_realloc(m->fields, (m->nfields + 1) * sizeof(*f));
    f = &m->fields[m->nfields++];
    f->key = rl_strndup(key, klen);
    f->value = rl_strndup(value, vlen);
}

/* Messages. */

void
rl_msg_init(rl_msg_t *m, rl_msg_type_t type)
{
    assert(m != NULL);
    memset(m, 0, sizeof(*m));
    m->type = type;
}

void
rl_msg_release(rl_msg_t *m)
{
    assert(m != NULL);
    for (size_t i = 0; i < m->nfields; i++) {
        free(m->fields[i].key);
        free(m->fields[i].value);
    }
    free(m->fields);
    free(m->body);
    free(m->idempotency_key);
    free(m->api_key);
    free(m->sign_key);
    rl_msg_init(m, m->type);
}

int
rl_msg_add_field(rl_msg_t *m, const char *key, const char *value)
{
    assert(m != NULL);
    assert(m->type == RL_MSG_COMPLETION);
    assert(key != NULL);
    assert(value != NULL);
    if (m->nfields >= RL_PROTO_MAX_FIELDS)
        return -1;
    s_append(m, key, strlen(key), value, strlen(value));
    return 0;
}

const char *
rl_msg_field(const rl_msg_t *m, const char *key)
{
    assert(m != NULL);
    assert(key != NULL);
    for (size_t i = 0; i < m->nfields; i++)
        if (strcmp(m->fields[i].key, key) == 0)
            return m->fields[i].value;
    return NULL;
}

const char *
rl_proto_type_name(rl_msg_type_t type)
{
    const s_spec_t *spec = s_spec(type);

    return spec != NULL ? spec->name : "unknown";
}

/* Encoding. */

static int
s_pack_str(msgpack_packer *pk, const char *s, size_t n)
{
    if (s == NULL)
        s = "";
    return msgpack_pack_str_with_body(pk, s, n);
}

static int
s_pack_fields(msgpack_packer *pk, const rl_msg_t *m)
{
    if (msgpack_pack_map(pk, m->nfields) != 0)
        return -1;
    for (size_t i = 0; i < m->nfields; i++) {
        const rl_msg_field_t *f = &m->fields[i];

        if (s_pack_str(pk, f->key, strlen(f->key)) != 0 ||
            s_pack_str(pk, f->value, strlen(f->value)) != 0)
            return -1;
    }
    return 0;
}

static int
s_pack_arg(msgpack_packer *pk, const rl_msg_t *m, const s_arg_t *a)
{
    const void *p = s_member(m, a);
    const char *s;

    switch (a->kind) {
    case S_ID:
    case S_STATUS:
        return s_pack_str(pk, p, strlen(p));
    case S_STR:
        s = *(char *const *)p;
        return s_pack_str(pk, s, s != NULL ? strlen(s) : 0);
    case S_BODY:
        return s_pack_str(pk, m->body, s_body_len(m));
    case S_INT:
        return msgpack_pack_int64(pk, *(const int64_t *)p);
    case S_FIELDS:
        return s_pack_fields(pk, m);
    }
    return -1;
}

/* Encodes m, already checked, into sb. */
static int
s_pack(msgpack_sbuffer *sb, const rl_msg_t *m, const s_spec_t *spec)
{
    msgpack_packer pk;

    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    if (msgpack_pack_array(&pk, S_ENVELOPE + spec->nargs) != 0 ||
        msgpack_pack_int64(&pk, RL_PROTO_VERSION) != 0 ||
        msgpack_pack_int64(&pk, m->type) != 0)
        return -1;
    for (size_t i = 0; i < spec->nargs; i++)
        if (s_pack_arg(&pk, m, &spec->args[i]) != 0)
            return -1;
    return 0;
}

int
rl_proto_encode(const rl_msg_t *m, char **out, size_t *out_len)
{
    const s_spec_t *spec;
    const char *why;
    msgpack_sbuffer sb;
    int rc = -1;

    assert(m != NULL);
    assert(out != NULL);
    assert(out_len != NULL);
    *out = NULL;
    *out_len = 0;
    spec = s_spec(m->type);
    if (spec == NULL || s_check(m, spec, &why) != 0)
        return -1;
    msgpack_sbuffer_init(&sb);
    if (s_pack(&sb, m, spec) != 0 || sb.size > RL_PROTO_MAX_FRAME)
        goto out;
    *out_len = sb.size;
    *out = msgpack_sbuffer_release(&sb);
    rc = 0;
out:
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* Decoding. */

static int
s_get_int(const msgpack_object *o, int64_t *v)
{
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *v = o->via.i64;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
             o->via.u64 <= INT64_MAX)
        *v = (int64_t)o->via.u64;
    else
        return -1;
    return 0;
}

/* Borrows the bytes of a str of at most max bytes, refusing an embedded
 * NUL unless binary is set. */
static int
s_get_str(const msgpack_object *o, size_t max, bool binary, const char **s,
          size_t *n, const char **why)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return s_fail(why, "expected a string");
    *n = o->via.str.size;
    *s = *n > 0 ? o->via.str.ptr : ""; /* no NULL into memcpy */
    if (*n > max)
        return s_fail(why, max == RL_PROTO_MAX_ID ? "id too long"
                                                  : "string too long");
    if (!binary && memchr(*s, '\0', *n) != NULL)
        return s_fail(why, "NUL byte in a string");
    /* msgpack's str is UTF-8: every reader renders ids and fields as
     * JSON (a webhook body, an error), which takes nothing else. */
    if (!binary && !rl_text_is_utf8(*s, *n))
        return s_fail(why, "string not UTF-8");
    return 0;
}

static int
s_take_fields(const msgpack_object *o, rl_msg_t *m, const char **why)
{
    const msgpack_object_kv *kv;

    if (o->type != MSGPACK_OBJECT_MAP)
        return s_fail(why, "expected a map");
    if (o->via.map.size > RL_PROTO_MAX_FIELDS)
        return s_fail(why, "too many fields");
    kv = o->via.map.ptr;
    for (size_t i = 0; i < o->via.map.size; i++) {
        const char *k, *v;
        size_t klen, vlen;

        if (s_get_str(&kv[i].key, RL_PROTO_MAX_STRING, false, &k, &klen, why) !=
                0 ||
            s_get_str(&kv[i].val, RL_PROTO_MAX_STRING, false, &v, &vlen, why) !=
                0)
            return -1;
        s_append(m, k, klen, v, vlen);
    }
    return 0;
}

/* Copies wire item o into a's member of m, checking its wire type and
 * size; s_check() then applies the limits. */
static int
s_take_arg(const msgpack_object *o, rl_msg_t *m, const s_arg_t *a,
           const char **why)
{
    bool is_id = a->kind == S_ID || a->kind == S_STATUS;
    void *p = s_member(m, a);
    const char *s;
    size_t n;

    if (a->kind == S_INT)
        return s_get_int(o, p) == 0 ? 0 : s_fail(why, "expected an integer");
    if (a->kind == S_FIELDS)
        return s_take_fields(o, m, why);
    if (s_get_str(o, is_id ? RL_PROTO_MAX_ID : RL_PROTO_MAX_STRING,
                  a->kind == S_BODY, &s, &n, why) != 0)
        return -1;
    if (is_id) {
        memcpy(p, s, n);
        ((char *)p)[n] = '\0';
    } else {
        *(char **)p = rl_strndup(s, n);
        if (a->kind == S_BODY)
            m->body_len = n;
    }
    return 0;
}

/* Fills m from the unpacked array o. */
static int
s_take(const msgpack_object *o, rl_msg_t *m, const char **why)
{
    const msgpack_object *item;
    const s_spec_t *spec;
    int64_t version;
    int64_t type;

    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < S_ENVELOPE)
        return s_fail(why, "not a message array");
    item = o->via.array.ptr;
    if (s_get_int(&item[0], &version) != 0 || version != RL_PROTO_VERSION)
        return s_fail(why, "unsupported version");
    if (s_get_int(&item[1], &type) != 0 || (spec = s_spec(type)) == NULL)
        return s_fail(why, "unknown message type");
    if (o->via.array.size != S_ENVELOPE + spec->nargs)
        return s_fail(why, "wrong number of fields");
    m->type = (rl_msg_type_t)type;
    for (size_t i = 0; i < spec->nargs; i++)
        if (s_take_arg(&item[S_ENVELOPE + i], m, &spec->args[i], why) != 0)
            return -1;
    return s_check(m, spec, why);
}

/* Bounds, pre-scans and unpacks one frame into u. */
static int
s_unpack(const void *buf, size_t len, msgpack_unpacked *u, const char **why)
{
    size_t end = 0;
    size_t off = 0;

    if (len == 0)
        return s_fail(why, "empty frame");
    if (len > RL_PROTO_MAX_FRAME)
        return s_fail(why, "frame too large");
    if (s_scan(buf, len, &end) != 0)
        return s_fail(why, "malformed msgpack");
    if (end != len)
        return s_fail(why, "trailing bytes");
    if (msgpack_unpack_next(u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        off != len)
        return s_fail(why, "malformed msgpack");
    return 0;
}

int
rl_proto_decode(const void *buf, size_t len, rl_msg_t *m, const char **why)
{
    msgpack_unpacked u;
    const char *reason = NULL;
    int rc;

    assert(buf != NULL || len == 0);
    assert(m != NULL);
    rl_msg_init(m, 0);
    msgpack_unpacked_init(&u);
    rc = s_unpack(buf, len, &u, &reason);
    if (rc == 0)
        rc = s_take(&u.data, m, &reason);
    msgpack_unpacked_destroy(&u);
    if (rc != 0) {
        rl_msg_release(m);
        if (why != NULL)
            *why = reason;
    }
    return rc;
}
