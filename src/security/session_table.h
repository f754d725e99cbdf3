/* SPDX-License-Identifier: Apache-2.0
 *
 * The session table's insides, shared by the files that change it
 * (session_table.c, sessions.c, session_ops.c) and by nobody else. The
 * table is a hash table keyed by the SHA-256 of each session's token;
 * every function below that takes the table runs with its lock held.
 * Changes made under the lock leave notes, recorded on the audit trail
 * once the lock is let go (a record waits for the disk, lookups must not
 * wait behind it).
 */
#ifndef BW_SECURITY_SESSION_TABLE_H
#define BW_SECURITY_SESSION_TABLE_H

#include "security/sessions_internal.h"

struct sec_session {
    struct sec_session *next; /* in its bucket */
    uint8_t digest[BW_SHA256_LEN];
    uint8_t csrf_digest[BW_SHA256_LEN];
    uint64_t serial; /* order of opening: the oldest has the lowest */
    char id[BW_SECURITY_SESSION_ID_LEN + 1];
    char user[BW_SECURITY_USER_MAX + 1];
    char address[64];
    uint16_t level;
    uint32_t areas;
    uint32_t permissions;
    int64_t created_us, last_seen_us, expires_us; /* wall clock, as shown */
    int64_t last_seen_mono, expires_mono;         /* what deadlines are decided on */
    bool locked;
    bool must_change_password;
    struct sec_override ov;
};

struct sec_sessions {
    pthread_mutex_t lock;
    struct sec_session **buckets;
    size_t bucket_count; /* a power of two */
    uint32_t count;
    uint64_t serial;     /* the last one given */
    uint64_t generation; /* the last override's */
};

/* ---- records made after the lock ------------------------------------ */

#define SEC_NOTES_INLINE 4

struct sec_note {
    uint32_t event;
    enum bw_audit_result result;
    const char *reason;                     /* borrowed for the call; NULL: none */
    char source[BW_SECURITY_USER_MAX + 64]; /* an account, or an OS user at the terminal */
    char address[64];
    char id[BW_SECURITY_SESSION_ID_LEN + 1];
    char holder[BW_SECURITY_USER_MAX + 1];     /* "": the source holds it */
    char supervisor[BW_SECURITY_USER_MAX + 1]; /* override records */
    uint32_t limit;                            /* session.refused */
};

struct sec_notes {
    struct sec_note inline_items[SEC_NOTES_INLINE];
    struct sec_note *items;
    size_t count, cap;
};

void sec_notes_init(struct sec_notes *n);
/* A note on s (may be NULL: the caller fills the source) with s's
 * holder as its source. NULL only when memory ran out (said in the log;
 * the transition itself still holds). */
struct sec_note *sec_note_add(struct sec_notes *n, uint32_t event, enum bw_audit_result result,
                              const struct sec_session *s, const char *reason);
/* Records the notes (never with the lock held) and empties n. */
void sec_notes_emit(struct bw_security *sec, struct sec_notes *n);

/* ---- the table ------------------------------------------------------- */

/* The digest a presented token is looked up by; false for text that
 * cannot be a token (no lookup is made then). */
bool sec_token_digest(const char *token, uint8_t digest[BW_SHA256_LEN]);

/* The slot holding the session of digest (or public id), or NULL. */
struct sec_session **sec_table_find(struct sec_sessions *t, const uint8_t digest[BW_SHA256_LEN]);
struct sec_session **sec_table_find_id(struct sec_sessions *t, const char *id);
void sec_table_insert(struct sec_sessions *t, struct sec_session *s);
struct sec_session *sec_table_unlink(struct sec_sessions *t, struct sec_session **slot);
/* Wipes and frees; NULL is fine. */
void sec_session_free(struct sec_session *s);

/* Takes s's override off, noting why. */
void sec_override_ended(struct sec_session *s, const char *reason, struct sec_notes *n);
/* Ends the session in slot with a record of event (and of its override). */
void sec_session_end(struct sec_sessions *t, struct sec_session **slot, uint32_t event,
                     const char *reason, struct sec_notes *n);
/* Applies what time did to s at mono (override expiry, idle lock, noted);
 * true when s is past its lifetime (the caller ends it). */
bool sec_session_age(const struct bw_security *sec, struct sec_session *s, int64_t mono,
                     struct sec_notes *n);
/* The live session of digest (or public id), its deadlines applied at
 * mono: an expired one is ended (noted) and not found. */
struct sec_session **sec_live_find(struct bw_security *sec, const uint8_t digest[BW_SHA256_LEN],
                                   int64_t mono, struct sec_notes *n);
struct sec_session **sec_live_find_id(struct bw_security *sec, const char *id, int64_t mono,
                                      struct sec_notes *n);
/* Counts as activity. */
void sec_session_touch(struct sec_session *s, int64_t mono);
/* own: the session's own rights, without what an override lends. */
void sec_subject_fill(const struct sec_session *s, bool own, struct sec_subject *out);
void sec_info_fill(const struct sec_session *s, struct bw_security_session_info *out);
/* Makes room for one more session of user under the policy's limits,
 * ending expired sessions on the way: BW_OK (the oldest may have ended,
 * noted), or BW_EFULL (noted as refused). keep (may be NULL) is a
 * session user takes over: the total does not grow then, and keep is
 * never the one to end. */
int sec_limits_apply(struct bw_security *sec, const char *user, const char *address, int64_t mono,
                     const struct sec_session *keep, struct sec_notes *n);

#endif
