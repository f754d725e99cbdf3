/* SPDX-License-Identifier: Apache-2.0
 *
 * Account management (SR 1.3, 1.4): every action produces its audit
 * record naming the actor; a session needs user.manage; invalid input is
 * refused with a reason (and recorded); process operation and security
 * administration stay apart; users.db is private.
 */
#include "support_secfix.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#define GOOD "Tx9#mq4!Lz2w"

static const struct bw_security_actor terminal = {.os_user = "uid 1000 (ops)"};

static void test_every_action_audited(void **state)
{
    struct secfix *f = *state;
    char why[256], uri[512];
    static const char *const roles[] = {"operator"};
    struct bw_security_user_change change = {
        .full_name = "Ivy Operator", .set_roles = true, .roles = roles, .role_count = 1};
    assert_int_equal(bw_security_user_add(f->sec, &terminal, "ivy", &change, GOOD, strlen(GOOD),
                                          why, sizeof(why)),
                     BW_OK);
    struct bw_security_user_change level = {.set_level = true, .level = 200};
    assert_int_equal(bw_security_user_modify(f->sec, &terminal, "ivy", &level, why, sizeof(why)),
                     BW_OK);
    assert_int_equal(bw_security_user_set_state(f->sec, &terminal, "ivy", false, why, sizeof(why)),
                     BW_OK);
    assert_int_equal(bw_security_user_set_state(f->sec, &terminal, "ivy", true, why, sizeof(why)),
                     BW_OK);
    assert_int_equal(bw_security_user_unlock(f->sec, &terminal, "ivy", why, sizeof(why)), BW_OK);
    assert_int_equal(bw_security_user_reset_password(f->sec, &terminal, "ivy", "Hm4%tq8@Zc3r",
                                                     strlen("Hm4%tq8@Zc3r"), why, sizeof(why)),
                     BW_OK);
    assert_int_equal(
        bw_security_mfa_enrol(f->sec, &terminal, "ivy", uri, sizeof(uri), why, sizeof(why)), BW_OK);
    assert_int_equal(bw_security_mfa_remove(f->sec, &terminal, "ivy", why, sizeof(why)), BW_OK);
    assert_int_equal(bw_security_user_remove(f->sec, &terminal, "ivy", why, sizeof(why)), BW_OK);
    const uint32_t events[] = {BW_AUDIT_EV_USER_ADDED,        BW_AUDIT_EV_USER_MODIFIED,
                               BW_AUDIT_EV_USER_DISABLED,     BW_AUDIT_EV_USER_ENABLED,
                               BW_AUDIT_EV_USER_UNLOCKED,     BW_AUDIT_EV_USER_PASSWORD_RESET,
                               BW_AUDIT_EV_USER_MFA_ENROLLED, BW_AUDIT_EV_USER_MFA_REMOVED,
                               BW_AUDIT_EV_USER_REMOVED};
    for (size_t i = 0; i < BW_ARRAY_LEN(events); i++)
        assert_int_equal(secfix_count(f, events[i], BW_AUDIT_SUCCESS, terminal.os_user), 1);
    char details[1024];
    secfix_last_details(f, BW_AUDIT_EV_USER_MODIFIED, details, sizeof(details));
    assert_non_null(strstr(details, "\"before\""));
    assert_non_null(strstr(details, "200"));
    /* No secret of any kind on record. */
    secfix_last_details(f, BW_AUDIT_EV_USER_MFA_ENROLLED, details, sizeof(details));
    assert_null(strstr(details, "secret"));
    assert_null(strstr(details, "Hm4%"));
    struct bw_security_user_info info;
    assert_int_equal(bw_security_user_get(f->sec, "ivy", &info), BW_ENOTFOUND);
}

