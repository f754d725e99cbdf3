/* SPDX-License-Identifier: Apache-2.0
 *
 * Operations on one session for the rest of the module
 * (sessions_internal.h): lending and taking back a supervisor override,
 * resuming or taking over a locked session after re-authentication,
 * undoing an unlock that could not be recorded, listing the sessions and
 * ending one by its public id. The callers decide who may; these apply
 * the change under the table's lock. Any thread.
 */
#include "security/session_table.h"

#include <string.h>

int sec_session_override_set(struct bw_security *sec, const char *target_id,
                             struct sec_override *ov, struct sec_subject *target)
{
    struct sec_sessions *t = sec->sessions;
    struct sec_notes n;
    sec_notes_init(&n);
    int rc = BW_ENOTFOUND;
    pthread_mutex_lock(&t->lock);
    struct sec_session **p = sec_live_find_id(sec, target_id, bw_clock_monotonic_us(), &n);
    if (p && strcmp((*p)->user, ov->supervisor) == 0) {
        rc = BW_EINVAL; /* lent to oneself: nothing to lend */
    } else if (p && (*p)->ov.active) {
        rc = BW_EBUSY;
    } else if (p) {
        struct sec_session *s = *p;
        ov->active = true;
        ov->generation = ++t->generation;
        ov->permissions &= ~SEC_OVERRIDE_NEVER_LENT;
        s->ov = *ov;
        if (target)
            sec_subject_fill(s, false, target);
        rc = BW_OK;
    }
    pthread_mutex_unlock(&t->lock);
    sec_notes_emit(sec, &n);
    return rc;
}

int sec_session_override_clear(struct bw_security *sec, const char *target_id, const char *by,
                               uint64_t generation, struct sec_override *ended,
                               struct sec_subject *target)
{
    if (ended)
        memset(ended, 0, sizeof(*ended));
    struct sec_sessions *t = sec->sessions;
    struct sec_notes n;
    sec_notes_init(&n);
    int rc = BW_ENOTFOUND;
    pthread_mutex_lock(&t->lock);
    struct sec_session **p = sec_live_find_id(sec, target_id, bw_clock_monotonic_us(), &n);
    if (p) {
        struct sec_session *s = *p;
        if (!s->ov.active || (generation && s->ov.generation != generation)) {
            rc = BW_ESTATE;
        } else if (by && strcmp(by, s->ov.supervisor) != 0 && strcmp(by, s->user) != 0) {
            rc = BW_EDENIED;
        } else {
            if (ended)
                *ended = s->ov;
            if (target)
                sec_subject_fill(s, false, target);
            memset(&s->ov, 0, sizeof(s->ov));
            rc = BW_OK;
        }
    }
    pthread_mutex_unlock(&t->lock);
    sec_notes_emit(sec, &n);
    return rc;
}

int sec_session_resume(struct bw_security *sec, const char *token,
                       const uint8_t csrf_digest[BW_SHA256_LEN], struct sec_subject *out)
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
    if (p && !(*p)->locked) {
        rc = BW_ESTATE;
    } else if (p) {
        struct sec_session *s = *p;
        s->locked = false;
        sec_session_touch(s, mono);
        memcpy(s->csrf_digest, csrf_digest, BW_SHA256_LEN);
        sec_subject_fill(s, false, out);
        rc = BW_OK;
    }
    pthread_mutex_unlock(&t->lock);
    sec_notes_emit(sec, &n);
    return rc;
}

/* Gives s to the account of to, under a new token. */
static void takeover_apply(struct sec_sessions *t, struct sec_session *s,
                           const struct sec_takeover *to, int64_t mono, struct sec_notes *n)
{
    if (s->ov.active)
        sec_override_ended(s, "session taken over", n);
    /* The new digest puts it in another bucket. */
    struct sec_session **slot = sec_table_find(t, s->digest);
    (void)sec_table_unlink(t, slot);
    memcpy(s->digest, to->digest, BW_SHA256_LEN);
    memcpy(s->csrf_digest, to->csrf_digest, BW_SHA256_LEN);
    bw_strlcpy(s->id, to->id, sizeof(s->id));
    bw_strlcpy(s->user, to->user->info.name, sizeof(s->user));
    if (to->address)
        bw_strlcpy(s->address, to->address, sizeof(s->address));
    s->level = to->user->info.level;
    s->areas = to->user->info.areas;
    s->permissions = to->permissions;
    s->must_change_password = to->must_change_password;
    s->locked = false;
    sec_session_touch(s, mono);
    sec_table_insert(t, s);
}

