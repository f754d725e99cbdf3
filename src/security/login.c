/* SPDX-License-Identifier: Apache-2.0
 *
 * Authentication (SR 1.1, 1.5, 1.11): the login, and the password checks
 * that signatures, approvals and re-authentication make. Whatever the
 * outcome, one Argon2id computation is made with the same parameters (an
 * unknown user is checked against the dummy hash), so that the answer and
 * its time are the same for an unknown user, a wrong password and a
 * locked, disabled or expired account; only the audit record tells them
 * apart. Failures count toward the account's lockout and the source
 * address's throttle. Any thread except the engine's; blocks while
 * hashing.
 */
#include "security/internal.h"

#include <string.h>
#include <time.h>

/* Longer input is refused before hashing: it cannot be a valid password
 * under any policy, and hashing megabytes would cost time. */
#define PASSWORD_INPUT_MAX 4096

uint32_t sec_user_permissions(const struct bw_security *sec, const struct sec_user *u)
{
    uint32_t perms = 0;
    for (size_t i = 0; i < sec->policy->role_count && i < 64; i++)
        if (u->info.roles & (1ull << i))
            perms |= sec->policy->roles[i].permissions;
    return perms;
}

/* Counts a failed attempt on an existing account and locks it at the
 * policy's limit. Returns true when this failure locked it. */
static bool count_failure(struct bw_security *sec, const char *name, const char *address)
{
    const struct bw_project_lockout_policy *lp = &sec->policy->lockout;
    int64_t now = bw_clock_realtime_us();
    int64_t window = (int64_t)lp->window_seconds * 1000000;
    bool locked_now = false;
    uint32_t failures = 0;
    pthread_mutex_lock(&sec->lockout_lock);
    struct sec_user u;
    if (sec_store_user_load(sec, name, &u) == BW_OK) {
        if (u.info.locked_until_us != 0 && u.info.locked_until_us <= now) {
            /* A timed lock ran out: the count starts again. */
            u.info.locked_until_us = 0;
            u.info.failed_logins = 0;
            u.first_failure_us = 0;
        }
        if (u.first_failure_us == 0 || now - u.first_failure_us >= window) {
            u.first_failure_us = now;
            u.info.failed_logins = 0;
        }
        u.info.failed_logins++;
        failures = u.info.failed_logins;
        if (u.info.state == BW_SECURITY_ACTIVE && u.info.failed_logins >= lp->max_failures) {
            u.info.state = BW_SECURITY_LOCKED;
            u.info.locked_until_us =
                lp->lock_seconds ? now + (int64_t)lp->lock_seconds * 1000000 : 0;
            locked_now = true;
        }
        if (sec_store_user_update(sec, &u) != BW_OK)
            bw_log(BW_LOG_ERROR, BW_LOGC_SECURITY, "cannot store the failed-login count");
    }
    pthread_mutex_unlock(&sec->lockout_lock);
    bw_crypto_wipe(&u, sizeof(u));
    if (locked_now)
        sec_note(sec, BW_AUDIT_EV_ACCOUNT_LOCKED, BW_AUDIT_SUCCESS, name, address,
                 json_pack("{s:I, s:I}", "failures", (json_int_t)failures, "lock_seconds",
                           (json_int_t)lp->lock_seconds));
    return locked_now;
}

static void count_address_failure(struct bw_security *sec, const char *address)
{
    if (sec_throttle_fail(sec->throttle, &sec->policy->lockout, address, bw_clock_realtime_us()))
        sec_note(
            sec, BW_AUDIT_EV_ADDRESS_THROTTLED, BW_AUDIT_SUCCESS, "-", address,
            json_pack("{s:I}", "seconds", (json_int_t)sec->policy->lockout.address_window_seconds));
}

/* The account part: what a right password does not overrule. */
static const char *account_refusal(const struct sec_user *u, bool interactive)
{
    switch (u->info.state) {
    case BW_SECURITY_ACTIVE:
        break;
    case BW_SECURITY_DISABLED:
        return "account disabled";
    case BW_SECURITY_LOCKED:
        return "account locked";
    case BW_SECURITY_EXPIRED:
        return "account expired";
    }
    if (interactive && u->info.type == BW_SECURITY_SERVICE)
        return "service account";
    return NULL;
}

/* A successful check: the failure count starts again, the hash is made
 * again when the policy's parameters went up. The account is read again
 * under the lock and refused if it changed meanwhile (disabled, locked,
 * removed while the password was being hashed); *why then says so. */
