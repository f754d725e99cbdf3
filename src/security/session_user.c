/* SPDX-License-Identifier: Apache-2.0
 *
 * What people do to sessions beyond signing in and out: unlocking a
 * locked session by authenticating again (SR 2.5), where the same user
 * resumes it and another user takes it over with their own rights; and
 * an administrator's list of sessions and remote termination (SR 2.6;
 * session.manage, or the operating-system user at the terminal).
 *
 * bw_security_session_unlock returns BW_ENOTFOUND for an unknown or
 * ended token, BW_ESTATE when the session is not locked, BW_EIO /
 * BW_ENOMEM for a fault, and BW_OK whenever an outcome was decided (in
 * result, as a login's). An unlock goes ahead only once it is on record:
 * when the record cannot be made, a resumed session locks again and a
 * taken-over one ends (fail closed, SR 2.10). Any thread except the
 * engine's; an unlock blocks while the password is hashed.
 */
#include "security/sessions_internal.h"

#include <string.h>

/* ---- unlock ---------------------------------------------------------- */

static void unlock_refused(struct bw_security *sec, const struct sec_subject *held,
                           const char *user, const char *address, const char *why)
{
    sec_note(
        sec, BW_AUDIT_EV_SESSION_UNLOCKED, BW_AUDIT_FAILURE, user && *user ? user : "-", address,
        json_pack("{s:s, s:s, s:s}", "id", held->session_id, "reason", why, "holder", held->user));
}

/* A login's rules that a password check for a signature does not make:
 * no service accounts, and the second factor as the policy asks of this
 * network. NULL when u may sign in here; else the word for the record
 * (*need_totp when a code would do). */
static const char *interactive_refusal(struct bw_security *sec, const struct sec_user *u,
                                       const struct bw_security_login_request *request,
                                       bool *need_totp)
{
    *need_totp = false;
    if (u->info.type == BW_SECURITY_SERVICE)
        return "service account";
    if (!sec_mfa_required(sec, u, request->untrusted_network))
        return NULL;
    if (!u->info.mfa_enrolled)
        return "second factor not enrolled";
    if (!request->totp) {
        *need_totp = true;
        return "second factor required";
    }
    return NULL; /* the code given was checked with the password */
}

static bool password_aged(const struct bw_security *sec, const struct sec_user *u)
{
    const struct bw_project_password_policy *pp = &sec->policy->password;
    return pp->max_age_days && u->info.type != BW_SECURITY_DIRECTORY &&
           bw_clock_realtime_us() - u->info.password_changed_us >=
               (int64_t)pp->max_age_days * 86400 * 1000000;
}

/* The holder is back: the session unlocks with a new CSRF token. */
static int unlock_resume(struct bw_security *sec, const char *token, const struct sec_user *u,
                         const char *address, struct bw_security_login_result *result)
{
    char csrf[BW_SECURITY_TOKEN_LEN + 1];
    uint8_t cd[BW_SHA256_LEN];
    struct sec_subject now;
    int rc = sec_session_csrf_new(csrf, cd);
    if (rc == BW_OK)
        rc = sec_session_resume(sec, token, cd, &now);
    if (rc == BW_OK) {
        rc = sec_audit(sec, BW_AUDIT_EV_SESSION_UNLOCKED, BW_AUDIT_SUCCESS, u->info.name, address,
                       json_pack("{s:s}", "id", now.session_id));
        if (rc) {
            sec_session_relock(sec, token);
            rc = BW_OK; /* decided: refused, as nothing unrecorded may go ahead */
        } else {
            result->outcome = BW_SECURITY_LOGIN_OK;
            bw_strlcpy(result->token, token, sizeof(result->token));
            bw_strlcpy(result->csrf, csrf, sizeof(result->csrf));
            result->must_change_password = now.must_change_password;
        }
    }
    bw_crypto_wipe(csrf, sizeof(csrf));
    return rc;
}

/* Another user at the locked session: it becomes theirs, under a new
 * token (whoever knew the old one gets nothing) and a new id. */
static int unlock_takeover(struct bw_security *sec, const char *token, const struct sec_user *u,
                           const char *address, struct bw_security_login_result *result)
{
    struct sec_takeover to = {.user = u,
                              .permissions = sec_user_permissions(sec, u),
                              .must_change_password =
                                  u->info.must_change_password || password_aged(sec, u),
                              .address = address};
    char new_token[BW_SECURITY_TOKEN_LEN + 1], csrf[BW_SECURITY_TOKEN_LEN + 1];
    struct sec_subject previous;
    int rc = sec_session_token_new(new_token, to.digest, to.id);
    if (rc == BW_OK)
        rc = sec_session_csrf_new(csrf, to.csrf_digest);
    if (rc == BW_OK)
        rc = sec_session_takeover(sec, token, &to, &previous);
    if (rc == BW_EFULL) {
        result->outcome = BW_SECURITY_LOGIN_SESSIONS_FULL;
        unlock_refused(sec, &previous, u->info.name, address, "session limit");
        rc = BW_OK;
    } else if (rc == BW_OK) {
        rc = sec_audit(sec, BW_AUDIT_EV_SESSION_UNLOCKED, BW_AUDIT_SUCCESS, u->info.name, address,
                       json_pack("{s:s, s:b, s:s, s:s}", "id", to.id, "taken_over", 1,
                                 "previous_user", previous.user, "previous_id",
                                 previous.session_id));
        if (rc) {
            if (sec_session_drop(sec, new_token) == BW_OK)
                sec_note(sec, BW_AUDIT_EV_SESSION_ENDED, BW_AUDIT_SUCCESS, u->info.name, address,
                         json_pack("{s:s, s:s}", "id", to.id, "reason", "unlock not recorded"));
            rc = BW_OK; /* decided: refused */
        } else {
            result->outcome = BW_SECURITY_LOGIN_OK;
            bw_strlcpy(result->token, new_token, sizeof(result->token));
            bw_strlcpy(result->csrf, csrf, sizeof(result->csrf));
            result->must_change_password = to.must_change_password;
        }
    }
    bw_crypto_wipe(new_token, sizeof(new_token));
    bw_crypto_wipe(csrf, sizeof(csrf));
    bw_crypto_wipe(&to, sizeof(to));
    return rc;
}

