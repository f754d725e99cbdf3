/* SPDX-License-Identifier: Apache-2.0
 *
 * users.db across policies: role names a policy does not know are kept
 * as they are stored when an account is written back under it (they
 * grant nothing meanwhile), and are dropped only when a role list is set
 * anew; the store remembers the project whose policy was last applied.
 */
#include "support_secfix.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define GOOD "Tx9#mq4!Lz2w"

static const struct bw_security_actor terminal = {.os_user = "uid 1000 (ops)"};

/* The project's policy: the defaults with "auditor" renamed
 * "shift-lead", a role the built-in defaults do not have. */
static void project_policy(struct bw_project_security *p)
{
    size_t i = bw_project_role_find(p, "auditor");
    assert_true(i != SIZE_MAX);
    bw_free(p->roles[i].name);
    p->roles[i].name = bw_strdup("shift-lead");
    assert_non_null(p->roles[i].name);
}

/* Reopens f under the project's policy (project) or the defaults. */
static void switch_policy(struct secfix *f, bool project)
{
    secfix_close_context(f);
    uint32_t m = f->policy.password.argon2_memory_kib, t = f->policy.password.argon2_iterations;
    bw_project_security_clear(&f->policy);
    assert_int_equal(bw_project_security_defaults(&f->policy), BW_OK);
    f->policy.password.argon2_memory_kib = m;
    f->policy.password.argon2_iterations = t;
    if (project)
        project_policy(&f->policy);
    assert_int_equal(secfix_reopen(f), BW_OK);
}

static uint64_t role_bits(struct secfix *f, const char *a, const char *b)
{
    uint64_t bits = 0;
    const char *names[] = {a, b};
    for (size_t i = 0; i < 2; i++) {
        if (!names[i])
            continue;
        size_t r = bw_project_role_find(&f->policy, names[i]);
        assert_true(r != SIZE_MAX);
        bits |= 1ull << r;
    }
    return bits;
}

