/* SPDX-License-Identifier: Apache-2.0
 *
 * The security section: roles and the permissions they grant, the
 * password, lockout and session policies, the second factor and the
 * system use banner (the directory is security_ldap.c's). The tables hold
 * the bounds and the defaults, and the defaults are also what
 * bw_project_security_defaults() gives a project without the section;
 * the checks add the rules across fields. Unlike the rest of the
 * project, the policy's strings are heap copies that the policy owns
 * (bw_project_security_clear() frees them), so that a policy can be
 * built and released on its own. The section only configures; the
 * security module acts on it. Caller's thread.
 */
#include "project/internal.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

_Static_assert(sizeof(enum bw_project_session_when_full) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum bw_project_mfa_policy) == sizeof(int), "enums are stored as int");
_Static_assert(BW_PERM_COUNT_ <= 32, "a role's permissions fit 32 bits");
_Static_assert(BW_PROJECT_MAX_ROLES <= 64, "a user's roles fit 64 bits (security.h)");

/* ---- the default roles ---------------------------------------------- */

#define PERM(p) (1u << (p))
#define ROLE_VIEWER PERM(BW_PERM_TAG_READ)
#define ROLE_OPERATOR (ROLE_VIEWER | PERM(BW_PERM_TAG_WRITE) | PERM(BW_PERM_ALARM_ACK))
#define ROLE_SUPERVISOR (ROLE_OPERATOR | PERM(BW_PERM_ALARM_SHELVE) | PERM(BW_PERM_OVERRIDE))
#define ROLE_ENGINEER                                                                              \
    (ROLE_OPERATOR | PERM(BW_PERM_ALARM_SHELVE) | PERM(BW_PERM_CONFIG_CHANGE) |                    \
     PERM(BW_PERM_BACKUP_RUN))
#define ROLE_SECURITY_ADMIN                                                                        \
    (PERM(BW_PERM_USER_MANAGE) | PERM(BW_PERM_SESSION_MANAGE) | PERM(BW_PERM_AUDIT_READ))
#define ROLE_AUDITOR PERM(BW_PERM_AUDIT_READ)

/* Security administration and process operation are separate duties
 * (DESIGN.md section 4): no default role may do both. */
#define BOTH_DUTIES (PERM(BW_PERM_USER_MANAGE) | PERM(BW_PERM_TAG_WRITE))
#define SEPARATE(mask) (((mask)&BOTH_DUTIES) != BOTH_DUTIES)
_Static_assert(SEPARATE(ROLE_VIEWER) && SEPARATE(ROLE_OPERATOR) && SEPARATE(ROLE_SUPERVISOR) &&
                   SEPARATE(ROLE_ENGINEER) && SEPARATE(ROLE_SECURITY_ADMIN) &&
                   SEPARATE(ROLE_AUDITOR),
               "no default role both administers users and writes tags");

static const struct {
    const char *name;
    uint32_t permissions;
} default_roles[] = {
    {"viewer", ROLE_VIEWER},
    {"operator", ROLE_OPERATOR},
    {"supervisor", ROLE_SUPERVISOR},
    {"engineer", ROLE_ENGINEER},
    {"security-admin", ROLE_SECURITY_ADMIN},
    {"auditor", ROLE_AUDITOR},
};
_Static_assert(BW_ARRAY_LEN(default_roles) <= BW_PROJECT_MAX_ROLES, "defaults fit");

/* ---- lists of words ------------------------------------------------- */

/* An array of distinct strings among names (count of them, at most 32)
 * becomes a bit mask at *mask (bit i: names[i]); false when it reported
 * errors. */
