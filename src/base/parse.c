/* SPDX-License-Identifier: Apache-2.0
 *
 * Strict number parsers for external text (CLI arguments, control
 * requests): the whole input must be the number, nothing more.
 */
#include "base/base.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int bw_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    if (len == 0 || len > 20)
        return len ? BW_ERANGE : BW_EMALFORMED;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return BW_EMALFORMED;
        unsigned digit = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return BW_ERANGE;
        v = v * 10 + digit;
    }
    if (v > max)
        return BW_ERANGE;
    *out = v;
    return BW_OK;
}

int bw_parse_i64(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
    bool negative = len > 0 && s[0] == '-';
    uint64_t mag;
    if (negative && len == 1)
        return BW_EMALFORMED;
    int rc = bw_parse_u64(s + negative, len - negative, UINT64_MAX, &mag);
    if (rc)
        return rc;
    int64_t v;
    if (negative) {
        if (mag > (uint64_t)INT64_MAX + 1)
            return BW_ERANGE;
        v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    } else {
        if (mag > (uint64_t)INT64_MAX)
            return BW_ERANGE;
        v = (int64_t)mag;
    }
    if (v < min || v > max)
        return BW_ERANGE;
    *out = v;
    return BW_OK;
}

int bw_parse_double(const char *s, size_t len, double *out)
{
    char tmp[64];
    if (len == 0 || len >= sizeof(tmp))
        return len ? BW_ETOOLARGE : BW_EMALFORMED;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'))
            return BW_EMALFORMED;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *end = NULL;
    errno = 0;
    double v = strtod(tmp, &end);
    if (end != tmp + len)
        return BW_EMALFORMED;
    if (errno == ERANGE || !isfinite(v))
        return BW_ERANGE;
    *out = v;
    return BW_OK;
}
