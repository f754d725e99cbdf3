/* SPDX-License-Identifier: Apache-2.0
 *
 * security: identity, authentication, authorisation and sessions
 * (IEC 62443-3-3 FR1 and FR2). Every interface (HTTP, WebSocket, OPC UA,
 * CLI) goes through this header and nothing else of the module:
 *
 *   accounts     bw_security_user_*    STATE/users.db (SQLite, WAL)
 *   login        bw_security_login     Argon2id, lockout, throttling, TOTP, LDAP
 *   sessions     bw_security_session_* 256-bit identifiers kept only as hashes
 *   authorise    bw_security_authorize the one decision every access takes
 *
 * The policy (roles, password rules, lockout, sessions, second factor,
 * banner, directory) comes from the project's "security" section and is
 * borrowed for the life of the context. Every security-relevant outcome
 * is put on the audit trail given at open; security fails closed: when a
 * record of an access cannot be made durable and the trail's policy is
 * to refuse, so is the access.
 *
 * The module depends on project/ for the policy model and on audit/ for
 * the trail (docs/internals/security.md says why).
 *
 * Thread safety: one context serves every thread; all calls are
 * thread-safe. Calls that compute a password hash may block (bounded by
 * the hashing queue); none may be made from the engine thread.
 */
#ifndef BW_SECURITY_H
#define BW_SECURITY_H

#include "audit/audit.h"
#include "base/base.h"
#include "project/project.h"

#include <jansson.h>

#define BW_SECURITY_USER_MAX 64         /* bytes of a user name */
#define BW_SECURITY_TOKEN_LEN 64        /* hex characters of a session or CSRF token */
#define BW_SECURITY_SESSION_ID_LEN 32   /* hex characters of a session's public id */
#define BW_SECURITY_REASON_MAX 512      /* bytes of a signature's or override's reason */
#define BW_SECURITY_SETUP_SECRET_LEN 32 /* characters of the one-time setup secret */

/* ---- accounts ------------------------------------------------------- */

enum bw_security_account_type {
    BW_SECURITY_HUMAN = 0,     /* a person: may log in interactively */
    BW_SECURITY_SERVICE = 1,   /* software: never an interactive login (SR 1.11) */
    BW_SECURITY_DIRECTORY = 2, /* a directory (LDAP) user's local shadow: lockout state only */
};

enum bw_security_account_state {
    BW_SECURITY_ACTIVE = 0,
    BW_SECURITY_DISABLED = 1,
    BW_SECURITY_LOCKED = 2,  /* by failed logins; unlocks after T or by an administrator */
    BW_SECURITY_EXPIRED = 3, /* the account's validity ended (expires_us) */
};

/* An account as read back. Text is copied into the struct. */
struct bw_security_user_info {
    char name[BW_SECURITY_USER_MAX + 1];
    char full_name[129];
    enum bw_security_account_type type;
    enum bw_security_account_state state;
    uint16_t level; /* 1..9999 */
    uint32_t areas; /* bit n: area n (1..31) */
    uint64_t roles; /* bit i: security.roles[i] */
    bool must_change_password;
    bool mfa_enrolled;
    int64_t created_us, password_changed_us, last_login_us;
    int64_t expires_us;      /* 0: never */
    int64_t locked_until_us; /* locked: 0 means until an administrator unlocks */
    uint32_t failed_logins;  /* in the current window */
};

/* Who asks for an account change, for the audit record: a signed-in
 * administrator (session token) or an operating-system user at the
 * terminal (os_user, with session NULL). address may be NULL. */
struct bw_security_actor {
    const char *session; /* token; NULL for the terminal */
    const char *os_user; /* "uid 1000 (alice)"; used when session is NULL */
    const char *address;
    /* The OS user's audit login uid (Linux: /proc/PID/loginuid), which
     * sudo and su keep: recorded as the detail "login_uid" when known. */
    bool login_uid_known;
    uint32_t login_uid;
};

/* A change to an account: NULL or a negative/false "set_" flag leaves a
 * field as it is. For add, unset fields take the defaults: human,
 * level 1, every area, no roles, no expiry. */