static bool words_parse(struct pj_ctx *ctx, json_t *value, const char *const *names, size_t count,
                        uint32_t *mask)
{
    uint32_t bits = 0;
    bool ok = true;
    for (size_t i = 0; i < json_array_size(value); i++) {
        json_t *v = json_array_get(value, i);
        size_t saved = pj_path_push_index(ctx, i);
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        size_t found = count;
        for (size_t k = 0; s && k < count && found == count; k++)
            if (strlen(names[k]) == len && memcmp(names[k], s, len) == 0)
                found = k;
        char quoted[PJ_QUOTE_BUF], list[256];
        bool valid = false;
        if (!s)
            pj_error(ctx, "must be a string");
        else if (found == count)
            pj_error(ctx, "%s is not one of %s", pj_quote(quoted, s, len),
                     pj_join(list, sizeof(list), names, count));
        else if (bits & (1u << found))
            pj_error(ctx, "%s is listed twice", pj_quote(quoted, s, len));
        else
            valid = true;
        pj_path_pop(ctx, saved);
        if (valid)
            bits |= 1u << found;
        ok = ok && valid;
    }
    *mask = bits;
    return ok;
}

static bool permissions_parse(struct pj_ctx *ctx, json_t *value, void *field_dst)
{
    return words_parse(ctx, value, pj_permission_names, BW_PERM_COUNT_, field_dst);
}

/* By bit of enum bw_password_class. */
static const char *const class_names[] = {"lower", "upper", "digit", "symbol"};
_Static_assert(BW_PWCLASS_SYMBOL == 1u << (BW_ARRAY_LEN(class_names) - 1), "one name per class");

static bool require_parse(struct pj_ctx *ctx, json_t *value, void *field_dst)
{
    return words_parse(ctx, value, class_names, BW_ARRAY_LEN(class_names), field_dst);
}

/* ---- roles ---------------------------------------------------------- */