static bool note_success(struct bw_security *sec, struct sec_user *u, const char *password,
                         size_t len, bool interactive, const char **why)
{
    bool ok = false;
    pthread_mutex_lock(&sec->lockout_lock);
    struct sec_user fresh;
    int rc = sec_store_user_load(sec, u->info.name, &fresh);
    const char *refusal = rc == BW_OK ? account_refusal(&fresh, interactive) : "account removed";
    if (refusal) {
        *why = refusal;
    } else {
        fresh.info.failed_logins = 0;
        fresh.first_failure_us = 0;
        fresh.info.locked_until_us = 0;
        if (interactive)
            fresh.info.last_login_us = bw_clock_realtime_us();
        struct bw_crypto_argon2_params want = sec_argon2_params(sec);
        if (password && fresh.pw_hash[0] && bw_crypto_pwhash_needs_rehash(fresh.pw_hash, &want) &&
            sec_hashpool_enter(&sec->pool) == BW_OK) {
            char hash[BW_CRYPTO_PWHASH_MAX];
            if (bw_crypto_pwhash(&want, password, len, hash, sizeof(hash)) == BW_OK)
                memcpy(fresh.pw_hash, hash, sizeof(hash));
            bw_crypto_wipe(hash, sizeof(hash));
            sec_hashpool_leave(&sec->pool);
        }
        if (sec_store_user_update(sec, &fresh) == BW_OK) {
            *u = fresh;
            ok = true;
        } else {
            *why = "account store unwritable";
        }
    }
    pthread_mutex_unlock(&sec->lockout_lock);
    bw_crypto_wipe(&fresh, sizeof(fresh));
    return ok;
}

/* The directory's groups may not hand one account both duties that the
 * account code keeps apart. */
static bool duties_combined(const struct bw_security *sec, uint64_t roles)
{
    uint32_t perms = 0;
    for (size_t i = 0; i < sec->policy->role_count && i < 64; i++)
        if (roles & (1ull << i))
            perms |= sec->policy->roles[i].permissions;
    return (perms & (1u << BW_PERM_USER_MANAGE)) &&
           (perms & ((1u << BW_PERM_TAG_WRITE) | (1u << BW_PERM_OVERRIDE)));
}

/* Makes or refreshes the local shadow of a directory user, under the
 * lockout lock, changing only what the directory decides (level, areas,
 * roles): a disable, a lock or a used code recorded meanwhile stays. */
static int shadow_store(struct bw_security *sec, const char *name, uint64_t roles,
                        struct sec_user *u)
{
    const struct bw_project_ldap *cfg = sec->policy->ldap;
    pthread_mutex_lock(&sec->lockout_lock);
    int rc = sec_store_user_load(sec, name, u);
    if (rc == BW_ENOTFOUND) {
        memset(u, 0, sizeof(*u));
        bw_strlcpy(u->info.name, name, sizeof(u->info.name));
        u->info.type = BW_SECURITY_DIRECTORY;
        u->info.state = BW_SECURITY_ACTIVE;
        u->info.created_us = bw_clock_realtime_us();
        u->info.level = cfg->level;
        u->info.areas = cfg->areas;
        u->info.roles = roles;
        rc = sec_store_user_insert(sec, u);
    } else if (rc == BW_OK && u->info.type != BW_SECURITY_DIRECTORY) {
        rc = BW_EEXIST;
    } else if (rc == BW_OK) {
        u->info.level = cfg->level;
        u->info.areas = cfg->areas;
        u->info.roles = roles;
        u->roles_replace = true; /* the directory decides them all */
        rc = sec_store_user_update(sec, u);
    }
    pthread_mutex_unlock(&sec->lockout_lock);
    return rc;
}

/* Directory users: the bind decides; the local shadow account keeps the
 * lockout state and the second factor, and takes its roles from the
 * groups at each login. A wrong password for a user the directory knows
 * makes the shadow too, so that the lockout counts from the first try.
 * BW_EDENIED for a refusal (*found tells whether an account now holds the
 * count), BW_EIO for a directory fault, which counts against no one. */
