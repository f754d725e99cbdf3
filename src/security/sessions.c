/* SPDX-License-Identifier: Apache-2.0
 *
 * Sessions (SR 1.1, 2.5, 2.6, 2.7): opening one for an authenticated
 * account within the concurrent-session limits, looking one up by its
 * token (with the CSRF check), locking on demand, logout, and ending
 * many at once (an account changed, shutdown, the tick's deadlines). A
 * session is known by a 256-bit random token that only its holder has;
 * the table keeps the token's SHA-256 and records name the session by
 * its public id (session_table.c). A lookup that finds a session past
 * one of its deadlines applies it there and then, so nothing waits for
 * the next tick. Every transition is recorded. Any thread.
 */
#include "security/session_table.h"

#include <string.h>

int sec_session_open(struct bw_security *sec, const struct sec_user *u, const char *address,
                     bool must_change_password, struct bw_security_login_result *result)
{
    struct sec_session *s = bw_calloc(1, sizeof(*s));
    if (!s)
        return BW_ENOMEM;
    char token[BW_SECURITY_TOKEN_LEN + 1], csrf[BW_SECURITY_TOKEN_LEN + 1];
    int rc = sec_session_token_new(token, s->digest, s->id);
    if (rc == BW_OK)
        rc = sec_session_csrf_new(csrf, s->csrf_digest);
    if (rc) {
        sec_session_free(s);
        return rc;
    }
    const struct bw_project_session_policy *pol = &sec->policy->sessions;
    int64_t now = bw_clock_realtime_us(), mono = bw_clock_monotonic_us();
    int64_t lifetime = (int64_t)pol->lifetime_seconds * 1000000;
    bw_strlcpy(s->user, u->info.name, sizeof(s->user));
    bw_strlcpy(s->address, address ? address : "", sizeof(s->address));
    s->level = u->info.level;
    s->areas = u->info.areas;
    s->permissions = sec_user_permissions(sec, u);
    s->created_us = s->last_seen_us = now;
    s->expires_us = now + lifetime;
    s->last_seen_mono = mono;
    s->expires_mono = mono + lifetime;
    s->must_change_password = must_change_password;

    struct sec_sessions *t = sec->sessions;
    struct sec_notes n;
    sec_notes_init(&n);
    pthread_mutex_lock(&t->lock);
    rc = sec_limits_apply(sec, s->user, address, mono, NULL, &n);
    if (rc == BW_OK) {
        s->serial = ++t->serial;
        sec_table_insert(t, s);
        s = NULL;
    }
    pthread_mutex_unlock(&t->lock);
    sec_notes_emit(sec, &n);
    sec_session_free(s);
    if (rc == BW_OK) {
        bw_strlcpy(result->token, token, sizeof(result->token));
        bw_strlcpy(result->csrf, csrf, sizeof(result->csrf));
        result->must_change_password = must_change_password;
    }
    bw_crypto_wipe(token, sizeof(token));
    bw_crypto_wipe(csrf, sizeof(csrf));
    return rc;
}

/* ---- lookups --------------------------------------------------------- */

static int subject_get(struct bw_security *sec, const char *token, bool touch, bool own,
                       struct sec_subject *out)
{
    memset(out, 0, sizeof(*out));
    uint8_t d[BW_SHA256_LEN];
    if (!sec_token_digest(token, d))
        return BW_ENOTFOUND;
    struct sec_sessions *t = sec->sessions;
    struct sec_notes n;
    sec_notes_init(&n);
    int rc = BW_ENOTFOUND;
    pthread_mutex_lock(&t->lock);
    int64_t mono = bw_clock_monotonic_us();
    struct sec_session **p = sec_live_find(sec, d, mono, &n);
    if (p) {
        struct sec_session *s = *p;
        if (touch && !s->locked)
            sec_session_touch(s, mono);
        sec_subject_fill(s, own, out);
        rc = s->locked ? BW_ESTATE : BW_OK;
    }
    pthread_mutex_unlock(&t->lock);
    sec_notes_emit(sec, &n);
    return rc;
}

int sec_session_subject(struct bw_security *sec, const char *token, bool touch,
                        struct sec_subject *out)
{
    return subject_get(sec, token, touch, false, out);
}

int sec_session_subject_own(struct bw_security *sec, const char *token, bool touch,
                            struct sec_subject *out)
{
    return subject_get(sec, token, touch, true, out);
}

int bw_security_session_check(struct bw_security *sec, const char *token, const char *csrf,
                              struct bw_security_session_info *info)
{
    if (info)
        memset(info, 0, sizeof(*info));
    uint8_t d[BW_SHA256_LEN], cd[BW_SHA256_LEN];
    if (!sec_token_digest(token, d))
        return BW_ENOTFOUND;
    /* A CSRF token of the wrong length cannot match; its length is no secret. */
    bool csrf_valid = !csrf || sec_token_digest(csrf, cd);
    struct sec_sessions *t = sec->sessions;
    struct sec_notes n;
    sec_notes_init(&n);
    int rc = BW_ENOTFOUND;
    pthread_mutex_lock(&t->lock);
    int64_t mono = bw_clock_monotonic_us();
    struct sec_session **p = sec_live_find(sec, d, mono, &n);
    if (p) {
        struct sec_session *s = *p;
        if (csrf && !(csrf_valid && bw_crypto_equal(cd, s->csrf_digest, sizeof(cd)))) {
            rc = BW_EDENIED;
            (void)sec_note_add(&n, BW_AUDIT_EV_ACCESS_DENIED, BW_AUDIT_DENIED, s, "csrf_mismatch");
        } else {
            if (!s->locked)
                sec_session_touch(s, mono);
            if (info)
                sec_info_fill(s, info);
            rc = s->locked ? BW_ESTATE : BW_OK;
        }
    }
    pthread_mutex_unlock(&t->lock);
    sec_notes_emit(sec, &n);
    return rc;
}

