/* SPDX-License-Identifier: Apache-2.0
 *
 * Sessions (SR 1.1, 2.5, 2.6, 2.7): a million tokens without a collision
 * and of the right form; the table holds no token and no record names
 * one; the CSRF check; idle lock (by the tick and at a lookup), lock on
 * demand, unlock by the holder (a wrong password counts as a failed
 * login) and takeover by another user under a new token; the absolute
 * lifetime; both concurrent-session policies, per user and in total;
 * remote termination and who may; sessions ending when the account is
 * disabled or its password changes; logout at once; and many threads at
 * once. Each transition is checked on the audit trail read back.
 */
#include "security/session_table.h"
#include "support_secfix.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define GOOD "Tx9#mq4!Lz2w"
#define OTHER "Rb7$kw2@Pn5v"
#define T0 (1800000000ll * 1000000) /* a fixed wall-clock start */
#define SEC 1000000ll

/* ---- helpers --------------------------------------------------------- */

static int setup_fake(void **state)
{
    bw_clock_fake_set(T0, 1000000);
    return secfix_setup(state);
}

static int teardown_fake(void **state)
{
    int rc = secfix_teardown(state);
    bw_clock_fake_disable();
    return rc;
}

static void login_ok(struct secfix *f, const char *user, const char *password, char *token)
{
    assert_int_equal(secfix_login(f, user, password, "10.1.0.1", token), BW_SECURITY_LOGIN_OK);
}

static void id_of(struct secfix *f, const char *token, char id[BW_SECURITY_SESSION_ID_LEN + 1])
{
    struct bw_security_session_info info;
    int rc = bw_security_session_check(f->sec, token, NULL, &info);
    assert_true(rc == BW_OK || rc == BW_ESTATE);
    bw_strlcpy(id, info.id, BW_SECURITY_SESSION_ID_LEN + 1);
}

/* The newest record of event as JSON (NULL when none). */
static json_t *last_details(struct secfix *f, uint32_t event)
{
    char text[4096];
    secfix_last_details(f, event, text, sizeof(text));
    return text[0] ? json_loads(text, 0, NULL) : NULL;
}

static void assert_detail(struct secfix *f, uint32_t event, const char *key, const char *want)
{
    json_t *d = last_details(f, event);
    assert_non_null(d);
    const char *got = json_string_value(json_object_get(d, key));
    if (!got || strcmp(got, want) != 0)
        fail_msg("record %u: %s is %s, not %s", (unsigned)event, key, got ? got : "(none)", want);
    json_decref(d);
}

static int check(struct secfix *f, const char *token)
{
    struct bw_security_session_info info;
    return bw_security_session_check(f->sec, token, NULL, &info);
}

static bool is_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[len] == '\0';
}

/* ---- tokens ---------------------------------------------------------- */

#define TOKENS 1000000

