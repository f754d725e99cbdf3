/* SPDX-License-Identifier: Apache-2.0
 *
 * Dual approval in two steps (SR 2.1 RE 4): requested by the acting
 * session, granted by a second, different user with the rights within
 * the policy's window, consumed once by the access it was for; each step
 * on record.
 */
#include "support_secfix.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define GOOD "Tx9#mq4!Lz2w"

static const struct bw_security_object valve = {.name = "V101.Open",
                                                .level = 1,
                                                .areas = 1u << 2,
                                                .permission = BW_PERM_TAG_WRITE,
                                                .needs_approval = true};

struct people {
    char op1[BW_SECURITY_TOKEN_LEN + 1], op2[BW_SECURITY_TOKEN_LEN + 1],
        viewer[BW_SECURITY_TOKEN_LEN + 1];
};

static void sign_in(struct secfix *f, struct people *p)
{
    assert_int_equal(secfix_add(f, "olive", "operator", GOOD), BW_OK);
    assert_int_equal(secfix_add(f, "oscar", "operator", GOOD), BW_OK);
    assert_int_equal(secfix_add(f, "vera", "viewer", GOOD), BW_OK);
    assert_int_equal(secfix_login(f, "olive", GOOD, "10.5.0.1", p->op1), BW_SECURITY_LOGIN_OK);
    assert_int_equal(secfix_login(f, "oscar", GOOD, "10.5.0.2", p->op2), BW_SECURITY_LOGIN_OK);
    assert_int_equal(secfix_login(f, "vera", GOOD, "10.5.0.3", p->viewer), BW_SECURITY_LOGIN_OK);
}

static bool allowed_with(struct secfix *f, const char *token, const char *id, char *approver)
{
    struct bw_security_evidence ev = {.approval_id = id};
    struct bw_security_decision d;
    assert_int_equal(bw_security_authorize(f->sec, token, &valve, &ev, &d), BW_OK);
    if (approver)
        bw_strlcpy(approver, d.approver, BW_SECURITY_USER_MAX + 1);
    return d.allowed;
}

static void test_two_step_approval(void **state)
{
    struct secfix *f = *state;
    struct people p;
    sign_in(f, &p);
    char id[BW_SECURITY_APPROVAL_ID_LEN + 1], why[256], approver[BW_SECURITY_USER_MAX + 1];
    /* Without an approval: denied. */
    assert_false(allowed_with(f, p.op1, NULL, NULL));
    assert_int_equal(bw_security_approval_request(f->sec, p.op1, &valve, id, why, sizeof(why)),
                     BW_OK);
    assert_int_equal(strlen(id), BW_SECURITY_APPROVAL_ID_LEN);
    /* Not yet granted. */
    assert_false(allowed_with(f, p.op1, id, NULL));
    assert_int_equal(bw_security_approval_request(f->sec, p.op1, &valve, id, why, sizeof(why)),
                     BW_OK);
    /* The requester cannot grant, nor a user without the rights. */
    assert_int_equal(bw_security_approval_grant(f->sec, p.op1, id, why, sizeof(why)), BW_EDENIED);
    assert_non_null(strstr(why, "same user"));
    assert_int_equal(bw_security_approval_grant(f->sec, p.viewer, id, why, sizeof(why)),
                     BW_EDENIED);
    assert_int_equal(bw_security_approval_grant(f->sec, p.op2, id, why, sizeof(why)), BW_OK);
    /* Only the requester may use it, only for that object, once. */
    assert_false(allowed_with(f, p.op2, id, NULL));
    struct bw_security_object other = valve;
    other.name = "V102.Open";
    struct bw_security_evidence ev = {.approval_id = id};
    struct bw_security_decision d;
    assert_int_equal(bw_security_authorize(f->sec, p.op1, &other, &ev, &d), BW_OK);
    assert_false(d.allowed);
    assert_true(allowed_with(f, p.op1, id, approver));
    assert_string_equal(approver, "oscar");
    assert_false(allowed_with(f, p.op1, id, NULL));
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_APPROVAL, BW_AUDIT_SUCCESS, "olive"), 2);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_APPROVAL, BW_AUDIT_SUCCESS, "oscar"), 2);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_APPROVAL, BW_AUDIT_DENIED, NULL), 2);
}

static void test_request_needs_rights(void **state)
{
    struct secfix *f = *state;
    struct people p;
    sign_in(f, &p);
    char id[BW_SECURITY_APPROVAL_ID_LEN + 1], why[256];
    assert_int_equal(bw_security_approval_request(f->sec, p.viewer, &valve, id, why, sizeof(why)),
                     BW_EDENIED);
    assert_string_equal(id, "");
    assert_int_equal(bw_security_approval_request(f->sec, "0000", &valve, id, why, sizeof(why)),
                     BW_EDENIED);
    assert_int_equal(bw_security_approval_grant(f->sec, p.op2, "not-an-id", why, sizeof(why)),
                     BW_ENOTFOUND);
}

static void test_approval_lapses(void **state)
{
    (void)state;
    bw_clock_fake_set(1800000000ll * 1000000, 1000000);
    struct secfix f;
    assert_int_equal(secfix_open(&f, NULL), BW_OK);
    struct people p;
    sign_in(&f, &p);
    char id[BW_SECURITY_APPROVAL_ID_LEN + 1], why[256];
    assert_int_equal(bw_security_approval_request(f.sec, p.op1, &valve, id, why, sizeof(why)),
                     BW_OK);
    bw_clock_fake_advance((int64_t)f.policy.sessions.approval_window_seconds * 1000000 + 1);
    assert_int_equal(bw_security_approval_grant(f.sec, p.op2, id, why, sizeof(why)), BW_ENOTFOUND);
    /* Granted in time but used too late: lapsed as well. */
    assert_int_equal(bw_security_approval_request(f.sec, p.op1, &valve, id, why, sizeof(why)),
                     BW_OK);
    assert_int_equal(bw_security_approval_grant(f.sec, p.op2, id, why, sizeof(why)), BW_OK);
    bw_clock_fake_advance((int64_t)f.policy.sessions.approval_window_seconds * 1000000 + 1);
    assert_false(allowed_with(&f, p.op1, id, NULL));
    secfix_close(&f);
    bw_clock_fake_disable();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_step_approval, secfix_setup, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_request_needs_rights, secfix_setup, secfix_teardown),
        cmocka_unit_test(test_approval_lapses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