/* The name rule, with '-' as well ("security-admin"). */
static bool role_name_valid(const char *s, size_t len)
{
    if (len == 0 || len > BW_PROJECT_NAME_MAX)
        return false;
    if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
        return false;
    for (size_t i = 1; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* One listed role, before it joins the policy. */
struct role_elem {
    uint32_t permissions;
    bool name_ok;
};

enum { ROLE_NAME, ROLE_PERMISSIONS };

static const struct pj_field role_fields[] = {
    /* Checked against the rule by role_check, copied by roles_parse. */
    [ROLE_NAME] = {.key = "name",
                   .kind = PJ_TEXT,
                   .flags = PJ_REQUIRED,
                   .imax = BW_PROJECT_NAME_MAX},
    [ROLE_PERMISSIONS] = {.key = "permissions",
                          .kind = PJ_LIST,
                          .flags = PJ_REQUIRED,
                          .offset = offsetof(struct role_elem, permissions),
                          .list = permissions_parse},
};

static void role_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    struct role_elem *elem = dst;
    (void)index;
    if (!pj_seen_ok(seen, ROLE_NAME))
        return;
    const char *s = json_string_value(seen->value[ROLE_NAME]);
    size_t len = json_string_length(seen->value[ROLE_NAME]);
    elem->name_ok = role_name_valid(s, len);
    if (!elem->name_ok) {
        char quoted[PJ_QUOTE_BUF];
        pj_error_key(ctx, "name",
                     "%s is not a valid role name (letters, digits, _, . and - only, starting "
                     "with a letter)",
                     pj_quote(quoted, s, len));
    }
}

static const struct pj_object_spec role_spec = {role_fields, BW_ARRAY_LEN(role_fields), role_check};

/* The index of an earlier listed role of the same name, or SIZE_MAX. */
static size_t role_listed_before(json_t *list, size_t index, const char *name)
{
    for (size_t j = 0; j < index; j++) {
        const char *other = json_string_value(json_object_get(json_array_get(list, j), "name"));
        if (other && strcmp(other, name) == 0)
            return j;
    }
    return SIZE_MAX;
}

/* A listed role with a default's name replaces its permissions; any
 * other name is added. The array has room (roles_parse). */
static void role_merge(struct pj_ctx *ctx, struct bw_project_security *sec, const char *name,
                       size_t len, uint32_t permissions)
{
    size_t i = bw_project_role_find(sec, name);
    if (i != SIZE_MAX) {
        sec->roles[i].permissions = permissions;
        return;
    }
    char *copy = bw_strndup(name, len);
    if (!copy) {
        ctx->nomem = true;
        return;
    }
    sec->roles[sec->role_count++] = (struct bw_project_role){copy, permissions};
}

/* roles: the listed roles join the defaults (see role_merge). */
static bool roles_parse(struct pj_ctx *ctx, json_t *value, void *field_dst)
{
    struct bw_project_security *sec = field_dst;
    size_t count = json_array_size(value);
    if (count > BW_PROJECT_MAX_ROLES) {
        pj_error(ctx, "has %zu roles; at most %u are allowed", count, BW_PROJECT_MAX_ROLES);
        ctx->too_large = true;
        return false;
    }
    if (count == 0)
        return true;
    /* Room for every listed role as a new one: at most 6 + 64 entries. */
    struct bw_project_role *roles =
        bw_realloc(sec->roles, (sec->role_count + count) * sizeof(*roles));
    if (!roles) {
        ctx->nomem = true;
        return false;
    }
    sec->roles = roles;
    char where[PJ_PATH_MAX + 32];
    bool ok = true;
    for (size_t i = 0; i < count && !ctx->nomem; i++) {
        json_t *obj = json_array_get(value, i);
        size_t saved = pj_path_push_index(ctx, i);
        struct role_elem elem = {0};
        struct pj_seen seen = {0};
        if (json_is_object(obj))
            pj_object_walk(ctx, obj, &role_spec, &elem, i, &seen);
        else
            pj_error(ctx, "must be an object");
        ok = ok && elem.name_ok && pj_seen_ok(&seen, ROLE_PERMISSIONS);
        if (elem.name_ok) {
            json_t *name = seen.value[ROLE_NAME];
            size_t first = role_listed_before(value, i, json_string_value(name));
            char quoted[PJ_QUOTE_BUF];
            if (first != SIZE_MAX) {
                /* The path up to the index is the list's. */
                snprintf(where, sizeof(where), "%.*s[%zu].name", (int)saved, ctx->path, first);
                pj_error_key(ctx, "name", "duplicate role name %s (first used at %s)",
                             pj_quote(quoted, json_string_value(name), json_string_length(name)),
                             where);
                ok = false;
            } else {
                role_merge(ctx, sec, json_string_value(name), json_string_length(name),
                           elem.permissions);
            }
        }
        pj_path_pop(ctx, saved);
    }
    if (sec->role_count > BW_PROJECT_MAX_ROLES) {
        pj_error(ctx, "makes %zu roles with the default ones; at most %u are allowed",
                 sec->role_count, BW_PROJECT_MAX_ROLES);
        ok = false;
    }
    return ok;
}

/* ---- password, lockout, sessions ------------------------------------ */

/* An optional integer in [min_, max_], default def_. */
#define SEC_INT(key_, type, member, min_, max_, def_)                                              \
    {                                                                                              \
        .key = (key_), .kind = PJ_INT, .flags = PJ_HAS_MIN | PJ_HAS_MAX | PJ_HAS_DEFAULT,          \
        .store = PJ_ST_U32, .offset = offsetof(type, member), .imin = (min_), .imax = (max_),      \
        .def = (def_)                                                                              \
    }
/* Argon2id cost: may be raised up to max_, never lowered below the default. */
#define ARGON2_INT(key_, member, def_, max_)                                                       \
    {                                                                                              \
        .key = (key_), .kind = PJ_INT,                                                             \
        .flags = PJ_HAS_MIN | PJ_MIN_FLOOR | PJ_HAS_MAX | PJ_HAS_DEFAULT, .store = PJ_ST_U32,      \
        .offset = offsetof(struct bw_project_password_policy, member), .imin = (def_),             \
        .imax = (max_), .def = (def_)                                                              \
    }
#define SEC_BOOL(key_, type, member, def_)                                                         \
    {                                                                                              \
        .key = (key_), .kind = PJ_BOOL, .flags = PJ_HAS_DEFAULT, .store = PJ_ST_BOOL,              \
        .offset = offsetof(type, member), .def = (def_)                                            \
    }
#define PW_INT(key_, member, min_, max_, def_)                                                     \
    SEC_INT(key_, struct bw_project_password_policy, member, min_, max_, def_)

/* Stored into the password policy itself (its argon2_* members). */
static const struct pj_field argon2_fields[] = {
    ARGON2_INT("memory_kib", argon2_memory_kib, 19456, 4194304),
    ARGON2_INT("iterations", argon2_iterations, 2, 100),
    ARGON2_INT("parallelism", argon2_parallelism, 1, 16),
};

static const struct pj_object_spec argon2_spec = {argon2_fields, BW_ARRAY_LEN(argon2_fields), NULL};

#define PW_DEFAULT_CLASSES (BW_PWCLASS_LOWER | BW_PWCLASS_UPPER | BW_PWCLASS_DIGIT)

enum {
    PW_MIN_LENGTH,
    PW_MAX_LENGTH,
    PW_REQUIRE,
    PW_MIN_CLASSES,
    PW_REJECT_USER_NAME,
    PW_HISTORY,
    PW_DICTIONARY_CHECK,
    PW_MAX_AGE_DAYS,
    PW_MIN_AGE_HOURS,
    PW_ARGON2,
    PW_HASH_CONCURRENCY,
    PW_HASH_QUEUE,
};

static const struct pj_field password_fields[] = {
    [PW_MIN_LENGTH] = PW_INT("min_length", min_length, 8, 128, 12),
    /* At least min_length: password_check. */
    [PW_MAX_LENGTH] = PW_INT("max_length", max_length, 8, 1024, 128),
    [PW_REQUIRE] = {.key = "require",
                    .kind = PJ_LIST,
                    .offset = offsetof(struct bw_project_password_policy, require_classes),
                    .list = require_parse},
    [PW_MIN_CLASSES] = PW_INT("min_classes", min_classes, 0, 4, 0),
    [PW_REJECT_USER_NAME] =
        SEC_BOOL("reject_user_name", struct bw_project_password_policy, reject_user_name, 1),
    [PW_HISTORY] = PW_INT("history", history, 0, 24, 5),
    [PW_DICTIONARY_CHECK] =
        SEC_BOOL("dictionary_check", struct bw_project_password_policy, dictionary_check, 1),
    [PW_MAX_AGE_DAYS] = PW_INT("max_age_days", max_age_days, 0, 3650, 0),
    [PW_MIN_AGE_HOURS] = PW_INT("min_age_hours", min_age_hours, 0, 720, 0),
    [PW_ARGON2] = {.key = "argon2", .kind = PJ_OBJECT, .offset = 0, .object = &argon2_spec},
    [PW_HASH_CONCURRENCY] = PW_INT("hash_concurrency", hash_concurrency, 1, 64, 2),
    [PW_HASH_QUEUE] = PW_INT("hash_queue", hash_queue, 0, 10000, 64),
};
_Static_assert(BW_ARRAY_LEN(password_fields) <= PJ_FIELDS_MAX, "fields fit struct pj_seen");

static void password_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    const struct bw_project_password_policy *pw = dst;
    (void)index;
    /* Either may be a default; a bad one is not compared. */
    bool min_known = pj_seen_ok(seen, PW_MIN_LENGTH) || !seen->value[PW_MIN_LENGTH];
    if (min_known && pj_seen_ok(seen, PW_MAX_LENGTH) && pw->max_length < pw->min_length)
        pj_error_key(ctx, "max_length", "must be at least min_length (%u)", pw->min_length);
}