static int cmp32(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

static int cmp16(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

/* A million tokens: each 64 lower-case hex digits, its digest the
 * SHA-256 of the text, its public id 32 hex digits that are no part of
 * the token or of its digest; no two tokens and no two ids alike. */
static void test_million_tokens(void **state)
{
    (void)state;
    uint8_t *tokens = malloc((size_t)TOKENS * 32);
    uint8_t *ids = malloc((size_t)TOKENS * 16);
    assert_non_null(tokens);
    assert_non_null(ids);
    for (size_t i = 0; i < TOKENS; i++) {
        char token[BW_SECURITY_TOKEN_LEN + 1], id[BW_SECURITY_SESSION_ID_LEN + 1];
        uint8_t digest[BW_SHA256_LEN];
        assert_int_equal(sec_session_token_new(token, digest, id), BW_OK);
        if (!is_hex(token, BW_SECURITY_TOKEN_LEN) || !is_hex(id, BW_SECURITY_SESSION_ID_LEN))
            fail_msg("token %zu or its id is malformed", i);
        assert_int_equal(bw_crypto_unhex(token, 64, tokens + i * 32, 32), BW_OK);
        assert_int_equal(bw_crypto_unhex(id, 32, ids + i * 16, 16), BW_OK);
        if (i < 1000) {
            uint8_t want[BW_SHA256_LEN];
            char digest_hex[65];
            assert_int_equal(bw_crypto_sha256(token, 64, want), BW_OK);
            assert_memory_equal(digest, want, BW_SHA256_LEN);
            bw_crypto_hex(digest, BW_SHA256_LEN, digest_hex);
            assert_null(strstr(token, id));
            assert_null(strstr(digest_hex, id));
        }
    }
    qsort(tokens, TOKENS, 32, cmp32);
    qsort(ids, TOKENS, 16, cmp16);
    for (size_t i = 1; i < TOKENS; i++) {
        if (memcmp(tokens + (i - 1) * 32, tokens + i * 32, 32) == 0)
            fail_msg("two tokens alike");
        if (memcmp(ids + (i - 1) * 16, ids + i * 16, 16) == 0)
            fail_msg("two ids alike");
    }
    free(tokens);
    free(ids);
}

struct scan_ctx {
    const char *needle;
    size_t records;
    size_t hits;
};

static int scan_one(const struct bw_audit_entry *e, void *ctx)
{
    struct scan_ctx *c = ctx;
    c->records++;
    if (strstr(e->details ? e->details : "", c->needle) || strstr(e->source_name, c->needle) ||
        (e->source_address && strstr(e->source_address, c->needle)))
        c->hits++;
    return 0;
}

/* How many records of the whole trail hold needle. */
static size_t trail_holds(struct secfix *f, const char *needle, size_t *records)
{
    struct bw_audit_reader *r = NULL;
    assert_int_equal(bw_audit_reader_open(f->dir, &r), BW_OK);
    struct bw_audit_filter filter;
    bw_audit_filter_init(&filter);
    filter.limit = BW_AUDIT_QUERY_MAX_LIMIT;
    struct scan_ctx c = {.needle = needle};
    uint64_t next = 0;
    do {
        assert_int_equal(bw_audit_query(r, &filter, scan_one, &c, &next), BW_OK);
        filter.cursor = next;
    } while (next);
    bw_audit_reader_free(r);
    *records = c.records;
    return c.hits;
}

/* The table keeps the token's digest only, and no record of a session's
 * whole life names its token or CSRF token; records name its id. */
static void test_token_kept_hashed(void **state)
{
    struct secfix *f = *state;
    assert_int_equal(secfix_add(f, "alice", "operator", GOOD), BW_OK);
    struct bw_security_login_request req = {
        .user = "alice", .password = GOOD, .password_len = strlen(GOOD), .address = "10.1.0.9"};
    struct bw_security_login_result res;
    assert_int_equal(bw_security_login(f->sec, &req, &res), BW_OK);
    assert_int_equal(res.outcome, BW_SECURITY_LOGIN_OK);
    assert_int_equal(strlen(res.token), BW_SECURITY_TOKEN_LEN);
    assert_int_equal(strlen(res.csrf), BW_SECURITY_TOKEN_LEN);
    assert_string_not_equal(res.token, res.csrf);
    uint8_t raw[32], csrf_raw[32];
    assert_int_equal(bw_crypto_unhex(res.token, 64, raw, 32), BW_OK);
    assert_int_equal(bw_crypto_unhex(res.csrf, 64, csrf_raw, 32), BW_OK);

    struct sec_sessions *t = f->sec->sessions;
    size_t seen = 0;
    for (size_t b = 0; b < t->bucket_count; b++)
        for (struct sec_session *s = t->buckets[b]; s; s = s->next) {
            seen++;
            assert_null(memmem(s, sizeof(*s), res.token, 64));
            assert_null(memmem(s, sizeof(*s), raw, 32));
            assert_null(memmem(s, sizeof(*s), res.csrf, 64));
            assert_null(memmem(s, sizeof(*s), csrf_raw, 32));
        }
    assert_int_equal(seen, 1);

    char id[BW_SECURITY_SESSION_ID_LEN + 1];
    id_of(f, res.token, id);
    assert_int_equal(bw_security_session_lock(f->sec, res.token), BW_OK);
    struct bw_security_login_result again;
    assert_int_equal(bw_security_session_unlock(f->sec, res.token, &req, &again), BW_OK);
    assert_int_equal(again.outcome, BW_SECURITY_LOGIN_OK);
    assert_int_equal(bw_security_logout(f->sec, res.token), BW_OK);
    size_t records = 0;
    assert_int_equal(trail_holds(f, res.token, &records), 0);
    assert_int_equal(trail_holds(f, res.csrf, &records), 0);
    assert_int_equal(trail_holds(f, again.csrf, &records), 0);
    assert_true(records > 3);
    assert_int_equal(trail_holds(f, id, &records), 3); /* locked, unlocked, logout */
}

/* The CSRF token from login is checked in constant time when given. */
static void test_csrf(void **state)
{
    struct secfix *f = *state;
    assert_int_equal(secfix_add(f, "alice", "operator", GOOD), BW_OK);
    struct bw_security_login_request req = {
        .user = "alice", .password = GOOD, .password_len = strlen(GOOD), .address = "10.1.0.9"};
    struct bw_security_login_result res;
    assert_int_equal(bw_security_login(f->sec, &req, &res), BW_OK);
    struct bw_security_session_info info;
    assert_int_equal(bw_security_session_check(f->sec, res.token, res.csrf, &info), BW_OK);
    assert_string_equal(info.user, "alice");
    assert_string_equal(info.address, "10.1.0.9");
    assert_int_equal(strlen(info.id), BW_SECURITY_SESSION_ID_LEN);
    char wrong[BW_SECURITY_TOKEN_LEN + 1];
    bw_strlcpy(wrong, res.csrf, sizeof(wrong));
    wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
    assert_int_equal(bw_security_session_check(f->sec, res.token, wrong, &info), BW_EDENIED);
    assert_int_equal(bw_security_session_check(f->sec, res.token, "short", &info), BW_EDENIED);
    assert_int_equal(bw_security_session_check(f->sec, res.token, "", &info), BW_EDENIED);
    /* The session token is not its CSRF token. */
    assert_int_equal(bw_security_session_check(f->sec, res.token, res.token, &info), BW_EDENIED);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_ACCESS_DENIED, BW_AUDIT_DENIED, "alice"), 4);
    assert_detail(f, BW_AUDIT_EV_ACCESS_DENIED, "reason", "csrf_mismatch");
    /* Unknown, malformed and missing tokens. */
    assert_int_equal(bw_security_session_check(f->sec, res.csrf, NULL, &info), BW_ENOTFOUND);
    assert_int_equal(bw_security_session_check(f->sec, "abc", NULL, &info), BW_ENOTFOUND);
    assert_int_equal(bw_security_session_check(f->sec, NULL, NULL, &info), BW_ENOTFOUND);
    assert_int_equal(bw_security_session_check(f->sec, res.token, NULL, &info), BW_OK);
}

