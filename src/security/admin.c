/* SPDX-License-Identifier: Apache-2.0
 *
 * Account management (SR 1.3, 1.4): add, modify, disable and enable,
 * unlock, remove, reset a password, and read accounts back. The actor is
 * a session holding user.manage or the operating-system user at the
 * terminal; every change is put on record naming the actor, every
 * refusal too. A change that narrows what an account may do ends its
 * sessions. Changes go ahead only while the audit trail can take their
 * record (fail closed). Any thread except the engine's.
 */
#include "security/internal.h"

#include <stdio.h>
#include <string.h>

struct actor_ctx {
    char name[BW_SECURITY_USER_MAX + 64];
    const char *address;
    bool terminal;
    bool login_uid_known;
    uint32_t login_uid;
};

/* details with the actor's login uid added when it is known: under sudo
 * the operating-system user is root, the login uid who logged in. */
static json_t *with_login_uid(const struct actor_ctx *who, json_t *details)
{
    if (details && who->login_uid_known &&
        json_object_set_new(details, "login_uid", json_integer(who->login_uid)) != 0) {
        /* A record without it still says what was done, by which uid. */
    }
    return details;
}

/* Records a change made by who (details taken). */
static void done(struct bw_security *sec, const struct actor_ctx *who, uint32_t event_id,
                 json_t *details_take)
{
    sec_note(sec, event_id, BW_AUDIT_SUCCESS, who->name, who->address,
             with_login_uid(who, details_take));
}

static int refuse(struct bw_security *sec, const struct actor_ctx *actor, const char *action,
                  const char *target, int rc, const char *reason, char *why, size_t why_size)
{
    if (why != reason)
        bw_strlcpy(why, reason, why_size);
    sec_note(sec, BW_AUDIT_EV_USER_CHANGE_REFUSED,
             rc == BW_EDENIED ? BW_AUDIT_DENIED : BW_AUDIT_FAILURE, actor->name, actor->address,
             with_login_uid(actor, json_pack("{s:s, s:s, s:s}", "action", action, "user",
                                             target ? target : "", "reason", reason)));
    return rc;
}

/* Who acts, and whether they may: a session needs user.manage (and must
 * be unlocked, its password changed); the terminal may. */
static int actor_resolve(struct bw_security *sec, const struct bw_security_actor *actor,
                         const char *action, const char *target, struct actor_ctx *out, char *why,
                         size_t why_size)
{
    memset(out, 0, sizeof(*out));
    out->address = actor ? actor->address : NULL;
    out->login_uid_known = actor && actor->login_uid_known;
    out->login_uid = actor ? actor->login_uid : 0;
    if (actor && actor->session) {
        struct sec_subject subject;
        int rc = sec_session_subject(sec, actor->session, true, &subject);
        bw_strlcpy(out->name, rc == BW_OK || rc == BW_ESTATE ? subject.user : "-",
                   sizeof(out->name));
        if (rc || subject.must_change_password ||
            !(subject.permissions & (1u << BW_PERM_USER_MANAGE)))
            return refuse(sec, out, action, target, BW_EDENIED,
                          "not permitted: managing accounts needs the user.manage permission", why,
                          why_size);
        return BW_OK;
    }
    if (actor && actor->os_user && *actor->os_user) {
        bw_strlcpy(out->name, actor->os_user, sizeof(out->name));
        out->terminal = true;
        return BW_OK;
    }
    bw_strlcpy(out->name, "-", sizeof(out->name));
    return refuse(sec, out, action, target, BW_EDENIED, "not permitted: no actor", why, why_size);
}

/* Operations wait for the trail: with the refuse policy and a full or
 * failing trail, no change is made unrecorded. */
static int gate(struct bw_security *sec, const struct actor_ctx *actor, const char *action,
                const char *target, char *why, size_t why_size)
{
    if (bw_audit_gate(sec->audit) == BW_OK)
        return BW_OK;
    return refuse(sec, actor, action, target, BW_EDENIED,
                  "refused: the audit trail cannot record changes now", why, why_size);
}

