/* SPDX-License-Identifier: Apache-2.0
 *
 * What the session files share with the rest of the module and with
 * the tests, beyond internal.h: the token generator, the override a
 * session may carry, and the operations on one session that unlock and
 * takeover (session_user.c) and the supervisor override (override.c)
 * need. The table itself is in session_table.c (its insides in
 * session_table.h), the operations in sessions.c and session_ops.c.
 * Nothing outside src/security/ and its tests includes this.
 */
#ifndef BW_SECURITY_SESSIONS_INTERNAL_H
#define BW_SECURITY_SESSIONS_INTERNAL_H

#include "security/internal.h"

/* Permissions an override never lends (separation of duties, DESIGN.md
 * section 4): account and session administration stay with the security
 * administrators whatever a supervisor holds, and lent rights cannot be
 * lent on. */
#define SEC_OVERRIDE_NEVER_LENT                                                                    \
    ((1u << BW_PERM_USER_MANAGE) | (1u << BW_PERM_SESSION_MANAGE) | (1u << BW_PERM_OVERRIDE))

/* A supervisor override (SR 2.1 RE 3) lent to a session. */
struct sec_override {
    bool active;
    uint64_t generation; /* tells one grant from the next on the same session */
    uint16_t level;      /* lent: the supervisor's own */
    uint32_t areas;
    uint32_t permissions; /* never any of SEC_OVERRIDE_NEVER_LENT */
    char supervisor[BW_SECURITY_USER_MAX + 1];
    int64_t end_us;   /* wall clock, for records */
    int64_t end_mono; /* monotonic, what expiry is decided on */
};

/* Makes a new session token: 32 bytes from the OS CSPRNG as 64 hex
 * characters, its SHA-256 (what the table keeps) and its public id (hex
 * of the first 16 bytes of SHA-256 over a fixed label and the token:
 * nothing about the token can be learnt from it). BW_EIO when the
 * CSPRNG or the hash fails. Any thread. */
BW_MUST_CHECK int sec_session_token_new(char token[BW_SECURITY_TOKEN_LEN + 1],
                                        uint8_t digest[BW_SHA256_LEN],
                                        char id[BW_SECURITY_SESSION_ID_LEN + 1]);

/* A CSRF token (32 random bytes, hex) and its SHA-256. BW_EIO. */
BW_MUST_CHECK int sec_session_csrf_new(char csrf[BW_SECURITY_TOKEN_LEN + 1],
                                       uint8_t digest[BW_SHA256_LEN]);

/* As sec_session_subject, but with the session's own level, areas and
 * permissions, whatever override it carries (elevated still says
 * whether it carries one). */
BW_MUST_CHECK int sec_session_subject_own(struct bw_security *sec, const char *token, bool touch,
                                          struct sec_subject *out);

/* Lends ov (its generation is assigned here and written back) to the
 * live session with public id target_id; *target (may be NULL) receives
 * its subject. BW_ENOTFOUND, BW_EBUSY when it already carries one,
 * BW_EINVAL when it is a session of the supervisor's own. */
BW_MUST_CHECK int sec_session_override_set(struct bw_security *sec, const char *target_id,
                                           struct sec_override *ov, struct sec_subject *target);

/* Takes the override off the session with public id target_id when by
 * (NULL: anyone) is its supervisor or the session's holder, and
 * generation (0: any) is the one lent. *ended and *target (may be NULL)
 * receive what it was and whose session it was. Nothing is recorded: the
 * caller does. BW_ENOTFOUND (no such session), BW_ESTATE (no override,
 * or another generation), BW_EDENIED (by is neither). */
BW_MUST_CHECK int sec_session_override_clear(struct bw_security *sec, const char *target_id,
                                             const char *by, uint64_t generation,
                                             struct sec_override *ended,
                                             struct sec_subject *target);

/* A locked session's holder authenticated again: unlocks it and gives it
 * a new CSRF token (the session token stays). BW_ENOTFOUND, BW_ESTATE
 * when it is not locked (any more). On BW_OK *out is its subject. */
BW_MUST_CHECK int sec_session_resume(struct bw_security *sec, const char *token,
                                     const uint8_t csrf_digest[BW_SHA256_LEN],
                                     struct sec_subject *out);

/* What a takeover changes. */
struct sec_takeover {
    const struct sec_user *user; /* the account that authenticated */
    uint32_t permissions;        /* sec_user_permissions of it */
    bool must_change_password;
    const char *address; /* where it authenticated; NULL keeps the session's */
    /* The session's new token (its digest), public id and CSRF token. */
    uint8_t digest[BW_SHA256_LEN];
    char id[BW_SECURITY_SESSION_ID_LEN + 1];
    uint8_t csrf_digest[BW_SHA256_LEN];
};

/* Another user authenticated at a locked session: it becomes theirs
 * (their level, areas and permissions, a new token and id; any override
 * ends, recorded), within their concurrent-session limit (refused: BW_EFULL,
 * recorded; or their oldest session ends, recorded). *previous receives
 * the subject it had. BW_ENOTFOUND, BW_ESTATE when it is not locked. */
BW_MUST_CHECK int sec_session_takeover(struct bw_security *sec, const char *token,
                                       const struct sec_takeover *to, struct sec_subject *previous);

/* Locks the session again (after an unlock that could not be recorded). */
void sec_session_relock(struct bw_security *sec, const char *token);
/* Ends the session without a record of its own (the caller records).
 * BW_ENOTFOUND. */
BW_MUST_CHECK int sec_session_drop(struct bw_security *sec, const char *token);

/* Calls fn with each live session's info; a copy is taken under the lock
 * first, so fn may call into the module. Stops at fn's first non-zero
 * return and returns it. BW_ENOMEM. */
BW_MUST_CHECK int sec_sessions_each(struct bw_security *sec,
                                    int (*fn)(void *ctx, const struct bw_security_session_info *s),
                                    void *ctx);

/* Ends the session with public id id, with a session.terminated record
 * naming actor_name. BW_ENOTFOUND. */
BW_MUST_CHECK int sec_session_terminate_id(struct bw_security *sec, const char *id,
                                           const char *actor_name, const char *actor_address);

#endif