struct bw_security_user_change {
    const char *full_name;
    bool set_type;
    enum bw_security_account_type type;
    bool set_level;
    uint16_t level;
    bool set_areas;
    uint32_t areas;
    bool set_roles;
    const char *const *roles; /* role names, role_count of them */
    size_t role_count;
    bool set_expires;
    int64_t expires_us; /* 0: never */
};

/* True when text (len bytes) may be an account's full name: at most 128
 * bytes of UTF-8 text without control characters (C0, DEL, C1), which
 * could drive a terminal or a log viewer that shows it. Pure. */
bool bw_security_full_name_valid(const char *text, size_t len);

/* ---- the context ---------------------------------------------------- */

struct bw_security_config {
    const char *state_dir;                    /* users.db and keys/ live here */
    const struct bw_project_security *policy; /* borrowed for the context's life */
    /* The project the policy is of, for relative files (LDAP CA); it is
     * recorded in users.db (bw_security_policy_project). NULL: the policy
     * is the built-in defaults, and nothing is recorded. */
    const char *project_dir;
    struct bw_audit *audit; /* borrowed; required */
};

struct bw_security;

/* Opens (creating with mode 0600) STATE/users.db and the key that
 * protects second-factor secrets (STATE/keys/users.key). BW_EDENIED when
 * a file is readable by others or a link, BW_EIO, BW_EINVAL (no audit
 * trail or policy), BW_ENOMEM. Main thread. */
BW_MUST_CHECK int bw_security_open(const struct bw_security_config *config,
                                   struct bw_security **out);
/* Ends every session (audited) and closes. NULL is fine. Main thread. */
void bw_security_close(struct bw_security *sec);
/* The project directory (absolute when it could be resolved) whose
 * policy was last applied to these accounts, into out. BW_ENOTFOUND when
 * none ever was (only the built-in defaults), BW_ETOOLARGE, BW_EIO. A
 * tool that applies the defaults uses it to refuse what the project's
 * policy must judge (passwords, roles). Any thread. */
BW_MUST_CHECK int bw_security_policy_project(struct bw_security *sec, char *out, size_t size);

/* Housekeeping the daemon calls about once a second: locks idle
 * sessions, ends expired ones and overrides (each audited), lets lapsed
 * approvals go. Any thread. */
void bw_security_tick(struct bw_security *sec);

/* ---- account management (needs user.manage, or the terminal) -------- */

/* Each of these checks the actor (a session needs user.manage), applies
 * the change, ends the user's sessions where the change asks (disable,
 * remove, password reset, a lowered level/areas/roles) and records the
 * outcome (configuration change) naming the actor. Errors: BW_EDENIED
 * (actor not allowed; recorded), BW_ENOTFOUND, BW_EEXIST, BW_EINVAL (a
 * bad name, role, level or area; why says which), BW_ERANGE (password
 * refused by the policy; why names the rule), BW_EIO. why (why_size
 * bytes) says what was wrong in words an administrator can act on. */
BW_MUST_CHECK int bw_security_user_add(struct bw_security *sec,
                                       const struct bw_security_actor *actor, const char *name,
                                       const struct bw_security_user_change *change,
                                       const char *password, size_t password_len, char *why,
                                       size_t why_size);
BW_MUST_CHECK int bw_security_user_modify(struct bw_security *sec,
                                          const struct bw_security_actor *actor, const char *name,
                                          const struct bw_security_user_change *change, char *why,
                                          size_t why_size);
BW_MUST_CHECK int bw_security_user_set_state(struct bw_security *sec,
                                             const struct bw_security_actor *actor,
                                             const char *name, bool enabled, char *why,
                                             size_t why_size);
BW_MUST_CHECK int bw_security_user_unlock(struct bw_security *sec,
                                          const struct bw_security_actor *actor, const char *name,
                                          char *why, size_t why_size);
BW_MUST_CHECK int bw_security_user_remove(struct bw_security *sec,
                                          const struct bw_security_actor *actor, const char *name,
                                          char *why, size_t why_size);
/* Sets a new password chosen by an administrator: the user must change
 * it at the next login. */
BW_MUST_CHECK int bw_security_user_reset_password(struct bw_security *sec,
                                                  const struct bw_security_actor *actor,
                                                  const char *name, const char *password,
                                                  size_t password_len, char *why, size_t why_size);
