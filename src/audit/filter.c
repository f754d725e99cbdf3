/* SPDX-License-Identifier: Apache-2.0
 *
 * Query filters of the audit trail from text: one key and value at a
 * time (bw_audit_filter_set, what the CLI options give) or a whole URL
 * query string (bw_audit_filter_parse, what the HTTP API will give).
 * Everything here reads external input, so it is strict and bounded:
 * every value is checked in full, nothing is ever longer than the 4 KiB
 * a query may be, and an error says which key and why while echoing at
 * most 32 bytes of the input, with anything but printable ASCII
 * replaced. Pure functions; any thread.
 */
#include "audit/internal.h"

#include <string.h>

#define QUERY_MAX 4096
#define USER_MAX (sizeof(((struct bw_audit_filter *)0)->user) - 1)

/* ---- timestamps --------------------------------------------------------- */

/* A time value of a filter: RFC 3339 in UTC (bw_parse_utc_time). */
static int parse_time(const char *key, const char *s, size_t len, int64_t *out, char *err,
                      size_t errlen)
{
    const char *why = NULL;
    int rc = bw_parse_utc_time(s, len, out, &why);
    if (rc)
        return bw_param_error(err, errlen, rc, key, why, s, len);
    return BW_OK;
}

/* ---- lists -------------------------------------------------------------- */

typedef const char *(*name_fn)(unsigned value);

static const char *category_name(unsigned v)
{
    return bw_audit_category_name((enum bw_audit_category)v);
}

static const char *result_name(unsigned v)
{
    return bw_audit_result_name((enum bw_audit_result)v);
}

/* A comma-separated list of names into a mask of (1 << value). */
static int parse_names(const char *key, const char *what, name_fn name_of, unsigned max,
                       const char *s, size_t len, uint32_t *mask, char *err, size_t errlen)
{
    uint32_t m = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != ',')
            continue;
        const char *item = s + start;
        size_t n = i - start;
        if (n == 0)
            return bw_param_error(err, errlen, BW_EMALFORMED, key, "empty name in the list", s,
                                  len);
        unsigned found = 0;
        for (unsigned v = 1; v <= max && !found; v++) {
            const char *name = name_of(v);
            if (name && strlen(name) == n && memcmp(name, item, n) == 0)
                found = v;
        }
        if (!found)
            return bw_param_error(err, errlen, BW_EMALFORMED, key, what, item, n);
        m |= (uint32_t)1 << found;
        start = i + 1;
    }
    *mask = m;
    return BW_OK;
}

/* Comma-separated event IDs, each in the catalogue; duplicates kept once. */
static int parse_events(const char *s, size_t len, struct bw_audit_filter *f, char *err,
                        size_t errlen)
{
    uint32_t ids[BW_AUDIT_FILTER_MAX_EVENTS];
    size_t count = 0, items = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != ',')
            continue;
        const char *item = s + start;
        size_t n = i - start;
        start = i + 1;
        if (n == 0)
            return bw_param_error(err, errlen, BW_EMALFORMED, "event", "empty ID in the list", s,
                                  len);
        if (++items > BW_AUDIT_FILTER_MAX_EVENTS)
            return bw_param_error(err, errlen, BW_ERANGE, "event", "more than 16 event IDs", NULL,
                                  0);
        uint64_t id;
        int rc = bw_parse_u64(item, n, UINT32_MAX, &id);
        if (rc == BW_EMALFORMED)
            return bw_param_error(err, errlen, rc, "event", "not an event ID", item, n);
        if (rc || !bw_audit_event_lookup((uint32_t)id))
            return bw_param_error(err, errlen, BW_ERANGE, "event",
                                  "not in the catalogue of event IDs", item, n);
        bool seen = false;
        for (size_t k = 0; k < count; k++)
            seen = seen || ids[k] == (uint32_t)id;
        if (!seen)
            ids[count++] = (uint32_t)id;
    }
    memcpy(f->events, ids, count * sizeof(ids[0]));
    f->event_count = count;
    return BW_OK;
}

/* ---- user --------------------------------------------------------------- */