bool bw_security_full_name_valid(const char *text, size_t len)
{
    if (len >= sizeof(((struct bw_security_user_info *)0)->full_name) || !bw_utf8_valid(text, len))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        /* C0 and DEL; in valid UTF-8, 0xC2 0x80..0x9F is C1 (U+0080..U+009F). */
        if (c < 0x20 || c == 0x7f ||
            (c == 0xc2 && i + 1 < len && (unsigned char)text[i + 1] <= 0x9f))
            return false;
    }
    return true;
}

bool sec_user_name_valid(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > BW_SECURITY_USER_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-' && c != '@')))
            return false;
    }
    return true;
}

/* Applies change to u; *narrowed tells whether the account may now do
 * less than before (its sessions then end). */
static int apply_change(const struct bw_security *sec, struct sec_user *u,
                        const struct bw_security_user_change *change, bool *narrowed, char *why,
                        size_t why_size)
{
    uint32_t perms_before = sec_user_permissions(sec, u);
    struct bw_security_user_info before = u->info;
    if (change->full_name) {
        if (!bw_security_full_name_valid(change->full_name, strlen(change->full_name))) {
            bw_strlcpy(why, "full name: at most 128 bytes of UTF-8 text without control characters",
                       why_size);
            return BW_EINVAL;
        }
        bw_strlcpy(u->info.full_name, change->full_name, sizeof(u->info.full_name));
    }
    if (change->set_type) {
        if (change->type != BW_SECURITY_HUMAN && change->type != BW_SECURITY_SERVICE) {
            bw_strlcpy(why, "type: must be human or service", why_size);
            return BW_EINVAL;
        }
        u->info.type = change->type;
    }
    if (change->set_level) {
        if (change->level < 1 || change->level > 9999) {
            bw_strlcpy(why, "level: must be 1..9999", why_size);
            return BW_EINVAL;
        }
        u->info.level = change->level;
    }
    if (change->set_areas) {
        if (change->areas == 0 || (change->areas & ~SEC_AREAS_ALL)) {
            bw_strlcpy(why, "areas: one or more of 1..31", why_size);
            return BW_EINVAL;
        }
        u->info.areas = change->areas;
    }
    if (change->set_roles) {
        uint64_t roles = 0;
        for (size_t i = 0; i < change->role_count; i++) {
            size_t r = bw_project_role_find(sec->policy, change->roles[i]);
            if (r == SIZE_MAX || r >= 64) {
                if (bw_snprintf(why, why_size, "roles: the project has no role called \"%.64s\"",
                                change->roles[i]))
                    bw_strlcpy(why, "roles: unknown role", why_size);
                return BW_EINVAL;
            }
            roles |= 1ull << r;
        }
        u->info.roles = roles;
        u->roles_replace = true; /* the list given is the whole list */
    }
    if (change->set_expires)
        u->info.expires_us = change->expires_us;
    uint32_t perms = sec_user_permissions(sec, u);
    /* Separation of duties: who administers accounts does not operate
     * the process. */
    if ((perms & (1u << BW_PERM_USER_MANAGE)) &&
        (perms & ((1u << BW_PERM_TAG_WRITE) | (1u << BW_PERM_OVERRIDE)))) {
        bw_strlcpy(why,
                   "roles: user.manage and process operation (tag.write, override) must be "
                   "held by different accounts",
                   why_size);
        return BW_EINVAL;
    }
    *narrowed = (perms_before & ~perms) != 0 || u->info.level < before.level ||
                (before.areas & ~u->info.areas) != 0 || u->info.type != before.type ||
                (u->info.expires_us != 0 && u->info.expires_us != before.expires_us);
    return BW_OK;
}

struct history_scan {
    const char *password;
    size_t len;
    bool reused;
};