BW_MUST_CHECK int bw_security_user_get(struct bw_security *sec, const char *name,
                                       struct bw_security_user_info *out);
/* Calls fn for every account in name order; stops early when fn returns
 * non-zero (and returns that). */
BW_MUST_CHECK int bw_security_user_list(struct bw_security *sec,
                                        int (*fn)(void *ctx, const struct bw_security_user_info *u),
                                        void *ctx);

/* Second factor: creates a new TOTP secret for name (replacing any) and
 * writes the otpauth:// URI (uri_size >= 256) for the user's app; the
 * enrolment counts once confirmed with a code from the app
 * (bw_security_mfa_confirm). remove deletes it. All audited. */
BW_MUST_CHECK int bw_security_mfa_enrol(struct bw_security *sec,
                                        const struct bw_security_actor *actor, const char *name,
                                        char *uri, size_t uri_size, char *why, size_t why_size);
BW_MUST_CHECK int bw_security_mfa_confirm(struct bw_security *sec,
                                          const struct bw_security_actor *actor, const char *name,
                                          const char *code, char *why, size_t why_size);
BW_MUST_CHECK int bw_security_mfa_remove(struct bw_security *sec,
                                         const struct bw_security_actor *actor, const char *name,
                                         char *why, size_t why_size);

/* ---- first administrator -------------------------------------------- */

/* When no active account holds user.manage, makes a one-time setup
 * secret valid for one hour and writes it to secret (size >
 * BW_SECURITY_SETUP_SECRET_LEN); only its hash is kept. BW_EEXIST when an
 * administrator exists (no secret is made). Audited. */
BW_MUST_CHECK int bw_security_setup_secret_issue(struct bw_security *sec, char *secret,
                                                 size_t secret_size);
/* Ties to the outstanding secret the file at path (copied) into which
 * the caller wrote it: the module removes the file once the secret is
 * used, void after wrong tries, expired (at the next tick), replaced, or
 * when the context closes. BW_ESTATE when no secret is outstanding,
 * BW_ENOMEM. */
BW_MUST_CHECK int bw_security_setup_secret_file(struct bw_security *sec, const char *path);
/* Creates the first security administrator (role security-admin) with
 * the secret; the secret is void afterwards, and after an hour anyway.
 * What can be checked without the secret is checked first, and a right
 * secret is not spent when the account cannot be made for another
 * reason. BW_EDENIED (wrong, used or expired secret; audited; a few
 * wrong ones void it), BW_EINVAL (a bad name), BW_ERANGE (the password
 * policy; why says the rule), BW_EEXIST (the name is taken), BW_EFULL
 * (the hashing queue is full), BW_EIO. */
BW_MUST_CHECK int bw_security_setup_admin(struct bw_security *sec, const char *secret,
                                          const char *name, const char *password,
                                          size_t password_len, const char *address, char *why,
                                          size_t why_size);

/* ---- login and sessions --------------------------------------------- */

/* The system use notification (SR 1.12): the project's banner text, or
 * NULL, and whether the login must say it was accepted. */
const char *bw_security_banner(const struct bw_security *sec, bool *must_accept);

struct bw_security_login_request {
    const char *user;
    const char *password;
    size_t password_len;
    const char *totp;       /* the 6-digit code, NULL when none was given */
    const char *address;    /* the source, for throttling and the audit */
    bool untrusted_network; /* the listener's property (second factor policy) */
    bool banner_accepted;
};

enum bw_security_login_outcome {
    BW_SECURITY_LOGIN_OK = 0,
    /* The one generic failure: unknown user, wrong password, locked,
     * disabled or expired account, service account, wrong code. */
    BW_SECURITY_LOGIN_FAILED,
    BW_SECURITY_LOGIN_NEED_TOTP,     /* password right, a code is required: ask for it */
    BW_SECURITY_LOGIN_NEED_BANNER,   /* the banner must be accepted first */
    BW_SECURITY_LOGIN_BUSY,          /* the hashing queue is full: try again later */
    BW_SECURITY_LOGIN_SESSIONS_FULL, /* the concurrent-session limit refused it */
};

