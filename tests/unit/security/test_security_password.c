/* SPDX-License-Identifier: Apache-2.0
 *
 * Passwords (SR 1.5, 1.7): every rule of the policy accepted and
 * refused, libcrack2's dictionary check (against the account's own
 * names, whatever the process's passwd entry), the history, the minimum
 * lifetime, the change at first login, rehashing when the parameters
 * go up, and the one-time setup secret for the first administrator.
 */
#include "support_secfix.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define GOOD "Tx9#mq4!Lz2w"

static int check(const struct bw_project_password_policy *p, const char *user, const char *pw,
                 char *why)
{
    return sec_password_rules_check(p, user, NULL, pw, strlen(pw), why, 256);
}

static void test_rules(void **state)
{
    (void)state;
    struct bw_project_security sec;
    assert_int_equal(bw_project_security_defaults(&sec), BW_OK);
    struct bw_project_password_policy p = sec.password;
    char why[256];
    assert_int_equal(check(&p, "alice", GOOD, why), BW_OK);
    /* Length counts characters: 12 two-byte characters are 12. */
    assert_int_equal(check(&p, "alice", "Tx9#mq4!Lz2", why), BW_ERANGE);
    assert_non_null(strstr(why, "shorter than 12"));
    p.max_length = 16;
    assert_int_equal(check(&p, "alice", "Tx9#mq4!Lz2wKp7$x", why), BW_ERANGE);
    assert_non_null(strstr(why, "longer than 16"));
    p = sec.password;
    assert_int_equal(check(&p, "alice", "tx9#mq4!lz2w", why), BW_ERANGE);
    assert_non_null(strstr(why, "upper-case"));
    assert_int_equal(check(&p, "alice", "TX9#MQ4!LZ2W", why), BW_ERANGE);
    assert_non_null(strstr(why, "lower-case"));
    assert_int_equal(check(&p, "alice", "Txq#mqr!Lzsw", why), BW_ERANGE);
    assert_non_null(strstr(why, "digit"));
    p.require_classes |= BW_PWCLASS_SYMBOL;
    assert_int_equal(check(&p, "alice", "Tx9mq4eLz2wK", why), BW_ERANGE);
    assert_non_null(strstr(why, "symbol"));
    assert_int_equal(check(&p, "alice", "Tx9mq4eLz2w\xc3\xa9", why), BW_OK); /* non-ASCII */
    p = sec.password;
    p.require_classes = 0;
    p.min_classes = 4;
    assert_int_equal(check(&p, "alice", "Tx9mq4eLz2wK", why), BW_ERANGE);
    assert_non_null(strstr(why, "at least 4"));
    assert_int_equal(check(&p, "alice", GOOD, why), BW_OK);
    p = sec.password;
    assert_int_equal(check(&p, "margaret", "Q7#xMARGARETz", why), BW_ERANGE);
    assert_non_null(strstr(why, "user name"));
    p.reject_user_name = false;
    p.dictionary_check = false;
    assert_int_equal(check(&p, "margaret", "Q7#xMARGARETz", why), BW_OK);
    p = sec.password;
    /* libcrack2: a dictionary word with decoration, and a sequence. */
    assert_int_equal(check(&p, "alice", "Dictionary12A", why), BW_ERANGE);
    assert_non_null(strstr(why, "dictionary word"));
    assert_int_equal(check(&p, "alice", "Abcdefgh1234", why), BW_ERANGE);
    assert_non_null(strstr(why, "simplistic"));
    p.dictionary_check = false;
    assert_int_equal(check(&p, "alice", "Dictionary12A", why), BW_OK);
    /* Not text. */
    assert_int_equal(
        sec_password_rules_check(&p, "alice", NULL, "Tx9#mq4!\xff\xfeLz2w", 12, why, 256),
        BW_EMALFORMED);
    assert_int_equal(sec_password_rules_check(&p, "alice", NULL, "Tx9#mq4!\0Lz2wK", 14, why, 256),
                     BW_EMALFORMED);
    bw_project_security_clear(&sec);
}