static const struct pj_object_spec password_spec = {password_fields, BW_ARRAY_LEN(password_fields),
                                                    password_check};

#define LOCK_INT(key_, member, min_, max_, def_)                                                   \
    SEC_INT(key_, struct bw_project_lockout_policy, member, min_, max_, def_)

static const struct pj_field lockout_fields[] = {
    LOCK_INT("max_failures", max_failures, 1, 100, 5),
    LOCK_INT("window_seconds", window_seconds, 1, 86400, 900),
    LOCK_INT("lock_seconds", lock_seconds, 0, 604800, 900),
    LOCK_INT("address_max_failures", address_max_failures, 1, 100000, 20),
    LOCK_INT("address_window_seconds", address_window_seconds, 1, 86400, 300),
};

static const struct pj_object_spec lockout_spec = {lockout_fields, BW_ARRAY_LEN(lockout_fields),
                                                   NULL};

static const char *const session_full_names[] = {
    [BW_PROJECT_SESSION_REFUSE_NEW] = "refuse_new",
    [BW_PROJECT_SESSION_END_OLDEST] = "end_oldest",
};

#define SESSION_INT(key_, member, min_, max_, def_)                                                \
    SEC_INT(key_, struct bw_project_session_policy, member, min_, max_, def_)

static const struct pj_field session_fields[] = {
    SESSION_INT("idle_seconds", idle_seconds, 30, 86400, 900),
    SESSION_INT("lifetime_seconds", lifetime_seconds, 60, 604800, 43200),
    SESSION_INT("max_per_user", max_per_user, 1, 1000, 3),
    SESSION_INT("max_total", max_total, 1, 100000, 1000),
    {.key = "when_full",
     .kind = PJ_CHOICE,
     .flags = PJ_HAS_DEFAULT,
     .store = PJ_ST_ENUM,
     .offset = offsetof(struct bw_project_session_policy, when_full),
     .def = BW_PROJECT_SESSION_REFUSE_NEW,
     .choices = session_full_names,
     .choice_count = BW_ARRAY_LEN(session_full_names)},
    SESSION_INT("override_max_seconds", override_max_seconds, 60, 86400, 3600),
    SESSION_INT("approval_window_seconds", approval_window_seconds, 10, 3600, 120),
};

