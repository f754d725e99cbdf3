/* SPDX-License-Identifier: Apache-2.0
 *
 * The security section's directory ("ldap"): where central accounts are
 * looked up, how the connection is protected, how a user's groups are
 * found and which role each group grants. The table holds bounds and
 * defaults; ldap_check adds the rules across fields: the URL's scheme
 * agrees with "tls" (ldaps:// or ldap:// with StartTLS, never plain),
 * each filter has exactly one place for the escaped value, the search
 * account comes with its password file, and groups are found one way or
 * the other. The strings are heap copies the policy owns (security.c).
 * Caller's thread.
 */
#include "project/internal.h"

#include <stddef.h>
#include <string.h>

_Static_assert(sizeof(enum bw_project_ldap_tls) == sizeof(int), "enums are stored as int");

/* ---- group mappings ------------------------------------------------- */

enum { GROUP_GROUP, GROUP_ROLE };

static const struct pj_field group_fields[] = {
    [GROUP_GROUP] = {.key = "group",
                     .kind = PJ_TEXT,
                     .flags = PJ_REQUIRED | PJ_HAS_MIN,
                     .store = PJ_ST_OWNED,
                     .offset = offsetof(struct bw_project_role_group, group),
                     .imin = 1,
                     .imax = BW_PROJECT_TEXT_MAX},
    /* Resolved against the policy's roles by group_check. */
    [GROUP_ROLE] = {.key = "role",
                    .kind = PJ_TEXT,
                    .flags = PJ_REQUIRED,
                    .imax = BW_PROJECT_NAME_MAX},
};

static void group_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    struct bw_project_role_group *g = dst;
    (void)index;
    if (!pj_seen_ok(seen, GROUP_ROLE))
        return;
    json_t *role = seen->value[GROUP_ROLE];
    g->role = bw_project_role_find(&ctx->project->security, json_string_value(role));
    if (g->role == SIZE_MAX) {
        char quoted[PJ_QUOTE_BUF];
        pj_error_key(ctx, "role", "no role named %s",
                     pj_quote(quoted, json_string_value(role), json_string_length(role)));
    }
}

static const struct pj_object_spec group_spec = {group_fields, BW_ARRAY_LEN(group_fields),
                                                 group_check};

static void group_init(void *elem)
{
    struct bw_project_role_group *g = elem;
    g->role = SIZE_MAX;
}

static const struct pj_array_spec groups_spec = {
    .noun = "groups",
    .elem_size = sizeof(struct bw_project_role_group),
    .limit = BW_PROJECT_MAX_ROLE_GROUPS,
    .items_offset = offsetof(struct bw_project_ldap, groups),
    .count_offset = offsetof(struct bw_project_ldap, group_count),
    .init = group_init,
    .elem = &group_spec,
};

/* ---- the directory -------------------------------------------------- */

static const char *const tls_names[] = {
    [BW_PROJECT_LDAP_LDAPS] = "ldaps",
    [BW_PROJECT_LDAP_STARTTLS] = "starttls",
};

/* Text of 1..1024 bytes, a heap copy. */
#define LDAP_TEXT(key_, member, flags_)                                                            \
    {                                                                                              \
        .key = (key_), .kind = PJ_TEXT, .flags = PJ_HAS_MIN | (flags_), .store = PJ_ST_OWNED,      \
        .offset = offsetof(struct bw_project_ldap, member), .imin = 1, .imax = BW_PROJECT_TEXT_MAX \
    }

enum {
    LDAP_URL,
    LDAP_TLS,
    LDAP_CA_FILE,
    LDAP_BIND_DN,
    LDAP_BIND_PASSWORD_FILE,
    LDAP_USER_BASE,
    LDAP_USER_FILTER,
    LDAP_GROUP_ATTRIBUTE,
    LDAP_GROUP_BASE,
    LDAP_GROUP_FILTER,
    LDAP_TIMEOUT_MS,
    LDAP_LEVEL,
    LDAP_AREAS,
    LDAP_GROUPS,
};