/* libcrack2 is asked about the account being given the password, not
 * about the process's own passwd entry. */
static void test_crack_checks_the_account(void **state)
{
    (void)state;
    struct bw_project_security sec;
    assert_int_equal(bw_project_security_defaults(&sec), BW_OK);
    char why[256];
    const char *pw = "QuentinWorthington1";
    assert_int_equal(sec_password_rules_check(&sec.password, "zed", NULL, pw, strlen(pw), why, 256),
                     BW_OK);
    assert_int_equal(sec_password_rules_check(&sec.password, "zed", "Quentin Worthington", pw,
                                              strlen(pw), why, 256),
                     BW_ERANGE);
    assert_non_null(strstr(why, "dictionary check"));
    assert_non_null(strstr(why, "password entry"));
    bw_project_security_clear(&sec);
}

/* A daemon whose uid has no passwd entry (systemd DynamicUser without
 * nss-systemd, a bare container) still judges passwords: run as such a
 * uid in a child, when the test may change uid. */
static void test_crack_without_passwd_entry(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    uid_t lost = 54321;
    while (getpwuid(lost))
        lost++;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct bw_project_security sec;
        char why[256] = "";
        if (setgroups(0, NULL) != 0 || setresgid(lost, lost, lost) != 0 ||
            setresuid(lost, lost, lost) != 0 || bw_project_security_defaults(&sec) != BW_OK)
            _exit(2);
        int ok = sec_password_rules_check(&sec.password, "alice", "Alice Example", GOOD,
                                          strlen(GOOD), why, sizeof(why)) == BW_OK;
        if (!ok)
            fprintf(stderr, "refused: %s\n", why);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static int change_own(struct secfix *f, const char *token, const char *old, const char *new_pw,
                      char *why)
{
    return bw_security_password_change(f->sec, token, old, strlen(old), new_pw, strlen(new_pw), why,
                                       256);
}

static void test_first_login_change_and_history(void **state)
{
    struct secfix *f = *state;
    struct bw_security_actor admin = {.os_user = "test"};
    char why[256], token[BW_SECURITY_TOKEN_LEN + 1];
    static const char *const roles[] = {"operator"};
    struct bw_security_user_change change = {.set_roles = true, .roles = roles, .role_count = 1};
    assert_int_equal(bw_security_user_add(f->sec, &admin, "frank", &change, GOOD, strlen(GOOD), why,
                                          sizeof(why)),
                     BW_OK);
    struct bw_security_login_request req = {
        .user = "frank", .password = GOOD, .password_len = strlen(GOOD)};
    struct bw_security_login_result res;
    assert_int_equal(bw_security_login(f->sec, &req, &res), BW_OK);
    assert_int_equal(res.outcome, BW_SECURITY_LOGIN_OK);
    assert_true(res.must_change_password); /* set by an administrator */
    bw_strlcpy(token, res.token, sizeof(token));
    /* The history holds the current password too. */
    assert_int_equal(change_own(f, token, GOOD, GOOD, why), BW_ERANGE);
    assert_non_null(strstr(why, "last 5"));
    assert_int_equal(change_own(f, token, "not it", "Bq7$wr2!Nv5k", why), BW_EDENIED);
    assert_int_equal(change_own(f, token, GOOD, "Bq7$wr2!Nv5k", why), BW_OK);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_PASSWORD_CHANGED, 0, "frank"), 1);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_PASSWORD_CHANGE_REFUSED, 0, "frank"), 2);
    struct bw_security_user_info info;
    assert_int_equal(bw_security_user_get(f->sec, "frank", &info), BW_OK);
    assert_false(info.must_change_password);
    /* An administrator's reset: must change again; earlier ones refused. */
    assert_int_equal(bw_security_user_reset_password(f->sec, &admin, "frank", GOOD, strlen(GOOD),
                                                     why, sizeof(why)),
                     BW_ERANGE);
    assert_int_equal(bw_security_user_reset_password(f->sec, &admin, "frank", "Hm4%tq8@Zc3r",
                                                     strlen("Hm4%tq8@Zc3r"), why, sizeof(why)),
                     BW_OK);
    assert_int_equal(bw_security_user_get(f->sec, "frank", &info), BW_OK);
    assert_true(info.must_change_password);
}