/* ---- idle lock and unlock -------------------------------------------- */

/* Activity keeps a session open; idle_seconds without any locks it,
 * by the tick or at the next lookup, recorded once. */
static void test_idle_lock(void **state)
{
    struct secfix *f = *state;
    int64_t idle = (int64_t)f->policy.sessions.idle_seconds * SEC;
    assert_int_equal(secfix_add(f, "alice", "operator", GOOD), BW_OK);
    assert_int_equal(secfix_add(f, "bob", "operator", GOOD), BW_OK);
    char ta[BW_SECURITY_TOKEN_LEN + 1], tb[BW_SECURITY_TOKEN_LEN + 1];
    login_ok(f, "alice", GOOD, ta);
    login_ok(f, "bob", GOOD, tb);
    for (int i = 0; i < 3; i++) {
        bw_clock_fake_advance(idle - SEC);
        bw_security_tick(f->sec);
        assert_int_equal(check(f, ta), BW_OK); /* activity */
    }
    /* bob was idle all along: the tick locked him. */
    assert_int_equal(check(f, tb), BW_ESTATE);
    bw_clock_fake_advance(idle);
    /* No tick: the lookup itself finds alice idle. */
    struct bw_security_session_info info;
    assert_int_equal(bw_security_session_check(f->sec, ta, NULL, &info), BW_ESTATE);
    assert_true(info.locked);
    assert_string_equal(info.user, "alice");
    bw_security_tick(f->sec);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SESSION_LOCKED, BW_AUDIT_SUCCESS, "alice"), 1);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SESSION_LOCKED, BW_AUDIT_SUCCESS, "bob"), 1);
    assert_detail(f, BW_AUDIT_EV_SESSION_LOCKED, "reason", "idle");
    /* Locked is not ended: the subject is still there, marked. */
    struct sec_subject s;
    assert_int_equal(sec_session_subject(f->sec, ta, true, &s), BW_ESTATE);
    assert_true(s.locked);
}

/* Locking on demand; unlocking by the holder: a wrong password is a
 * failed attempt on the account and leaves it locked; the right one
 * resumes it under the same token with a new CSRF token. */