static int directory_check(struct bw_security *sec, const char *name, const char *password,
                           size_t len, bool *found, struct sec_user *u, const char **why)
{
    struct sec_ldap_result dir;
    memset(&dir, 0, sizeof(dir));
    int rc = sec_ldap_authenticate(sec->ldap, name, password, len, &dir);
    if (rc == BW_EDENIED) {
        *why = dir.user_found ? "wrong password" : "unknown user";
        if (dir.user_found && !*found)
            *found = shadow_store(sec, name, 0, u) == BW_OK;
        return BW_EDENIED;
    }
    if (rc) {
        *why = "directory unreachable";
        return BW_EIO;
    }
    if (duties_combined(sec, dir.roles)) {
        *why = "directory groups combine account management and process operation";
        return BW_EIO;
    }
    rc = shadow_store(sec, name, dir.roles, u);
    if (rc) {
        *why = "cannot store the directory account";
        return BW_EIO;
    }
    *found = true;
    return BW_OK;
}

/* A directory matches names without regard to case, so its users' local
 * shadows are keyed by the lower-case name: "Alice" and "alice" are one
 * account with one lockout count. */
static bool directory_key(const char *name, char key[BW_SECURITY_USER_MAX + 1])
{
    if (!sec_user_name_valid(name))
        return false;
    size_t i = 0;
    for (; name[i]; i++)
        key[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] - 'A' + 'a') : name[i];
    key[i] = '\0';
    return true;
}

/* The password part, one hash computation (or one directory bind).
 * account receives the name of the row that keeps the lockout count. */
static int check_password(struct bw_security *sec, const char *name, const char *password,
                          size_t len, struct sec_user *u, bool *found,
                          char account[BW_SECURITY_USER_MAX + 1], const char **why)
{
    *found = false;
    account[0] = '\0';
    if (!name || !*name || strlen(name) > BW_SECURITY_USER_MAX || !password ||
        len > PASSWORD_INPUT_MAX) {
        *why = !password || len > PASSWORD_INPUT_MAX ? "password too long" : "unknown user";
        return BW_EDENIED;
    }
    bw_strlcpy(account, name, BW_SECURITY_USER_MAX + 1);
    int rc = sec_store_user_load(sec, name, u);
    if (rc && rc != BW_ENOTFOUND) {
        *why = "account store unreadable";
        return rc;
    }
    *found = rc == BW_OK;
    if (sec->ldap && (!*found || u->info.type == BW_SECURITY_DIRECTORY)) {
        if (!directory_key(name, account)) {
            *found = false;
            *why = "unknown user";
            return BW_EDENIED;
        }
        rc = *found ? BW_OK : sec_store_user_load(sec, account, u);
        if (rc && rc != BW_ENOTFOUND) {
            *why = "account store unreadable";
            return rc;
        }
        *found = rc == BW_OK;
        if (*found && u->info.type != BW_SECURITY_DIRECTORY) {
            /* The name differs only in case from a local account's. */
            *found = false;
            *why = "unknown user";
            return BW_EDENIED;
        }
        if (len == 0) {
            *why = "empty password";
            return BW_EDENIED;
        }
        return directory_check(sec, account, password, len, found, u, why);
    }
    const char *hash = *found && u->info.type != BW_SECURITY_DIRECTORY && u->pw_hash[0]
                           ? u->pw_hash
                           : sec->dummy_hash;
    /* Only the hash takes a slot: a directory bind waits on the network,
     * not on memory. */
    if (sec_hashpool_enter(&sec->pool) != BW_OK) {
        *why = "hashing queue full";
        return BW_EFULL;
    }
    rc = bw_crypto_pwhash_verify(hash, password, len);
    sec_hashpool_leave(&sec->pool);
    if (!*found) {
        *why = "unknown user";
        return BW_EDENIED;
    }
    if (hash == sec->dummy_hash) {
        *why = "no password set";
        return BW_EDENIED;
    }
    if (rc == BW_EDENIED) {
        *why = "wrong password";
        return BW_EDENIED;
    }
    if (rc) {
        *why = "stored hash unusable";
        return BW_EDENIED;
    }
    return BW_OK;
}

enum auth_outcome { AUTH_OK, AUTH_FAILED, AUTH_NEED_TOTP, AUTH_BUSY };

struct auth_request {
    const char *user;
    const char *password;
    size_t len;
    const char *totp;
    const char *address;
    bool untrusted;
    bool interactive; /* a login (service accounts refused, second factor by policy) */
    bool reentry;     /* the holder of a live session re-enters the password */
};

/* The whole check. On AUTH_OK *u is the account (after the bookkeeping).
 * why gets the word for the audit record. */