static const struct pj_field ldap_fields[] = {
    [LDAP_URL] = LDAP_TEXT("url", url, PJ_REQUIRED),
    [LDAP_TLS] = {.key = "tls",
                  .kind = PJ_CHOICE,
                  .flags = PJ_HAS_DEFAULT,
                  .store = PJ_ST_ENUM,
                  .offset = offsetof(struct bw_project_ldap, tls),
                  .def = BW_PROJECT_LDAP_LDAPS,
                  .choices = tls_names,
                  .choice_count = BW_ARRAY_LEN(tls_names)},
    [LDAP_CA_FILE] = LDAP_TEXT("ca_file", ca_file, PJ_REQUIRED),
    [LDAP_BIND_DN] = LDAP_TEXT("bind_dn", bind_dn, 0),
    [LDAP_BIND_PASSWORD_FILE] = LDAP_TEXT("bind_password_file", bind_password_file, 0),
    [LDAP_USER_BASE] = LDAP_TEXT("user_base", user_base, PJ_REQUIRED),
    [LDAP_USER_FILTER] = LDAP_TEXT("user_filter", user_filter, PJ_REQUIRED),
    [LDAP_GROUP_ATTRIBUTE] = LDAP_TEXT("group_attribute", group_attribute, 0),
    [LDAP_GROUP_BASE] = LDAP_TEXT("group_base", group_base, 0),
    [LDAP_GROUP_FILTER] = LDAP_TEXT("group_filter", group_filter, 0),
    [LDAP_TIMEOUT_MS] = {.key = "timeout_ms",
                         .kind = PJ_INT,
                         .flags = PJ_HAS_MIN | PJ_HAS_MAX | PJ_HAS_DEFAULT,
                         .store = PJ_ST_U32,
                         .offset = offsetof(struct bw_project_ldap, timeout_ms),
                         .imin = 100,
                         .imax = 60000,
                         .def = 5000},
    [LDAP_LEVEL] = {.key = "level",
                    .kind = PJ_INT,
                    .flags = PJ_HAS_MIN | PJ_HAS_MAX | PJ_HAS_DEFAULT,
                    .store = PJ_ST_U16,
                    .offset = offsetof(struct bw_project_ldap, level),
                    .imin = 1,
                    .imax = 9999,
                    .def = 1},
    [LDAP_AREAS] = {.key = "areas",
                    .kind = PJ_LIST,
                    .offset = offsetof(struct bw_project_ldap, areas),
                    .list = pj_areas_parse},
    [LDAP_GROUPS] = {.key = "groups", .kind = PJ_ARRAY, .array = &groups_spec},
};
_Static_assert(BW_ARRAY_LEN(ldap_fields) <= PJ_FIELDS_MAX, "fields fit struct pj_seen");

/* ---- the URL -------------------------------------------------------- */

static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

static bool ipv6_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
           c == '.';
}

/* host[:port][/] after the scheme: one server, nothing else. libldap
 * also takes lists of URLs, a DN, attributes and extensions there; a
 * list could name a second server without TLS, the rest has no use here. */
static bool url_rest_valid(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && s[i] == '[') {
        for (i++; i < len && ipv6_char(s[i]); i++)
            ;
        if (i == 1 || i >= len || s[i] != ']')
            return false;
        i++;
    } else {
        for (; i < len && host_char(s[i]); i++)
            ;
        if (i == 0)
            return false;
    }
    if (i < len && s[i] == ':') {
        size_t start = ++i;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        uint64_t port = 0;
        if (bw_parse_u64(s + start, i - start, 65535, &port) != BW_OK || port == 0)
            return false;
    }
    if (i < len && s[i] == '/')
        i++;
    return i == len;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The scheme must agree with "tls": ldaps:// for "ldaps", ldap:// for
 * "starttls" (where the daemon insists on StartTLS before binding). */
static void url_check(struct pj_ctx *ctx, const struct bw_project_ldap *ldap, bool tls_known)
{
    static const char *const schemes[] = {
        [BW_PROJECT_LDAP_LDAPS] = "ldaps://",
        [BW_PROJECT_LDAP_STARTTLS] = "ldap://",
    };
    const char *url = ldap->url;
    size_t len = strlen(url);
    char quoted[PJ_QUOTE_BUF];
    size_t scheme = has_prefix(url, "ldaps://")  ? BW_PROJECT_LDAP_LDAPS
                    : has_prefix(url, "ldap://") ? BW_PROJECT_LDAP_STARTTLS
                                                 : BW_ARRAY_LEN(schemes);
    if (scheme == BW_ARRAY_LEN(schemes) ||
        !url_rest_valid(url + strlen(schemes[scheme]), len - strlen(schemes[scheme]))) {
        pj_error_key(ctx, "url",
                     "%s is not an LDAP URL (ldaps://host[:port] or ldap://host[:port])",
                     pj_quote(quoted, url, len));
        return;
    }
    if (tls_known && scheme != (size_t)ldap->tls)
        pj_error_key(ctx, "url", "must start with \"%s\" when tls is \"%s\"", schemes[ldap->tls],
                     tls_names[ldap->tls]);
}