static void test_lock_and_resume(void **state)
{
    struct secfix *f = *state;
    assert_int_equal(secfix_add(f, "alice", "operator", GOOD), BW_OK);
    struct bw_security_login_request req = {
        .user = "alice", .password = GOOD, .password_len = strlen(GOOD), .address = "10.1.0.9"};
    struct bw_security_login_result res, un;
    assert_int_equal(bw_security_login(f->sec, &req, &res), BW_OK);
    /* Nothing to unlock yet. */
    assert_int_equal(bw_security_session_unlock(f->sec, res.token, &req, &un), BW_ESTATE);
    assert_int_equal(bw_security_session_lock(f->sec, res.token), BW_OK);
    assert_int_equal(bw_security_session_lock(f->sec, res.token), BW_OK); /* recorded once */
    assert_int_equal(check(f, res.token), BW_ESTATE);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SESSION_LOCKED, 0, "alice"), 1);
    assert_detail(f, BW_AUDIT_EV_SESSION_LOCKED, "reason", "on demand");

    struct bw_security_login_request bad = req;
    bad.password = "wrong-password";
    bad.password_len = strlen(bad.password);
    assert_int_equal(bw_security_session_unlock(f->sec, res.token, &bad, &un), BW_OK);
    assert_int_equal(un.outcome, BW_SECURITY_LOGIN_FAILED);
    assert_string_equal(un.token, "");
    assert_int_equal(check(f, res.token), BW_ESTATE);
    struct bw_security_user_info ui;
    assert_int_equal(bw_security_user_get(f->sec, "alice", &ui), BW_OK);
    assert_int_equal(ui.failed_logins, 1);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SESSION_UNLOCKED, BW_AUDIT_FAILURE, "alice"), 1);
    assert_detail(f, BW_AUDIT_EV_SESSION_UNLOCKED, "reason", "wrong password");

    assert_int_equal(bw_security_session_unlock(f->sec, res.token, &req, &un), BW_OK);
    assert_int_equal(un.outcome, BW_SECURITY_LOGIN_OK);
    assert_string_equal(un.token, res.token);
    assert_string_not_equal(un.csrf, res.csrf);
    struct bw_security_session_info info;
    assert_int_equal(bw_security_session_check(f->sec, res.token, res.csrf, &info), BW_EDENIED);
    assert_int_equal(bw_security_session_check(f->sec, res.token, un.csrf, &info), BW_OK);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SESSION_UNLOCKED, BW_AUDIT_SUCCESS, "alice"), 1);
    assert_int_equal(bw_security_user_get(f->sec, "alice", &ui), BW_OK);
    assert_int_equal(ui.failed_logins, 0);
    /* Unknown tokens. */
    assert_int_equal(bw_security_session_lock(f->sec, res.csrf), BW_ENOTFOUND);
    assert_int_equal(bw_security_session_unlock(f->sec, res.csrf, &req, &un), BW_ENOTFOUND);
}

/* Another user at a locked session takes it over: their rights, a new
 * token and id (the old token is void), recorded with the previous
 * holder; an override lent to the previous holder ends. */
static void test_takeover(void **state)
{
    struct secfix *f = *state;
    assert_int_equal(secfix_add(f, "alice", "operator", GOOD), BW_OK);
    assert_int_equal(secfix_add(f, "carl", "security-admin", OTHER), BW_OK);
    char ta[BW_SECURITY_TOKEN_LEN + 1], old_id[BW_SECURITY_SESSION_ID_LEN + 1];
    login_ok(f, "alice", GOOD, ta);
    id_of(f, ta, old_id);
    assert_int_equal(bw_security_session_lock(f->sec, ta), BW_OK);
    struct bw_security_login_request req = {
        .user = "carl", .password = OTHER, .password_len = strlen(OTHER), .address = "10.1.0.7"};
    struct bw_security_login_result un;
    assert_int_equal(bw_security_session_unlock(f->sec, ta, &req, &un), BW_OK);
    assert_int_equal(un.outcome, BW_SECURITY_LOGIN_OK);
    assert_string_not_equal(un.token, ta);
    assert_int_equal(check(f, ta), BW_ENOTFOUND);
    struct sec_subject s;
    assert_int_equal(sec_session_subject(f->sec, un.token, true, &s), BW_OK);
    assert_string_equal(s.user, "carl");
    assert_string_equal(s.address, "10.1.0.7");
    assert_string_not_equal(s.session_id, old_id);
    assert_true(s.permissions & (1u << BW_PERM_USER_MANAGE));
    assert_false(s.permissions & (1u << BW_PERM_TAG_WRITE));
    struct bw_security_stats st;
    bw_security_stats_get(f->sec, &st);
    assert_int_equal(st.sessions, 1);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SESSION_UNLOCKED, BW_AUDIT_SUCCESS, "carl"), 1);
    json_t *d = last_details(f, BW_AUDIT_EV_SESSION_UNLOCKED);
    assert_non_null(d);
    assert_string_equal(json_string_value(json_object_get(d, "previous_user")), "alice");
    assert_string_equal(json_string_value(json_object_get(d, "previous_id")), old_id);
    assert_string_equal(json_string_value(json_object_get(d, "id")), s.session_id);
    assert_true(json_is_true(json_object_get(d, "taken_over")));
    json_decref(d);
}

/* A takeover counts against the new holder's limit. */
static void adjust_one_each(struct bw_project_security *p)
{
    p->sessions.max_per_user = 1;
}