static enum auth_outcome authenticate(struct bw_security *sec, const struct auth_request *req,
                                      struct sec_user *u, const char **why)
{
    if (!sec_throttle_allows(sec->throttle, &sec->policy->lockout, req->address,
                             bw_clock_realtime_us())) {
        *why = "address throttled";
        return AUTH_FAILED;
    }
    bool found = false;
    char account[BW_SECURITY_USER_MAX + 1];
    int rc = check_password(sec, req->user, req->password, req->len, u, &found, account, why);
    if (rc == BW_EFULL)
        return AUTH_BUSY;
    const char *refusal = rc == BW_OK ? account_refusal(u, req->interactive) : NULL;
    enum auth_outcome outcome = AUTH_OK;
    /* Whether this check settles the second factor: a login asks for it
     * by policy; a re-entered password (signature, approval, unlock)
     * checks a code when one is given, and must have one when the policy
     * says everywhere. Only a check that settled it resets the count. */
    bool mfa_needed = rc == BW_OK && sec_mfa_required(sec, u, req->untrusted);
    bool mfa_done = !mfa_needed || req->reentry;
    if (rc || refusal) {
        if (refusal)
            *why = refusal;
        outcome = AUTH_FAILED;
    } else {
        bool required = req->interactive
                            ? mfa_needed
                            : !req->reentry && u->info.mfa_enrolled &&
                                  (req->totp || sec->policy->mfa == BW_PROJECT_MFA_ALWAYS);
        if (required && !u->info.mfa_enrolled) {
            *why = "second factor not enrolled";
            outcome = AUTH_FAILED;
        } else if (required && !req->totp) {
            *why = "second factor required";
            outcome = AUTH_NEED_TOTP;
        } else if (required && sec_mfa_check(sec, u, req->totp) != BW_OK) {
            *why = "wrong second factor";
            rc = BW_EDENIED;
            outcome = AUTH_FAILED;
        } else if (required) {
            mfa_done = true;
        }
    }
    if (outcome == AUTH_OK && mfa_done &&
        !note_success(sec, u, req->password, req->len, req->interactive, why))
        outcome = AUTH_FAILED;
    if (outcome == AUTH_FAILED) {
        /* A wrong password or code counts against the account; a refusal
         * of a right one (locked, disabled) or a directory fault does
         * not. An unknown name costs the same write (sec_store_pad). */
        if (found && rc == BW_EDENIED)
            count_failure(sec, account, req->address);
        else
            sec_store_pad(sec);
        count_address_failure(sec, req->address);
    }
    return outcome;
}

/* The bookkeeping after a failure differs by cause (a known account's
 * counter is written, an unknown one has none), and so would the time of
 * the answer. Every failure is therefore answered no sooner than the
 * slowest of the recent ones took. */
#define FAIL_FLOOR_MAX_US 2000000

static void answer_failure_in_time(struct bw_security *sec, int64_t started_us)
{
    int64_t took = bw_clock_monotonic_us() - started_us;
    pthread_mutex_lock(&sec->lockout_lock);
    sec->fail_us[sec->fail_next++ % BW_ARRAY_LEN(sec->fail_us)] = took;
    int64_t floor = 0;
    for (size_t i = 0; i < BW_ARRAY_LEN(sec->fail_us); i++)
        if (sec->fail_us[i] > floor)
            floor = sec->fail_us[i];
    pthread_mutex_unlock(&sec->lockout_lock);
    if (floor > FAIL_FLOOR_MAX_US)
        floor = FAIL_FLOOR_MAX_US;
    int64_t wait = floor - took;
    if (wait > 0) {
        struct timespec ts = {.tv_sec = wait / 1000000, .tv_nsec = (wait % 1000000) * 1000};
        while (nanosleep(&ts, &ts) != 0)
            ;
    }
}

static json_t *failure_details(const char *why)
{
    return json_pack("{s:s}", "reason", why);
}