static const struct pj_object_spec session_spec = {session_fields, BW_ARRAY_LEN(session_fields),
                                                   NULL};

/* ---- the section ---------------------------------------------------- */

static const char *const mfa_names[] = {
    [BW_PROJECT_MFA_OFF] = "off",
    [BW_PROJECT_MFA_UNTRUSTED] = "untrusted",
    [BW_PROJECT_MFA_ALWAYS] = "always",
};

enum {
    SEC_ROLES,
    SEC_PASSWORD,
    SEC_LOCKOUT,
    SEC_SESSIONS,
    SEC_MFA,
    SEC_BANNER,
    SEC_BANNER_MUST_ACCEPT,
    SEC_LDAP,
};

/* Roles come first: the directory's group mappings name them. */
static const struct pj_field security_fields[] = {
    /* Merged into the default roles by roles_parse. */
    [SEC_ROLES] = {.key = "roles", .kind = PJ_LIST, .offset = 0, .list = roles_parse},
    [SEC_PASSWORD] = {.key = "password",
                      .kind = PJ_OBJECT,
                      .offset = offsetof(struct bw_project_security, password),
                      .object = &password_spec},
    [SEC_LOCKOUT] = {.key = "lockout",
                     .kind = PJ_OBJECT,
                     .offset = offsetof(struct bw_project_security, lockout),
                     .object = &lockout_spec},
    [SEC_SESSIONS] = {.key = "sessions",
                      .kind = PJ_OBJECT,
                      .offset = offsetof(struct bw_project_security, sessions),
                      .object = &session_spec},
    [SEC_MFA] = {.key = "mfa",
                 .kind = PJ_CHOICE,
                 .flags = PJ_HAS_DEFAULT,
                 .store = PJ_ST_ENUM,
                 .offset = offsetof(struct bw_project_security, mfa),
                 .def = BW_PROJECT_MFA_UNTRUSTED,
                 .choices = mfa_names,
                 .choice_count = BW_ARRAY_LEN(mfa_names)},
    [SEC_BANNER] = {.key = "banner",
                    .kind = PJ_TEXT,
                    .flags = PJ_HAS_MIN,
                    .store = PJ_ST_OWNED,
                    .offset = offsetof(struct bw_project_security, banner),
                    .imin = 1,
                    .imax = BW_PROJECT_BANNER_MAX},
    [SEC_BANNER_MUST_ACCEPT] =
        SEC_BOOL("banner_must_accept", struct bw_project_security, banner_must_accept, 0),
    /* Type checked only: security_check allocates and walks it. */
    [SEC_LDAP] = {.key = "ldap", .kind = PJ_OBJECT},
};
_Static_assert(BW_ARRAY_LEN(security_fields) <= PJ_FIELDS_MAX, "fields fit struct pj_seen");