struct bw_security_login_result {
    enum bw_security_login_outcome outcome;
    /* On OK: the session token (for the cookie), the CSRF token, and
     * whether the password must be changed before anything else. */
    char token[BW_SECURITY_TOKEN_LEN + 1];
    char csrf[BW_SECURITY_TOKEN_LEN + 1];
    bool must_change_password;
};

/* Authenticates and, on success, opens a session. The outcome is in
 * result; the return value is BW_OK whenever an outcome was decided
 * (failures included) and an error only for a fault (BW_EIO, BW_ENOMEM;
 * the login then fails closed). Every attempt is audited with its
 * source. Blocks while the password is hashed. */
BW_MUST_CHECK int bw_security_login(struct bw_security *sec,
                                    const struct bw_security_login_request *request,
                                    struct bw_security_login_result *result);

/* Invalidates the session at once. BW_ENOTFOUND for an unknown token. */
BW_MUST_CHECK int bw_security_logout(struct bw_security *sec, const char *token);

/* A session as its holder sees it. */
struct bw_security_session_info {
    char id[BW_SECURITY_SESSION_ID_LEN + 1]; /* public id (not the token) */
    char user[BW_SECURITY_USER_MAX + 1];
    char address[64];
    int64_t created_us, last_seen_us, expires_us;
    bool locked;               /* idle: needs re-authentication */
    bool must_change_password; /* only a password change is allowed */
    bool elevated;             /* under a supervisor override */
};

/* Looks up a session by its token and marks it used. BW_ENOTFOUND for
 * an unknown or ended token, BW_ESTATE when it is locked (info filled).
 * csrf (may be NULL) is checked in constant time when given:
 * BW_EDENIED when it does not match. */
BW_MUST_CHECK int bw_security_session_check(struct bw_security *sec, const char *token,
                                            const char *csrf,
                                            struct bw_security_session_info *info);
/* Locks the session on demand (SR 2.5). */
BW_MUST_CHECK int bw_security_session_lock(struct bw_security *sec, const char *token);
/* Unlocks a locked session by re-authentication: by its own user, or by
 * another authorised user, who then holds it (audited). Outcomes as a
 * login. */
BW_MUST_CHECK int bw_security_session_unlock(struct bw_security *sec, const char *token,
                                             const struct bw_security_login_request *request,
                                             struct bw_security_login_result *result);
/* Changes the holder's own password (old one re-entered); every other
 * session of the user ends. BW_EDENIED (wrong old password; counts as a
 * failed login), BW_ERANGE (policy; why names the rule). */
BW_MUST_CHECK int bw_security_password_change(struct bw_security *sec, const char *token,
                                              const char *old_password, size_t old_len,
                                              const char *new_password, size_t new_len, char *why,
                                              size_t why_size);
/* Every session (session.manage), or calls fn for each. */
BW_MUST_CHECK int
bw_security_session_list(struct bw_security *sec, const struct bw_security_actor *actor,
                         int (*fn)(void *ctx, const struct bw_security_session_info *s), void *ctx);
/* Ends the session with that public id (SR 2.6; session.manage). */
BW_MUST_CHECK int bw_security_session_terminate(struct bw_security *sec,
                                                const struct bw_security_actor *actor,
                                                const char *session_id);

/* ---- authorisation -------------------------------------------------- */

/* What is being accessed: a tag or command names a minimum level, an
 * area mask and the permission; approval and signature as the project
 * marks it. name is for the audit record. */
struct bw_security_object {
    const char *name;
    uint16_t level;
    uint32_t areas; /* the object belongs to these areas; the user needs one of them */
    enum bw_permission permission;
    bool needs_approval;
    bool needs_signature;
};

enum bw_security_deny_reason {
    BW_SECURITY_ALLOWED = 0,
    BW_SECURITY_DENY_NO_SESSION,      /* unknown, ended or expired session */
    BW_SECURITY_DENY_LOCKED,          /* the session is locked: re-authenticate */
    BW_SECURITY_DENY_PASSWORD_CHANGE, /* the password must be changed first */
    BW_SECURITY_DENY_PERMISSION,      /* no role grants the permission */
    BW_SECURITY_DENY_LEVEL,           /* the user's level is below the object's */
    BW_SECURITY_DENY_AREA,            /* none of the user's areas is the object's */
    BW_SECURITY_DENY_SIGNATURE,       /* signature missing or wrong */
    BW_SECURITY_DENY_APPROVAL,        /* approval missing, wrong or by the same user */
    BW_SECURITY_DENY_AUDIT,           /* the access could not be put on record */
};

