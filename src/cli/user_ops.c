/* SPDX-License-Identifier: Apache-2.0
 *
 * The account actions of `bulwark user`, done against a security
 * context: by the daemon for a request on its control socket (with its
 * project's policy, the actor taken from the peer's credentials), or by
 * the command itself when no daemon runs (under the state lock). One
 * function, so that both paths check, do and record exactly the same.
 * The reply is the JSON object the control socket carries:
 * {"ok":true,...} or {"ok":false,"error":{"code","message"}}; a message
 * is the security module's `why`, which never holds a secret. Main
 * thread of the command, or the daemon's control thread (the calls that
 * hash a password block it for one hash).
 */
#include "cli/internal.h"
#include "crypto/crypto.h"
#include "project/project.h"
#include "security/security.h"

#include <string.h>

/* Room for an otpauth:// URI (the module asks for at least 256). */
#define URI_MAX 512
/* Accounts in one page of `list`: the reply stays far below a chunk. */
#define LIST_PAGE 500
/* What list_one returns to stop the walk: no error code is negative. */
#define LIST_STOP (-1)

static json_t *error_reply(const char *code, const char *message)
{
    return json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "code", code, "message", message);
}

/* The stable word for a security module error. */
static const char *error_code(int rc)
{
    switch (rc) {
    case BW_EDENIED:
        return "denied";
    case BW_ENOTFOUND:
        return "not_found";
    case BW_EEXIST:
        return "exists";
    case BW_EINVAL:
    case BW_EMALFORMED:
        return "invalid";
    case BW_ERANGE:
        return "password_policy";
    case BW_EFULL:
    case BW_EBUSY:
        return "busy";
    case BW_ESTATE:
        return "state";
    case BW_ENOMEM:
        return "no_memory";
    default:
        return "failed";
    }
}

/* The reply to a call that returned rc, with why when it failed. */
static json_t *result_reply(int rc, const char *why)
{
    if (rc == BW_OK)
        return json_pack("{s:b}", "ok", 1);
    return error_reply(error_code(rc), why[0] ? why : bw_strerror(rc));
}

static json_t *user_reply(struct bw_security *sec, const struct bw_project_security *policy,
                          const char *name)
{
    struct bw_security_user_info info;
    int rc = bw_security_user_get(sec, name, &info);
    if (rc == BW_ENOTFOUND)
        return error_reply("not_found", "no such account");
    if (rc)
        return error_reply(error_code(rc), "the account store cannot be read");
    return json_pack("{s:b, s:o}", "ok", 1, "user", bw_cli_user_info_json(&info, policy));
}

struct list_page {
    const struct bw_project_security *policy;
    const char *after;
    json_t *users;
    char last[BW_SECURITY_USER_MAX + 1];
    bool more;
    bool failed;
};

/* Accounts come in name order: those up to `after` were in earlier
 * pages. A full page stops the walk, saying whether one follows. */
static int list_one(void *ctx, const struct bw_security_user_info *u)
{
    struct list_page *p = ctx;
    if (p->after && strcmp(u->name, p->after) <= 0)
        return 0;
    if (json_array_size(p->users) >= LIST_PAGE) {
        p->more = true;
        return LIST_STOP;
    }
    if (json_array_append_new(p->users, bw_cli_user_info_json(u, p->policy)) != 0) {
        p->failed = true;
        return LIST_STOP;
    }
    bw_strlcpy(p->last, u->name, sizeof(p->last));
    return 0;
}

static json_t *list_reply(struct bw_security *sec, const struct bw_project_security *policy,
                          const char *after)
{
    struct list_page page = {.policy = policy, .after = after, .users = json_array()};
    if (!page.users)
        return NULL;
    int rc = bw_security_user_list(sec, list_one, &page);
    if (page.failed || (rc != BW_OK && rc != LIST_STOP)) {
        json_decref(page.users);
        return page.failed ? NULL : error_reply(error_code(rc), "the account store cannot be read");
    }
    return json_pack("{s:b, s:o, s:o}", "ok", 1, "users", page.users, "next",
                     page.more ? json_string(page.last) : json_null());
}

static json_t *enrol_reply(struct bw_security *sec, const struct bw_security_actor *actor,
                           const char *name, char *why, size_t why_size)
{
    char uri[URI_MAX];
    int rc = bw_security_mfa_enrol(sec, actor, name, uri, sizeof(uri), why, why_size);
    json_t *reply = rc ? result_reply(rc, why) : json_pack("{s:b, s:s}", "ok", 1, "uri", uri);
    bw_crypto_wipe(uri, sizeof(uri));
    return reply;
}

