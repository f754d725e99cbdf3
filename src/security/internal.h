/* SPDX-License-Identifier: Apache-2.0
 *
 * What the files of the security module share. Nothing outside
 * src/security/ includes this (tests reach it through it, as the style
 * guide allows for a module's testing header).
 *
 * Files and their jobs:
 *   context.c   open/close, the context, tick, stats
 *   store.c     users.db: schema, load/save of accounts, password history
 *   admin.c     account management (add, modify, state, remove, reset, unlock)
 *   pwpolicy.c  the password rules of the project (libcrack2 included)
 *   hashpool.c  at most K hash computations at once, a bounded queue
 *   login.c     login, lockout, the dummy hash, verify-for-signature
 *   throttle.c  failures per source address
 *   mfa.c       TOTP enrolment and checking (secrets sealed under keys/users.key)
 *   setup.c     the one-time setup secret and the first administrator
 *   sessions.c  the session table (tokens kept as SHA-256 only)
 *   authz.c     bw_security_authorize, override, approval, signature
 *   ldap.c      central accounts (libldap)
 *   events.c    audit records of the module
 */
#ifndef BW_SECURITY_INTERNAL_H
#define BW_SECURITY_INTERNAL_H

#include "crypto/crypto.h"
#include "security/security.h"

#include <pthread.h>
#include <sqlite3.h>

/* Every permission bit (1 << bw_permission). */
#define SEC_PERM_ALL ((1u << BW_PERM_COUNT_) - 1u)
#define SEC_AREAS_ALL 0xfffffffeu /* areas 1..31 */
/* The meta key of the project directory whose policy was last applied. */
#define SEC_META_POLICY_PROJECT "policy_project"
/* Room for an account's stored role names, "a,b", with the NUL. */
#define SEC_ROLES_TEXT_MAX 4096

/* An account as stored. */
struct sec_user {
    int64_t id;
    struct bw_security_user_info info;
    char pw_hash[BW_CRYPTO_PWHASH_MAX]; /* "" for directory users */
    int64_t first_failure_us;           /* start of the current failure window */
    /* Second factor: the TOTP key sealed with AES-256-GCM under
     * keys/users.key (aad: the user name). */
    uint8_t totp_sealed[64];
    size_t totp_sealed_len; /* 0: none */
    bool totp_confirmed;
    int64_t totp_last_step; /* the last time step accepted (no reuse) */
    /* Set when info.roles was set anew (an administrator's list, the
     * directory's groups): an update then drops the stored role names
     * the policy does not know instead of keeping them. */
    bool roles_replace;
};

/* ---- context.c ------------------------------------------------------ */

/* The Argon2id parameters the policy asks of new hashes. */
struct bw_crypto_argon2_params sec_argon2_params(const struct bw_security *sec);

/* ---- store.c --------------------------------------------------------- */

BW_MUST_CHECK int sec_store_open(struct bw_security *sec);
void sec_store_close(struct bw_security *sec);
/* BW_ENOTFOUND when there is no such user. Thread-safe (sec->db_lock). */
BW_MUST_CHECK int sec_store_user_load(struct bw_security *sec, const char *name,
                                      struct sec_user *out);
/* Inserts (BW_EEXIST on a taken name; fills u->id) or rewrites every
 * field of an existing account; an update keeps the stored role names
 * the policy does not know unless u->roles_replace. */
BW_MUST_CHECK int sec_store_user_insert(struct bw_security *sec, struct sec_user *u);
BW_MUST_CHECK int sec_store_user_update(struct bw_security *sec, const struct sec_user *u);
BW_MUST_CHECK int sec_store_user_delete(struct bw_security *sec, const char *name);
BW_MUST_CHECK int sec_store_user_each(struct bw_security *sec,
                                      int (*fn)(void *ctx, const struct sec_user *u), void *ctx);
/* An account's stored role names ("a,b") as they are, known to the
 * policy or not, and writing them back so (undoing a change). */
BW_MUST_CHECK int sec_store_roles_text_get(struct bw_security *sec, int64_t id, char *out,
                                           size_t size);
BW_MUST_CHECK int sec_store_roles_text_set(struct bw_security *sec, int64_t id, const char *text);
/* The store's own facts (table meta): BW_ENOTFOUND for a key never set,
 * BW_ETOOLARGE when the value does not fit out. */