/* A filter has exactly one "%s" (where the escaped value goes) and no
 * other '%'. */
static void filter_check(struct pj_ctx *ctx, const char *key, const char *filter, const char *what)
{
    size_t places = 0;
    for (const char *p = strchr(filter, '%'); p; p = strchr(p + 1, '%')) {
        if (p[1] != 's') {
            pj_error_key(ctx, key, "must not contain \"%%\" except in the one \"%%s\"");
            return;
        }
        places++;
    }
    if (places != 1)
        pj_error_key(ctx, key, "must contain \"%%s\" exactly once (where %s goes)", what);
}

/* A key that requires another: reports the missing one. */
static void pair_check(struct pj_ctx *ctx, const struct pj_seen *seen, size_t have, size_t need)
{
    if (seen->value[have] && !seen->value[need])
        pj_error_key(ctx, ldap_fields[need].key, "is required when \"%s\" is given",
                     ldap_fields[have].key);
}

static void groups_check(struct pj_ctx *ctx, const struct bw_project_ldap *ldap,
                         const struct pj_seen *seen)
{
    if (seen->value[LDAP_GROUP_ATTRIBUTE]) {
        /* The user's entry lists the groups; nothing is searched. */
        for (size_t k = LDAP_GROUP_BASE; k <= LDAP_GROUP_FILTER; k++)
            if (seen->value[k])
                pj_error_key(ctx, ldap_fields[k].key,
                             "is not used when \"group_attribute\" is given");
        return;
    }
    pair_check(ctx, seen, LDAP_GROUP_FILTER, LDAP_GROUP_BASE);
    pair_check(ctx, seen, LDAP_GROUP_BASE, LDAP_GROUP_FILTER);
    if (pj_seen_ok(seen, LDAP_GROUP_FILTER))
        filter_check(ctx, "group_filter", ldap->group_filter, "the escaped user DN");
    /* With group_base alone, the missing group_filter is the news. */
    if (!seen->value[LDAP_GROUP_FILTER] && !seen->value[LDAP_GROUP_BASE] &&
        json_array_size(seen->value[LDAP_GROUPS]) > 0)
        pj_error_key(ctx, "groups",
                     "needs \"group_attribute\" or \"group_filter\" to find a user's groups");
}

static void ldap_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    struct bw_project_ldap *ldap = dst;
    (void)index;
    if (pj_seen_ok(seen, LDAP_URL))
        url_check(ctx, ldap, pj_seen_ok(seen, LDAP_TLS) || !seen->value[LDAP_TLS]);
    pair_check(ctx, seen, LDAP_BIND_DN, LDAP_BIND_PASSWORD_FILE);
    pair_check(ctx, seen, LDAP_BIND_PASSWORD_FILE, LDAP_BIND_DN);
    if (pj_seen_ok(seen, LDAP_USER_FILTER))
        filter_check(ctx, "user_filter", ldap->user_filter, "the escaped login name");
    groups_check(ctx, ldap, seen);
}

static const struct pj_object_spec ldap_spec = {ldap_fields, BW_ARRAY_LEN(ldap_fields), ldap_check};

void pj_ldap_walk(struct pj_ctx *ctx, json_t *value, struct bw_project_security *security)
{
    /* The policy owns it from here, so a later failure frees it. */
    security->ldap = bw_calloc(1, sizeof(*security->ldap));
    if (!security->ldap) {
        ctx->nomem = true;
        return;
    }
    pj_object_defaults(&ldap_spec, security->ldap);
    security->ldap->areas = PJ_ALL_AREAS;
    size_t saved = pj_path_push_key(ctx, "ldap");
    struct pj_seen seen;
    pj_object_walk(ctx, value, &ldap_spec, security->ldap, 0, &seen);
    pj_path_pop(ctx, saved);
}

void pj_ldap_free(struct bw_project_ldap *ldap)
{
    if (!ldap)
        return;
    for (size_t i = 0; ldap->groups && i < ldap->group_count; i++)
        bw_free(ldap->groups[i].group);
    bw_free(ldap->groups);
    bw_free(ldap->url);
    bw_free(ldap->ca_file);
    bw_free(ldap->bind_dn);
    bw_free(ldap->bind_password_file);
    bw_free(ldap->user_base);
    bw_free(ldap->user_filter);
    bw_free(ldap->group_attribute);
    bw_free(ldap->group_base);
    bw_free(ldap->group_filter);
    bw_free(ldap);
}
