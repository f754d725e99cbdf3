/* SPDX-License-Identifier: Apache-2.0
 *
 * The session table's mechanics (session_table.h): tokens and their
 * public ids, the hash table keyed by the SHA-256 of each token, the
 * deadlines (idle lock, lifetime, override expiry), the concurrent-session
 * limits, and the notes that become audit records once the lock is let
 * go. The table is created and freed here. Any thread; the table's
 * functions run with its lock held.
 */
#include "security/session_table.h"

#include <string.h>

/* Where the public id comes from: SHA-256(label || token). */
static const char id_label[] = "bulwark session id";

#define BUCKETS_MIN 64u
#define BUCKETS_MAX (1u << 20)

/* ---- records made after the lock ------------------------------------- */

void sec_notes_init(struct sec_notes *n)
{
    n->items = n->inline_items;
    n->count = 0;
    n->cap = SEC_NOTES_INLINE;
}

/* A note on s (may be NULL) by source (NULL: s's holder). NULL only when
 * memory ran out (said in the log: the transition itself still holds). */
struct sec_note *sec_note_add(struct sec_notes *n, uint32_t event, enum bw_audit_result result,
                              const struct sec_session *s, const char *reason)
{
    if (n->count == n->cap) {
        size_t cap = n->cap * 2, bytes;
        struct sec_note *items = NULL;
        if (bw_size_mul(cap, sizeof(*items), &bytes))
            items = bw_malloc(bytes);
        if (!items) {
            bw_log(BW_LOG_ERROR, BW_LOGC_SECURITY,
                   "out of memory: audit record %u of session %s not made", (unsigned)event,
                   s ? s->id : "-");
            return NULL;
        }
        memcpy(items, n->items, n->count * sizeof(*items));
        if (n->items != n->inline_items)
            bw_free(n->items);
        n->items = items;
        n->cap = cap;
    }
    struct sec_note *e = &n->items[n->count++];
    memset(e, 0, sizeof(*e));
    e->event = event;
    e->result = result;
    e->reason = reason;
    if (s) {
        bw_strlcpy(e->source, s->user, sizeof(e->source));
        bw_strlcpy(e->address, s->address, sizeof(e->address));
        bw_strlcpy(e->id, s->id, sizeof(e->id));
    }
    return e;
}

static void put_text(json_t *obj, const char *key, const char *text)
{
    json_t *v = text && *text ? json_string(text) : NULL;
    if (v)
        json_object_set_new(obj, key, v);
}

/* Records the notes (never with the lock held) and lets them go. */
void sec_notes_emit(struct bw_security *sec, struct sec_notes *n)
{
    for (size_t i = 0; i < n->count; i++) {
        const struct sec_note *e = &n->items[i];
        json_t *d = json_object();
        if (d) {
            /* "id", not a key with "session" in it: the trail redacts those. */
            put_text(d, "id", e->id);
            put_text(d, "reason", e->reason);
            put_text(d, "user", e->holder);
            put_text(d, "supervisor", e->supervisor);
            if (e->limit)
                json_object_set_new(d, "limit", json_integer(e->limit));
        }
        sec_note(sec, e->event, e->result, e->source[0] ? e->source : "-",
                 e->address[0] ? e->address : NULL, d);
    }
    if (n->items != n->inline_items)
        bw_free(n->items);
    sec_notes_init(n);
}

/* ---- tokens ---------------------------------------------------------- */

static int public_id(const char token[BW_SECURITY_TOKEN_LEN],
                     char id[BW_SECURITY_SESSION_ID_LEN + 1])
{
    uint8_t in[sizeof(id_label) - 1 + BW_SECURITY_TOKEN_LEN];
    uint8_t d[BW_SHA256_LEN];
    memcpy(in, id_label, sizeof(id_label) - 1);
    memcpy(in + sizeof(id_label) - 1, token, BW_SECURITY_TOKEN_LEN);
    int rc = bw_crypto_sha256(in, sizeof(in), d);
    if (rc == BW_OK)
        bw_crypto_hex(d, BW_SECURITY_SESSION_ID_LEN / 2, id);
    bw_crypto_wipe(in, sizeof(in));
    return rc;
}