/* Evidence that comes with an access when the object asks for it. */
struct bw_security_evidence {
    const char *password; /* signature: the acting user's password again */
    size_t password_len;
    const char *totp;              /* signature: the acting user's code, when the policy asks */
    const char *reason;            /* signature: why (required) */
    const char *approver;          /* dual approval: the approving user ... */
    const char *approver_password; /* ... and that user's password */
    size_t approver_password_len;
    const char *approver_totp; /* when the approver has a second factor */
    /* Or: the id of an approval requested with
     * bw_security_approval_request and granted by another user within
     * the policy's window (consumed by this access). */
    const char *approval_id;
};

struct bw_security_decision {
    bool allowed;
    enum bw_security_deny_reason reason;
    char user[BW_SECURITY_USER_MAX + 1];     /* who acted (for the caller's audit record) */
    char approver[BW_SECURITY_USER_MAX + 1]; /* who approved, "" when none */
};

/* "no_session", "locked", ...; "allowed". */
const char *bw_security_deny_reason_name(enum bw_security_deny_reason reason);
/* A sentence for the user that names the rule and reveals nothing else. */
const char *bw_security_deny_reason_text(enum bw_security_deny_reason reason);

/* The one decision every access takes: given the session token, the
 * object (with its permission) and the evidence (may be NULL), answers
 * allow or deny with a reason. Denials are audited (access control);
 * signatures and approvals are audited with their reason whether they
 * hold or not. Returns BW_OK whenever a decision was made. */
BW_MUST_CHECK int bw_security_authorize(struct bw_security *sec, const char *token,
                                        const struct bw_security_object *object,
                                        const struct bw_security_evidence *evidence,
                                        struct bw_security_decision *decision);

#define BW_SECURITY_APPROVAL_ID_LEN 32 /* hex characters */

/* Dual approval in two steps (SR 2.1 RE 4), for a second user at another
 * console: the acting session asks (it must hold every right for the
 * object but the approval) and gets an id; a second, different user's
 * session with the object's permission, level and area grants it within
 * security.sessions.approval_window_seconds; the access then names the
 * id in its evidence and consumes it. Each step is audited. request:
 * BW_EDENIED (the session may not act on the object; why says the rule),
 * BW_EFULL (too many pending), BW_EINVAL. grant: BW_ENOTFOUND (no such
 * pending approval, or lapsed), BW_EDENIED (same user, or lacking
 * rights). */
BW_MUST_CHECK int bw_security_approval_request(struct bw_security *sec, const char *token,
                                               const struct bw_security_object *object,
                                               char id[BW_SECURITY_APPROVAL_ID_LEN + 1], char *why,
                                               size_t why_size);
BW_MUST_CHECK int bw_security_approval_grant(struct bw_security *sec, const char *approver_token,
                                             const char *id, char *why, size_t why_size);

/* Supervisor override (SR 2.1 RE 3): the holder of supervisor_token,
 * who needs the override permission, lends its level, areas and
 * permissions to the session with public id target_id for seconds
 * (at most the policy's maximum). Audited at start and at end. */
BW_MUST_CHECK int bw_security_override_grant(struct bw_security *sec, const char *supervisor_token,
                                             const char *target_id, uint32_t seconds,
                                             const char *reason, char *why, size_t why_size);
/* Ends an override early (by the supervisor or the holder). */
BW_MUST_CHECK int bw_security_override_end(struct bw_security *sec, const char *token,
                                           const char *target_id);

/* ---- testing -------------------------------------------------------- */

/* Statistics for tests and the status page. */
struct bw_security_stats {
    uint64_t hashes;       /* password hash computations so far */
    uint64_t hash_refused; /* logins refused by the full hashing queue */
    uint32_t hash_running; /* now */
    uint32_t hash_waiting; /* now */
    uint32_t sessions;     /* open sessions */
};
void bw_security_stats_get(struct bw_security *sec, struct bw_security_stats *out);

#endif