BW_MUST_CHECK int sec_store_meta_set(struct bw_security *sec, const char *key, const char *value);
BW_MUST_CHECK int sec_store_meta_get(struct bw_security *sec, const char *key, char *out,
                                     size_t size);
/* Password history: adds a hash, keeps the newest keep of them. */
BW_MUST_CHECK int sec_store_history_add(struct bw_security *sec, int64_t user_id, const char *hash,
                                        uint32_t keep);
/* Calls fn with each of the newest count old hashes. */
BW_MUST_CHECK int sec_store_history_each(struct bw_security *sec, int64_t user_id, uint32_t count,
                                         int (*fn)(void *ctx, const char *hash), void *ctx);
/* One committed write of no meaning: a failed login for an unknown name
 * costs the disk what a known account's failure count costs, so the time
 * of the answer does not tell them apart. */
void sec_store_pad(struct bw_security *sec);
/* True when an active account holds user.manage. */
BW_MUST_CHECK int sec_store_has_admin(struct bw_security *sec, bool *out);

/* ---- pwpolicy.c ------------------------------------------------------ */

/* Checks a new password for the account user (full_name: its full name,
 * may be NULL) against the project's rules (length in characters,
 * classes, user name, dictionary and libcrack2's checks against the
 * account's names). BW_ERANGE with why naming the rule; BW_EMALFORMED
 * when it is not UTF-8. History and lifetime are checked by the callers
 * that know the account. */
BW_MUST_CHECK int sec_password_rules_check(const struct bw_project_password_policy *policy,
                                           const char *user, const char *full_name,
                                           const char *password, size_t len, char *why,
                                           size_t why_size);

/* ---- admin.c --------------------------------------------------------- */

/* Checks a new password for u against the rules and the history (the
 * current hash included) and hashes it into hash. BW_ERANGE (why names
 * the rule), BW_EMALFORMED, BW_EFULL (hashing queue), BW_EIO. */
BW_MUST_CHECK int sec_password_accept(struct bw_security *sec, const struct sec_user *u,
                                      const char *password, size_t len,
                                      char hash[BW_CRYPTO_PWHASH_MAX], char *why, size_t why_size);
/* A user name: 1..64 letters, digits and . _ - @, not starting with a
 * punctuation character. */
bool sec_user_name_valid(const char *name);
/* Stores hash as u's password (the old one into the history). */
BW_MUST_CHECK int sec_password_store(struct bw_security *sec, struct sec_user *u, const char *hash,
                                     bool must_change);

/* ---- hashpool.c ------------------------------------------------------ */

struct sec_hashpool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint32_t limit;   /* K */
    uint32_t queue;   /* how many may wait */
    uint32_t running; /* now */
    uint32_t waiting; /* now */
    uint64_t done;    /* computations so far */
    uint64_t refused;
};
void sec_hashpool_init(struct sec_hashpool *pool, uint32_t limit, uint32_t queue);
void sec_hashpool_clear(struct sec_hashpool *pool);
/* Takes a slot, waiting in the queue; BW_EFULL when the queue is full. */
BW_MUST_CHECK int sec_hashpool_enter(struct sec_hashpool *pool);
void sec_hashpool_leave(struct sec_hashpool *pool);

/* ---- login.c --------------------------------------------------------- */

/* Verifies name's password (one hash computation whatever the outcome:
 * an unknown user is checked against the dummy hash) for signatures,
 * approvals and re-authentication. Failures count toward the lockout
 * like a login's. On BW_OK *out (may be NULL) is the account. BW_EDENIED
 * for every kind of failure (why_code, may be NULL, gets a short word
 * for the audit record), BW_EFULL when the hashing queue is full. */
BW_MUST_CHECK int sec_verify_password(struct bw_security *sec, const char *name,
                                      const char *password, size_t len, const char *totp,
                                      const char *address, struct sec_user *out,
                                      const char **why_code);
/* As sec_verify_password, for the holder of a live session re-entering
 * their password (a password change): the session settled the second
 * factor already, so no code is asked. */