static void test_takeover_within_limit(void **state)
{
    (void)state;
    struct secfix fx, *f = &fx;
    assert_int_equal(secfix_open(f, adjust_one_each), BW_OK);
    assert_int_equal(secfix_add(f, "alice", "operator", GOOD), BW_OK);
    assert_int_equal(secfix_add(f, "bob", "operator", OTHER), BW_OK);
    char ta[BW_SECURITY_TOKEN_LEN + 1], tb[BW_SECURITY_TOKEN_LEN + 1];
    login_ok(f, "alice", GOOD, ta);
    login_ok(f, "bob", OTHER, tb);
    assert_int_equal(bw_security_session_lock(f->sec, ta), BW_OK);
    struct bw_security_login_request req = {
        .user = "bob", .password = OTHER, .password_len = strlen(OTHER), .address = "10.1.0.7"};
    struct bw_security_login_result un;
    assert_int_equal(bw_security_session_unlock(f->sec, ta, &req, &un), BW_OK);
    assert_int_equal(un.outcome, BW_SECURITY_LOGIN_SESSIONS_FULL);
    assert_int_equal(check(f, ta), BW_ESTATE); /* still alice's, still locked */
    assert_int_equal(check(f, tb), BW_OK);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SESSION_REFUSED, BW_AUDIT_DENIED, "bob"), 1);
    secfix_close(f);
}

/* ---- lifetime -------------------------------------------------------- */

/* However active, a session ends at its absolute lifetime: by the tick
 * or at the next lookup; locked sessions too. */
static void test_lifetime(void **state)
{
    struct secfix *f = *state;
    int64_t life = (int64_t)f->policy.sessions.lifetime_seconds * SEC;
    int64_t step = (int64_t)f->policy.sessions.idle_seconds * SEC / 2;
    assert_int_equal(secfix_add(f, "alice", "operator", GOOD), BW_OK);
    assert_int_equal(secfix_add(f, "bob", "operator", GOOD), BW_OK);
    char ta[BW_SECURITY_TOKEN_LEN + 1], tb[BW_SECURITY_TOKEN_LEN + 1];
    login_ok(f, "alice", GOOD, ta);
    login_ok(f, "bob", GOOD, tb);
    struct bw_security_session_info info;
    assert_int_equal(bw_security_session_check(f->sec, ta, NULL, &info), BW_OK);
    assert_int_equal(info.expires_us - info.created_us, life);
    int64_t spent = 0;
    while (spent + step < life) {
        bw_clock_fake_advance(step);
        spent += step;
        assert_int_equal(check(f, ta), BW_OK);
    }
    bw_clock_fake_advance(life - spent - 1); /* one microsecond left */
    assert_int_equal(check(f, ta), BW_OK);
    assert_int_equal(check(f, tb), BW_ESTATE); /* idle, locked, not ended */
    bw_clock_fake_advance(1);
    assert_int_equal(check(f, ta), BW_ENOTFOUND); /* the lookup ends it */
    bw_security_tick(f->sec);                     /* the tick ends bob's */
    assert_int_equal(sec_sessions_count(f->sec), 0);
    assert_int_equal(check(f, tb), BW_ENOTFOUND);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SESSION_ENDED, BW_AUDIT_SUCCESS, "alice"), 1);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SESSION_ENDED, BW_AUDIT_SUCCESS, "bob"), 1);
    assert_detail(f, BW_AUDIT_EV_SESSION_ENDED, "reason", "lifetime");
}

/* ---- concurrent-session limits --------------------------------------- */

static void adjust_refuse(struct bw_project_security *p)
{
    p->sessions.max_per_user = 2;
    p->sessions.max_total = 3;
    p->sessions.when_full = BW_PROJECT_SESSION_REFUSE_NEW;
}

static void adjust_end_oldest(struct bw_project_security *p)
{
    adjust_refuse(p);
    p->sessions.when_full = BW_PROJECT_SESSION_END_OLDEST;
}

static void add_three(struct secfix *f)
{
    assert_int_equal(secfix_add(f, "alice", "operator", GOOD), BW_OK);
    assert_int_equal(secfix_add(f, "bob", "operator", GOOD), BW_OK);
    assert_int_equal(secfix_add(f, "carol", "operator", GOOD), BW_OK);
}

static void test_limit_refuse_new(void **state)
{
    (void)state;
    struct secfix fx, *f = &fx;
    assert_int_equal(secfix_open(f, adjust_refuse), BW_OK);
    add_three(f);
    char t1[BW_SECURITY_TOKEN_LEN + 1], t2[BW_SECURITY_TOKEN_LEN + 1];
    char b1[BW_SECURITY_TOKEN_LEN + 1];
    login_ok(f, "alice", GOOD, t1);
    login_ok(f, "alice", GOOD, t2);
    assert_int_equal(secfix_login(f, "alice", GOOD, "10.1.0.1", NULL),
                     BW_SECURITY_LOGIN_SESSIONS_FULL);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SESSION_REFUSED, BW_AUDIT_DENIED, "alice"), 1);
    assert_detail(f, BW_AUDIT_EV_SESSION_REFUSED, "reason", "per-user limit");
    login_ok(f, "bob", GOOD, b1);
    assert_int_equal(secfix_login(f, "carol", GOOD, "10.1.0.1", NULL),
                     BW_SECURITY_LOGIN_SESSIONS_FULL);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SESSION_REFUSED, BW_AUDIT_DENIED, "carol"), 1);
    assert_detail(f, BW_AUDIT_EV_SESSION_REFUSED, "reason", "total limit");
    /* Those open stay open. */
    assert_int_equal(check(f, t1), BW_OK);
    assert_int_equal(check(f, t2), BW_OK);
    assert_int_equal(check(f, b1), BW_OK);
    assert_int_equal(sec_sessions_count(f->sec), 3);
    /* A place freed is a place taken. */
    assert_int_equal(bw_security_logout(f->sec, t1), BW_OK);
    assert_int_equal(secfix_login(f, "carol", GOOD, "10.1.0.1", NULL), BW_SECURITY_LOGIN_OK);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SESSION_ENDED, 0, NULL), 0);
    secfix_close(f);
}

