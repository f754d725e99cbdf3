/* SPDX-License-Identifier: Apache-2.0
 *
 * The audit section: how large and how old the audit trail may grow, when
 * to warn, what to do when it is full or cannot be written, how often to
 * checkpoint it, and where to forward it (syslog over TLS). The tables
 * hold the bounds and defaults; audit_check and forward_check add the
 * rules that span fields. The section only configures; the audit module
 * acts on it. Caller's thread.
 */
#include "project/internal.h"

#include <stddef.h>
#include <string.h>

_Static_assert(sizeof(enum bw_project_audit_when_full) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum bw_project_audit_on_failure) == sizeof(int), "enums are stored as int");

/* RFC 1035's limit on a domain name, in its text form. */
#define AUDIT_HOST_MAX 253

static const uint8_t default_warn[] = {80, 95};
_Static_assert(BW_ARRAY_LEN(default_warn) <= BW_PROJECT_AUDIT_MAX_WARN, "defaults fit");

/* An optional integer in [min_, max_], default def_. */
#define AUDIT_INT(key_, type, member, store_, min_, max_, def_)                                    \
    {                                                                                              \
        .key = (key_), .kind = PJ_INT, .flags = PJ_HAS_MIN | PJ_HAS_MAX | PJ_HAS_DEFAULT,          \
        .store = (store_), .offset = offsetof(type, member), .imin = (min_), .imax = (max_),       \
        .def = (def_)                                                                              \
    }
/* Text of 1..max_ bytes. */
#define AUDIT_TEXT(key_, member, flags_, max_)                                                     \
    {                                                                                              \
        .key = (key_), .kind = PJ_TEXT, .flags = PJ_HAS_MIN | (flags_), .store = PJ_ST_STR,        \
        .offset = offsetof(struct bw_project_audit_forward, member), .imin = 1, .imax = (max_)     \
    }

/* ---- forward -------------------------------------------------------- */

/* The code point at s[*i], moving *i past it. jansson hands out valid
 * UTF-8 only; anything else reads as U+0000, which is refused. */
static uint32_t utf8_next(const char *s, size_t len, size_t *i)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned c = p[*i];
    size_t need = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : 3;
    if ((c >= 0x80 && (c & 0xc0) == 0x80) || (c & 0xf8) == 0xf8 || len - *i - 1 < need) {
        (*i)++;
        return 0;
    }
    uint32_t cp = need == 0 ? c : c & (0x3fu >> need);
    for (size_t k = 1; k <= need; k++) {
        if ((p[*i + k] & 0xc0) != 0x80) {
            (*i)++;
            return 0;
        }
        cp = cp << 6 | (p[*i + k] & 0x3fu);
    }
    *i += need + 1;
    return cp;
}

/* Unicode's control (Cc) and White_Space characters. */
static bool host_char_bad(uint32_t cp)
{
    return cp <= 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
           cp == 0x205f || cp == 0x3000;
}

/* host and server_name go into DNS, the TLS handshake and log lines;
 * the walker has checked their length. */
static void check_host(struct pj_ctx *ctx, const char *key, const char *s)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        if (host_char_bad(utf8_next(s, len, &i))) {
            char quoted[PJ_QUOTE_BUF];
            pj_error_key(ctx, key, "%s must not contain whitespace or control characters",
                         pj_quote(quoted, s, len));
            return;
        }
    }
}

enum {
    FWD_HOST,
    FWD_PORT,
    FWD_CA_FILE,
    FWD_SERVER_NAME,
    FWD_CLIENT_CERT,
    FWD_CLIENT_KEY,
    FWD_FACILITY
};