/* Control characters: C0, DEL, and C1 (U+0080..U+009F, 0xC2 0x80..0x9F). */
static bool has_control(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return true;
        if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9f)
            return true;
    }
    return false;
}

static int parse_user(const char *s, size_t len, struct bw_audit_filter *f, char *err,
                      size_t errlen)
{
    if (len > USER_MAX)
        return bw_param_error(err, errlen, BW_ERANGE, "user", "longer than 128 bytes", s, len);
    if (!bw_utf8_valid(s, len))
        return bw_param_error(err, errlen, BW_EMALFORMED, "user", "not valid UTF-8", s, len);
    if (has_control(s, len))
        return bw_param_error(err, errlen, BW_EMALFORMED, "user", "holds a control character", s,
                              len);
    memcpy(f->user, s, len);
    f->user[len] = '\0';
    return BW_OK;
}

/* ---- one key ------------------------------------------------------------ */

void bw_audit_filter_init(struct bw_audit_filter *filter)
{
    memset(filter, 0, sizeof(*filter));
    filter->from_us = INT64_MIN;
    filter->to_us = INT64_MAX;
    filter->limit = 100;
}

static int set_time(struct bw_audit_filter *f, bool is_from, const char *value, size_t len,
                    char *err, size_t errlen)
{
    const char *key = is_from ? "from" : "to";
    int64_t t = 0;
    int rc = parse_time(key, value, len, &t, err, errlen);
    if (rc)
        return rc;
    /* Checked whichever of the two comes second. */
    int64_t from = is_from ? t : f->from_us, to = is_from ? f->to_us : t;
    if (from >= to)
        return bw_param_error(err, errlen, BW_ERANGE, key, "'from' must be earlier than 'to'", NULL,
                              0);
    if (is_from)
        f->from_us = t;
    else
        f->to_us = t;
    return BW_OK;
}

static int set_number(struct bw_audit_filter *f, bool is_limit, const char *value, size_t len,
                      char *err, size_t errlen)
{
    uint64_t v;
    int rc = bw_parse_u64(value, len, is_limit ? BW_AUDIT_QUERY_MAX_LIMIT : UINT64_MAX, &v);
    if (rc == BW_EMALFORMED)
        return bw_param_error(err, errlen, rc, is_limit ? "limit" : "cursor", "not a whole number",
                              value, len);
    if (is_limit && (rc || v == 0))
        return bw_param_error(err, errlen, BW_ERANGE, "limit", "must be 1..10000", value, len);
    if (rc)
        return bw_param_error(err, errlen, BW_ERANGE, "cursor", "out of range", value, len);
    if (is_limit)
        f->limit = (uint32_t)v;
    else
        f->cursor = v;
    return BW_OK;
}

enum filter_key {
    KEY_FROM,
    KEY_TO,
    KEY_CATEGORY,
    KEY_USER,
    KEY_RESULT,
    KEY_EVENT,
    KEY_CURSOR,
    KEY_LIMIT,
    KEY_COUNT_
};

static const char *const key_names[KEY_COUNT_] = {
    [KEY_FROM] = "from",     [KEY_TO] = "to",         [KEY_CATEGORY] = "category",
    [KEY_USER] = "user",     [KEY_RESULT] = "result", [KEY_EVENT] = "event",
    [KEY_CURSOR] = "cursor", [KEY_LIMIT] = "limit",
};

static int find_key(const char *key, size_t len)
{
    for (int k = 0; k < KEY_COUNT_; k++)
        if (strlen(key_names[k]) == len && memcmp(key_names[k], key, len) == 0)
            return k;
    return -1;
}

static int unknown_key(const char *key, size_t len, char *err, size_t errlen)
{
    return bw_param_error(err, errlen, BW_EINVAL, "query", "unknown key", key, len);
}