static void test_limit_end_oldest(void **state)
{
    (void)state;
    struct secfix fx, *f = &fx;
    assert_int_equal(secfix_open(f, adjust_end_oldest), BW_OK);
    add_three(f);
    char t1[BW_SECURITY_TOKEN_LEN + 1], t2[BW_SECURITY_TOKEN_LEN + 1];
    char t3[BW_SECURITY_TOKEN_LEN + 1], b1[BW_SECURITY_TOKEN_LEN + 1];
    char c1[BW_SECURITY_TOKEN_LEN + 1];
    login_ok(f, "alice", GOOD, t1);
    login_ok(f, "alice", GOOD, t2);
    login_ok(f, "alice", GOOD, t3); /* alice's oldest ends */
    assert_int_equal(check(f, t1), BW_ENOTFOUND);
    assert_int_equal(check(f, t2), BW_OK);
    assert_int_equal(check(f, t3), BW_OK);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SESSION_ENDED, BW_AUDIT_SUCCESS, "alice"), 1);
    assert_detail(f, BW_AUDIT_EV_SESSION_ENDED, "reason", "session limit");
    login_ok(f, "bob", GOOD, b1);
    login_ok(f, "carol", GOOD, c1); /* the oldest of all ends: alice's second */
    assert_int_equal(check(f, t2), BW_ENOTFOUND);
    assert_int_equal(check(f, t3), BW_OK);
    assert_int_equal(check(f, b1), BW_OK);
    assert_int_equal(check(f, c1), BW_OK);
    assert_int_equal(sec_sessions_count(f->sec), 3);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SESSION_ENDED, BW_AUDIT_SUCCESS, "alice"), 2);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SESSION_REFUSED, 0, NULL), 0);
    secfix_close(f);
}

/* ---- termination, account changes, logout ---------------------------- */

struct listing {
    char ids[8][BW_SECURITY_SESSION_ID_LEN + 1];
    char users[8][BW_SECURITY_USER_MAX + 1];
    size_t count;
};

static int list_one(void *ctx, const struct bw_security_session_info *s)
{
    struct listing *l = ctx;
    if (l->count < 8) {
        bw_strlcpy(l->ids[l->count], s->id, sizeof(l->ids[0]));
        bw_strlcpy(l->users[l->count], s->user, sizeof(l->users[0]));
    }
    l->count++;
    return 0;
}

/* session.manage lists and ends others' sessions at once (recorded with
 * who did it); an operator may not; the terminal may. */