static void min_age(struct bw_project_security *p)
{
    p->password.min_age_hours = 24;
    p->password.max_age_days = 90;
    p->password.history = 2;
}

static void test_lifetimes(void **state)
{
    (void)state;
    bw_clock_fake_set(1800000000ll * 1000000, 1000000);
    struct secfix f;
    assert_int_equal(secfix_open(&f, min_age), BW_OK);
    assert_int_equal(secfix_add(&f, "gina", "operator", GOOD), BW_OK);
    char token[BW_SECURITY_TOKEN_LEN + 1], why[256];
    assert_int_equal(secfix_login(&f, "gina", GOOD, NULL, token), BW_SECURITY_LOGIN_OK);
    /* Changed just now (at creation): not again within 24 h. */
    assert_int_equal(change_own(&f, token, GOOD, "Bq7$wr2!Nv5k", why), BW_ERANGE);
    assert_non_null(strstr(why, "24 hours"));
    bw_clock_fake_advance(25ll * 3600 * 1000000);
    assert_int_equal(secfix_login(&f, "gina", GOOD, NULL, token), BW_SECURITY_LOGIN_OK);
    assert_int_equal(change_own(&f, token, GOOD, "Bq7$wr2!Nv5k", why), BW_OK);
    /* After 90 days the password must be changed at login. */
    bw_clock_fake_advance(91ll * 86400 * 1000000);
    struct bw_security_login_request req = {
        .user = "gina", .password = "Bq7$wr2!Nv5k", .password_len = 12};
    struct bw_security_login_result res;
    assert_int_equal(bw_security_login(f.sec, &req, &res), BW_OK);
    assert_int_equal(res.outcome, BW_SECURITY_LOGIN_OK);
    assert_true(res.must_change_password);
    /* History of 2: the first password is still remembered. */
    assert_int_equal(change_own(&f, res.token, "Bq7$wr2!Nv5k", GOOD, why), BW_ERANGE);
    assert_int_equal(change_own(&f, res.token, "Bq7$wr2!Nv5k", "Hm4%tq8@Zc3r", why), BW_OK);
    secfix_close(&f);
    bw_clock_fake_disable();
}

static void test_rehash_on_raised_parameters(void **state)
{
    struct secfix *f = *state;
    assert_int_equal(secfix_add(f, "henry", "viewer", GOOD), BW_OK);
    struct sec_user u;
    struct bw_crypto_argon2_params params;
    assert_int_equal(sec_store_user_load(f->sec, "henry", &u), BW_OK);
    assert_int_equal(bw_crypto_pwhash_params(u.pw_hash, &params), BW_OK);
    assert_int_equal(params.memory_kib, f->policy.password.argon2_memory_kib);
    char old_hash[BW_CRYPTO_PWHASH_MAX];
    bw_strlcpy(old_hash, u.pw_hash, sizeof(old_hash));
    /* The project raises the parameters: old hashes still verify, and
     * are made again at the next login. */
    f->policy.password.argon2_memory_kib *= 2;
    f->policy.password.argon2_iterations += 1;
    assert_int_equal(secfix_login(f, "henry", GOOD, NULL, NULL), BW_SECURITY_LOGIN_OK);
    assert_int_equal(sec_store_user_load(f->sec, "henry", &u), BW_OK);
    assert_string_not_equal(u.pw_hash, old_hash);
    assert_int_equal(bw_crypto_pwhash_params(u.pw_hash, &params), BW_OK);
    assert_int_equal(params.memory_kib, f->policy.password.argon2_memory_kib);
    assert_int_equal(params.iterations, f->policy.password.argon2_iterations);
    assert_int_equal(secfix_login(f, "henry", GOOD, NULL, NULL), BW_SECURITY_LOGIN_OK);
    assert_int_equal(secfix_login(f, "henry", "wrong", NULL, NULL), BW_SECURITY_LOGIN_FAILED);
}