/* 32 random bytes as hex, and the SHA-256 of that text. */
static int random_hex(char out[BW_SECURITY_TOKEN_LEN + 1], uint8_t digest[BW_SHA256_LEN])
{
    uint8_t raw[BW_SECURITY_TOKEN_LEN / 2];
    int rc = bw_crypto_random(raw, sizeof(raw));
    if (rc == BW_OK) {
        bw_crypto_hex(raw, sizeof(raw), out);
        rc = bw_crypto_sha256(out, BW_SECURITY_TOKEN_LEN, digest);
    }
    bw_crypto_wipe(raw, sizeof(raw));
    if (rc)
        bw_crypto_wipe(out, BW_SECURITY_TOKEN_LEN + 1);
    return rc;
}

int sec_session_token_new(char token[BW_SECURITY_TOKEN_LEN + 1], uint8_t digest[BW_SHA256_LEN],
                          char id[BW_SECURITY_SESSION_ID_LEN + 1])
{
    int rc = random_hex(token, digest);
    if (rc == BW_OK)
        rc = public_id(token, id);
    if (rc)
        bw_crypto_wipe(token, BW_SECURITY_TOKEN_LEN + 1);
    return rc;
}

int sec_session_csrf_new(char csrf[BW_SECURITY_TOKEN_LEN + 1], uint8_t digest[BW_SHA256_LEN])
{
    return random_hex(csrf, digest);
}

/* The digest a presented token is looked up by; false for text that
 * cannot be a token (no lookup is made then). */
bool sec_token_digest(const char *token, uint8_t digest[BW_SHA256_LEN])
{
    if (!token || strnlen(token, BW_SECURITY_TOKEN_LEN + 1) != BW_SECURITY_TOKEN_LEN)
        return false;
    return bw_crypto_sha256(token, BW_SECURITY_TOKEN_LEN, digest) == BW_OK;
}

/* ---- the table (every function here runs with the lock held) --------- */

static size_t bucket_of(const struct sec_sessions *t, const uint8_t digest[BW_SHA256_LEN])
{
    uint64_t v;
    memcpy(&v, digest, sizeof(v));
    return (size_t)(v & (t->bucket_count - 1));
}

struct sec_session **sec_table_find(struct sec_sessions *t, const uint8_t digest[BW_SHA256_LEN])
{
    struct sec_session **p = &t->buckets[bucket_of(t, digest)];
    while (*p && !bw_crypto_equal((*p)->digest, digest, BW_SHA256_LEN))
        p = &(*p)->next;
    return *p ? p : NULL;
}

struct sec_session **sec_table_find_id(struct sec_sessions *t, const char *id)
{
    if (!id || strnlen(id, BW_SECURITY_SESSION_ID_LEN + 1) != BW_SECURITY_SESSION_ID_LEN)
        return NULL;
    for (size_t b = 0; b < t->bucket_count; b++)
        for (struct sec_session **p = &t->buckets[b]; *p; p = &(*p)->next)
            if (memcmp((*p)->id, id, BW_SECURITY_SESSION_ID_LEN) == 0)
                return p;
    return NULL;
}

/* More buckets as the table fills; without memory the chains grow. */
static void table_grow(struct sec_sessions *t)
{
    if (t->count < t->bucket_count || t->bucket_count >= BUCKETS_MAX)
        return;
    size_t count = t->bucket_count * 2;
    struct sec_session **buckets = bw_calloc(count, sizeof(*buckets));
    if (!buckets)
        return;
    struct sec_session **old = t->buckets;
    size_t old_count = t->bucket_count;
    t->buckets = buckets;
    t->bucket_count = count;
    for (size_t b = 0; b < old_count; b++) {
        struct sec_session *s = old[b];
        while (s) {
            struct sec_session *next = s->next;
            size_t i = bucket_of(t, s->digest);
            s->next = buckets[i];
            buckets[i] = s;
            s = next;
        }
    }
    bw_free(old);
}

void sec_table_insert(struct sec_sessions *t, struct sec_session *s)
{
    table_grow(t);
    size_t i = bucket_of(t, s->digest);
    s->next = t->buckets[i];
    t->buckets[i] = s;
    t->count++;
}