static void test_refusals_recorded(void **state)
{
    struct secfix *f = *state;
    char why[256];
    assert_int_equal(secfix_add(f, "jack", "operator", GOOD), BW_OK);
    assert_int_equal(
        bw_security_user_add(f->sec, &terminal, "jack", NULL, GOOD, strlen(GOOD), why, sizeof(why)),
        BW_EEXIST);
    assert_int_equal(bw_security_user_add(f->sec, &terminal, "bad name", NULL, GOOD, strlen(GOOD),
                                          why, sizeof(why)),
                     BW_EINVAL);
    assert_non_null(strstr(why, "name"));
    static const char *const bogus[] = {"wizard"};
    struct bw_security_user_change c = {.set_roles = true, .roles = bogus, .role_count = 1};
    assert_int_equal(bw_security_user_modify(f->sec, &terminal, "jack", &c, why, sizeof(why)),
                     BW_EINVAL);
    assert_non_null(strstr(why, "wizard"));
    struct bw_security_user_change lvl = {.set_level = true, .level = 10000};
    assert_int_equal(bw_security_user_modify(f->sec, &terminal, "jack", &lvl, why, sizeof(why)),
                     BW_EINVAL);
    struct bw_security_user_change areas = {.set_areas = true, .areas = 1u};
    assert_int_equal(bw_security_user_modify(f->sec, &terminal, "jack", &areas, why, sizeof(why)),
                     BW_EINVAL);
    assert_int_equal(bw_security_user_remove(f->sec, &terminal, "nobody", why, sizeof(why)),
                     BW_ENOTFOUND);
    /* Separation of duties. */
    static const char *const both[] = {"security-admin", "operator"};
    struct bw_security_user_change mix = {.set_roles = true, .roles = both, .role_count = 2};
    assert_int_equal(bw_security_user_modify(f->sec, &terminal, "jack", &mix, why, sizeof(why)),
                     BW_EINVAL);
    assert_non_null(strstr(why, "different accounts"));
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_USER_CHANGE_REFUSED, 0, terminal.os_user), 7);
    /* No actor at all. */
    struct bw_security_actor nobody = {0};
    assert_int_equal(bw_security_user_remove(f->sec, &nobody, "jack", why, sizeof(why)),
                     BW_EDENIED);
}

static void test_session_actor_needs_user_manage(void **state)
{
    struct secfix *f = *state;
    char why[256], op_token[BW_SECURITY_TOKEN_LEN + 1], admin_token[BW_SECURITY_TOKEN_LEN + 1];
    assert_int_equal(secfix_add(f, "kate", "operator", GOOD), BW_OK);
    assert_int_equal(secfix_add(f, "leo", "security-admin", GOOD), BW_OK);
    assert_int_equal(secfix_login(f, "kate", GOOD, "10.9.0.1", op_token), BW_SECURITY_LOGIN_OK);
    assert_int_equal(secfix_login(f, "leo", GOOD, "10.9.0.2", admin_token), BW_SECURITY_LOGIN_OK);
    struct bw_security_actor op = {.session = op_token, .address = "10.9.0.1"};
    struct bw_security_actor admin = {.session = admin_token, .address = "10.9.0.2"};
    assert_int_equal(bw_security_user_set_state(f->sec, &op, "leo", false, why, sizeof(why)),
                     BW_EDENIED);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_USER_CHANGE_REFUSED, BW_AUDIT_DENIED, "kate"), 1);
    /* Disabling kate ends her session at once. */
    assert_int_equal(bw_security_user_set_state(f->sec, &admin, "kate", false, why, sizeof(why)),
                     BW_OK);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_USER_DISABLED, 0, "leo"), 1);
    struct bw_security_session_info info;
    assert_int_equal(bw_security_session_check(f->sec, op_token, NULL, &info), BW_ENOTFOUND);
    /* A remote administrator cannot remove the last one. */
    assert_int_equal(bw_security_user_remove(f->sec, &admin, "leo", why, sizeof(why)), BW_EDENIED);
    assert_int_equal(bw_security_user_set_state(f->sec, &admin, "leo", false, why, sizeof(why)),
                     BW_EDENIED);
    struct bw_security_user_info u;
    assert_int_equal(bw_security_user_get(f->sec, "leo", &u), BW_OK);
    assert_int_equal(u.state, BW_SECURITY_ACTIVE);
}