static int set_known(struct bw_audit_filter *f, int k, const char *value, size_t len, char *err,
                     size_t errlen)
{
    if (len == 0)
        return bw_param_error(err, errlen, BW_EMALFORMED, key_names[k], "empty value", NULL, 0);
    switch (k) {
    case KEY_FROM:
    case KEY_TO:
        return set_time(f, k == KEY_FROM, value, len, err, errlen);
    case KEY_CATEGORY:
        return parse_names("category", "unknown category", category_name, BW_AUDIT_CATEGORY_COUNT,
                           value, len, &f->category_mask, err, errlen);
    case KEY_RESULT:
        return parse_names("result", "unknown result", result_name, BW_AUDIT_ERROR, value, len,
                           &f->result_mask, err, errlen);
    case KEY_USER:
        return parse_user(value, len, f, err, errlen);
    case KEY_EVENT:
        return parse_events(value, len, f, err, errlen);
    default:
        return set_number(f, k == KEY_LIMIT, value, len, err, errlen);
    }
}

int bw_audit_filter_set(struct bw_audit_filter *filter, const char *key, const char *value,
                        size_t value_len, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    size_t key_len = key ? strlen(key) : 0;
    int k = find_key(key ? key : "", key_len);
    if (k < 0)
        return unknown_key(key ? key : "", key_len, err, errlen);
    if (!value && value_len)
        return bw_param_error(err, errlen, BW_EINVAL, key_names[k], "no value", NULL, 0);
    return set_known(filter, k, value ? value : "", value_len, err, errlen);
}

/* ---- a URL query string --------------------------------------------------- */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..len) ('+' is a space, %XY a byte) into out, which holds at
 * least len bytes. False on a '%' not followed by two hex digits. */
static bool url_decode(const char *s, size_t len, char *out, size_t *out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%') {
            int hi = i + 2 < len ? hex_value(s[i + 1]) : -1;
            int lo = i + 2 < len ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return false;
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    *out_len = o;
    return true;
}

/* One "key=value" of len bytes; seen records the keys given so far. */
static int parse_pair(struct bw_audit_filter *f, const char *p, size_t len, unsigned *seen,
                      char *err, size_t errlen)
{
    if (len == 0)
        return bw_param_error(err, errlen, BW_EMALFORMED, "query",
                              "empty parameter (two '&' in a row)", NULL, 0);
    const char *eq = memchr(p, '=', len);
    size_t raw_key_len = eq ? (size_t)(eq - p) : len;
    char key[QUERY_MAX], value[QUERY_MAX];
    size_t key_len, value_len = 0;
    if (!url_decode(p, raw_key_len, key, &key_len))
        return bw_param_error(err, errlen, BW_EMALFORMED, "query", "bad percent-encoding in a key",
                              p, raw_key_len);
    int k = find_key(key, key_len);
    if (k < 0)
        return unknown_key(key, key_len, err, errlen);
    if (!eq)
        return bw_param_error(err, errlen, BW_EMALFORMED, key_names[k], "no value (missing '=')",
                              NULL, 0);
    if (*seen & (1u << k))
        return bw_param_error(err, errlen, BW_EMALFORMED, key_names[k], "given twice", NULL, 0);
    *seen |= 1u << k;
    const char *raw_value = eq + 1;
    size_t raw_value_len = len - raw_key_len - 1;
    if (!url_decode(raw_value, raw_value_len, value, &value_len))
        return bw_param_error(err, errlen, BW_EMALFORMED, key_names[k], "bad percent-encoding",
                              raw_value, raw_value_len);
    return set_known(f, k, value, value_len, err, errlen);
}

int bw_audit_filter_parse(const char *query, size_t len, struct bw_audit_filter *filter, char *err,
                          size_t errlen)
{
    bw_audit_filter_init(filter);
    if (err && errlen)
        err[0] = '\0';
    if (len > QUERY_MAX)
        return bw_param_error(err, errlen, BW_ETOOLARGE, "query", "longer than 4096 bytes", NULL,
                              0);
    if (len == 0)
        return BW_OK;
    if (!query)
        return bw_param_error(err, errlen, BW_EINVAL, "query", "no text", NULL, 0);
    unsigned seen = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && query[i] != '&')
            continue;
        int rc = parse_pair(filter, query + start, i - start, &seen, err, errlen);
        if (rc)
            return rc;
        start = i + 1;
    }
    return BW_OK;
}
