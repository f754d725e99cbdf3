/* SPDX-License-Identifier: Apache-2.0
 *
 * How an account looks outside the security module: as JSON (the reply
 * of `show` and `list`, the same whether the daemon or the command made
 * it) and as text for people (areas as "1-3,5" or "all", dates). Also
 * the parsers of the command line's --areas and --expires, which the
 * daemon's argument checks share. Pure functions, any thread.
 */
#include "cli/internal.h"
#include "project/project.h"
#include "security/security.h"

#include <string.h>
#include <time.h>

#define AREAS_ALL 0xfffffffeu /* areas 1..31 */

const char *bw_cli_user_type_name(enum bw_security_account_type type)
{
    switch (type) {
    case BW_SECURITY_HUMAN:
        return "human";
    case BW_SECURITY_SERVICE:
        return "service";
    case BW_SECURITY_DIRECTORY:
        return "directory";
    }
    return "unknown";
}

const char *bw_cli_user_state_name(enum bw_security_account_state state)
{
    switch (state) {
    case BW_SECURITY_ACTIVE:
        return "active";
    case BW_SECURITY_DISABLED:
        return "disabled";
    case BW_SECURITY_LOCKED:
        return "locked";
    case BW_SECURITY_EXPIRED:
        return "expired";
    }
    return "unknown";
}

/* A time as RFC 3339 text, or null for 0 ("never"). */
static json_t *time_or_null(int64_t us)
{
    char text[BW_TIME_TEXT_MAX];
    return us ? json_string(bw_time_format_utc(us, text)) : json_null();
}

static json_t *areas_json(uint32_t areas)
{
    json_t *list = json_array();
    for (unsigned n = 1; list && n <= 31; n++)
        if ((areas & (1u << n)) && json_array_append_new(list, json_integer(n)) != 0) {
            json_decref(list);
            return NULL;
        }
    return list;
}

static json_t *roles_json(uint64_t roles, const struct bw_project_security *policy)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < policy->role_count && i < 64; i++)
        if ((roles & (1ull << i)) &&
            json_array_append_new(list, json_string(policy->roles[i].name)) != 0) {
            json_decref(list);
            return NULL;
        }
    return list;
}

json_t *bw_cli_user_info_json(const struct bw_security_user_info *u,
                              const struct bw_project_security *policy)
{
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:i, s:o, s:o, s:b, s:b, s:o, s:o, s:o, s:o, s:o, s:I}", "name",
        u->name, "full_name", u->full_name, "type", bw_cli_user_type_name(u->type), "state",
        bw_cli_user_state_name(u->state), "level", (int)u->level, "areas", areas_json(u->areas),
        "roles", roles_json(u->roles, policy), "must_change_password", u->must_change_password,
        "mfa", u->mfa_enrolled, "created", time_or_null(u->created_us), "password_changed",
        time_or_null(u->password_changed_us), "last_login", time_or_null(u->last_login_us),
        "expires", time_or_null(u->expires_us), "locked_until",
        u->state == BW_SECURITY_LOCKED ? time_or_null(u->locked_until_us) : json_null(),
        "failed_logins", (json_int_t)u->failed_logins);
}

/* Appends text to out (size bytes, NUL-terminated); false when full. */
static bool append(char *out, size_t size, size_t *used, const char *text)
{
    size_t n = strlen(text);
    if (*used + n >= size)
        return false;
    memcpy(out + *used, text, n + 1);
    *used += n;
    return true;
}

void bw_cli_areas_format(uint32_t areas, char *out, size_t size)
{
    size_t used = 0;
    if (size == 0)
        return;
    out[0] = '\0';
    if ((areas & AREAS_ALL) == AREAS_ALL) {
        (void)append(out, size, &used, "all");
        return;
    }
    for (unsigned n = 1; n <= 31; n++) {
        if (!(areas & (1u << n)))
            continue;
        unsigned last = n;
        while (last < 31 && (areas & (1u << (last + 1))))
            last++;
        char piece[16];
        int rc =
            last > n + 1    ? bw_snprintf(piece, sizeof(piece), "%s%u-%u", used ? "," : "", n, last)
            : last == n + 1 ? bw_snprintf(piece, sizeof(piece), "%s%u,%u", used ? "," : "", n, last)
                            : bw_snprintf(piece, sizeof(piece), "%s%u", used ? "," : "", n);
        if (rc || !append(out, size, &used, piece))
            return; /* cut short; the caller's buffer holds every area */
        n = last;
    }
    if (used == 0)
        (void)append(out, size, &used, "none");
}

uint32_t bw_cli_areas_from_json(const json_t *list)
{
    uint32_t areas = 0;
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v)
    {
        json_int_t n = json_integer_value(v);
        if (n >= 1 && n <= 31)
            areas |= 1u << n;
    }
    return areas;
}

/* One number of an area list, 1..31. */
static bool area_number(const char *s, size_t len, unsigned *out)
{
    uint64_t v;
    if (bw_parse_u64(s, len, 31, &v) != BW_OK || v < 1)
        return false;
    *out = (unsigned)v;
    return true;
}

int bw_cli_areas_parse(const char *text, uint32_t *out)
{
    *out = 0;
    if (strcmp(text, "all") == 0) {
        *out = AREAS_ALL;
        return BW_OK;
    }
    const char *p = text;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *dash = memchr(p, '-', len);
        unsigned first, last;
        if (dash) {
            if (!area_number(p, (size_t)(dash - p), &first) ||
                !area_number(dash + 1, len - (size_t)(dash - p) - 1, &last) || last < first)
                return BW_EINVAL;
        } else {
            if (!area_number(p, len, &first))
                return BW_EINVAL;
            last = first;
        }
        for (unsigned n = first; n <= last; n++)
            *out |= 1u << n;
        if (!end)
            return BW_OK;
        p = end + 1;
    }
}

int bw_cli_date_parse(const char *text, size_t len, int64_t *out_us)
{
    uint64_t y, m, d;
    if (len != 10 || text[4] != '-' || text[7] != '-' || bw_parse_u64(text, 4, 9999, &y) ||
        bw_parse_u64(text + 5, 2, 12, &m) || bw_parse_u64(text + 8, 2, 31, &d) || y < 1970 ||
        m < 1 || d < 1)
        return BW_EINVAL;
    struct tm tm = {.tm_year = (int)y - 1900, .tm_mon = (int)m - 1, .tm_mday = (int)d};
    time_t t = timegm(&tm);
    /* timegm moves 31 April to 1 May: such a date does not exist. */
    if (t == (time_t)-1 || tm.tm_mday != (int)d || tm.tm_mon != (int)m - 1)
        return BW_EINVAL;
    *out_us = (int64_t)t * 1000000;
    return BW_OK;
}