int sec_session_takeover(struct bw_security *sec, const char *token, const struct sec_takeover *to,
                         struct sec_subject *previous)
{
    memset(previous, 0, sizeof(*previous));
    uint8_t d[BW_SHA256_LEN];
    if (!sec_token_digest(token, d))
        return BW_ENOTFOUND;
    struct sec_sessions *t = sec->sessions;
    struct sec_notes n;
    sec_notes_init(&n);
    int rc = BW_ENOTFOUND;
    pthread_mutex_lock(&t->lock);
    /* One instant for the whole change: s cannot pass its lifetime
     * between the lookup and the limits' census. */
    int64_t mono = bw_clock_monotonic_us();
    struct sec_session **p = sec_live_find(sec, d, mono, &n);
    if (p && !(*p)->locked) {
        rc = BW_ESTATE;
    } else if (p) {
        struct sec_session *s = *p;
        sec_subject_fill(s, true, previous);
        /* The session becomes one more of the new holder's. */
        rc = sec_limits_apply(sec, to->user->info.name, to->address ? to->address : s->address,
                              mono, s, &n);
        if (rc == BW_OK)
            takeover_apply(t, s, to, mono, &n);
    }
    pthread_mutex_unlock(&t->lock);
    sec_notes_emit(sec, &n);
    return rc;
}

void sec_session_relock(struct bw_security *sec, const char *token)
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
        (*p)->locked = true;
    pthread_mutex_unlock(&t->lock);
    sec_notes_emit(sec, &n);
}

int sec_session_drop(struct bw_security *sec, const char *token)
{
    uint8_t d[BW_SHA256_LEN];
    if (!sec_token_digest(token, d))
        return BW_ENOTFOUND;
    struct sec_sessions *t = sec->sessions;
    pthread_mutex_lock(&t->lock);
    struct sec_session **p = sec_table_find(t, d);
    struct sec_session *s = p ? sec_table_unlink(t, p) : NULL;
    pthread_mutex_unlock(&t->lock);
    sec_session_free(s);
    return s ? BW_OK : BW_ENOTFOUND;
}

int sec_sessions_each(struct bw_security *sec,
                      int (*fn)(void *ctx, const struct bw_security_session_info *s), void *ctx)
{
    struct sec_sessions *t = sec->sessions;
    struct sec_notes n;
    sec_notes_init(&n);
    size_t count = 0;
    pthread_mutex_lock(&t->lock);
    struct bw_security_session_info *infos = bw_calloc(t->count ? t->count : 1, sizeof(*infos));
    if (infos) {
        int64_t mono = bw_clock_monotonic_us();
        for (size_t b = 0; b < t->bucket_count; b++) {
            struct sec_session **p = &t->buckets[b];
            while (*p) {
                if (sec_session_age(sec, *p, mono, &n)) {
                    sec_session_end(t, p, BW_AUDIT_EV_SESSION_ENDED, "lifetime", &n);
                    continue;
                }
                sec_info_fill(*p, &infos[count++]);
                p = &(*p)->next;
            }
        }
    }
    pthread_mutex_unlock(&t->lock);
    sec_notes_emit(sec, &n);
    if (!infos)
        return BW_ENOMEM;
    int rc = BW_OK;
    for (size_t i = 0; i < count && rc == BW_OK; i++)
        rc = fn(ctx, &infos[i]);
    bw_free(infos);
    return rc;
}

int sec_session_terminate_id(struct bw_security *sec, const char *id, const char *actor_name,
                             const char *actor_address)
{
    struct sec_sessions *t = sec->sessions;
    struct sec_notes n;
    sec_notes_init(&n);
    int rc = BW_ENOTFOUND;
    pthread_mutex_lock(&t->lock);
    struct sec_session **p = sec_live_find_id(sec, id, bw_clock_monotonic_us(), &n);
    if (p) {
        struct sec_session *s = sec_table_unlink(t, p);
        if (s->ov.active)
            sec_override_ended(s, "session terminated", &n);
        struct sec_note *e =
            sec_note_add(&n, BW_AUDIT_EV_SESSION_TERMINATED, BW_AUDIT_SUCCESS, s, NULL);
        if (e) {
            /* The record's source is who ended it; the holder is named. */
            bw_strlcpy(e->holder, s->user, sizeof(e->holder));
            bw_strlcpy(e->source, actor_name, sizeof(e->source));
            bw_strlcpy(e->address, actor_address ? actor_address : "", sizeof(e->address));
        }
        sec_session_free(s);
        rc = BW_OK;
    }
    pthread_mutex_unlock(&t->lock);
    sec_notes_emit(sec, &n);
    return rc;
}
