/* SPDX-License-Identifier: Apache-2.0
 *
 * The parameters of a history query from text: one key and value at a
 * time (what `bulwark history query` options give) or a whole URL query
 * string (what GET /api/v1/history will give). Everything here reads
 * outside input, so it is strict and bounded: a query is at most 4 KiB,
 * each value is checked in full, every key at most once, and an error
 * names the key and why, echoing at most 32 bytes of the input with
 * anything but printable ASCII replaced. Pure; any thread.
 */
#include "store/store.h"

#include <stdio.h>
#include <string.h>

/* 100 years: a range longer than any retention, short enough that no
 * arithmetic on it can overflow. */
#define RANGE_MAX_US (100LL * 366 * 86400 * 1000000)
/* The relative form reaches back at most as far. */
#define RELATIVE_MAX_UNITS 100000000LL

void bw_history_query_init(struct bw_history_query *q)
{
    memset(q, 0, sizeof(*q));
    q->limit = BW_HISTORY_DEFAULT_LIMIT;
    q->from_us = INT64_MIN;
    q->to_us = INT64_MIN;
    q->cursor_us = INT64_MIN;
}

static bool name_valid(const char *s, size_t len)
{
    if (len == 0 || len > BW_HISTORY_TAG_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        bool digit = c >= '0' && c <= '9';
        if (!(letter || (i > 0 && (digit || c == '_' || c == '.'))))
            return false;
    }
    return true;
}

/* RFC 3339 UTC, "now", or "now-<N><s|m|h|d>". */
static int parse_time(const char *key, const char *s, size_t len, int64_t now_us, int64_t *out,
                      char *err, size_t errlen)
{
    if (len >= 3 && memcmp(s, "now", 3) == 0) {
        if (len == 3) {
            *out = now_us;
            return BW_OK;
        }
        static const struct {
            char unit;
            int64_t us;
        } units[] = {
            {'s', 1000000LL}, {'m', 60000000LL}, {'h', 3600000000LL}, {'d', 86400000000LL}};
        size_t u = 0;
        while (u < BW_ARRAY_LEN(units) && units[u].unit != s[len - 1])
            u++;
        int64_t n = 0;
        if (len < 6 || s[3] != '-' || u == BW_ARRAY_LEN(units) ||
            bw_parse_i64(s + 4, len - 5, 1, RELATIVE_MAX_UNITS, &n) != BW_OK)
            return bw_param_error(
                err, errlen, BW_EMALFORMED, key,
                "not a time: give RFC 3339 UTC (2026-12-03T10:00:00Z), now, or now-N "
                "with s, m, h or d",
                s, len);
        int64_t back = 0;
        if (__builtin_mul_overflow(n, units[u].us, &back) || back > RANGE_MAX_US ||
            __builtin_sub_overflow(now_us, back, out))
            return bw_param_error(err, errlen, BW_ERANGE, key, "reaches back too far", s, len);
        return BW_OK;
    }
    const char *why = NULL;
    int rc = bw_parse_utc_time(s, len, out, &why);
    if (rc == BW_EMALFORMED && !(len >= 10 && s[4] == '-' && s[7] == '-'))
        why = "not a time: give RFC 3339 UTC (2026-12-03T10:00:00Z), now, or now-N with s, m, h "
              "or d";
    if (rc)
        return bw_param_error(err, errlen, rc, key, why, s, len);
    return BW_OK;
}

static int parse_count(const char *key, const char *s, size_t len, uint32_t min, uint32_t max,
                       uint32_t *out, char *err, size_t errlen)
{
    uint64_t v = 0;
    if (bw_parse_u64(s, len, max, &v) != BW_OK || v < min) {
        char why[64];
        if (bw_snprintf(why, sizeof(why), "must be a whole number from %u to %u", min, max) !=
            BW_OK)
            bw_strlcpy(why, "out of range", sizeof(why));
        return bw_param_error(err, errlen, BW_ERANGE, key, why, s, len);
    }
    *out = (uint32_t)v;
    return BW_OK;
}

enum { KEY_TAG, KEY_FROM, KEY_TO, KEY_POINTS, KEY_LIMIT, KEY_CURSOR, KEY_COUNT_ };
static const char *const keys[KEY_COUNT_] = {"tag", "from", "to", "points", "limit", "cursor"};