static int history_one(void *ctx, const char *hash)
{
    struct history_scan *scan = ctx;
    if (!scan->reused && bw_crypto_pwhash_verify(hash, scan->password, scan->len) == BW_OK)
        scan->reused = true;
    return BW_OK;
}

/* The policy's rules plus history; on BW_OK *hash is the new hash. */
int sec_password_accept(struct bw_security *sec, const struct sec_user *u, const char *password,
                        size_t len, char hash[BW_CRYPTO_PWHASH_MAX], char *why, size_t why_size)
{
    const struct bw_project_password_policy *pp = &sec->policy->password;
    int rc =
        sec_password_rules_check(pp, u->info.name, u->info.full_name, password, len, why, why_size);
    if (rc)
        return rc;
    if (sec_hashpool_enter(&sec->pool) != BW_OK) {
        bw_strlcpy(why, "busy: too many password checks at once; try again", why_size);
        return BW_EFULL;
    }
    struct history_scan scan = {.password = password, .len = len, .reused = false};
    if (pp->history > 0) {
        if (u->pw_hash[0])
            (void)history_one(&scan, u->pw_hash);
        if (u->id)
            rc = sec_store_history_each(sec, u->id, pp->history, history_one, &scan);
    }
    if (rc == BW_OK && scan.reused) {
        if (bw_snprintf(why, why_size, "the password was one of the last %u passwords",
                        pp->history))
            bw_strlcpy(why, "the password was used before", why_size);
        rc = BW_ERANGE;
    }
    if (rc == BW_OK) {
        struct bw_crypto_argon2_params params = sec_argon2_params(sec);
        rc = bw_crypto_pwhash(&params, password, len, hash, BW_CRYPTO_PWHASH_MAX);
    }
    sec_hashpool_leave(&sec->pool);
    return rc;
}

/* Writes an account from a fresh read under the lockout lock, changing
 * only the fields edit sets from src: a failure count, a lock or a used
 * code recorded since src was read stays as it is. */
static int store_fresh(struct bw_security *sec, const struct sec_user *src,
                       void (*edit)(struct sec_user *fresh, const struct sec_user *src))
{
    pthread_mutex_lock(&sec->lockout_lock);
    struct sec_user fresh;
    int rc = sec_store_user_load(sec, src->info.name, &fresh);
    if (rc == BW_OK) {
        edit(&fresh, src);
        rc = sec_store_user_update(sec, &fresh);
    }
    pthread_mutex_unlock(&sec->lockout_lock);
    bw_crypto_wipe(&fresh, sizeof(fresh));
    return rc;
}

static void edit_fields(struct sec_user *f, const struct sec_user *src)
{
    memcpy(f->info.full_name, src->info.full_name, sizeof(f->info.full_name));
    f->info.type = src->info.type;
    f->info.level = src->info.level;
    f->info.areas = src->info.areas;
    f->info.roles = src->info.roles;
    f->roles_replace = src->roles_replace;
    f->info.expires_us = src->info.expires_us;
}

static void edit_state(struct sec_user *f, const struct sec_user *src)
{
    f->info.state = src->info.state;
    if (src->info.state == BW_SECURITY_ACTIVE) {
        f->info.failed_logins = 0;
        f->first_failure_us = 0;
        f->info.locked_until_us = 0;
    }
}

static void edit_password(struct sec_user *f, const struct sec_user *src)
{
    memcpy(f->pw_hash, src->pw_hash, sizeof(f->pw_hash));
    f->info.password_changed_us = src->info.password_changed_us;
    f->info.must_change_password = src->info.must_change_password;
}

static void edit_totp(struct sec_user *f, const struct sec_user *src)
{
    memcpy(f->totp_sealed, src->totp_sealed, sizeof(f->totp_sealed));
    f->totp_sealed_len = src->totp_sealed_len;
    f->totp_confirmed = src->totp_confirmed;
    if (!src->totp_confirmed)
        f->totp_last_step = 0;
}