BW_MUST_CHECK int sec_verify_reentry(struct bw_security *sec, const char *name,
                                     const char *password, size_t len, const char *address,
                                     struct sec_user *out, const char **why_code);
/* The permissions the account's roles grant. */
uint32_t sec_user_permissions(const struct bw_security *sec, const struct sec_user *u);

/* ---- sessions.c ------------------------------------------------------ */

/* Who holds a session, as authorisation sees it. */
struct sec_subject {
    char user[BW_SECURITY_USER_MAX + 1];
    char session_id[BW_SECURITY_SESSION_ID_LEN + 1];
    char address[64];
    uint16_t level;
    uint32_t areas;
    uint32_t permissions;
    bool locked;
    bool must_change_password;
    bool elevated;
    char elevated_by[BW_SECURITY_USER_MAX + 1];
};

struct sec_sessions;
BW_MUST_CHECK int sec_sessions_new(struct sec_sessions **out);
void sec_sessions_free(struct sec_sessions *table);
/* Opens a session for u from address (policy limits applied: refuse
 * the new one, BW_EFULL, or end the oldest, audited). Fills token and
 * csrf in result. */
BW_MUST_CHECK int sec_session_open(struct bw_security *sec, const struct sec_user *u,
                                   const char *address, bool must_change_password,
                                   struct bw_security_login_result *result);
/* The subject of a live session. BW_ENOTFOUND; BW_ESTATE when locked
 * (out still filled). touch: counts as activity. */
BW_MUST_CHECK int sec_session_subject(struct bw_security *sec, const char *token, bool touch,
                                      struct sec_subject *out);
/* Ends every session of user (disable, remove, password change); reason
 * goes to the audit record. Returns how many ended. */
size_t sec_sessions_end_user(struct bw_security *sec, const char *user, const char *reason,
                             const char *except_token);
/* Ends every session (shutdown). */
void sec_sessions_end_all(struct bw_security *sec, const char *reason);
/* Locks idle sessions, ends expired sessions and overrides. */
void sec_sessions_tick(struct bw_security *sec);
uint32_t sec_sessions_count(struct bw_security *sec);
/* Marks a session as needing no password change any more. */
void sec_session_password_changed(struct bw_security *sec, const char *token);

/* ---- mfa.c ----------------------------------------------------------- */

/* Checks a TOTP code for u at the current time (one step of drift either
 * way; a step once accepted is refused again). On BW_OK u->totp_last_step
 * is advanced and stored. BW_EDENIED otherwise. */
BW_MUST_CHECK int sec_mfa_check(struct bw_security *sec, struct sec_user *u, const char *code);
/* Makes a new TOTP key for u (sealed into u, not yet stored, not yet
 * confirmed) and writes the otpauth:// URI. */
BW_MUST_CHECK int sec_mfa_new_key(struct bw_security *sec, struct sec_user *u, char *uri,
                                  size_t uri_size);
/* Whether the policy asks u for a second factor on this network. */
bool sec_mfa_required(const struct bw_security *sec, const struct sec_user *u, bool untrusted);

/* ---- ldap.c ---------------------------------------------------------- */

/* What the directory said about a user. */
struct sec_ldap_result {
    char dn[512];
    uint64_t roles; /* bit i: security.roles[i], from the group mapping */
    /* On BW_EDENIED: the directory knows exactly one such user (the
     * password was wrong), so the failure counts against the account. */
    bool user_found;
};
struct sec_ldap;
/* Connects lazily; config borrowed. BW_EINVAL, BW_ENOMEM. */
BW_MUST_CHECK int sec_ldap_new(const struct bw_project_ldap *config, const char *project_dir,
                               struct sec_ldap **out);
void sec_ldap_free(struct sec_ldap *ldap);
/* Binds as the user over TLS (LDAPS or StartTLS, certificate checked
 * against the configured CA) and reads the user's groups. BW_OK when the
 * password holds; BW_EDENIED when the user is unknown or the password is
 * wrong; BW_EIO / BW_ETIMEOUT when the directory cannot be reached (the
 * login fails closed). */
BW_MUST_CHECK int sec_ldap_authenticate(struct sec_ldap *ldap, const char *user,
                                        const char *password, size_t len,
                                        struct sec_ldap_result *out);