/* Where a setup request came from, for its audit record. */
static json_t *setup_reply(struct bw_security *sec, const struct bw_cli_user_actor *actor,
                           const struct bw_cli_user_fields *f, char *why, size_t why_size)
{
    char address[256];
    int fits =
        actor->login_uid_known
            ? bw_snprintf(address, sizeof(address), "%s, %s, login uid %u", actor->address,
                          actor->os_user, (unsigned)actor->login_uid)
            : bw_snprintf(address, sizeof(address), "%s, %s", actor->address, actor->os_user);
    if (fits != BW_OK)
        bw_strlcpy(address, actor->address, sizeof(address));
    int rc = bw_security_setup_admin(sec, f->secret, f->name, f->password, f->password_len, address,
                                     why, why_size);
    if (rc)
        return result_reply(rc, why);
    return json_pack("{s:b, s:s}", "ok", 1, "user", f->name);
}

/* A person's account needs a password; a service account may have
 * none (it then authenticates otherwise, never interactively). */
static json_t *add_reply(struct bw_security *sec, const struct bw_project_security *policy,
                         const struct bw_security_actor *actor, const struct bw_cli_user_fields *f,
                         char *why, size_t why_size)
{
    bool service = f->change.set_type && f->change.type == BW_SECURITY_SERVICE;
    if (f->no_password && !service)
        return error_reply("invalid", "only a service account may be added without a password");
    if (!f->no_password && !f->password)
        return error_reply("invalid", "a password is needed (or no_password for a service "
                                      "account)");
    int rc = bw_security_user_add(sec, actor, f->name, &f->change, f->password, f->password_len,
                                  why, why_size);
    return rc ? result_reply(rc, why) : user_reply(sec, policy, f->name);
}

static json_t *do_action(struct bw_security *sec, const struct bw_project_security *policy,
                         const struct bw_cli_user_actor *who, enum bw_cli_user_action action,
                         const struct bw_cli_user_fields *f, char *why, size_t why_size)
{
    const struct bw_security_actor actor = {.os_user = who->os_user,
                                            .address = who->address,
                                            .login_uid_known = who->login_uid_known,
                                            .login_uid = who->login_uid};
    int rc;
    switch (action) {
    case BW_CLI_USER_ADD:
        return add_reply(sec, policy, &actor, f, why, why_size);
    case BW_CLI_USER_MODIFY:
        rc = bw_security_user_modify(sec, &actor, f->name, &f->change, why, why_size);
        return rc ? result_reply(rc, why) : user_reply(sec, policy, f->name);
    case BW_CLI_USER_DISABLE:
    case BW_CLI_USER_ENABLE:
        rc = bw_security_user_set_state(sec, &actor, f->name, action == BW_CLI_USER_ENABLE, why,
                                        why_size);
        return result_reply(rc, why);
    case BW_CLI_USER_REMOVE:
        return result_reply(bw_security_user_remove(sec, &actor, f->name, why, why_size), why);
    case BW_CLI_USER_UNLOCK:
        return result_reply(bw_security_user_unlock(sec, &actor, f->name, why, why_size), why);
    case BW_CLI_USER_PASSWD:
        rc = bw_security_user_reset_password(sec, &actor, f->name, f->password, f->password_len,
                                             why, why_size);
        return result_reply(rc, why);
    case BW_CLI_USER_SHOW:
        return user_reply(sec, policy, f->name);
    case BW_CLI_USER_LIST:
        return list_reply(sec, policy, f->after);
    case BW_CLI_USER_MFA_ENROL:
        return enrol_reply(sec, &actor, f->name, why, why_size);
    case BW_CLI_USER_MFA_CONFIRM:
        rc = bw_security_mfa_confirm(sec, &actor, f->name, f->code, why, why_size);
        return result_reply(rc, why);
    case BW_CLI_USER_MFA_REMOVE:
        return result_reply(bw_security_mfa_remove(sec, &actor, f->name, why, why_size), why);
    case BW_CLI_USER_SETUP:
        return setup_reply(sec, who, f, why, why_size);
    case BW_CLI_USER_ACTION_COUNT_:
        break;
    }
    return error_reply("bad_request", "unknown action");
}

json_t *bw_cli_user_apply(struct bw_security *sec, const struct bw_project_security *policy,
                          const struct bw_cli_user_actor *actor, enum bw_cli_user_action action,
                          const json_t *args)
{
    char why[BW_CLI_WHY_MAX] = "";
    struct bw_cli_user_fields fields;
    if (bw_cli_user_fields_get(action, args, &fields, why, sizeof(why)) != BW_OK)
        return error_reply("bad_request", why);
    json_t *reply = do_action(sec, policy, actor, action, &fields, why, sizeof(why));
    bw_crypto_wipe(&fields, sizeof(fields));
    return reply;
}
