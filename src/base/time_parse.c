/* SPDX-License-Identifier: Apache-2.0
 *
 * Times as people and URLs write them: RFC 3339 in UTC
 * (YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+00:00)) to microseconds since the
 * epoch. Strict: every byte is checked, the date must exist, and only
 * UTC is accepted (the product's clock is UTC everywhere). Pure; any
 * thread.
 */
#include "base/base.h"

#include <stdbool.h>
#include <string.h>

static bool digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

static bool leap_year(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(unsigned y, unsigned m)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar,
 * counted in whole 400-year eras of 146097 days so that it is exact for
 * every year 0..9999 without a loop over years. */
static int64_t days_from_civil(unsigned y, unsigned m, unsigned d)
{
    int64_t year = (int64_t)y - (m <= 2);
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t yoe = year - era * 400;                       /* 0..399 */
    int64_t mp = m > 2 ? (int64_t)m - 3 : (int64_t)m + 9; /* March is 0 */
    int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;    /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  /* 0..146096 */
    return era * 146097 + doe - 719468;
}

#define TIME_EXAMPLE "not an RFC 3339 UTC time such as 2026-12-03T10:00:00Z"

static int refuse(const char **why, int rc, const char *reason)
{
    if (why)
        *why = reason;
    return rc;
}

int bw_parse_utc_time(const char *s, size_t len, int64_t *out, const char **why)
{
    unsigned y, mo, d, h, mi, sec, frac = 0;
    if (len < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':' ||
        !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
        return refuse(why, BW_EMALFORMED, TIME_EXAMPLE);
    size_t i = 19;
    if (s[i] == '.') {
        size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        size_t n = i - start;
        if (n == 0)
            return refuse(why, BW_EMALFORMED, TIME_EXAMPLE);
        if (n > 6)
            return refuse(why, BW_EMALFORMED, "more than 6 fraction digits (microseconds)");
        if (!digits(s + start, n, &frac))
            return refuse(why, BW_EMALFORMED, TIME_EXAMPLE);
        for (size_t k = n; k < 6; k++)
            frac *= 10;
    }
    size_t rest = len - i;
    bool utc = (rest == 1 && s[i] == 'Z') || (rest == 6 && memcmp(s + i, "+00:00", 6) == 0);
    if (!utc) {
        bool offset = rest == 6 && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':';
        if (offset)
            return refuse(why, BW_EMALFORMED, "only UTC (Z or +00:00) is accepted");
        return refuse(why, BW_EMALFORMED, TIME_EXAMPLE);
    }
    /* 23:59:60 is refused: the trail's clock is Unix time, which has no
     * leap seconds to match. */
    if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 || sec > 59)
        return refuse(why, BW_ERANGE, "no such date or time");
    int64_t days = days_from_civil(y, mo, d);
    int64_t secs = days * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + (int64_t)sec;
    *out = secs * 1000000 + (int64_t)frac;
    return BW_OK;
}
