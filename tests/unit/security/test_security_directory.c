/* SPDX-License-Identifier: Apache-2.0
 *
 * Central accounts through the whole login (SR 1.3 RE 1): a real slapd
 * over LDAPS, users logging in through bw_security_login with their
 * directory groups mapped to roles, and the same rules as local
 * accounts: lockout (one count whatever the case of the name typed),
 * audit records, sessions and authorisation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit/security/support_secfix.h"
#include "unit/security/support_slapd.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define PEOPLE "ou=people," BW_TEST_SLAPD_SUFFIX
#define GROUPS "ou=groups," BW_TEST_SLAPD_SUFFIX
#define RITA_PW "rita-directory-pw-1"

static const char ldif[] =
    "dn: " BW_TEST_SLAPD_SUFFIX "\n"
    "objectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n"
    "dn: " PEOPLE "\nobjectClass: organizationalUnit\nou: people\n\n"
    "dn: " GROUPS "\nobjectClass: organizationalUnit\nou: groups\n\n"
    "dn: uid=rita," PEOPLE "\nobjectClass: inetOrgPerson\nuid: rita\ncn: Rita\nsn: Example\n"
    "userPassword: " RITA_PW "\n\n"
    "dn: uid=sam," PEOPLE "\nobjectClass: inetOrgPerson\nuid: sam\ncn: Sam\nsn: Example\n"
    "userPassword: sam-directory-pw-2\n\n"
    "dn: cn=operators," GROUPS "\nobjectClass: groupOfNames\ncn: operators\n"
    "member: uid=rita," PEOPLE "\n\n"
    "dn: cn=auditors," GROUPS "\nobjectClass: groupOfNames\ncn: auditors\n"
    "member: uid=sam," PEOPLE "\n";

static struct bw_test_slapd slapd;
static char url[64];
static struct bw_project_role_group groups[2];
static struct bw_project_ldap ldap;

static void with_directory(struct bw_project_security *p)
{
    groups[0] = (struct bw_project_role_group){.group = "cn=operators," GROUPS,
                                               .role = bw_project_role_find(p, "operator")};
    groups[1] = (struct bw_project_role_group){.group = "cn=auditors," GROUPS,
                                               .role = bw_project_role_find(p, "auditor")};
    ldap = (struct bw_project_ldap){.url = url,
                                    .tls = BW_PROJECT_LDAP_LDAPS,
                                    .ca_file = slapd.ca_file,
                                    .user_base = BW_TEST_SLAPD_SUFFIX,
                                    .user_filter = "(&(objectClass=inetOrgPerson)(uid=%s))",
                                    .group_base = GROUPS,
                                    .group_filter = "(member=%s)",
                                    .timeout_ms = 5000,
                                    .level = 100,
                                    .areas = SEC_AREAS_ALL,
                                    .groups = groups,
                                    .group_count = 2};
    /* The fixture's policy owns nothing of this: cleared before clear. */
    p->ldap = &ldap;
}

static int group_setup(void **state)
{
    signal(SIGPIPE, SIG_IGN);
    if (bw_test_slapd_start(&slapd, NULL) != BW_OK)
        return -1;
    if (bw_test_slapd_load(&slapd, ldif) != BW_OK ||
        bw_test_slapd_url(&slapd, true, "127.0.0.1", url, sizeof(url))) {
        bw_test_slapd_stop(&slapd);
        return -1;
    }
    struct secfix *f = calloc(1, sizeof(*f));
    if (!f || secfix_open(f, with_directory) != BW_OK)
        return -1;
    *state = f;
    return 0;
}

static int group_teardown(void **state)
{
    struct secfix *f = *state;
    secfix_close_context(f);
    f->policy.ldap = NULL;
    secfix_close(f);
    free(f);
    bw_test_slapd_stop(&slapd);
    return 0;
}