static const struct pj_field forward_fields[] = {
    [FWD_HOST] = AUDIT_TEXT("host", host, PJ_REQUIRED, AUDIT_HOST_MAX),
    [FWD_PORT] =
        AUDIT_INT("port", struct bw_project_audit_forward, port, PJ_ST_U16, 1, 65535, 6514),
    [FWD_CA_FILE] = AUDIT_TEXT("ca_file", ca_file, PJ_REQUIRED, BW_PROJECT_TEXT_MAX),
    [FWD_SERVER_NAME] = AUDIT_TEXT("server_name", server_name, 0, AUDIT_HOST_MAX),
    [FWD_CLIENT_CERT] = AUDIT_TEXT("client_cert", client_cert, 0, BW_PROJECT_TEXT_MAX),
    [FWD_CLIENT_KEY] = AUDIT_TEXT("client_key", client_key, 0, BW_PROJECT_TEXT_MAX),
    /* 13: "log audit" (RFC 5424). */
    [FWD_FACILITY] =
        AUDIT_INT("facility", struct bw_project_audit_forward, facility, PJ_ST_INT, 0, 23, 13),
};
_Static_assert(BW_ARRAY_LEN(forward_fields) <= PJ_FIELDS_MAX, "fields fit struct pj_seen");

static void forward_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    const struct bw_project_audit_forward *fwd = dst;
    (void)index;
    if (pj_seen_ok(seen, FWD_HOST))
        check_host(ctx, "host", fwd->host);
    if (pj_seen_ok(seen, FWD_SERVER_NAME))
        check_host(ctx, "server_name", fwd->server_name);
    /* A certificate without its key (or the reverse) cannot be used. */
    if (seen->value[FWD_CLIENT_CERT] && !seen->value[FWD_CLIENT_KEY])
        pj_error_key(ctx, "client_key", "is required when \"client_cert\" is given");
    if (seen->value[FWD_CLIENT_KEY] && !seen->value[FWD_CLIENT_CERT])
        pj_error_key(ctx, "client_cert", "is required when \"client_key\" is given");
}

static const struct pj_object_spec forward_spec = {
    .fields = forward_fields,
    .count = BW_ARRAY_LEN(forward_fields),
    .check = forward_check,
};

/* ---- the section ---------------------------------------------------- */

static const char *const when_full_names[] = {
    [BW_PROJECT_AUDIT_FULL_ARCHIVE] = "archive",
    [BW_PROJECT_AUDIT_FULL_REFUSE] = "refuse",
};

static const char *const on_failure_names[] = {
    [BW_PROJECT_AUDIT_FAIL_CONTINUE] = "continue",
    [BW_PROJECT_AUDIT_FAIL_REFUSE] = "refuse",
};

bool pj_warn_percent_parse(struct pj_ctx *ctx, json_t *value, uint8_t *out, size_t max,
                           size_t *count_out)
{
    size_t count = json_array_size(value);
    if (count == 0 || count > max) {
        pj_error(ctx, "must have 1 to %zu values", max);
        return false;
    }
    bool ok = true;
    /* The last valid value; a bad one is not compared with its neighbours. */
    json_int_t prev = 0;
    for (size_t i = 0; i < count; i++) {
        json_t *v = json_array_get(value, i);
        size_t saved = pj_path_push_index(ctx, i);
        json_int_t n = json_integer_value(v);
        bool valid = false;
        if (!json_is_integer(v))
            pj_error(ctx, "must be an integer");
        else if (n < 1 || n > 99)
            pj_error(ctx, "must be between 1 and 99");
        else if (prev != 0 && n <= prev)
            pj_error(ctx, "must be greater than the value before it (%d)", (int)prev);
        else
            valid = true;
        pj_path_pop(ctx, saved);
        if (valid)
            out[i] = (uint8_t)n;
        prev = valid ? n : 0;
        ok = ok && valid;
    }
    if (ok)
        *count_out = count;
    return ok;
}

static bool warn_parse(struct pj_ctx *ctx, json_t *value, void *field_dst)
{
    struct bw_project_audit *audit = field_dst;
    return pj_warn_percent_parse(ctx, value, audit->warn_percent, BW_PROJECT_AUDIT_MAX_WARN,
                                 &audit->warn_count);
}

