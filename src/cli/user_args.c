/* SPDX-License-Identifier: Apache-2.0
 *
 * The arguments of an account action (op "user" of the control socket,
 * and the same object when the command works without the daemon):
 * which keys each action takes and which it needs, and each value's
 * type and bounds. Anything else is refused with a sentence that names
 * the key; a value is never echoed (it may be a password). What only
 * the security module can judge (a name's characters, a role, the
 * password policy) is left to it. Pure function, any thread.
 */
#include "cli/internal.h"
#include "project/project.h"
#include "security/security.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum arg_key {
    K_NAME = 0,
    K_AFTER,
    K_FULL_NAME,
    K_TYPE,
    K_LEVEL,
    K_AREAS,
    K_ROLES,
    K_EXPIRES,
    K_PASSWORD,
    K_NO_PASSWORD,
    K_CODE,
    K_SECRET,
    K_COUNT_
};

static const char *const key_names[K_COUNT_] = {
    [K_NAME] = "name",           [K_AFTER] = "after",
    [K_FULL_NAME] = "full_name", [K_TYPE] = "type",
    [K_LEVEL] = "level",         [K_AREAS] = "areas",
    [K_ROLES] = "roles",         [K_EXPIRES] = "expires",
    [K_PASSWORD] = "password",   [K_NO_PASSWORD] = "no_password",
    [K_CODE] = "code",           [K_SECRET] = "secret",
};

#define BIT(k) (1u << (k))
#define FIELDS                                                                                     \
    (BIT(K_FULL_NAME) | BIT(K_TYPE) | BIT(K_LEVEL) | BIT(K_AREAS) | BIT(K_ROLES) | BIT(K_EXPIRES))

/* What each action takes (allowed) and needs (required). */
static const struct {
    uint32_t allowed, required;
} action_keys[BW_CLI_USER_ACTION_COUNT_] = {
    [BW_CLI_USER_ADD] = {BIT(K_NAME) | FIELDS | BIT(K_PASSWORD) | BIT(K_NO_PASSWORD), BIT(K_NAME)},
    [BW_CLI_USER_MODIFY] = {BIT(K_NAME) | FIELDS, BIT(K_NAME)},
    [BW_CLI_USER_DISABLE] = {BIT(K_NAME), BIT(K_NAME)},
    [BW_CLI_USER_ENABLE] = {BIT(K_NAME), BIT(K_NAME)},
    [BW_CLI_USER_REMOVE] = {BIT(K_NAME), BIT(K_NAME)},
    [BW_CLI_USER_UNLOCK] = {BIT(K_NAME), BIT(K_NAME)},
    [BW_CLI_USER_PASSWD] = {BIT(K_NAME) | BIT(K_PASSWORD), BIT(K_NAME) | BIT(K_PASSWORD)},
    [BW_CLI_USER_SHOW] = {BIT(K_NAME), BIT(K_NAME)},
    [BW_CLI_USER_LIST] = {BIT(K_AFTER), 0},
    [BW_CLI_USER_MFA_ENROL] = {BIT(K_NAME), BIT(K_NAME)},
    [BW_CLI_USER_MFA_CONFIRM] = {BIT(K_NAME) | BIT(K_CODE), BIT(K_NAME) | BIT(K_CODE)},
    [BW_CLI_USER_MFA_REMOVE] = {BIT(K_NAME), BIT(K_NAME)},
    [BW_CLI_USER_SETUP] = {BIT(K_NAME) | BIT(K_SECRET) | BIT(K_PASSWORD),
                           BIT(K_NAME) | BIT(K_SECRET) | BIT(K_PASSWORD)},
};

static int bad(char *why, size_t why_size, const char *fmt, ...) BW_PRINTF(3, 4);

static int bad(char *why, size_t why_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(why, why_size, fmt, ap);
    va_end(ap);
    if (n < 0 && why_size > 0)
        why[0] = '\0';
    return BW_EMALFORMED;
}

static bool find_key(const char *key, enum arg_key *out)
{
    for (size_t i = 0; i < K_COUNT_; i++)
        if (strcmp(key, key_names[i]) == 0) {
            *out = (enum arg_key)i;
            return true;
        }
    return false;
}

/* A string of 1..max bytes without NUL; *out borrows it. */
static int text(const json_t *v, enum arg_key k, size_t max, const char **out, char *why,
                size_t why_size)
{
    size_t len = json_string_length(v);
    if (!json_is_string(v) || len == 0 || len > max || strlen(json_string_value(v)) != len)
        return bad(why, why_size, "\"%s\" must be a text of 1 to %zu bytes", key_names[k], max);
    *out = json_string_value(v);
    return BW_OK;
}

static int get_type(const json_t *v, struct bw_security_user_change *c, char *why, size_t why_size)
{
    const char *s = json_string_value(v);
    if (s && strcmp(s, "human") == 0)
        c->type = BW_SECURITY_HUMAN;
    else if (s && strcmp(s, "service") == 0)
        c->type = BW_SECURITY_SERVICE;
    else
        return bad(why, why_size, "\"type\" must be \"human\" or \"service\"");
    c->set_type = true;
    return BW_OK;
}