static void test_remote_termination(void **state)
{
    struct secfix *f = *state;
    assert_int_equal(secfix_add(f, "alice", "operator", GOOD), BW_OK);
    assert_int_equal(secfix_add(f, "sam", "security-admin", OTHER), BW_OK);
    char ta[BW_SECURITY_TOKEN_LEN + 1], ts[BW_SECURITY_TOKEN_LEN + 1];
    char id[BW_SECURITY_SESSION_ID_LEN + 1];
    login_ok(f, "alice", GOOD, ta);
    login_ok(f, "sam", OTHER, ts);
    id_of(f, ta, id);

    struct bw_security_actor op = {.session = ta, .address = "10.1.0.1"};
    struct listing l = {0};
    assert_int_equal(bw_security_session_list(f->sec, &op, list_one, &l), BW_EDENIED);
    assert_int_equal(l.count, 0);
    assert_int_equal(bw_security_session_terminate(f->sec, &op, id), BW_EDENIED);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_ACCESS_DENIED, BW_AUDIT_DENIED, "alice"), 2);
    assert_detail(f, BW_AUDIT_EV_ACCESS_DENIED, "permission", "session.manage");
    struct bw_security_actor nobody = {0};
    assert_int_equal(bw_security_session_list(f->sec, &nobody, list_one, &l), BW_EDENIED);
    assert_int_equal(bw_security_session_list(f->sec, NULL, list_one, &l), BW_EDENIED);

    struct bw_security_actor admin = {.session = ts, .address = "10.1.0.2"};
    assert_int_equal(bw_security_session_list(f->sec, &admin, list_one, &l), BW_OK);
    assert_int_equal(l.count, 2);
    bool found = false;
    for (size_t i = 0; i < 2; i++)
        found |= strcmp(l.ids[i], id) == 0 && strcmp(l.users[i], "alice") == 0;
    assert_true(found);
    assert_int_equal(bw_security_session_terminate(f->sec, &admin, id), BW_OK);
    assert_int_equal(check(f, ta), BW_ENOTFOUND);
    assert_int_equal(bw_security_session_terminate(f->sec, &admin, id), BW_ENOTFOUND);
    assert_int_equal(bw_security_session_terminate(f->sec, &admin, "not-an-id"), BW_ENOTFOUND);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SESSION_TERMINATED, BW_AUDIT_SUCCESS, "sam"), 1);
    json_t *d = last_details(f, BW_AUDIT_EV_SESSION_TERMINATED);
    assert_non_null(d);
    assert_string_equal(json_string_value(json_object_get(d, "user")), "alice");
    assert_string_equal(json_string_value(json_object_get(d, "id")), id);
    json_decref(d);

    /* The terminal, for the command line. */
    login_ok(f, "alice", GOOD, ta);
    id_of(f, ta, id);
    struct bw_security_actor terminal = {.os_user = "uid 0 (root)"};
    memset(&l, 0, sizeof(l));
    assert_int_equal(bw_security_session_list(f->sec, &terminal, list_one, &l), BW_OK);
    assert_int_equal(l.count, 2);
    assert_int_equal(bw_security_session_terminate(f->sec, &terminal, id), BW_OK);
    assert_int_equal(check(f, ta), BW_ENOTFOUND);
    assert_int_equal(
        secfix_count(f, BW_AUDIT_EV_SESSION_TERMINATED, BW_AUDIT_SUCCESS, "uid 0 (root)"), 1);
}

/* Disabling an account, resetting or changing its password, end its
 * sessions at once (the one that changed its own password stays). */
static void test_account_changes_end_sessions(void **state)
{
    struct secfix *f = *state;
    assert_int_equal(secfix_add(f, "alice", "operator", GOOD), BW_OK);
    assert_int_equal(secfix_add(f, "bob", "operator", GOOD), BW_OK);
    char t1[BW_SECURITY_TOKEN_LEN + 1], t2[BW_SECURITY_TOKEN_LEN + 1];
    char tb[BW_SECURITY_TOKEN_LEN + 1];
    login_ok(f, "alice", GOOD, t1);
    login_ok(f, "alice", GOOD, t2);
    login_ok(f, "bob", GOOD, tb);
    char why[256];
    assert_int_equal(bw_security_password_change(f->sec, t1, GOOD, strlen(GOOD), OTHER,
                                                 strlen(OTHER), why, sizeof(why)),
                     BW_OK);
    assert_int_equal(check(f, t1), BW_OK);
    assert_int_equal(check(f, t2), BW_ENOTFOUND);
    assert_int_equal(check(f, tb), BW_OK);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SESSION_ENDED, BW_AUDIT_SUCCESS, "alice"), 1);
    assert_detail(f, BW_AUDIT_EV_SESSION_ENDED, "reason", "password changed");

    struct bw_security_actor terminal = {.os_user = "test"};
    assert_int_equal(
        bw_security_user_set_state(f->sec, &terminal, "alice", false, why, sizeof(why)), BW_OK);
    assert_int_equal(check(f, t1), BW_ENOTFOUND);
    assert_int_equal(check(f, tb), BW_OK);
    assert_detail(f, BW_AUDIT_EV_SESSION_ENDED, "reason", "account disabled");

    /* Directly, as the other account changes call it. */
    login_ok(f, "bob", GOOD, t1);
    assert_int_equal(sec_sessions_end_user(f->sec, "bob", "test", NULL), 2);
    assert_int_equal(check(f, t1), BW_ENOTFOUND);
    assert_int_equal(check(f, tb), BW_ENOTFOUND);
    assert_int_equal(sec_sessions_end_user(f->sec, "bob", "test", NULL), 0);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SESSION_ENDED, BW_AUDIT_SUCCESS, "bob"), 2);
}