enum {
    AUD_MAX_SIZE,
    AUD_MAX_AGE,
    AUD_WARN,
    AUD_WHEN_FULL,
    AUD_ON_FAILURE,
    AUD_CHECKPOINT_RECORDS,
    AUD_CHECKPOINT_SECONDS,
    AUD_FORWARD
};

static const struct pj_field audit_fields[] = {
    [AUD_MAX_SIZE] =
        AUDIT_INT("max_size_mb", struct bw_project_audit, max_size_mb, PJ_ST_U32, 1, 1048576, 1024),
    [AUD_MAX_AGE] =
        AUDIT_INT("max_age_days", struct bw_project_audit, max_age_days, PJ_ST_U32, 0, 36500, 0),
    /* Stored by warn_parse, which needs the whole struct for the count. */
    [AUD_WARN] = {.key = "warn_percent", .kind = PJ_LIST, .list = warn_parse},
    [AUD_WHEN_FULL] = {.key = "when_full",
                       .kind = PJ_CHOICE,
                       .flags = PJ_HAS_DEFAULT,
                       .store = PJ_ST_ENUM,
                       .offset = offsetof(struct bw_project_audit, when_full),
                       .def = BW_PROJECT_AUDIT_FULL_ARCHIVE,
                       .choices = when_full_names,
                       .choice_count = BW_ARRAY_LEN(when_full_names)},
    [AUD_ON_FAILURE] = {.key = "on_failure",
                        .kind = PJ_CHOICE,
                        .flags = PJ_HAS_DEFAULT,
                        .store = PJ_ST_ENUM,
                        .offset = offsetof(struct bw_project_audit, on_failure),
                        .def = BW_PROJECT_AUDIT_FAIL_CONTINUE,
                        .choices = on_failure_names,
                        .choice_count = BW_ARRAY_LEN(on_failure_names)},
    [AUD_CHECKPOINT_RECORDS] = AUDIT_INT("checkpoint_records", struct bw_project_audit,
                                         checkpoint_records, PJ_ST_U32, 1, 1000000, 1000),
    [AUD_CHECKPOINT_SECONDS] = AUDIT_INT("checkpoint_seconds", struct bw_project_audit,
                                         checkpoint_seconds, PJ_ST_U32, 1, 86400, 60),
    /* Type checked only: audit_check allocates and walks it. */
    [AUD_FORWARD] = {.key = "forward", .kind = PJ_OBJECT},
};
_Static_assert(BW_ARRAY_LEN(audit_fields) <= PJ_FIELDS_MAX, "fields fit struct pj_seen");

static void audit_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    struct bw_project_audit *audit = dst;
    (void)index;
    /* Removing records by age is a kind of archiving; "refuse" never
     * removes any. */
    if (pj_seen_ok(seen, AUD_MAX_AGE) && audit->max_age_days > 0 &&
        pj_seen_ok(seen, AUD_WHEN_FULL) && audit->when_full != BW_PROJECT_AUDIT_FULL_ARCHIVE)
        pj_error_key(ctx, "max_age_days", "must be 0 unless when_full is \"archive\"");
    if (!pj_seen_ok(seen, AUD_FORWARD))
        return;
    /* The project owns it from here, so a later failure frees it. */
    audit->forward = bw_calloc(1, sizeof(*audit->forward));
    if (!audit->forward) {
        ctx->nomem = true;
        return;
    }
    size_t saved = pj_path_push_key(ctx, "forward");
    struct pj_seen forward_seen;
    pj_object_walk(ctx, seen->value[AUD_FORWARD], &forward_spec, audit->forward, 0, &forward_seen);
    pj_path_pop(ctx, saved);
}

const struct pj_object_spec pj_audit_spec = {
    .fields = audit_fields,
    .count = BW_ARRAY_LEN(audit_fields),
    .check = audit_check,
};

void pj_audit_init(struct bw_project_audit *audit)
{
    memset(audit, 0, sizeof(*audit));
    pj_object_defaults(&pj_audit_spec, audit);
    memcpy(audit->warn_percent, default_warn, sizeof(default_warn));
    audit->warn_count = BW_ARRAY_LEN(default_warn);
}