static void edit_totp_confirmed(struct sec_user *f, const struct sec_user *src)
{
    (void)src;
    f->totp_confirmed = f->totp_sealed_len > 0;
}

/* Stores a new password hash; the old one goes into the history. */
int sec_password_store(struct bw_security *sec, struct sec_user *u, const char *hash,
                       bool must_change)
{
    const struct bw_project_password_policy *pp = &sec->policy->password;
    if (pp->history > 0 && u->pw_hash[0] && u->id) {
        int rc = sec_store_history_add(sec, u->id, u->pw_hash, pp->history);
        if (rc)
            return rc;
    }
    bw_strlcpy(u->pw_hash, hash, sizeof(u->pw_hash));
    u->info.password_changed_us = bw_clock_realtime_us();
    u->info.must_change_password = must_change;
    return store_fresh(sec, u, edit_password);
}

static json_t *user_json(const struct bw_security *sec, const struct sec_user *u)
{
    json_t *roles = json_array();
    for (size_t i = 0; i < sec->policy->role_count && i < 64; i++)
        if (u->info.roles & (1ull << i))
            json_array_append_new(roles, json_string(sec->policy->roles[i].name));
    return json_pack("{s:s, s:s, s:i, s:I, s:o}", "user", u->info.name, "type",
                     u->info.type == BW_SECURITY_SERVICE     ? "service"
                     : u->info.type == BW_SECURITY_DIRECTORY ? "directory"
                                                             : "human",
                     "level", (int)u->info.level, "areas", (json_int_t)u->info.areas, "roles",
                     roles);
}

int bw_security_user_add(struct bw_security *sec, const struct bw_security_actor *actor,
                         const char *name, const struct bw_security_user_change *change,
                         const char *password, size_t password_len, char *why, size_t why_size)
{
    struct actor_ctx who;
    int rc = actor_resolve(sec, actor, "add", name, &who, why, why_size);
    if (rc == BW_OK)
        rc = gate(sec, &who, "add", name, why, why_size);
    if (rc)
        return rc;
    if (!sec_user_name_valid(name))
        return refuse(sec, &who, "add", name, BW_EINVAL,
                      "name: 1..64 letters, digits and . _ - @, starting with a letter or digit",
                      why, why_size);
    struct sec_user u;
    memset(&u, 0, sizeof(u));
    bw_strlcpy(u.info.name, name, sizeof(u.info.name));
    u.info.type = BW_SECURITY_HUMAN;
    u.info.state = BW_SECURITY_ACTIVE;
    u.info.level = 1;
    u.info.areas = SEC_AREAS_ALL;
    u.info.created_us = bw_clock_realtime_us();
    bool narrowed = false;
    static const struct bw_security_user_change none;
    rc = apply_change(sec, &u, change ? change : &none, &narrowed, why, why_size);
    if (rc)
        return refuse(sec, &who, "add", name, rc, why, why, why_size);
    if (sec_store_user_load(sec, name, &(struct sec_user){0}) == BW_OK)
        return refuse(sec, &who, "add", name, BW_EEXIST, "an account with that name exists", why,
                      why_size);
    char hash[BW_CRYPTO_PWHASH_MAX] = "";
    if (password) {
        rc = sec_password_accept(sec, &u, password, password_len, hash, why, why_size);
        if (rc)
            return refuse(sec, &who, "add", name, rc, why, why, why_size);
        bw_strlcpy(u.pw_hash, hash, sizeof(u.pw_hash));
        u.info.password_changed_us = u.info.created_us;
        /* Chosen by an administrator: to be changed at first login. */
        u.info.must_change_password = true;
    } else if (u.info.type == BW_SECURITY_HUMAN) {
        return refuse(sec, &who, "add", name, BW_EINVAL, "a person's account needs a password", why,
                      why_size);
    }
    bw_crypto_wipe(hash, sizeof(hash));
    rc = sec_store_user_insert(sec, &u);
    if (rc) {
        bw_crypto_wipe(&u, sizeof(u));
        return refuse(sec, &who, "add", name, rc,
                      rc == BW_EEXIST ? "an account with that name exists"
                                      : "the account store cannot be written",
                      why, why_size);
    }
    done(sec, &who, BW_AUDIT_EV_USER_ADDED, user_json(sec, &u));
    bw_crypto_wipe(&u, sizeof(u));
    return BW_OK;
}