int bw_security_login(struct bw_security *sec, const struct bw_security_login_request *request,
                      struct bw_security_login_result *result)
{
    memset(result, 0, sizeof(*result));
    result->outcome = BW_SECURITY_LOGIN_FAILED;
    const char *user = request->user ? request->user : "";
    if (sec->policy->banner && sec->policy->banner_must_accept && !request->banner_accepted) {
        result->outcome = BW_SECURITY_LOGIN_NEED_BANNER;
        sec_note(sec, BW_AUDIT_EV_LOGIN_FAILED, BW_AUDIT_FAILURE, user, request->address,
                 failure_details("banner not accepted"));
        return BW_OK;
    }
    struct auth_request req = {.user = request->user,
                               .password = request->password,
                               .len = request->password_len,
                               .totp = request->totp,
                               .address = request->address,
                               .untrusted = request->untrusted_network,
                               .interactive = true};
    struct sec_user u;
    const char *why = "";
    int64_t started = bw_clock_monotonic_us();
    enum auth_outcome outcome = authenticate(sec, &req, &u, &why);
    if (outcome != AUTH_OK) {
        result->outcome = outcome == AUTH_BUSY        ? BW_SECURITY_LOGIN_BUSY
                          : outcome == AUTH_NEED_TOTP ? BW_SECURITY_LOGIN_NEED_TOTP
                                                      : BW_SECURITY_LOGIN_FAILED;
        sec_note(sec, BW_AUDIT_EV_LOGIN_FAILED, BW_AUDIT_FAILURE, user, request->address,
                 failure_details(why));
        bw_crypto_wipe(&u, sizeof(u));
        if (outcome == AUTH_FAILED)
            answer_failure_in_time(sec, started);
        return BW_OK;
    }
    const struct bw_project_password_policy *pp = &sec->policy->password;
    int64_t now = bw_clock_realtime_us();
    bool aged = pp->max_age_days && u.info.type != BW_SECURITY_DIRECTORY &&
                now - u.info.password_changed_us >= (int64_t)pp->max_age_days * 86400 * 1000000;
    bool must_change = u.info.must_change_password || aged;
    int rc = sec_session_open(sec, &u, request->address, must_change, result);
    if (rc == BW_EFULL) {
        result->outcome = BW_SECURITY_LOGIN_SESSIONS_FULL;
        sec_note(sec, BW_AUDIT_EV_LOGIN_FAILED, BW_AUDIT_FAILURE, user, request->address,
                 failure_details("session limit"));
        bw_crypto_wipe(&u, sizeof(u));
        return BW_OK;
    }
    if (rc) {
        sec_note(sec, BW_AUDIT_EV_LOGIN_FAILED, BW_AUDIT_ERROR, user, request->address,
                 failure_details("session could not be opened"));
        bw_crypto_wipe(&u, sizeof(u));
        return rc;
    }
    json_t *details = json_pack("{s:b, s:b, s:s}", "second_factor", request->totp != NULL,
                                "change_required", must_change, "account",
                                u.info.type == BW_SECURITY_DIRECTORY ? "directory" : "local");
    bw_crypto_wipe(&u, sizeof(u));
    rc = sec_audit(sec, BW_AUDIT_EV_LOGIN_SUCCEEDED, BW_AUDIT_SUCCESS, user, request->address,
                   details);
    if (rc) {
        /* Not on record, so not allowed (SR 2.10): fail closed. */
        if (bw_security_logout(sec, result->token) != BW_OK)
            bw_log(BW_LOG_ERROR, BW_LOGC_SECURITY, "cannot end an unrecorded session");
        bw_crypto_wipe(result, sizeof(*result));
        result->outcome = BW_SECURITY_LOGIN_FAILED;
        return BW_OK;
    }
    result->outcome = BW_SECURITY_LOGIN_OK;
    result->must_change_password = must_change;
    return BW_OK;
}

static int verify(struct bw_security *sec, const struct auth_request *req, struct sec_user *out,
                  const char **why_code)
{
    struct sec_user u;
    const char *why = "";
    enum auth_outcome outcome = authenticate(sec, req, &u, &why);
    if (why_code)
        *why_code = why;
    if (outcome == AUTH_OK && out)
        *out = u;
    bw_crypto_wipe(&u, sizeof(u));
    if (outcome == AUTH_BUSY)
        return BW_EFULL;
    return outcome == AUTH_OK ? BW_OK : BW_EDENIED;
}

int sec_verify_password(struct bw_security *sec, const char *name, const char *password, size_t len,
                        const char *totp, const char *address, struct sec_user *out,
                        const char **why_code)
{
    struct auth_request req = {
        .user = name, .password = password, .len = len, .totp = totp, .address = address};
    return verify(sec, &req, out, why_code);
}

int sec_verify_reentry(struct bw_security *sec, const char *name, const char *password, size_t len,
                       const char *address, struct sec_user *out, const char **why_code)
{
    struct auth_request req = {
        .user = name, .password = password, .len = len, .address = address, .reentry = true};
    return verify(sec, &req, out, why_code);
}
