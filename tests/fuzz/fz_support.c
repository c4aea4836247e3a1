/*
 * fz_support - input reading, checks and the configuration of the fuzz
 * targets.
 * SPDX-License-Identifier: MIT
 */
#include "fz.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rl_alloc.h"
#include "rl_log.h"
#include "rl_text.h"

#define S_CONFIG_MAX 8192 /* bytes of the generated configuration */

uint8_t
fz_u8(fz_in_t *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

uint16_t
fz_u16(fz_in_t *in)
{
    uint16_t hi = fz_u8(in);

    return (uint16_t)((hi << 8) | fz_u8(in));
}

char *
fz_str(fz_in_t *in, uint8_t sep, size_t *len)
{
    const uint8_t *end = memchr(in->p, sep, in->n);
    size_t n = end != NULL ? (size_t)(end - in->p) : in->n;
    char *s = rl_malloc(n + 1);

    if (n > 0)
        memcpy(s, in->p, n);
    s[n] = '\0';
    in->p += n;
    in->n -= n;
    if (end != NULL) {
        in->p++;
        in->n--;
    }
    if (len != NULL)
        *len = n;
    return s;
}

char *
fz_rest(fz_in_t *in, size_t *len)
{
    char *s = rl_malloc(in->n + 1);

    if (in->n > 0)
        memcpy(s, in->p, in->n);
    s[in->n] = '\0';
    if (len != NULL)
        *len = in->n;
    in->p += in->n;
    in->n = 0;
    return s;
}

void
fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "\n==FUZZ== %s:%d: property broken: %s\n==FUZZ== ", file,
            line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    abort();
}

void
fz_debug(const char *fmt, ...)
{
    static int on = -1;
    va_list ap;

    if (on < 0)
        on = getenv("FZ_DEBUG") != NULL;
    if (!on)
        return;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void
fz_setup(void)
{
    static bool done;

    if (done)
        return;
    done = true;
    rl_log_init("fuzz", RL_LOG_ERROR);
    signal(SIGPIPE, SIG_IGN);
}

bool
fz_utf8(const char *s)
{
    return rl_text_is_utf8(s, strlen(s));
}

json_t *
fz_json_object(const char *text, size_t len, const char *what)
{
    json_error_t err;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);

    FZ_CHECK(o != NULL, "%s is not JSON (%s): %.*s", what, err.text,
             (int)(len < 400 ? len : 400), text);
    FZ_CHECK(json_is_object(o), "%s is not a JSON object: %.*s", what,
             (int)(len < 400 ? len : 400), text);
    return o;
}

static void
s_check_string(const json_t *o, const char *key, const char *what)
{
    const json_t *v = json_object_get(o, key);

    FZ_CHECK(json_is_string(v), "%s: error.%s is not a string", what, key);
}

void
fz_check_api_error(const json_t *o, const char *what)
{
    const json_t *e = json_object_get(o, "error");
    const json_t *param = json_object_get(e, "param");

    FZ_CHECK(json_is_object(e), "%s: no error object", what);
    s_check_string(e, "type", what);
    s_check_string(e, "code", what);
    s_check_string(e, "message", what);
    FZ_CHECK(json_is_string(param) || json_is_null(param),
             "%s: error.param is neither a string nor null", what);
}

void
fz_check_dumps(const json_t *v, const char *what)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *back;

    FZ_CHECK(text != NULL, "%s cannot be written as JSON", what);
    back = json_loads(text, JSON_DECODE_ANY, NULL);
    FZ_CHECK(back != NULL && json_equal(back, v),
             "%s does not read back as written: %.400s", what, text);
    json_decref(back);
    free(text);
}

/* The catalog: one provider of each adapter type, the models of
 * deploy/reelay.ini (failover, aliases) and one model per other type. */