/* Loads the target or refuses (recorded). */
static int load_target(struct bw_security *sec, const struct actor_ctx *who, const char *action,
                       const char *name, struct sec_user *u, char *why, size_t why_size)
{
    int rc = sec_user_name_valid(name) ? sec_store_user_load(sec, name, u) : BW_ENOTFOUND;
    if (rc == BW_ENOTFOUND)
        return refuse(sec, who, action, name, rc, "no such account", why, why_size);
    if (rc)
        return refuse(sec, who, action, name, rc, "the account store cannot be read", why,
                      why_size);
    return BW_OK;
}

/* A remote administrator must not leave the plant without one. */
static int keeps_an_admin(struct bw_security *sec, const struct actor_ctx *who, const char *action,
                          const char *name, char *why, size_t why_size)
{
    if (who->terminal)
        return BW_OK;
    bool has = false;
    int rc = sec_store_has_admin(sec, &has);
    if (rc == BW_OK && !has)
        rc = BW_EDENIED;
    if (rc)
        return refuse(sec, who, action, name, rc,
                      "refused: no active account would be left to manage accounts", why, why_size);
    return BW_OK;
}

int bw_security_user_modify(struct bw_security *sec, const struct bw_security_actor *actor,
                            const char *name, const struct bw_security_user_change *change,
                            char *why, size_t why_size)
{
    struct actor_ctx who;
    struct sec_user u;
    int rc = actor_resolve(sec, actor, "modify", name, &who, why, why_size);
    if (rc == BW_OK)
        rc = gate(sec, &who, "modify", name, why, why_size);
    if (rc == BW_OK)
        rc = load_target(sec, &who, "modify", name, &u, why, why_size);
    if (rc)
        return rc;
    json_t *before = user_json(sec, &u);
    struct sec_user old = u;
    bool narrowed = false;
    /* A new role list drops the names this policy does not know; an
     * undo must bring them back, so they are read first. */
    char roles_before[SEC_ROLES_TEXT_MAX] = "";
    rc = change->set_roles ? sec_store_roles_text_get(sec, u.id, roles_before, sizeof(roles_before))
                           : BW_OK;
    if (rc)
        bw_strlcpy(why, "the account store cannot be read", why_size);
    if (rc == BW_OK)
        rc = apply_change(sec, &u, change, &narrowed, why, why_size);
    if (rc == BW_OK)
        rc = store_fresh(sec, &u, edit_fields);
    if (rc == BW_OK) {
        rc = keeps_an_admin(sec, &who, "modify", name, why, why_size);
        if (rc &&
            (store_fresh(sec, &old, edit_fields) != BW_OK ||
             (change->set_roles && sec_store_roles_text_set(sec, u.id, roles_before) != BW_OK)))
            bw_log(BW_LOG_ERROR, BW_LOGC_SECURITY, "cannot restore account %s", name);
        if (rc) {
            json_decref(before);
            return rc;
        }
    }
    if (rc) {
        json_decref(before);
        return refuse(sec, &who, "modify", name, rc,
                      rc == BW_EIO ? "the account store cannot be written" : why, why, why_size);
    }
    if (narrowed)
        (void)sec_sessions_end_user(sec, name, "account changed", NULL);
    done(sec, &who, BW_AUDIT_EV_USER_MODIFIED,
         json_pack("{s:s, s:o, s:o}", "user", name, "before", before, "after", user_json(sec, &u)));
    bw_crypto_wipe(&u, sizeof(u));
    bw_crypto_wipe(&old, sizeof(old));
    return BW_OK;
}