static void test_users_db_private(void **state)
{
    struct secfix *f = *state;
    char path[512];
    assert_int_equal(bw_snprintf(path, sizeof(path), "%s/users.db", f->dir), BW_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(bw_snprintf(path, sizeof(path), "%s/keys/users.key", f->dir), BW_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* Readable by others: refused, never trusted. */
    assert_int_equal(bw_snprintf(path, sizeof(path), "%s/users.db", f->dir), BW_OK);
    secfix_close_context(f);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(secfix_reopen(f), BW_EDENIED);
    assert_int_equal(chmod(path, 0600), 0);
    secfix_close_context(f);
    assert_int_equal(secfix_reopen(f), BW_OK);
}

static void test_accounts_persist(void **state)
{
    struct secfix *f = *state;
    assert_int_equal(secfix_add(f, "mia", "engineer,viewer", GOOD), BW_OK);
    secfix_close_context(f);
    assert_int_equal(secfix_reopen(f), BW_OK);
    struct bw_security_user_info u;
    assert_int_equal(bw_security_user_get(f->sec, "mia", &u), BW_OK);
    size_t eng = bw_project_role_find(&f->policy, "engineer");
    size_t view = bw_project_role_find(&f->policy, "viewer");
    assert_int_equal(u.roles, (1ull << eng) | (1ull << view));
    assert_int_equal(secfix_login(f, "mia", GOOD, NULL, NULL), BW_SECURITY_LOGIN_OK);
}

static void test_full_name_without_controls(void **state)
{
    struct secfix *f = *state;
    char why[256];
    /* C0 (an escape sequence), DEL, C1 (CSI as U+009B), not UTF-8. */
    static const char *const bad[] = {"Eve \x1b[31mRed", "Eve\x7f",
                                      "Eve \xc2\x9b"
                                      "31m",
                                      "Eve \xff", "Eve\tTab"};
    for (size_t i = 0; i < BW_ARRAY_LEN(bad); i++) {
        struct bw_security_user_change change = {.full_name = bad[i]};
        assert_int_equal(bw_security_user_add(f->sec, &terminal, "eve", &change, GOOD, strlen(GOOD),
                                              why, sizeof(why)),
                         BW_EINVAL);
        assert_non_null(strstr(why, "control characters"));
        assert_false(bw_security_full_name_valid(bad[i], strlen(bad[i])));
    }
    /* Letters beyond ASCII are names like any other. */
    struct bw_security_user_change change = {.full_name = "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m"};
    assert_int_equal(bw_security_user_add(f->sec, &terminal, "eve", &change, GOOD, strlen(GOOD),
                                          why, sizeof(why)),
                     BW_OK);
    struct bw_security_user_change c1 = {.full_name = "x\xc2\x85"};
    assert_int_equal(bw_security_user_modify(f->sec, &terminal, "eve", &c1, why, sizeof(why)),
                     BW_EINVAL);
    assert_true(bw_security_full_name_valid("\xc2\xa0No-break", 10));
}

static void test_login_uid_recorded(void **state)
{
    struct secfix *f = *state;
    char why[256], details[1024];
    const struct bw_security_actor sudo = {
        .os_user = "uid 0 (root)", .login_uid_known = true, .login_uid = 1000};
    assert_int_equal(
        bw_security_user_add(f->sec, &sudo, "lou", NULL, GOOD, strlen(GOOD), why, sizeof(why)),
        BW_OK);
    secfix_last_details(f, BW_AUDIT_EV_USER_ADDED, details, sizeof(details));
    assert_non_null(strstr(details, "\"login_uid\":1000"));
    assert_int_equal(bw_security_user_set_state(f->sec, &sudo, "lou", false, why, sizeof(why)),
                     BW_OK);
    secfix_last_details(f, BW_AUDIT_EV_USER_DISABLED, details, sizeof(details));
    assert_non_null(strstr(details, "\"login_uid\":1000"));
    /* Refusals too. */
    assert_int_equal(bw_security_user_remove(f->sec, &sudo, "nobody", why, sizeof(why)),
                     BW_ENOTFOUND);
    secfix_last_details(f, BW_AUDIT_EV_USER_CHANGE_REFUSED, details, sizeof(details));
    assert_non_null(strstr(details, "\"login_uid\":1000"));
    /* Unknown: not recorded at all. */
    assert_int_equal(bw_security_user_set_state(f->sec, &terminal, "lou", true, why, sizeof(why)),
                     BW_OK);
    secfix_last_details(f, BW_AUDIT_EV_USER_ENABLED, details, sizeof(details));
    assert_null(strstr(details, "login_uid"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_action_audited, secfix_setup, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_refusals_recorded, secfix_setup, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_session_actor_needs_user_manage, secfix_setup,
                                        secfix_teardown),
        cmocka_unit_test_setup_teardown(test_users_db_private, secfix_setup, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_accounts_persist, secfix_setup, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_full_name_without_controls, secfix_setup,
                                        secfix_teardown),
        cmocka_unit_test_setup_teardown(test_login_uid_recorded, secfix_setup, secfix_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