/* Logout ends the session at once, recorded; a second one finds nothing. */
static void test_logout(void **state)
{
    struct secfix *f = *state;
    assert_int_equal(secfix_add(f, "alice", "operator", GOOD), BW_OK);
    char t1[BW_SECURITY_TOKEN_LEN + 1], t2[BW_SECURITY_TOKEN_LEN + 1];
    login_ok(f, "alice", GOOD, t1);
    login_ok(f, "alice", GOOD, t2);
    assert_int_equal(bw_security_logout(f->sec, t1), BW_OK);
    assert_int_equal(check(f, t1), BW_ENOTFOUND);
    struct bw_security_object obj = {
        .name = "Setpoint", .level = 1, .areas = SEC_AREAS_ALL, .permission = BW_PERM_TAG_READ};
    struct bw_security_decision dec;
    assert_int_equal(bw_security_authorize(f->sec, t1, &obj, NULL, &dec), BW_OK);
    assert_false(dec.allowed);
    assert_int_equal(dec.reason, BW_SECURITY_DENY_NO_SESSION);
    assert_int_equal(bw_security_logout(f->sec, t1), BW_ENOTFOUND);
    assert_int_equal(bw_security_logout(f->sec, NULL), BW_ENOTFOUND);
    assert_int_equal(check(f, t2), BW_OK); /* the other one stays */
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_LOGOUT, BW_AUDIT_SUCCESS, "alice"), 1);
    /* A locked session may log out too. */
    assert_int_equal(bw_security_session_lock(f->sec, t2), BW_OK);
    assert_int_equal(bw_security_logout(f->sec, t2), BW_OK);
    assert_int_equal(sec_sessions_count(f->sec), 0);
}

/* Closing the context ends every session, recorded. */
static void test_close_ends_all(void **state)
{
    struct secfix *f = *state;
    assert_int_equal(secfix_add(f, "alice", "operator", GOOD), BW_OK);
    login_ok(f, "alice", GOOD, NULL);
    login_ok(f, "alice", GOOD, NULL);
    assert_int_equal(secfix_reopen(f), BW_OK);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SESSION_ENDED, BW_AUDIT_SUCCESS, "alice"), 2);
    assert_detail(f, BW_AUDIT_EV_SESSION_ENDED, "reason", "shutdown");
    assert_int_equal(sec_sessions_count(f->sec), 0);
}

/* ---- threads --------------------------------------------------------- */

#define THREADS 4
#define ROUNDS 60

struct worker {
    struct secfix *f;
    int n;
    int failures;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct sec_user u;
    memset(&u, 0, sizeof(u));
    if (bw_snprintf(u.info.name, sizeof(u.info.name), "user%d", w->n))
        w->failures++;
    u.info.level = 1;
    u.info.areas = SEC_AREAS_ALL;
    u.info.roles = 1u << 1; /* operator */
    for (int i = 0; i < ROUNDS; i++) {
        struct bw_security_login_result res;
        memset(&res, 0, sizeof(res));
        if (sec_session_open(w->f->sec, &u, "10.2.0.1", false, &res) != BW_OK) {
            w->failures++;
            continue;
        }
        struct bw_security_session_info info;
        struct sec_subject s;
        if (bw_security_session_check(w->f->sec, res.token, res.csrf, &info) != BW_OK ||
            sec_session_subject(w->f->sec, res.token, true, &s) != BW_OK ||
            strcmp(s.user, u.info.name) != 0)
            w->failures++;
        if (i % 3 == 0 && bw_security_session_lock(w->f->sec, res.token) != BW_OK)
            w->failures++;
        if (bw_security_logout(w->f->sec, res.token) != BW_OK)
            w->failures++;
    }
    return NULL;
}

static void *ticker(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < ROUNDS * 4; i++) {
        bw_security_tick(w->f->sec);
        (void)sec_sessions_count(w->f->sec);
    }
    return NULL;
}

/* Threads opening, checking, locking and ending sessions while another
 * ticks: nothing lost, nothing left (ThreadSanitizer watches). */
static void test_threads(void **state)
{
    struct secfix *f = *state;
    pthread_t th[THREADS + 1];
    struct worker w[THREADS + 1];
    for (int i = 0; i <= THREADS; i++) {
        w[i] = (struct worker){.f = f, .n = i};
        assert_int_equal(pthread_create(&th[i], NULL, i < THREADS ? work : ticker, &w[i]), 0);
    }
    for (int i = 0; i <= THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    assert_int_equal(sec_sessions_count(f->sec), 0);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_LOGOUT, BW_AUDIT_SUCCESS, NULL), THREADS * ROUNDS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_million_tokens),
        cmocka_unit_test_setup_teardown(test_token_kept_hashed, secfix_setup, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_csrf, secfix_setup, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_idle_lock, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_lock_and_resume, secfix_setup, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_takeover, secfix_setup, secfix_teardown),
        cmocka_unit_test(test_takeover_within_limit),
        cmocka_unit_test_setup_teardown(test_lifetime, setup_fake, teardown_fake),
        cmocka_unit_test(test_limit_refuse_new),
        cmocka_unit_test(test_limit_end_oldest),
        cmocka_unit_test_setup_teardown(test_remote_termination, secfix_setup, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_account_changes_end_sessions, secfix_setup,
                                        secfix_teardown),
        cmocka_unit_test_setup_teardown(test_logout, secfix_setup, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_close_ends_all, secfix_setup, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_threads, secfix_setup, secfix_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