static void test_setup_secret(void **state)
{
    struct secfix *f = *state;
    char secret[64], why[256];
    assert_int_equal(bw_security_setup_secret_issue(f->sec, secret, sizeof(secret)), BW_OK);
    assert_int_equal(strlen(secret), BW_SECURITY_SETUP_SECRET_LEN);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SETUP_SECRET_ISSUED, 0, NULL), 1);
    /* Nothing of the secret on record. */
    char details[512];
    secfix_last_details(f, BW_AUDIT_EV_SETUP_SECRET_ISSUED, details, sizeof(details));
    assert_null(strstr(details, secret));
    /* A weak password does not spend the secret. */
    assert_int_equal(
        bw_security_setup_admin(f->sec, secret, "root", "short", 5, "127.0.0.1", why, sizeof(why)),
        BW_ERANGE);
    char wrong[64];
    bw_strlcpy(wrong, secret, sizeof(wrong));
    wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
    assert_int_equal(bw_security_setup_admin(f->sec, wrong, "root", GOOD, strlen(GOOD), "127.0.0.1",
                                             why, sizeof(why)),
                     BW_EDENIED);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SETUP_SECRET_REFUSED, 0, NULL), 1);
    assert_int_equal(bw_security_setup_admin(f->sec, secret, "root", GOOD, strlen(GOOD),
                                             "127.0.0.1", why, sizeof(why)),
                     BW_OK);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SETUP_ADMIN_CREATED, 0, "root"), 1);
    struct bw_security_user_info info;
    assert_int_equal(bw_security_user_get(f->sec, "root", &info), BW_OK);
    assert_false(info.must_change_password);
    assert_int_equal(info.roles, 1ull << bw_project_role_find(&f->policy, "security-admin"));
    /* Void once used; no new one while an administrator exists. */
    assert_int_equal(bw_security_setup_admin(f->sec, secret, "root2", GOOD, strlen(GOOD), NULL, why,
                                             sizeof(why)),
                     BW_EDENIED);
    assert_int_equal(bw_security_setup_secret_issue(f->sec, secret, sizeof(secret)), BW_EEXIST);
    assert_int_equal(secfix_login(f, "root", GOOD, NULL, NULL), BW_SECURITY_LOGIN_OK);
}

static void test_setup_secret_expires(void **state)
{
    (void)state;
    bw_clock_fake_set(1800000000ll * 1000000, 1000000);
    struct secfix f;
    assert_int_equal(secfix_open(&f, NULL), BW_OK);
    char secret[64], why[256];
    assert_int_equal(bw_security_setup_secret_issue(f.sec, secret, sizeof(secret)), BW_OK);
    bw_clock_fake_advance(3601ll * 1000000);
    bw_security_tick(f.sec);
    assert_int_equal(
        bw_security_setup_admin(f.sec, secret, "root", GOOD, strlen(GOOD), NULL, why, sizeof(why)),
        BW_EDENIED);
    /* A few wrong tries void a fresh one too. */
    assert_int_equal(bw_security_setup_secret_issue(f.sec, secret, sizeof(secret)), BW_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(bw_security_setup_admin(f.sec, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "root",
                                                 GOOD, strlen(GOOD), NULL, why, sizeof(why)),
                         BW_EDENIED);
    assert_int_equal(
        bw_security_setup_admin(f.sec, secret, "root", GOOD, strlen(GOOD), NULL, why, sizeof(why)),
        BW_EDENIED);
    secfix_close(&f);
    bw_clock_fake_disable();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_crack_checks_the_account),
        cmocka_unit_test(test_crack_without_passwd_entry),
        cmocka_unit_test_setup_teardown(test_first_login_change_and_history, secfix_setup,
                                        secfix_teardown),
        cmocka_unit_test(test_lifetimes),
        cmocka_unit_test_setup_teardown(test_rehash_on_raised_parameters, secfix_setup,
                                        secfix_teardown),
        cmocka_unit_test_setup_teardown(test_setup_secret, secfix_setup, secfix_teardown),
        cmocka_unit_test(test_setup_secret_expires),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