int bw_security_user_set_state(struct bw_security *sec, const struct bw_security_actor *actor,
                               const char *name, bool enabled, char *why, size_t why_size)
{
    const char *action = enabled ? "enable" : "disable";
    struct actor_ctx who;
    struct sec_user u;
    int rc = actor_resolve(sec, actor, action, name, &who, why, why_size);
    if (rc == BW_OK)
        rc = gate(sec, &who, action, name, why, why_size);
    if (rc == BW_OK)
        rc = load_target(sec, &who, action, name, &u, why, why_size);
    if (rc)
        return rc;
    enum bw_security_account_state old_state = u.info.state;
    if (enabled) {
        /* Enabling clears a lockout too: the administrator looked at it. */
        u.info.state = BW_SECURITY_ACTIVE;
        u.info.failed_logins = 0;
        u.first_failure_us = 0;
        u.info.locked_until_us = 0;
    } else {
        u.info.state = BW_SECURITY_DISABLED;
    }
    rc = store_fresh(sec, &u, edit_state);
    if (rc == BW_OK && !enabled) {
        rc = keeps_an_admin(sec, &who, action, name, why, why_size);
        if (rc) {
            u.info.state = old_state;
            if (store_fresh(sec, &u, edit_state) != BW_OK)
                bw_log(BW_LOG_ERROR, BW_LOGC_SECURITY, "cannot restore account %s", name);
            return rc;
        }
    }
    if (rc)
        return refuse(sec, &who, action, name, rc, "the account store cannot be written", why,
                      why_size);
    if (!enabled)
        (void)sec_sessions_end_user(sec, name, "account disabled", NULL);
    done(sec, &who, enabled ? BW_AUDIT_EV_USER_ENABLED : BW_AUDIT_EV_USER_DISABLED,
         json_pack("{s:s}", "user", name));
    bw_crypto_wipe(&u, sizeof(u));
    return BW_OK;
}

int bw_security_user_unlock(struct bw_security *sec, const struct bw_security_actor *actor,
                            const char *name, char *why, size_t why_size)
{
    struct actor_ctx who;
    struct sec_user u;
    int rc = actor_resolve(sec, actor, "unlock", name, &who, why, why_size);
    if (rc == BW_OK)
        rc = gate(sec, &who, "unlock", name, why, why_size);
    if (rc == BW_OK)
        rc = load_target(sec, &who, "unlock", name, &u, why, why_size);
    if (rc)
        return rc;
    pthread_mutex_lock(&sec->lockout_lock);
    rc = sec_store_user_load(sec, name, &u);
    bool was_locked = rc == BW_OK && u.info.state == BW_SECURITY_LOCKED;
    if (rc == BW_OK) {
        if (was_locked)
            u.info.state = BW_SECURITY_ACTIVE;
        u.info.failed_logins = 0;
        u.first_failure_us = 0;
        u.info.locked_until_us = 0;
        rc = sec_store_user_update(sec, &u);
    }
    pthread_mutex_unlock(&sec->lockout_lock);
    bw_crypto_wipe(&u, sizeof(u));
    if (rc)
        return refuse(sec, &who, "unlock", name, rc, "the account store cannot be written", why,
                      why_size);
    done(sec, &who, BW_AUDIT_EV_USER_UNLOCKED,
         json_pack("{s:s, s:b}", "user", name, "was_locked", was_locked));
    return BW_OK;
}