int bw_security_session_unlock(struct bw_security *sec, const char *token,
                               const struct bw_security_login_request *request,
                               struct bw_security_login_result *result)
{
    memset(result, 0, sizeof(*result));
    result->outcome = BW_SECURITY_LOGIN_FAILED;
    struct sec_subject held;
    int rc = sec_session_subject(sec, token, false, &held);
    if (rc == BW_OK)
        return BW_ESTATE; /* not locked: nothing to unlock */
    if (rc != BW_ESTATE)
        return BW_ENOTFOUND;
    const char *user = request->user ? request->user : "";
    const char *address = request->address;
    /* Someone else than the holder signs in here afresh: the banner is
     * theirs to accept. */
    if (strcmp(user, held.user) != 0 && sec->policy->banner && sec->policy->banner_must_accept &&
        !request->banner_accepted) {
        result->outcome = BW_SECURITY_LOGIN_NEED_BANNER;
        unlock_refused(sec, &held, user, address, "banner not accepted");
        return BW_OK;
    }
    struct sec_user u;
    const char *why = "";
    rc = sec_verify_password(sec, user, request->password, request->password_len, request->totp,
                             address, &u, &why);
    bool need_totp = false;
    if (rc == BW_OK) {
        const char *refusal = interactive_refusal(sec, &u, request, &need_totp);
        if (refusal) {
            why = refusal;
            rc = BW_EDENIED;
        }
    } else if (rc == BW_EDENIED && !request->totp && why &&
               strcmp(why, "second factor required") == 0) {
        /* The password held and a code is wanted (sec_verify_password's
         * word for it; should it change, the outcome is a plain failure). */
        need_totp = true;
    }
    if (rc == BW_OK) {
        rc = strcmp(u.info.name, held.user) == 0 ? unlock_resume(sec, token, &u, address, result)
                                                 : unlock_takeover(sec, token, &u, address, result);
    } else {
        result->outcome = rc == BW_EFULL ? BW_SECURITY_LOGIN_BUSY
                          : need_totp    ? BW_SECURITY_LOGIN_NEED_TOTP
                                         : BW_SECURITY_LOGIN_FAILED;
        unlock_refused(sec, &held, user, address, rc == BW_EFULL ? "hashing queue full" : why);
        rc = BW_OK;
    }
    bw_crypto_wipe(&u, sizeof(u));
    return rc;
}

/* ---- administration -------------------------------------------------- */

/* Whether actor may manage sessions; a refusal is recorded. name
 * receives the actor's name for the records. */
static int actor_check(struct bw_security *sec, const struct bw_security_actor *actor,
                       const char *object, char *name, size_t name_size)
{
    enum bw_security_deny_reason deny = BW_SECURITY_DENY_NO_SESSION;
    if (actor && actor->session) {
        struct sec_subject s;
        int rc = sec_session_subject(sec, actor->session, true, &s);
        bw_strlcpy(name, rc == BW_OK || rc == BW_ESTATE ? s.user : "-", name_size);
        if (rc == BW_ESTATE)
            deny = BW_SECURITY_DENY_LOCKED;
        else if (rc)
            deny = BW_SECURITY_DENY_NO_SESSION;
        else if (s.must_change_password)
            deny = BW_SECURITY_DENY_PASSWORD_CHANGE;
        else if (!(s.permissions & (1u << BW_PERM_SESSION_MANAGE)))
            deny = BW_SECURITY_DENY_PERMISSION;
        else
            return BW_OK;
    } else if (actor && actor->os_user && *actor->os_user) {
        bw_strlcpy(name, actor->os_user, name_size);
        return BW_OK;
    } else {
        bw_strlcpy(name, "-", name_size);
    }
    sec_note(sec, BW_AUDIT_EV_ACCESS_DENIED, BW_AUDIT_DENIED, name, actor ? actor->address : NULL,
             json_pack("{s:s, s:s, s:s}", "reason", bw_security_deny_reason_name(deny), "object",
                       object, "permission", bw_permission_name(BW_PERM_SESSION_MANAGE)));
    return BW_EDENIED;
}

int bw_security_session_list(struct bw_security *sec, const struct bw_security_actor *actor,
                             int (*fn)(void *ctx, const struct bw_security_session_info *s),
                             void *ctx)
{
    char name[BW_SECURITY_USER_MAX + 64];
    int rc = actor_check(sec, actor, "sessions", name, sizeof(name));
    return rc ? rc : sec_sessions_each(sec, fn, ctx);
}

int bw_security_session_terminate(struct bw_security *sec, const struct bw_security_actor *actor,
                                  const char *session_id)
{
    char name[BW_SECURITY_USER_MAX + 64];
    int rc = actor_check(sec, actor, "session", name, sizeof(name));
    if (rc)
        return rc;
    return sec_session_terminate_id(sec, session_id, name, actor ? actor->address : NULL);
}
