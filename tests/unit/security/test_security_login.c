/* SPDX-License-Identifier: Apache-2.0
 *
 * Login (SR 1.1, 1.11): lockout on a controllable clock, per-address
 * throttling, one generic answer at one cost for every kind of failure,
 * service accounts, the hashing pool's bound, and TOTP with its drift
 * window and single use.
 */
#include "support_secfix.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define GOOD "Tx9#mq4!Lz2w"
#define T0 (1800000000ll * 1000000) /* a fixed wall-clock start */

static void use_fake_clock(void)
{
    bw_clock_fake_set(T0, 1000000);
}

static int setup_fake(void **state)
{
    use_fake_clock();
    return secfix_setup(state);
}

static int teardown_fake(void **state)
{
    int rc = secfix_teardown(state);
    bw_clock_fake_disable();
    return rc;
}

static void test_lockout_resets_on_success(void **state)
{
    struct secfix *f = *state;
    assert_int_equal(secfix_add(f, "alice", "operator", GOOD), BW_OK);
    unsigned n = f->policy.lockout.max_failures;
    for (unsigned i = 0; i + 1 < n; i++)
        assert_int_equal(secfix_login(f, "alice", "wrong", "10.0.0.1", NULL),
                         BW_SECURITY_LOGIN_FAILED);
    struct bw_security_user_info info;
    assert_int_equal(bw_security_user_get(f->sec, "alice", &info), BW_OK);
    assert_int_equal(info.failed_logins, n - 1);
    assert_int_equal(secfix_login(f, "alice", GOOD, "10.0.0.1", NULL), BW_SECURITY_LOGIN_OK);
    assert_int_equal(bw_security_user_get(f->sec, "alice", &info), BW_OK);
    assert_int_equal(info.failed_logins, 0);
    assert_int_equal(info.state, BW_SECURITY_ACTIVE);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_LOGIN_FAILED, 0, "alice"), n - 1);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_LOGIN_SUCCEEDED, 0, "alice"), 1);
}

static void test_lockout_locks_then_times_out(void **state)
{
    struct secfix *f = *state;
    assert_int_equal(secfix_add(f, "bob", "operator", GOOD), BW_OK);
    unsigned n = f->policy.lockout.max_failures;
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(secfix_login(f, "bob", "wrong", NULL, NULL), BW_SECURITY_LOGIN_FAILED);
    struct bw_security_user_info info;
    assert_int_equal(bw_security_user_get(f->sec, "bob", &info), BW_OK);
    assert_int_equal(info.state, BW_SECURITY_LOCKED);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_ACCOUNT_LOCKED, 0, "bob"), 1);
    /* The right password does not open a locked account. */
    assert_int_equal(secfix_login(f, "bob", GOOD, NULL, NULL), BW_SECURITY_LOGIN_FAILED);
    bw_clock_fake_advance((int64_t)f->policy.lockout.lock_seconds * 1000000 - 1000000);
    assert_int_equal(secfix_login(f, "bob", GOOD, NULL, NULL), BW_SECURITY_LOGIN_FAILED);
    bw_clock_fake_advance(2000000);
    assert_int_equal(secfix_login(f, "bob", GOOD, NULL, NULL), BW_SECURITY_LOGIN_OK);
    /* The count starts again after a lock ran out. */
    assert_int_equal(secfix_login(f, "bob", "wrong", NULL, NULL), BW_SECURITY_LOGIN_FAILED);
    assert_int_equal(bw_security_user_get(f->sec, "bob", &info), BW_OK);
    assert_int_equal(info.state, BW_SECURITY_ACTIVE);
    assert_int_equal(info.failed_logins, 1);
}

static void failures_outside_window(void **state)
{
    struct secfix *f = *state;
    assert_int_equal(secfix_add(f, "carol", "viewer", GOOD), BW_OK);
    unsigned n = f->policy.lockout.max_failures;
    for (unsigned i = 0; i < n + 2; i++) {
        assert_int_equal(secfix_login(f, "carol", "wrong", NULL, NULL), BW_SECURITY_LOGIN_FAILED);
        /* Spread beyond the window: never N within W. */
        bw_clock_fake_advance((int64_t)f->policy.lockout.window_seconds * 1000000 / (n - 1) +
                              1000000);
    }
    struct bw_security_user_info info;
    assert_int_equal(bw_security_user_get(f->sec, "carol", &info), BW_OK);
    assert_int_equal(info.state, BW_SECURITY_ACTIVE);
}

static void lock_until_admin(struct bw_project_security *p)
{
    p->lockout.lock_seconds = 0;
    p->lockout.max_failures = 3;
}