int bw_security_session_lock(struct bw_security *sec, const char *token)
{
    uint8_t d[BW_SHA256_LEN];
    if (!sec_token_digest(token, d))
        return BW_ENOTFOUND;
    struct sec_sessions *t = sec->sessions;
    struct sec_notes n;
    sec_notes_init(&n);
    int rc = BW_ENOTFOUND;
    pthread_mutex_lock(&t->lock);
    struct sec_session **p = sec_live_find(sec, d, bw_clock_monotonic_us(), &n);
    if (p) {
        if (!(*p)->locked) {
            (*p)->locked = true;
            (void)sec_note_add(&n, BW_AUDIT_EV_SESSION_LOCKED, BW_AUDIT_SUCCESS, *p, "on demand");
        }
        rc = BW_OK;
    }
    pthread_mutex_unlock(&t->lock);
    sec_notes_emit(sec, &n);
    return rc;
}

int bw_security_logout(struct bw_security *sec, const char *token)
{
    uint8_t d[BW_SHA256_LEN];
    if (!sec_token_digest(token, d))
        return BW_ENOTFOUND;
    struct sec_sessions *t = sec->sessions;
    struct sec_notes n;
    sec_notes_init(&n);
    int rc = BW_ENOTFOUND;
    pthread_mutex_lock(&t->lock);
    struct sec_session **p = sec_live_find(sec, d, bw_clock_monotonic_us(), &n);
    if (p) {
        sec_session_end(t, p, BW_AUDIT_EV_LOGOUT, NULL, &n);
        rc = BW_OK;
    }
    pthread_mutex_unlock(&t->lock);
    sec_notes_emit(sec, &n);
    return rc;
}

/* ---- ending many ----------------------------------------------------- */

size_t sec_sessions_end_user(struct bw_security *sec, const char *user, const char *reason,
                             const char *except_token)
{
    uint8_t ex[BW_SHA256_LEN];
    bool has_ex = except_token && sec_token_digest(except_token, ex);
    struct sec_sessions *t = sec->sessions;
    struct sec_notes n;
    sec_notes_init(&n);
    size_t ended = 0;
    pthread_mutex_lock(&t->lock);
    for (size_t b = 0; b < t->bucket_count; b++) {
        struct sec_session **p = &t->buckets[b];
        while (*p) {
            struct sec_session *s = *p;
            if (strcmp(s->user, user) == 0 &&
                !(has_ex && bw_crypto_equal(ex, s->digest, sizeof(ex)))) {
                sec_session_end(t, p, BW_AUDIT_EV_SESSION_ENDED, reason, &n);
                ended++;
                continue;
            }
            /* What the account lent goes with it, unless the user only
             * changed their own password and stays signed in. */
            if (!except_token && s->ov.active && strcmp(s->ov.supervisor, user) == 0)
                sec_override_ended(s, "supervisor account changed", &n);
            p = &s->next;
        }
    }
    pthread_mutex_unlock(&t->lock);
    sec_notes_emit(sec, &n);
    return ended;
}

void sec_sessions_end_all(struct bw_security *sec, const char *reason)
{
    struct sec_sessions *t = sec->sessions;
    struct sec_notes n;
    sec_notes_init(&n);
    pthread_mutex_lock(&t->lock);
    for (size_t b = 0; b < t->bucket_count; b++)
        while (t->buckets[b])
            sec_session_end(t, &t->buckets[b], BW_AUDIT_EV_SESSION_ENDED, reason, &n);
    pthread_mutex_unlock(&t->lock);
    sec_notes_emit(sec, &n);
}

void sec_sessions_tick(struct bw_security *sec)
{
    struct sec_sessions *t = sec->sessions;
    struct sec_notes n;
    sec_notes_init(&n);
    pthread_mutex_lock(&t->lock);
    int64_t mono = bw_clock_monotonic_us();
    for (size_t b = 0; b < t->bucket_count; b++) {
        struct sec_session **p = &t->buckets[b];
        while (*p) {
            if (sec_session_age(sec, *p, mono, &n))
                sec_session_end(t, p, BW_AUDIT_EV_SESSION_ENDED, "lifetime", &n);
            else
                p = &(*p)->next;
        }
    }
    pthread_mutex_unlock(&t->lock);
    sec_notes_emit(sec, &n);
}

uint32_t sec_sessions_count(struct bw_security *sec)
{
    pthread_mutex_lock(&sec->sessions->lock);
    uint32_t count = sec->sessions->count;
    pthread_mutex_unlock(&sec->sessions->lock);
    return count;
}

void sec_session_password_changed(struct bw_security *sec, const char *token)
{
    uint8_t d[BW_SHA256_LEN];
    if (!sec_token_digest(token, d))
        return;
    struct sec_sessions *t = sec->sessions;
    struct sec_notes n;
    sec_notes_init(&n);
    pthread_mutex_lock(&t->lock);
    struct sec_session **p = sec_live_find(sec, d, bw_clock_monotonic_us(), &n);
    if (p)
        (*p)->must_change_password = false;
    pthread_mutex_unlock(&t->lock);
    sec_notes_emit(sec, &n);
}