int bw_security_user_remove(struct bw_security *sec, const struct bw_security_actor *actor,
                            const char *name, char *why, size_t why_size)
{
    struct actor_ctx who;
    struct sec_user u;
    int rc = actor_resolve(sec, actor, "remove", name, &who, why, why_size);
    if (rc == BW_OK)
        rc = gate(sec, &who, "remove", name, why, why_size);
    if (rc == BW_OK)
        rc = load_target(sec, &who, "remove", name, &u, why, why_size);
    if (rc)
        return rc;
    if (!who.terminal && (sec_user_permissions(sec, &u) & (1u << BW_PERM_USER_MANAGE))) {
        /* Check by disabling first: refused when it was the last admin. */
        enum bw_security_account_state old_state = u.info.state;
        u.info.state = BW_SECURITY_DISABLED;
        rc = store_fresh(sec, &u, edit_state);
        if (rc == BW_OK)
            rc = keeps_an_admin(sec, &who, "remove", name, why, why_size);
        u.info.state = old_state;
        if (rc) {
            if (store_fresh(sec, &u, edit_state) != BW_OK)
                bw_log(BW_LOG_ERROR, BW_LOGC_SECURITY, "cannot restore account %s", name);
            return rc;
        }
    }
    rc = sec_store_user_delete(sec, name);
    bw_crypto_wipe(&u, sizeof(u));
    if (rc)
        return refuse(sec, &who, "remove", name, rc, "the account store cannot be written", why,
                      why_size);
    (void)sec_sessions_end_user(sec, name, "account removed", NULL);
    done(sec, &who, BW_AUDIT_EV_USER_REMOVED, json_pack("{s:s}", "user", name));
    return BW_OK;
}

int bw_security_user_reset_password(struct bw_security *sec, const struct bw_security_actor *actor,
                                    const char *name, const char *password, size_t password_len,
                                    char *why, size_t why_size)
{
    struct actor_ctx who;
    struct sec_user u;
    int rc = actor_resolve(sec, actor, "passwd", name, &who, why, why_size);
    if (rc == BW_OK)
        rc = gate(sec, &who, "passwd", name, why, why_size);
    if (rc == BW_OK)
        rc = load_target(sec, &who, "passwd", name, &u, why, why_size);
    if (rc)
        return rc;
    if (u.info.type == BW_SECURITY_DIRECTORY)
        return refuse(sec, &who, "passwd", name, BW_EINVAL,
                      "the directory keeps this account's password", why, why_size);
    char hash[BW_CRYPTO_PWHASH_MAX];
    rc = sec_password_accept(sec, &u, password, password_len, hash, why, why_size);
    if (rc) {
        bw_crypto_wipe(&u, sizeof(u));
        return refuse(sec, &who, "passwd", name, rc, why, why, why_size);
    }
    rc = sec_password_store(sec, &u, hash, true);
    bw_crypto_wipe(hash, sizeof(hash));
    bw_crypto_wipe(&u, sizeof(u));
    if (rc)
        return refuse(sec, &who, "passwd", name, rc, "the account store cannot be written", why,
                      why_size);
    (void)sec_sessions_end_user(sec, name, "password reset", NULL);
    done(sec, &who, BW_AUDIT_EV_USER_PASSWORD_RESET, json_pack("{s:s}", "user", name));
    return BW_OK;
}

int bw_security_user_get(struct bw_security *sec, const char *name,
                         struct bw_security_user_info *out)
{
    struct sec_user u;
    int rc = sec_user_name_valid(name) ? sec_store_user_load(sec, name, &u) : BW_ENOTFOUND;
    if (rc == BW_OK)
        *out = u.info;
    bw_crypto_wipe(&u, sizeof(u));
    return rc;
}

struct list_ctx {
    int (*fn)(void *ctx, const struct bw_security_user_info *u);
    void *ctx;
};

static int list_one(void *ctx, const struct sec_user *u)
{
    struct list_ctx *l = ctx;
    return l->fn(l->ctx, &u->info);
}