static void test_lockout_until_administrator(void **state)
{
    (void)state;
    use_fake_clock();
    struct secfix f;
    assert_int_equal(secfix_open(&f, lock_until_admin), BW_OK);
    assert_int_equal(secfix_add(&f, "dave", "operator", GOOD), BW_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(secfix_login(&f, "dave", "wrong", NULL, NULL), BW_SECURITY_LOGIN_FAILED);
    bw_clock_fake_advance(30ll * 86400 * 1000000);
    assert_int_equal(secfix_login(&f, "dave", GOOD, NULL, NULL), BW_SECURITY_LOGIN_FAILED);
    struct bw_security_actor admin = {.os_user = "uid 0 (root)"};
    char why[256];
    assert_int_equal(bw_security_user_unlock(f.sec, &admin, "dave", why, sizeof(why)), BW_OK);
    assert_int_equal(secfix_count(&f, BW_AUDIT_EV_USER_UNLOCKED, 0, "uid 0 (root)"), 1);
    assert_int_equal(secfix_login(&f, "dave", GOOD, NULL, NULL), BW_SECURITY_LOGIN_OK);
    secfix_close(&f);
    bw_clock_fake_disable();
}

static void address_throttle(struct bw_project_security *p)
{
    p->lockout.address_max_failures = 4;
    p->lockout.address_window_seconds = 60;
}

static void test_address_throttle(void **state)
{
    (void)state;
    use_fake_clock();
    struct secfix f;
    assert_int_equal(secfix_open(&f, address_throttle), BW_OK);
    assert_int_equal(secfix_add(&f, "erin", "operator", GOOD), BW_OK);
    /* A spray of names from one address. */
    const char *names[] = {"x1", "x2", "x3", "x4"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(secfix_login(&f, names[i], "guess", "192.0.2.7", NULL),
                         BW_SECURITY_LOGIN_FAILED);
    assert_int_equal(secfix_count(&f, BW_AUDIT_EV_ADDRESS_THROTTLED, 0, NULL), 1);
    struct bw_security_stats before, after;
    bw_security_stats_get(f.sec, &before);
    assert_int_equal(secfix_login(&f, "erin", GOOD, "192.0.2.7", NULL), BW_SECURITY_LOGIN_FAILED);
    bw_security_stats_get(f.sec, &after);
    assert_int_equal(after.hashes, before.hashes); /* refused before hashing */
    assert_int_equal(secfix_login(&f, "erin", GOOD, "192.0.2.8", NULL), BW_SECURITY_LOGIN_OK);
    bw_clock_fake_advance(61ll * 1000000);
    assert_int_equal(secfix_login(&f, "erin", GOOD, "192.0.2.7", NULL), BW_SECURITY_LOGIN_OK);
    /* The erin account itself was never counted against. */
    struct bw_security_user_info info;
    assert_int_equal(bw_security_user_get(f.sec, "erin", &info), BW_OK);
    assert_int_equal(info.failed_logins, 0);
    secfix_close(&f);
    bw_clock_fake_disable();
}

/* One generic failure, one hash computation, for every kind of failure;
 * only the audit record tells them apart. */
static void test_identical_answers(void **state)
{
    struct secfix *f = *state;
    struct bw_security_actor admin = {.os_user = "test"};
    char why[256];
    assert_int_equal(secfix_add(f, "wrongpw", "operator", GOOD), BW_OK);
    assert_int_equal(secfix_add(f, "disabled", "operator", GOOD), BW_OK);
    assert_int_equal(
        bw_security_user_set_state(f->sec, &admin, "disabled", false, why, sizeof(why)), BW_OK);
    assert_int_equal(secfix_add(f, "expired", "operator", GOOD), BW_OK);
    struct bw_security_user_change exp = {.set_expires = true,
                                          .expires_us = bw_clock_realtime_us() - 1};
    assert_int_equal(bw_security_user_modify(f->sec, &admin, "expired", &exp, why, sizeof(why)),
                     BW_OK);
    assert_int_equal(secfix_add(f, "locked", "operator", GOOD), BW_OK);
    for (unsigned i = 0; i < f->policy.lockout.max_failures; i++)
        assert_int_equal(secfix_login(f, "locked", "x", "198.51.100.9", NULL),
                         BW_SECURITY_LOGIN_FAILED);
    struct bw_security_user_change svc = {.set_type = true, .type = BW_SECURITY_SERVICE};
    assert_int_equal(secfix_add(f, "service", "viewer", GOOD), BW_OK);
    assert_int_equal(bw_security_user_modify(f->sec, &admin, "service", &svc, why, sizeof(why)),
                     BW_OK);

    struct {
        const char *user, *password, *reason;
    } cases[] = {
        {"nobody", GOOD, "unknown user"},       {"wrongpw", "wrong", "wrong password"},
        {"disabled", GOOD, "account disabled"}, {"expired", GOOD, "account expired"},
        {"locked", GOOD, "account locked"},     {"service", GOOD, "service account"},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(cases); i++) {
        struct bw_security_stats before, after;
        bw_security_stats_get(f->sec, &before);
        struct bw_security_login_request req = {.user = cases[i].user,
                                                .password = cases[i].password,
                                                .password_len = strlen(cases[i].password),
                                                .address = "203.0.113.5"};
        struct bw_security_login_result res;
        assert_int_equal(bw_security_login(f->sec, &req, &res), BW_OK);
        assert_int_equal(res.outcome, BW_SECURITY_LOGIN_FAILED);
        assert_string_equal(res.token, "");
        bw_security_stats_get(f->sec, &after);
        assert_int_equal(after.hashes - before.hashes, 1);
        char details[512];
        secfix_last_details(f, BW_AUDIT_EV_LOGIN_FAILED, details, sizeof(details));
        assert_non_null(strstr(details, cases[i].reason));
    }
}

static int64_t median(int64_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            int64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[n / 2];
}

/* Comparable time: the medians of unknown user, wrong password and
 * locked account stay within a factor of two of each other (real clock:
 * the answer is padded to the slowest recent failure). */
static void test_comparable_timing(void **state)
{
    struct secfix *f = *state;
    assert_int_equal(secfix_add(f, "timed", "operator", GOOD), BW_OK);
    assert_int_equal(secfix_add(f, "lockme", "operator", GOOD), BW_OK);
    for (unsigned i = 0; i < f->policy.lockout.max_failures; i++)
        assert_int_equal(secfix_login(f, "lockme", "x", "10.1.0.1", NULL),
                         BW_SECURITY_LOGIN_FAILED);
    enum { ROUNDS = 7 };
    int64_t unknown[ROUNDS], wrong[ROUNDS], locked[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        int64_t t = bw_clock_monotonic_us();
        assert_int_equal(secfix_login(f, "ghost", "nope", "10.2.0.1", NULL),
                         BW_SECURITY_LOGIN_FAILED);
        unknown[r] = bw_clock_monotonic_us() - t;
        t = bw_clock_monotonic_us();
        assert_int_equal(secfix_login(f, "timed", "nope", "10.2.0.2", NULL),
                         BW_SECURITY_LOGIN_FAILED);
        wrong[r] = bw_clock_monotonic_us() - t;
        t = bw_clock_monotonic_us();
        assert_int_equal(secfix_login(f, "lockme", GOOD, "10.2.0.3", NULL),
                         BW_SECURITY_LOGIN_FAILED);
        locked[r] = bw_clock_monotonic_us() - t;
        /* Keep "timed" below its lockout. */
        if (r % 3 == 2)
            assert_int_equal(secfix_login(f, "timed", GOOD, "10.2.0.2", NULL),
                             BW_SECURITY_LOGIN_OK);
    }
    int64_t mu = median(unknown, ROUNDS), mw = median(wrong, ROUNDS), ml = median(locked, ROUNDS);
    int64_t lo = mu < mw ? (mu < ml ? mu : ml) : (mw < ml ? mw : ml);
    int64_t hi = mu > mw ? (mu > ml ? mu : ml) : (mw > ml ? mw : ml);
    print_message("median us: unknown %lld, wrong %lld, locked %lld\n", (long long)mu,
                  (long long)mw, (long long)ml);
    assert_true(hi <= 2 * lo);
}

static void test_service_account_not_interactive(void **state)
{
    struct secfix *f = *state;
    struct bw_security_actor admin = {.os_user = "test"};
    char why[256];
    struct bw_security_user_change svc = {.set_type = true, .type = BW_SECURITY_SERVICE};
    assert_int_equal(secfix_add(f, "historian", "viewer", GOOD), BW_OK);
    assert_int_equal(bw_security_user_modify(f->sec, &admin, "historian", &svc, why, sizeof(why)),
                     BW_OK);
    assert_int_equal(secfix_login(f, "historian", GOOD, NULL, NULL), BW_SECURITY_LOGIN_FAILED);
    /* Not a wrong password: the account is not counted against. */
    struct bw_security_user_info info;
    assert_int_equal(bw_security_user_get(f->sec, "historian", &info), BW_OK);
    assert_int_equal(info.failed_logins, 0);
}

struct waiter {
    struct secfix *f;
    enum bw_security_login_outcome outcome;
};

static void *login_thread(void *arg)
{
    struct waiter *w = arg;
    w->outcome = secfix_login(w->f, "queued", GOOD, "10.3.0.1", NULL);
    return NULL;
}

static void small_pool(struct bw_project_security *p)
{
    p->password.hash_concurrency = 1;
    p->password.hash_queue = 1;
}

static void test_hash_pool_bounded(void **state)
{
    (void)state;
    struct secfix f;
    assert_int_equal(secfix_open(&f, small_pool), BW_OK);
    assert_int_equal(secfix_add(&f, "queued", "operator", GOOD), BW_OK);
    /* Hold the only slot, as a long computation would. */
    assert_int_equal(sec_hashpool_enter(&f.sec->pool), BW_OK);
    struct waiter w = {.f = &f};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, login_thread, &w), 0);
    struct bw_security_stats s;
    for (int i = 0; i < 5000; i++) {
        bw_security_stats_get(f.sec, &s);
        if (s.hash_waiting == 1)
            break;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(s.hash_waiting, 1);
    /* The queue is full: refused at once, and said so. */
    assert_int_equal(secfix_login(&f, "queued", GOOD, "10.3.0.2", NULL), BW_SECURITY_LOGIN_BUSY);
    bw_security_stats_get(f.sec, &s);
    assert_int_equal(s.hash_refused, 1);
    sec_hashpool_leave(&f.sec->pool);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(w.outcome, BW_SECURITY_LOGIN_OK);
    secfix_close(&f);
}

/* ---- TOTP ---------------------------------------------------------------- */

static void code_at(const uint8_t *key, size_t len, int64_t step, char out[7])
{
    uint32_t v = 0;
    assert_int_equal(bw_crypto_hotp(key, len, (uint64_t)step, 6, &v), BW_OK);
    assert_int_equal(bw_snprintf(out, 7, "%06u", (unsigned)v), BW_OK);
}

static size_t secret_from_uri(const char *uri, uint8_t *key, size_t size)
{
    const char *s = strstr(uri, "secret=");
    assert_non_null(s);
    s += 7;
    size_t n = strcspn(s, "&");
    size_t len = 0;
    assert_int_equal(bw_crypto_base32_decode(s, n, key, size, &len), BW_OK);
    return len;
}

static void mfa_always(struct bw_project_security *p)
{
    p->mfa = BW_PROJECT_MFA_ALWAYS;
}

static enum bw_security_login_outcome login_code(struct secfix *f, const char *code)
{
    struct bw_security_login_request req = {
        .user = "otp", .password = GOOD, .password_len = strlen(GOOD), .totp = code};
    struct bw_security_login_result res;
    assert_int_equal(bw_security_login(f->sec, &req, &res), BW_OK);
    return res.outcome;
}

static void test_totp(void **state)
{
    (void)state;
    use_fake_clock();
    struct secfix f;
    assert_int_equal(secfix_open(&f, mfa_always), BW_OK);
    assert_int_equal(secfix_add(&f, "otp", "operator", GOOD), BW_OK);
    /* Required and not enrolled: no way in. */
    assert_int_equal(login_code(&f, NULL), BW_SECURITY_LOGIN_FAILED);
    struct bw_security_actor admin = {.os_user = "test"};
    char uri[512], why[256];
    assert_int_equal(
        bw_security_mfa_enrol(f.sec, &admin, "otp", uri, sizeof(uri), why, sizeof(why)), BW_OK);
    assert_non_null(strstr(uri, "otpauth://totp/Bulwark:otp?secret="));
    assert_non_null(strstr(uri, "digits=6&period=30"));
    uint8_t key[64];
    size_t key_len = secret_from_uri(uri, key, sizeof(key));
    assert_int_equal(key_len, 20);
    int64_t step = bw_clock_realtime_us() / 1000000 / 30;
    char code[7];
    code_at(key, key_len, step, code);
    char wrong[7];
    memcpy(wrong, code, sizeof(wrong));
    wrong[5] = (char)('0' + (code[5] - '0' + 1) % 10);
    assert_int_equal(bw_security_mfa_confirm(f.sec, &admin, "otp", wrong, why, sizeof(why)),
                     BW_EDENIED);
    assert_int_equal(bw_security_mfa_confirm(f.sec, &admin, "otp", code, why, sizeof(why)), BW_OK);
    assert_int_equal(secfix_count(&f, BW_AUDIT_EV_USER_MFA_ENROLLED, 0, "test"), 2);

    bw_clock_fake_advance(30ll * 1000000); /* the confirming step is used */
    step++;
    assert_int_equal(login_code(&f, NULL), BW_SECURITY_LOGIN_NEED_TOTP);
    assert_int_equal(login_code(&f, "12345"), BW_SECURITY_LOGIN_FAILED);
    code_at(key, key_len, step, code);
    assert_int_equal(login_code(&f, code), BW_SECURITY_LOGIN_OK);
    /* The same code again: refused (single use). */
    assert_int_equal(login_code(&f, code), BW_SECURITY_LOGIN_FAILED);
    /* One step of drift ahead is accepted ... */
    code_at(key, key_len, step + 1, code);
    assert_int_equal(login_code(&f, code), BW_SECURITY_LOGIN_OK);
    /* ... but not two, and not an older step than one already used. */
    code_at(key, key_len, step + 2, code);
    assert_int_equal(login_code(&f, code), BW_SECURITY_LOGIN_FAILED);
    code_at(key, key_len, step - 1, code);
    assert_int_equal(login_code(&f, code), BW_SECURITY_LOGIN_FAILED);
    /* Later, one step behind is accepted (a slow device). */
    bw_clock_fake_advance(3 * 30ll * 1000000);
    step += 3;
    code_at(key, key_len, step - 1, code);
    assert_int_equal(login_code(&f, code), BW_SECURITY_LOGIN_OK);
    code_at(key, key_len, step - 2, code);
    assert_int_equal(login_code(&f, code), BW_SECURITY_LOGIN_FAILED);
    /* Wrong codes count toward the lockout like wrong passwords. */
    struct bw_security_user_info info;
    assert_int_equal(bw_security_user_get(f.sec, "otp", &info), BW_OK);
    assert_true(info.failed_logins >= 1);
    /* The key is sealed: users.db alone does not hold it in clear. */
    struct sec_user u;
    assert_int_equal(sec_store_user_load(f.sec, "otp", &u), BW_OK);
    assert_int_equal(u.totp_sealed_len, 20 + BW_CRYPTO_AEAD_OVERHEAD);
    assert_null(memmem(u.totp_sealed, u.totp_sealed_len, key, key_len));
    secfix_close(&f);
    bw_clock_fake_disable();
}

static void banner_required(struct bw_project_security *p)
{
    p->banner = bw_strdup("Authorised use only. Activity is monitored and recorded.");
    p->banner_must_accept = true;
}

static void test_banner_must_be_accepted(void **state)
{
    (void)state;
    struct secfix f;
    assert_int_equal(secfix_open(&f, banner_required), BW_OK);
    bool must = false;
    const char *text = bw_security_banner(f.sec, &must);
    assert_non_null(text);
    assert_non_null(strstr(text, "Authorised use only"));
    assert_true(must);
    assert_int_equal(secfix_add(&f, "nina", "viewer", GOOD), BW_OK);
    struct bw_security_stats before, after;
    bw_security_stats_get(f.sec, &before);
    assert_int_equal(secfix_login(&f, "nina", GOOD, NULL, NULL), BW_SECURITY_LOGIN_NEED_BANNER);
    bw_security_stats_get(f.sec, &after);
    assert_int_equal(after.hashes, before.hashes); /* asked before anything else */
    struct bw_security_login_request req = {
        .user = "nina", .password = GOOD, .password_len = strlen(GOOD), .banner_accepted = true};
    struct bw_security_login_result res;
    assert_int_equal(bw_security_login(f.sec, &req, &res), BW_OK);
    assert_int_equal(res.outcome, BW_SECURITY_LOGIN_OK);
    char details[256];
    secfix_last_details(&f, BW_AUDIT_EV_LOGIN_FAILED, details, sizeof(details));
    assert_non_null(strstr(details, "banner"));
    secfix_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lockout_resets_on_success, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_lockout_locks_then_times_out, setup_fake,
                                        teardown_fake),
        cmocka_unit_test_setup_teardown(failures_outside_window, setup_fake, teardown_fake),
        cmocka_unit_test(test_lockout_until_administrator),
        cmocka_unit_test(test_address_throttle),
        cmocka_unit_test_setup_teardown(test_identical_answers, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_comparable_timing, secfix_setup, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_service_account_not_interactive, setup_fake,
                                        teardown_fake),
        cmocka_unit_test(test_hash_pool_bounded),
        cmocka_unit_test(test_totp),
        cmocka_unit_test(test_banner_must_be_accepted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