struct sec_session *sec_table_unlink(struct sec_sessions *t, struct sec_session **slot)
{
    struct sec_session *s = *slot;
    *slot = s->next;
    s->next = NULL;
    t->count--;
    return s;
}

void sec_session_free(struct sec_session *s)
{
    if (s) {
        bw_crypto_wipe(s, sizeof(*s));
        bw_free(s);
    }
}

void sec_override_ended(struct sec_session *s, const char *reason, struct sec_notes *n)
{
    struct sec_note *e = sec_note_add(n, BW_AUDIT_EV_OVERRIDE_ENDED, BW_AUDIT_SUCCESS, s, reason);
    if (e)
        bw_strlcpy(e->supervisor, s->ov.supervisor, sizeof(e->supervisor));
    memset(&s->ov, 0, sizeof(s->ov));
}

/* Ends the session in slot, noting why. */
void sec_session_end(struct sec_sessions *t, struct sec_session **slot, uint32_t event,
                     const char *reason, struct sec_notes *n)
{
    struct sec_session *s = sec_table_unlink(t, slot);
    if (s->ov.active)
        sec_override_ended(s, "session ended", n);
    (void)sec_note_add(n, event, BW_AUDIT_SUCCESS, s, reason);
    sec_session_free(s);
}

/* Applies what time did to s; true when s is past its lifetime (the
 * caller ends it). */
bool sec_session_age(const struct bw_security *sec, struct sec_session *s, int64_t mono,
                     struct sec_notes *n)
{
    if (mono >= s->expires_mono)
        return true;
    if (s->ov.active && mono >= s->ov.end_mono)
        sec_override_ended(s, "expired", n);
    int64_t idle = (int64_t)sec->policy->sessions.idle_seconds * 1000000;
    if (!s->locked && mono - s->last_seen_mono >= idle) {
        s->locked = true;
        (void)sec_note_add(n, BW_AUDIT_EV_SESSION_LOCKED, BW_AUDIT_SUCCESS, s, "idle");
    }
    return false;
}

/* The live session of digest (or id), its deadlines applied at mono: an
 * expired one is ended (noted) and not found. */
struct sec_session **sec_live_find(struct bw_security *sec, const uint8_t digest[BW_SHA256_LEN],
                                   int64_t mono, struct sec_notes *n)
{
    struct sec_session **p = sec_table_find(sec->sessions, digest);
    if (p && sec_session_age(sec, *p, mono, n)) {
        sec_session_end(sec->sessions, p, BW_AUDIT_EV_SESSION_ENDED, "lifetime", n);
        return NULL;
    }
    return p;
}

struct sec_session **sec_live_find_id(struct bw_security *sec, const char *id, int64_t mono,
                                      struct sec_notes *n)
{
    struct sec_session **p = sec_table_find_id(sec->sessions, id);
    if (p && sec_session_age(sec, *p, mono, n)) {
        sec_session_end(sec->sessions, p, BW_AUDIT_EV_SESSION_ENDED, "lifetime", n);
        return NULL;
    }
    return p;
}

void sec_session_touch(struct sec_session *s, int64_t mono)
{
    s->last_seen_mono = mono;
    s->last_seen_us = bw_clock_realtime_us();
}

/* own: the session's own rights, without what an override lends. */
void sec_subject_fill(const struct sec_session *s, bool own, struct sec_subject *out)
{
    memset(out, 0, sizeof(*out));
    bw_strlcpy(out->user, s->user, sizeof(out->user));
    bw_strlcpy(out->session_id, s->id, sizeof(out->session_id));
    bw_strlcpy(out->address, s->address, sizeof(out->address));
    out->level = s->level;
    out->areas = s->areas;
    out->permissions = s->permissions;
    out->locked = s->locked;
    out->must_change_password = s->must_change_password;
    out->elevated = s->ov.active;
    if (!s->ov.active)
        return;
    bw_strlcpy(out->elevated_by, s->ov.supervisor, sizeof(out->elevated_by));
    if (own)
        return;
    if (s->ov.level > out->level)
        out->level = s->ov.level;
    out->areas |= s->ov.areas;
    out->permissions |= s->ov.permissions & ~SEC_OVERRIDE_NEVER_LENT;
}