/* Copies template into out (size bytes) with each "%s" replaced by the
 * len bytes of value escaped for a search filter (RFC 4515: * ( ) \ NUL,
 * controls and non-ASCII bytes as \XX). BW_ETOOLARGE, BW_EINVAL. */
BW_MUST_CHECK int sec_ldap_filter_make(const char *template, const char *value, size_t len,
                                       char *out, size_t size);

/* ---- events.c -------------------------------------------------------- */

/* Records one event of the module with details (borrowed; may be NULL).
 * user: the account or "-" ; address may be NULL. Returns what
 * bw_audit_record_request returns: BW_EDENIED when the trail's policy
 * refuses operations now (the caller fails closed). */
BW_MUST_CHECK int sec_audit(struct bw_security *sec, uint32_t event_id, enum bw_audit_result result,
                            const char *user, const char *address, json_t *details_take);
/* As sec_audit, for records whose failure changes nothing (the outcome
 * they record is already a refusal, or already happened). */
void sec_note(struct bw_security *sec, uint32_t event_id, enum bw_audit_result result,
              const char *user, const char *address, json_t *details_take);
/* The actor's name for the record: the session's user, or the OS user. */
void sec_actor_name(struct bw_security *sec, const struct bw_security_actor *actor, char *out,
                    size_t size);

/* ---- the context ----------------------------------------------------- */

struct bw_security {
    const struct bw_project_security *policy;
    struct bw_audit *audit;
    char *state_dir;
    char *project_dir;

    pthread_mutex_t db_lock;
    sqlite3 *db;

    struct sec_hashpool pool;
    struct sec_throttle *throttle;
    struct sec_sessions *sessions;
    struct sec_ldap *ldap; /* NULL without a directory */

    uint8_t users_key[BW_CRYPTO_AEAD_KEY_LEN]; /* seals TOTP keys */
    char dummy_hash[BW_CRYPTO_PWHASH_MAX];     /* for unknown users */

    struct sec_approvals *approvals; /* pending two-step approvals */

    /* Failure counting is load-modify-store of one account's row. */
    pthread_mutex_t lockout_lock;
    /* How long recent failed logins took, end to end: every failure is
     * answered no sooner than the slowest of them (login.c). */
    int64_t fail_us[16];
    unsigned fail_next;

    pthread_mutex_t setup_lock;
    uint8_t setup_hash[BW_SHA256_LEN];
    int64_t setup_expires_us; /* 0: no secret outstanding */
    uint32_t setup_failures;  /* wrong secrets; the secret is void after a few */
    char *setup_file;         /* holds the secret (bw_security_setup_secret_file); NULL: none */
};

/* ---- setup.c --------------------------------------------------------- */

/* Voids a secret whose hour is over (and removes its file). */
void sec_setup_tick(struct bw_security *sec);
/* Voids the secret and removes its file: the context closes. */
void sec_setup_close(struct bw_security *sec);

/* ---- approval.c ------------------------------------------------------ */

BW_MUST_CHECK int sec_approvals_new(struct sec_approvals **out);
void sec_approvals_free(struct sec_approvals *a);
/* Drops lapsed approvals. */
void sec_approvals_tick(struct bw_security *sec);
/* Consumes a granted approval for user's access to object: BW_OK and
 * the approver's name, or BW_EDENIED (unknown, not granted, lapsed, or
 * for another user or object). */
BW_MUST_CHECK int sec_approval_take(struct bw_security *sec, const char *id, const char *user,
                                    const struct bw_security_object *object,
                                    char approver[BW_SECURITY_USER_MAX + 1]);

/* ---- throttle.c ------------------------------------------------------ */

struct sec_throttle;
BW_MUST_CHECK int sec_throttle_new(struct sec_throttle **out);
void sec_throttle_free(struct sec_throttle *t);
/* True when address may try now. */
bool sec_throttle_allows(struct sec_throttle *t, const struct bw_project_lockout_policy *policy,
                         const char *address, int64_t now_us);
/* Counts a failure; returns true when this one started a throttle. */
bool sec_throttle_fail(struct sec_throttle *t, const struct bw_project_lockout_policy *policy,
                       const char *address, int64_t now_us);

#endif