static void test_directory_login_maps_groups(void **state)
{
    struct secfix *f = *state;
    char token[BW_SECURITY_TOKEN_LEN + 1];
    assert_int_equal(secfix_login(f, "rita", RITA_PW, "10.4.0.1", token), BW_SECURITY_LOGIN_OK);
    struct bw_security_user_info info;
    assert_int_equal(bw_security_user_get(f->sec, "rita", &info), BW_OK);
    assert_int_equal(info.type, BW_SECURITY_DIRECTORY);
    assert_int_equal(info.level, 100);
    assert_int_equal(info.roles, 1ull << bw_project_role_find(&f->policy, "operator"));
    char details[512];
    secfix_last_details(f, BW_AUDIT_EV_LOGIN_SUCCEEDED, details, sizeof(details));
    assert_non_null(strstr(details, "directory"));
    /* The session carries the directory's roles into authorisation. */
    struct bw_security_object tag = {
        .name = "P1.Start", .level = 50, .areas = 1u << 3, .permission = BW_PERM_TAG_WRITE};
    struct bw_security_decision d;
    assert_int_equal(bw_security_authorize(f->sec, token, &tag, NULL, &d), BW_OK);
    assert_true(d.allowed);
    tag.permission = BW_PERM_AUDIT_READ;
    assert_int_equal(bw_security_authorize(f->sec, token, &tag, NULL, &d), BW_OK);
    assert_false(d.allowed);
    assert_int_equal(bw_security_logout(f->sec, token), BW_OK);
    /* Another user, another group. */
    assert_int_equal(secfix_login(f, "sam", "sam-directory-pw-2", "10.4.0.1", NULL),
                     BW_SECURITY_LOGIN_OK);
    assert_int_equal(bw_security_user_get(f->sec, "sam", &info), BW_OK);
    assert_int_equal(info.roles, 1ull << bw_project_role_find(&f->policy, "auditor"));
}

static void test_directory_refusals(void **state)
{
    struct secfix *f = *state;
    assert_int_equal(secfix_login(f, "nobody", "whatever-pw", "10.4.0.2", NULL),
                     BW_SECURITY_LOGIN_FAILED);
    assert_int_equal(secfix_login(f, "rita", "", "10.4.0.2", NULL), BW_SECURITY_LOGIN_FAILED);
    assert_int_equal(secfix_login(f, "rita)(uid=*", RITA_PW, "10.4.0.2", NULL),
                     BW_SECURITY_LOGIN_FAILED);
    struct bw_security_user_info info;
    assert_int_equal(bw_security_user_get(f->sec, "nobody", &info), BW_ENOTFOUND);
}

/* The lockout counts directory users too, once their shadow exists, and
 * the case of the name typed makes no second account. */
static void test_directory_lockout(void **state)
{
    struct secfix *f = *state;
    assert_int_equal(secfix_login(f, "rita", RITA_PW, "10.4.0.3", NULL), BW_SECURITY_LOGIN_OK);
    const char *names[] = {"rita", "Rita", "RITA", "rItA", "rita"};
    for (unsigned i = 0; i < f->policy.lockout.max_failures; i++)
        assert_int_equal(secfix_login(f, names[i % 5], "wrong-pw", "10.4.0.3", NULL),
                         BW_SECURITY_LOGIN_FAILED);
    struct bw_security_user_info info;
    assert_int_equal(bw_security_user_get(f->sec, "rita", &info), BW_OK);
    assert_int_equal(info.state, BW_SECURITY_LOCKED);
    assert_int_equal(bw_security_user_get(f->sec, "Rita", &info), BW_ENOTFOUND);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_ACCOUNT_LOCKED, 0, "rita"), 1);
    /* The directory still says yes; the lock says no. */
    assert_int_equal(secfix_login(f, "RITA", RITA_PW, "10.4.0.4", NULL), BW_SECURITY_LOGIN_FAILED);
    struct bw_security_actor admin = {.os_user = "test"};
    char why[256];
    assert_int_equal(bw_security_user_unlock(f->sec, &admin, "rita", why, sizeof(why)), BW_OK);
    assert_int_equal(secfix_login(f, "Rita", RITA_PW, "10.4.0.4", NULL), BW_SECURITY_LOGIN_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_directory_login_maps_groups),
        cmocka_unit_test(test_directory_refusals),
        cmocka_unit_test(test_directory_lockout),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