static int get_level(const json_t *v, struct bw_security_user_change *c, char *why, size_t why_size)
{
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 9999)
        return bad(why, why_size, "\"level\" must be a whole number from 1 to 9999");
    c->set_level = true;
    c->level = (uint16_t)json_integer_value(v);
    return BW_OK;
}

static int get_areas(const json_t *v, struct bw_security_user_change *c, char *why, size_t why_size)
{
    size_t i;
    const json_t *n;
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 31)
        return bad(why, why_size, "\"areas\" must be a list of 1 to 31 area numbers");
    c->areas = 0;
    json_array_foreach(v, i, n)
    {
        if (!json_is_integer(n) || json_integer_value(n) < 1 || json_integer_value(n) > 31)
            return bad(why, why_size, "\"areas\" must hold area numbers from 1 to 31");
        c->areas |= 1u << json_integer_value(n);
    }
    c->set_areas = true;
    return BW_OK;
}

static int get_roles(const json_t *v, struct bw_cli_user_fields *f, char *why, size_t why_size)
{
    size_t i;
    const json_t *r;
    if (!json_is_array(v) || json_array_size(v) > BW_ARRAY_LEN(f->roles))
        return bad(why, why_size, "\"roles\" must be a list of at most %zu role names",
                   BW_ARRAY_LEN(f->roles));
    json_array_foreach(v, i, r)
    {
        if (text(r, K_ROLES, 64, &f->roles[i], why, why_size))
            return bad(why, why_size, "\"roles\" must hold role names of 1 to 64 bytes");
    }
    f->change.set_roles = true;
    f->change.roles = f->roles;
    f->change.role_count = json_array_size(v);
    return BW_OK;
}

static int get_expires(const json_t *v, struct bw_security_user_change *c, char *why,
                       size_t why_size)
{
    c->set_expires = true;
    c->expires_us = 0;
    if (json_is_null(v))
        return BW_OK; /* never */
    if (!json_is_string(v) ||
        bw_cli_date_parse(json_string_value(v), json_string_length(v), &c->expires_us) != BW_OK)
        return bad(why, why_size, "\"expires\" must be a date YYYY-MM-DD (UTC) or null (never)");
    return BW_OK;
}

static int get_one(struct bw_cli_user_fields *f, enum arg_key k, const json_t *v, char *why,
                   size_t why_size)
{
    switch (k) {
    case K_NAME:
        return text(v, k, BW_SECURITY_USER_MAX, &f->name, why, why_size);
    case K_AFTER:
        return text(v, k, BW_SECURITY_USER_MAX, &f->after, why, why_size);
    case K_FULL_NAME:
        if (json_is_string(v) && json_string_length(v) == 0) {
            f->change.full_name = ""; /* clears it */
            return BW_OK;
        }
        return text(v, k, 128, &f->change.full_name, why, why_size);
    case K_TYPE:
        return get_type(v, &f->change, why, why_size);
    case K_LEVEL:
        return get_level(v, &f->change, why, why_size);
    case K_AREAS:
        return get_areas(v, &f->change, why, why_size);
    case K_ROLES:
        return get_roles(v, f, why, why_size);
    case K_EXPIRES:
        return get_expires(v, &f->change, why, why_size);
    case K_PASSWORD:
        /* Any bytes the JSON can carry: the policy judges them. */
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) > BW_CLI_SECRET_MAX)
            return bad(why, why_size, "\"password\" must be a text of 1 to %u bytes",
                       BW_CLI_SECRET_MAX);
        f->password = json_string_value(v);
        f->password_len = json_string_length(v);
        return BW_OK;
    case K_NO_PASSWORD:
        if (!json_is_boolean(v))
            return bad(why, why_size, "\"no_password\" must be true or false");
        f->no_password = json_is_true(v);
        return BW_OK;
    case K_CODE:
        return text(v, k, 16, &f->code, why, why_size);
    case K_SECRET:
        return text(v, k, 64, &f->secret, why, why_size);
    case K_COUNT_:
        break;
    }
    return bad(why, why_size, "unknown argument");
}

int bw_cli_user_fields_get(enum bw_cli_user_action action, const json_t *args,
                           struct bw_cli_user_fields *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof(*out));
    if ((unsigned)action >= BW_CLI_USER_ACTION_COUNT_)
        return bad(why, why_size, "unknown action");
    if (!json_is_object(args))
        return bad(why, why_size, "\"args\" must be an object");
    const char *action_name = bw_cli_user_action_name(action);
    uint32_t seen = 0;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)args, key, v)
    {
        enum arg_key k;
        if (!find_key(key, &k) || !(action_keys[action].allowed & BIT(k)))
            return bad(why, why_size, "action \"%s\" takes no argument \"%.32s\"", action_name,
                       find_key(key, &k) ? key_names[k] : "(unknown)");
        int rc = get_one(out, k, v, why, why_size);
        if (rc)
            return rc;
        seen |= BIT(k);
    }
    uint32_t missing = action_keys[action].required & ~seen;
    for (size_t k = 0; k < K_COUNT_; k++)
        if (missing & BIT(k))
            return bad(why, why_size, "action \"%s\" needs \"%s\"", action_name, key_names[k]);
    if (out->password && out->no_password)
        return bad(why, why_size, "\"password\" and \"no_password\" exclude each other");
    return BW_OK;
}