static const char s_catalog[] =
    "[provider.sim-kling]\ntype = kling\nbase_url = http://127.0.0.1:1\n"
    "key = ak\nsecret = sk\n"
    "[provider.sim-seedance]\ntype = seedance\n"
    "base_url = http://127.0.0.1:1/api/v3\n"
    "[provider.p-runway]\ntype = runway\nbase_url = http://127.0.0.1:1\n"
    "[provider.p-openai]\ntype = openai\nbase_url = http://127.0.0.1:1\n"
    "[provider.p-replicate]\ntype = replicate\n"
    "base_url = http://127.0.0.1:1\n"
    "[provider.p-fal]\ntype = fal\nbase_url = http://127.0.0.1:1\n"
    "[provider.p-kinovi]\ntype = kinovi\nbase_url = http://127.0.0.1:1\n"
    "[provider.p-luma]\ntype = luma\nbase_url = http://127.0.0.1:1\n"
    "[provider.p-minimax]\ntype = minimax\nbase_url = http://127.0.0.1:1\n"
    "[provider.p-veo]\ntype = veo\nbase_url = http://127.0.0.1:1\n"
    "[model.kling-v3]\nprovider = sim-kling\nupstream_model = kling-v3\n"
    "prices = 5s:3, 10s:6\nfailover = seedance, kling-o3-pro\n"
    "[model.seedance]\nprovider = sim-seedance\n"
    "upstream_model = seedance-1-0-pro-250528\nprices = 5s:2, 10s:4\n"
    "failover = kling-o3-pro\naliases = seedance-20, seedance2-fast\n"
    "[model.kling-o3-pro]\nprovider = sim-kling\n"
    "upstream_model = kling-v2-master\nprices = 5s:5, 10s:10\n"
    "[model.gen4]\nprovider = p-runway\nprices = 5s:4, 10s:8\n"
    "[model.sora-2]\nprovider = p-openai\nprices = 4s:4, 8s:8, 12s:12\n"
    "[model.wan]\nprovider = p-replicate\nprices = 5s:3\n"
    "[model.fal-kling]\nprovider = p-fal\nprices = 5s:3, 10s:6\n"
    "[model.kinovi-v1]\nprovider = p-kinovi\nprices = 5s:3, 10s:6\n"
    "[model.ray-2]\nprovider = p-luma\nprices = 5s:3, 9s:6\n"
    "[model.hailuo]\nprovider = p-minimax\nprices = 6s:3, 10s:6\n"
    "[model.veo-3]\nprovider = p-veo\nprices = 8s:8\n";

rl_config_t *
fz_config(const char *tag, int http_port, int redis_port)
{
    char path[] = "/tmp/reelay-fuzz-XXXXXX";
    char text[S_CONFIG_MAX], err[512];
    int fd = mkstemp(path);
    int n = snprintf(text, sizeof text,
                     "[redis]\nhost = 127.0.0.1\nport = %d\nembedded = false\n"
                     "command_timeout_ms = 2000\nreconnect_max_ms = 100\n"
                     "[http]\nlisten = 127.0.0.1:%d\nmax_body = 65536\n"
                     "[zmq]\ncurve = false\ningress = inproc://fz-%s-ingress\n"
                     "dispatch = inproc://fz-%s-dispatch\n"
                     "completion = inproc://fz-%s-completion\n"
                     "[security]\nmaster_key = " FZ_MASTER_KEY "\n"
                     "[accounts]\nsignup = admin\nadmin_token = " FZ_ADMIN_TOKEN
                     "\n"
                     "[jobs]\nmax_prompt_len = 2500\n"
                     "aspect_ratios = 16:9, 9:16, 1:1\n%s",
                     redis_port, http_port, tag, tag, tag, s_catalog);
    rl_config_t *cfg;

    FZ_CHECK(fd >= 0 && n > 0 && (size_t)n < sizeof text,
             "cannot write the fuzz configuration");
    FZ_CHECK(write(fd, text, (size_t)n) == n, "cannot write %s", path);
    close(fd);
    cfg = rl_config_load(path, err, sizeof err);
    unlink(path);
    FZ_CHECK(cfg != NULL, "the fuzz configuration does not load: %s", err);
    return cfg;
}

int
fz_free_port(void)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    FZ_CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
                 getsockname(fd, (struct sockaddr *)&sin, &len) == 0,
             "no free loopback port");
    close(fd);
    return ntohs(sin.sin_port);
}