static int setup_project(void **state)
{
    struct secfix *f = calloc(1, sizeof(*f));
    if (!f || secfix_open(f, project_policy) != BW_OK) {
        if (f)
            secfix_close(f);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static void test_unknown_roles_kept(void **state)
{
    struct secfix *f = *state;
    char why[256];
    assert_int_equal(secfix_add(f, "carol", "shift-lead,viewer", GOOD), BW_OK);
    /* Under the defaults shift-lead means nothing: viewer alone counts. */
    switch_policy(f, false);
    struct bw_security_user_info u;
    assert_int_equal(bw_security_user_get(f->sec, "carol", &u), BW_OK);
    assert_int_equal(u.roles, role_bits(f, "viewer", NULL));
    /* Changes that write the account back: a level, a state, a reset, a
     * failed login, a successful one. */
    struct bw_security_user_change level = {.set_level = true, .level = 3};
    assert_int_equal(bw_security_user_modify(f->sec, &terminal, "carol", &level, why, sizeof(why)),
                     BW_OK);
    assert_int_equal(
        bw_security_user_set_state(f->sec, &terminal, "carol", false, why, sizeof(why)), BW_OK);
    assert_int_equal(bw_security_user_set_state(f->sec, &terminal, "carol", true, why, sizeof(why)),
                     BW_OK);
    assert_int_equal(secfix_login(f, "carol", "wrong", NULL, NULL), BW_SECURITY_LOGIN_FAILED);
    assert_int_equal(secfix_login(f, "carol", GOOD, NULL, NULL), BW_SECURITY_LOGIN_OK);
    /* Back under the project: shift-lead is still there. */
    switch_policy(f, true);
    assert_int_equal(bw_security_user_get(f->sec, "carol", &u), BW_OK);
    assert_int_equal(u.level, 3);
    assert_int_equal(u.roles, role_bits(f, "shift-lead", "viewer"));
}

static void test_new_role_list_replaces(void **state)
{
    struct secfix *f = *state;
    char why[256];
    assert_int_equal(secfix_add(f, "dan", "shift-lead,viewer", GOOD), BW_OK);
    switch_policy(f, false);
    /* An administrator's list is the whole list. */
    static const char *const operator_only[] = {"operator"};
    struct bw_security_user_change roles = {
        .set_roles = true, .roles = operator_only, .role_count = 1};
    assert_int_equal(bw_security_user_modify(f->sec, &terminal, "dan", &roles, why, sizeof(why)),
                     BW_OK);
    switch_policy(f, true);
    struct bw_security_user_info u;
    assert_int_equal(bw_security_user_get(f->sec, "dan", &u), BW_OK);
    assert_int_equal(u.roles, role_bits(f, "operator", NULL));
}

static void test_undone_change_keeps_unknown_roles(void **state)
{
    struct secfix *f = *state;
    char why[256], token[BW_SECURITY_TOKEN_LEN + 1];
    assert_int_equal(secfix_add(f, "sam", "security-admin,shift-lead", GOOD), BW_OK);
    switch_policy(f, false);
    /* The last administrator, signed in, takes user.manage from
     * itself: refused, and undone with every stored name. */
    assert_int_equal(secfix_login(f, "sam", GOOD, NULL, token), BW_SECURITY_LOGIN_OK);
    const struct bw_security_actor session = {.session = token};
    static const char *const viewer[] = {"viewer"};
    struct bw_security_user_change roles = {.set_roles = true, .roles = viewer, .role_count = 1};
    assert_int_equal(bw_security_user_modify(f->sec, &session, "sam", &roles, why, sizeof(why)),
                     BW_EDENIED);
    switch_policy(f, true);
    struct bw_security_user_info u;
    assert_int_equal(bw_security_user_get(f->sec, "sam", &u), BW_OK);
    assert_int_equal(u.roles, role_bits(f, "security-admin", "shift-lead"));
}

static void test_policy_project_recorded(void **state)
{
    struct secfix *f = *state;
    char recorded[4096];
    char *full = realpath(f->dir, NULL);
    assert_non_null(full);
    /* The fixture opens with its directory as the project. */
    assert_int_equal(bw_security_policy_project(f->sec, recorded, sizeof(recorded)), BW_OK);
    assert_string_equal(recorded, full);
    /* Opened with the defaults (no project): the record stays. */
    secfix_close_context(f);
    struct bw_audit_config acfg;
    bw_audit_config_defaults(&acfg, f->dir);
    assert_int_equal(bw_audit_open(&acfg, &f->audit), BW_OK);
    struct bw_security_config cfg = {.state_dir = f->dir, .policy = &f->policy, .audit = f->audit};
    assert_int_equal(bw_security_open(&cfg, &f->sec), BW_OK);
    assert_int_equal(bw_security_policy_project(f->sec, recorded, sizeof(recorded)), BW_OK);
    assert_string_equal(recorded, full);
    assert_int_equal(bw_security_policy_project(f->sec, recorded, 4), BW_ETOOLARGE);
    free(full);
}

static void test_policy_project_none(void **state)
{
    (void)state;
    /* A store only ever used with the defaults has no record. */
    struct secfix f;
    assert_int_equal(secfix_open(&f, NULL), BW_OK);
    secfix_close_context(&f);
    char dir[256];
    bw_strlcpy(dir, "/tmp/bw-sec-XXXXXX", sizeof(dir));
    assert_non_null(mkdtemp(dir));
    struct bw_audit_config acfg;
    bw_audit_config_defaults(&acfg, dir);
    struct bw_audit *audit = NULL;
    assert_int_equal(bw_audit_open(&acfg, &audit), BW_OK);
    struct bw_security_config cfg = {.state_dir = dir, .policy = &f.policy, .audit = audit};
    struct bw_security *sec = NULL;
    assert_int_equal(bw_security_open(&cfg, &sec), BW_OK);
    char recorded[256];
    assert_int_equal(bw_security_policy_project(sec, recorded, sizeof(recorded)), BW_ENOTFOUND);
    bw_security_close(sec);
    bw_audit_close(audit);
    /* The fixture's directory removal tidies only its own: move the
     * second store under it. */
    char cmd[600];
    assert_int_equal(bw_snprintf(cmd, sizeof(cmd), "%s/other", f.dir), BW_OK);
    assert_int_equal(rename(dir, cmd), 0);
    secfix_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unknown_roles_kept, setup_project, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_new_role_list_replaces, setup_project,
                                        secfix_teardown),
        cmocka_unit_test_setup_teardown(test_undone_change_keeps_unknown_roles, setup_project,
                                        secfix_teardown),
        cmocka_unit_test_setup_teardown(test_policy_project_recorded, secfix_setup,
                                        secfix_teardown),
        cmocka_unit_test(test_policy_project_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