int bw_security_user_list(struct bw_security *sec,
                          int (*fn)(void *ctx, const struct bw_security_user_info *u), void *ctx)
{
    struct list_ctx l = {.fn = fn, .ctx = ctx};
    return sec_store_user_each(sec, list_one, &l);
}

int bw_security_mfa_enrol(struct bw_security *sec, const struct bw_security_actor *actor,
                          const char *name, char *uri, size_t uri_size, char *why, size_t why_size)
{
    struct actor_ctx who;
    struct sec_user u;
    int rc = actor_resolve(sec, actor, "mfa enrol", name, &who, why, why_size);
    if (rc == BW_OK)
        rc = gate(sec, &who, "mfa enrol", name, why, why_size);
    if (rc == BW_OK)
        rc = load_target(sec, &who, "mfa enrol", name, &u, why, why_size);
    if (rc)
        return rc;
    rc = sec_mfa_new_key(sec, &u, uri, uri_size);
    if (rc == BW_OK)
        rc = store_fresh(sec, &u, edit_totp);
    bw_crypto_wipe(&u, sizeof(u));
    if (rc) {
        bw_crypto_wipe(uri, uri_size);
        return refuse(sec, &who, "mfa enrol", name, rc, "the second factor could not be stored",
                      why, why_size);
    }
    done(sec, &who, BW_AUDIT_EV_USER_MFA_ENROLLED,
         json_pack("{s:s, s:s}", "user", name, "step", "key issued"));
    return BW_OK;
}

int bw_security_mfa_confirm(struct bw_security *sec, const struct bw_security_actor *actor,
                            const char *name, const char *code, char *why, size_t why_size)
{
    struct actor_ctx who;
    struct sec_user u;
    int rc = actor_resolve(sec, actor, "mfa confirm", name, &who, why, why_size);
    if (rc == BW_OK)
        rc = load_target(sec, &who, "mfa confirm", name, &u, why, why_size);
    if (rc)
        return rc;
    if (!u.totp_sealed_len)
        return refuse(sec, &who, "mfa confirm", name, BW_ESTATE,
                      "no second factor is being enrolled for this account", why, why_size);
    rc = sec_mfa_check(sec, &u, code);
    if (rc)
        return refuse(sec, &who, "mfa confirm", name, BW_EDENIED,
                      "the code does not match; check the device's clock and try the next code",
                      why, why_size);
    rc = store_fresh(sec, &u, edit_totp_confirmed);
    bw_crypto_wipe(&u, sizeof(u));
    if (rc)
        return refuse(sec, &who, "mfa confirm", name, rc, "the account store cannot be written",
                      why, why_size);
    done(sec, &who, BW_AUDIT_EV_USER_MFA_ENROLLED,
         json_pack("{s:s, s:s}", "user", name, "step", "confirmed"));
    return BW_OK;
}

int bw_security_mfa_remove(struct bw_security *sec, const struct bw_security_actor *actor,
                           const char *name, char *why, size_t why_size)
{
    struct actor_ctx who;
    struct sec_user u;
    int rc = actor_resolve(sec, actor, "mfa remove", name, &who, why, why_size);
    if (rc == BW_OK)
        rc = gate(sec, &who, "mfa remove", name, why, why_size);
    if (rc == BW_OK)
        rc = load_target(sec, &who, "mfa remove", name, &u, why, why_size);
    if (rc)
        return rc;
    bw_crypto_wipe(u.totp_sealed, sizeof(u.totp_sealed));
    u.totp_sealed_len = 0;
    u.totp_confirmed = false;
    rc = store_fresh(sec, &u, edit_totp);
    bw_crypto_wipe(&u, sizeof(u));
    if (rc)
        return refuse(sec, &who, "mfa remove", name, rc, "the account store cannot be written", why,
                      why_size);
    done(sec, &who, BW_AUDIT_EV_USER_MFA_REMOVED, json_pack("{s:s}", "user", name));
    return BW_OK;
}