int bw_history_query_set(struct bw_history_query *q, const char *key, size_t key_len,
                         const char *value, size_t len, int64_t now_us, char *err, size_t errlen)
{
    size_t k = 0;
    while (k < KEY_COUNT_ && !(strlen(keys[k]) == key_len && memcmp(keys[k], key, key_len) == 0))
        k++;
    if (k == KEY_COUNT_)
        return bw_param_error(err, errlen, BW_EINVAL, "query",
                              "unknown key (tag, from, to, points, limit, cursor)", key, key_len);
    if (q->seen & (1u << k))
        return bw_param_error(err, errlen, BW_EINVAL, keys[k], "given twice", NULL, 0);
    q->seen |= 1u << k;
    switch (k) {
    case KEY_TAG:
        if (!name_valid(value, len))
            return bw_param_error(err, errlen, BW_EINVAL, "tag", "not a tag name", value, len);
        memcpy(q->tag, value, len);
        q->tag[len] = '\0';
        return BW_OK;
    case KEY_FROM:
        return parse_time("from", value, len, now_us, &q->from_us, err, errlen);
    case KEY_TO:
        return parse_time("to", value, len, now_us, &q->to_us, err, errlen);
    case KEY_POINTS:
        return parse_count("points", value, len, 1, BW_HISTORY_MAX_POINTS, &q->points, err, errlen);
    case KEY_LIMIT:
        return parse_count("limit", value, len, 1, BW_HISTORY_MAX_LIMIT, &q->limit, err, errlen);
    default: {
        /* The cursor is the timestamp (us) of the last sample received. */
        int64_t c = 0;
        if (bw_parse_i64(value, len, INT64_MIN + 1, INT64_MAX, &c) != BW_OK)
            return bw_param_error(err, errlen, BW_EINVAL, "cursor", "not a cursor of this query",
                                  value, len);
        q->cursor_us = c;
        return BW_OK;
    }
    }
}

int bw_history_query_check(const struct bw_history_query *q, char *err, size_t errlen)
{
    if (!(q->seen & (1u << KEY_TAG)))
        return bw_param_error(err, errlen, BW_EINVAL, "tag", "is required", NULL, 0);
    if (!(q->seen & (1u << KEY_FROM)))
        return bw_param_error(err, errlen, BW_EINVAL, "from", "is required", NULL, 0);
    if (!(q->seen & (1u << KEY_TO)))
        return bw_param_error(err, errlen, BW_EINVAL, "to", "is required", NULL, 0);
    if (q->to_us <= q->from_us)
        return bw_param_error(err, errlen, BW_ERANGE, "to", "must be later than from", NULL, 0);
    if (q->to_us - q->from_us > RANGE_MAX_US)
        return bw_param_error(err, errlen, BW_ERANGE, "to", "the range is longer than 100 years",
                              NULL, 0);
    if (q->points && (q->seen & (1u << KEY_LIMIT)))
        return bw_param_error(err, errlen, BW_EINVAL, "limit",
                              "is only for raw samples (without points)", NULL, 0);
    if (q->points && (q->seen & (1u << KEY_CURSOR)))
        return bw_param_error(err, errlen, BW_EINVAL, "cursor",
                              "is only for raw samples (without points)", NULL, 0);
    if ((q->seen & (1u << KEY_CURSOR)) && (q->cursor_us < q->from_us || q->cursor_us >= q->to_us))
        return bw_param_error(err, errlen, BW_ERANGE, "cursor", "is not within from and to", NULL,
                              0);
    return BW_OK;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes len bytes of s into out (room for len); NUL and bytes
 * outside printable ASCII are refused, as no valid value holds them.
 * Returns the decoded length, or -1. */
static long decode(const char *s, size_t len, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = hex_digit(s[i + 1]), lo = hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
            return -1;
        out[n++] = c;
    }
    return (long)n;
}

int bw_history_query_parse(const char *text, size_t len, int64_t now_us, struct bw_history_query *q,
                           char *err, size_t errlen)
{
    bw_history_query_init(q);
    if (len > BW_HISTORY_QUERY_MAX)
        return bw_param_error(err, errlen, BW_ETOOLARGE, "query", "longer than 4096 bytes", NULL,
                              0);
    char buf[BW_HISTORY_QUERY_MAX];
    size_t pos = 0;
    while (pos < len) {
        const char *amp = memchr(text + pos, '&', len - pos);
        size_t end = amp ? (size_t)(amp - text) : len;
        const char *pair = text + pos;
        size_t pair_len = end - pos;
        const char *eq = memchr(pair, '=', pair_len);
        if (!eq)
            return bw_param_error(err, errlen, BW_EINVAL, "query", "a parameter without '='", pair,
                                  pair_len);
        size_t klen = (size_t)(eq - pair);
        long vlen = decode(eq + 1, pair_len - klen - 1, buf);
        if (vlen < 0)
            return bw_param_error(err, errlen, BW_EINVAL, "query",
                                  "a value that is not printable text", pair, pair_len);
        int rc = bw_history_query_set(q, pair, klen, buf, (size_t)vlen, now_us, err, errlen);
        if (rc)
            return rc;
        pos = end + 1;
        if (amp && pos == len)
            return bw_param_error(err, errlen, BW_EINVAL, "query", "ends with '&'", NULL, 0);
    }
    return bw_history_query_check(q, err, errlen);
}