/* The banner is shown on login pages and terminals: valid UTF-8, and no
 * control characters (C0, DEL, C1) but line feed and tab. */
static void banner_check(struct pj_ctx *ctx, const char *s)
{
    size_t len = strlen(s);
    if (!bw_utf8_valid(s, len)) {
        pj_error_key(ctx, "banner", "must be valid UTF-8");
        return;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool c1 = c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] <= 0x9f;
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || c1) {
            pj_error_key(ctx, "banner",
                         "must not contain control characters other than line feed and tab "
                         "(byte %zu)",
                         i);
            return;
        }
    }
}

static void security_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    struct bw_project_security *sec = dst;
    (void)index;
    if (pj_seen_ok(seen, SEC_BANNER))
        banner_check(ctx, sec->banner);
    if (pj_seen_ok(seen, SEC_BANNER_MUST_ACCEPT) && sec->banner_must_accept &&
        !seen->value[SEC_BANNER])
        pj_error_key(ctx, "banner_must_accept", "needs a \"banner\"");
    if (pj_seen_ok(seen, SEC_LDAP))
        pj_ldap_walk(ctx, seen->value[SEC_LDAP], sec);
}

const struct pj_object_spec pj_security_spec = {
    .fields = security_fields,
    .count = BW_ARRAY_LEN(security_fields),
    .check = security_check,
};

/* ---- the policy ----------------------------------------------------- */

int bw_project_security_defaults(struct bw_project_security *security)
{
    memset(security, 0, sizeof(*security));
    size_t count = BW_ARRAY_LEN(default_roles);
    security->roles = bw_calloc(count, sizeof(*security->roles));
    if (!security->roles)
        return BW_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        char *name = bw_strdup(default_roles[i].name);
        if (!name) {
            bw_project_security_clear(security);
            return BW_ENOMEM;
        }
        security->roles[i] = (struct bw_project_role){name, default_roles[i].permissions};
        security->role_count = i + 1;
    }
    /* The tables' defaults, as for a section of empty objects. */
    pj_object_defaults(&password_spec, &security->password);
    pj_object_defaults(&argon2_spec, &security->password);
    security->password.require_classes = PW_DEFAULT_CLASSES;
    pj_object_defaults(&lockout_spec, &security->lockout);
    pj_object_defaults(&session_spec, &security->sessions);
    pj_object_defaults(&pj_security_spec, security);
    return BW_OK;
}

void bw_project_security_clear(struct bw_project_security *security)
{
    if (!security)
        return;
    for (size_t i = 0; security->roles && i < security->role_count; i++)
        bw_free(security->roles[i].name);
    bw_free(security->roles);
    bw_free(security->banner);
    pj_ldap_free(security->ldap);
    memset(security, 0, sizeof(*security));
}

size_t bw_project_role_find(const struct bw_project_security *security, const char *name)
{
    if (!security || !name)
        return SIZE_MAX;
    for (size_t i = 0; i < security->role_count; i++)
        if (strcmp(security->roles[i].name, name) == 0)
            return i;
    return SIZE_MAX;
}