void sec_info_fill(const struct sec_session *s, struct bw_security_session_info *out)
{
    memset(out, 0, sizeof(*out));
    bw_strlcpy(out->id, s->id, sizeof(out->id));
    bw_strlcpy(out->user, s->user, sizeof(out->user));
    bw_strlcpy(out->address, s->address, sizeof(out->address));
    out->created_us = s->created_us;
    out->last_seen_us = s->last_seen_us;
    out->expires_us = s->expires_us;
    out->locked = s->locked;
    out->must_change_password = s->must_change_password;
    out->elevated = s->ov.active;
}

/* ---- life cycle ------------------------------------------------------ */

int sec_sessions_new(struct sec_sessions **out)
{
    *out = NULL;
    struct sec_sessions *t = bw_calloc(1, sizeof(*t));
    if (!t)
        return BW_ENOMEM;
    t->buckets = bw_calloc(BUCKETS_MIN, sizeof(*t->buckets));
    if (!t->buckets) {
        bw_free(t);
        return BW_ENOMEM;
    }
    t->bucket_count = BUCKETS_MIN;
    pthread_mutex_init(&t->lock, NULL);
    *out = t;
    return BW_OK;
}

void sec_sessions_free(struct sec_sessions *t)
{
    if (!t)
        return;
    for (size_t b = 0; b < t->bucket_count; b++) {
        struct sec_session *s = t->buckets[b];
        while (s) {
            struct sec_session *next = s->next;
            sec_session_free(s);
            s = next;
        }
    }
    pthread_mutex_destroy(&t->lock);
    bw_free(t->buckets);
    bw_free(t);
}

/* Who holds sessions now, for the limits; expired sessions met on the
 * way end. */
struct census {
    uint32_t user_count;
    struct sec_session *user_oldest;
    struct sec_session *oldest;
};

static void census_take(struct bw_security *sec, const char *user, int64_t mono,
                        struct sec_notes *n, struct census *c)
{
    struct sec_sessions *t = sec->sessions;
    memset(c, 0, sizeof(*c));
    for (size_t b = 0; b < t->bucket_count; b++) {
        struct sec_session **p = &t->buckets[b];
        while (*p) {
            struct sec_session *s = *p;
            if (sec_session_age(sec, s, mono, n)) {
                sec_session_end(t, p, BW_AUDIT_EV_SESSION_ENDED, "lifetime", n);
                continue;
            }
            if (strcmp(s->user, user) == 0) {
                c->user_count++;
                if (!c->user_oldest || s->serial < c->user_oldest->serial)
                    c->user_oldest = s;
            }
            if (!c->oldest || s->serial < c->oldest->serial)
                c->oldest = s;
            p = &s->next;
        }
    }
}

int sec_limits_apply(struct bw_security *sec, const char *user, const char *address, int64_t mono,
                     const struct sec_session *keep, struct sec_notes *n)
{
    const struct bw_project_session_policy *pol = &sec->policy->sessions;
    bool end_oldest = pol->when_full == BW_PROJECT_SESSION_END_OLDEST;
    for (;;) {
        struct census c;
        census_take(sec, user, mono, n, &c);
        struct sec_session *victim = NULL;
        const char *why = NULL;
        uint32_t limit = 0;
        if (c.user_count >= pol->max_per_user) {
            victim = c.user_oldest;
            why = "per-user limit";
            limit = pol->max_per_user;
        } else if (!keep && sec->sessions->count >= pol->max_total) {
            victim = c.oldest;
            why = "total limit";
            limit = pol->max_total;
        } else {
            return BW_OK;
        }
        if (!end_oldest || !victim || victim == keep) {
            struct sec_note *e =
                sec_note_add(n, BW_AUDIT_EV_SESSION_REFUSED, BW_AUDIT_DENIED, NULL, why);
            if (e) {
                bw_strlcpy(e->source, user, sizeof(e->source));
                bw_strlcpy(e->address, address ? address : "", sizeof(e->address));
                e->limit = limit;
            }
            return BW_EFULL;
        }
        struct sec_session **slot = sec_table_find(sec->sessions, victim->digest);
        sec_session_end(sec->sessions, slot, BW_AUDIT_EV_SESSION_ENDED, "session limit", n);
    }
}
