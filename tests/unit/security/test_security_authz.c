/* SPDX-License-Identifier: Apache-2.0
 *
 * Authorisation (SR 1.2, 2.1): every default role against every
 * permission; a grid of levels and areas; the order of the rules; the
 * electronic signature (a wrong password refused, counted and recorded);
 * dual approval (the same user, a user without the permission, level or
 * area, a wrong password: refused; a proper approver: allowed, recorded);
 * the supervisor override (who may grant, its bounds, what it lends and
 * never lends, its end by time, by the supervisor, by the holder and by
 * an account change, each recorded); and failing closed when the trail
 * cannot record a signature, an approval, an override or an unlock.
 * Every denial is checked on the audit trail read back.
 */
#include "security/sessions_internal.h"
#include "support_secfix.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define GOOD "Tx9#mq4!Lz2w"
#define T0 (1800000000ll * 1000000) /* a fixed wall-clock start */
#define SEC 1000000ll
#define AREA(n) (1u << (n))
#define PERM(p) (1u << (p))

/* ---- helpers --------------------------------------------------------- */

static int teardown_fake(void **state)
{
    int rc = secfix_teardown(state);
    bw_clock_fake_disable();
    return rc;
}

/* An account with roles, level and areas, from the terminal. */
static void add_user(struct secfix *f, const char *name, const char *roles, uint16_t level,
                     uint32_t areas)
{
    assert_int_equal(secfix_add(f, name, roles, GOOD), BW_OK);
    struct bw_security_user_change change = {
        .set_level = true, .level = level, .set_areas = true, .areas = areas};
    struct bw_security_actor terminal = {.os_user = "test"};
    char why[256];
    assert_int_equal(bw_security_user_modify(f->sec, &terminal, name, &change, why, sizeof(why)),
                     BW_OK);
}

static void login_ok(struct secfix *f, const char *user, char *token)
{
    assert_int_equal(secfix_login(f, user, GOOD, "10.3.0.1", token), BW_SECURITY_LOGIN_OK);
}

static void id_of(struct secfix *f, const char *token, char id[BW_SECURITY_SESSION_ID_LEN + 1])
{
    struct bw_security_session_info info;
    int rc = bw_security_session_check(f->sec, token, NULL, &info);
    assert_true(rc == BW_OK || rc == BW_ESTATE);
    bw_strlcpy(id, info.id, BW_SECURITY_SESSION_ID_LEN + 1);
}

static enum bw_security_deny_reason decide(struct secfix *f, const char *token,
                                           const struct bw_security_object *obj,
                                           const struct bw_security_evidence *ev,
                                           struct bw_security_decision *out)
{
    struct bw_security_decision local;
    struct bw_security_decision *d = out ? out : &local;
    assert_int_equal(bw_security_authorize(f->sec, token, obj, ev, d), BW_OK);
    assert_int_equal(d->allowed, d->reason == BW_SECURITY_ALLOWED);
    return d->reason;
}

static json_t *last_details(struct secfix *f, uint32_t event)
{
    char text[4096];
    secfix_last_details(f, event, text, sizeof(text));
    json_t *d = text[0] ? json_loads(text, 0, NULL) : NULL;
    assert_non_null(d);
    return d;
}

static void assert_detail(struct secfix *f, uint32_t event, const char *key, const char *want)
{
    json_t *d = last_details(f, event);
    const char *got = json_string_value(json_object_get(d, key));
    if (!got || strcmp(got, want) != 0)
        fail_msg("record %u: %s is %s, not %s", (unsigned)event, key, got ? got : "(none)", want);
    json_decref(d);
}

/* ---- roles and permissions ------------------------------------------- */

/* DESIGN.md section 4: the default roles and what they grant. */
static const struct {
    const char *role;
    uint32_t permissions;
} defaults[] = {
    {"viewer", PERM(BW_PERM_TAG_READ)},
    {"operator", PERM(BW_PERM_TAG_READ) | PERM(BW_PERM_TAG_WRITE) | PERM(BW_PERM_ALARM_ACK)},
    {"supervisor", PERM(BW_PERM_TAG_READ) | PERM(BW_PERM_TAG_WRITE) | PERM(BW_PERM_ALARM_ACK) |
                       PERM(BW_PERM_ALARM_SHELVE) | PERM(BW_PERM_OVERRIDE)},
    {"engineer", PERM(BW_PERM_TAG_READ) | PERM(BW_PERM_TAG_WRITE) | PERM(BW_PERM_ALARM_ACK) |
                     PERM(BW_PERM_ALARM_SHELVE) | PERM(BW_PERM_CONFIG_CHANGE) |
                     PERM(BW_PERM_BACKUP_RUN)},
    {"security-admin",
     PERM(BW_PERM_USER_MANAGE) | PERM(BW_PERM_SESSION_MANAGE) | PERM(BW_PERM_AUDIT_READ)},
    {"auditor", PERM(BW_PERM_AUDIT_READ)},
};

/* Each default role against each permission: allowed exactly when the
 * role grants it; each denial recorded with the rule, object and
 * permission. A user without roles may do nothing. */
static void test_role_matrix(void **state)
{
    struct secfix *f = *state;
    size_t denials = 0;
    for (size_t r = 0; r <= BW_ARRAY_LEN(defaults); r++) {
        bool none = r == BW_ARRAY_LEN(defaults);
        const char *role = none ? NULL : defaults[r].role;
        uint32_t want = none ? 0 : defaults[r].permissions;
        if (!none) {
            size_t i = bw_project_role_find(&f->policy, role);
            assert_true(i != SIZE_MAX);
            assert_int_equal(f->policy.roles[i].permissions, want);
        }
        char name[64], token[BW_SECURITY_TOKEN_LEN + 1];
        assert_int_equal(bw_snprintf(name, sizeof(name), "u-%s", none ? "none" : role), BW_OK);
        add_user(f, name, role, 1, SEC_AREAS_ALL);
        login_ok(f, name, token);
        for (int p = 0; p < BW_PERM_COUNT_; p++) {
            char obj_name[64];
            assert_int_equal(bw_snprintf(obj_name, sizeof(obj_name), "obj.%s",
                                         bw_permission_name((enum bw_permission)p)),
                             BW_OK);
            struct bw_security_object obj = {.name = obj_name,
                                             .level = 1,
                                             .areas = SEC_AREAS_ALL,
                                             .permission = (enum bw_permission)p};
            struct bw_security_decision d;
            enum bw_security_deny_reason got = decide(f, token, &obj, NULL, &d);
            bool allowed = want & PERM(p);
            if (allowed != (got == BW_SECURITY_ALLOWED))
                fail_msg("role %s, permission %s: %s", none ? "(none)" : role,
                         bw_permission_name((enum bw_permission)p),
                         bw_security_deny_reason_name(got));
            assert_string_equal(d.user, name);
            if (!allowed) {
                assert_int_equal(got, BW_SECURITY_DENY_PERMISSION);
                denials++;
                json_t *det = last_details(f, BW_AUDIT_EV_ACCESS_DENIED);
                assert_string_equal(json_string_value(json_object_get(det, "reason")),
                                    "permission");
                assert_string_equal(json_string_value(json_object_get(det, "object")), obj_name);
                assert_string_equal(json_string_value(json_object_get(det, "permission")),
                                    bw_permission_name((enum bw_permission)p));
                json_decref(det);
            }
        }
        assert_int_equal(bw_security_logout(f->sec, token), BW_OK);
    }
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_ACCESS_DENIED, BW_AUDIT_DENIED, NULL), denials);
    /* Separation of duties: no default role both administers accounts
     * and operates the process. */
    for (size_t r = 0; r < BW_ARRAY_LEN(defaults); r++)
        assert_false((defaults[r].permissions & PERM(BW_PERM_USER_MANAGE)) &&
                     (defaults[r].permissions & PERM(BW_PERM_TAG_WRITE)));
}

/* A user of level 50 in areas 2 and 3 against objects of every level
 * around it and every kind of area mask: level first, then area. */
static void test_level_area_grid(void **state)
{
    struct secfix *f = *state;
    add_user(f, "olga", "operator", 50, AREA(2) | AREA(3));
    char token[BW_SECURITY_TOKEN_LEN + 1];
    login_ok(f, "olga", token);
    static const uint16_t levels[] = {1, 49, 50, 51, 9999};
    static const uint32_t masks[] = {AREA(1),           AREA(2),           AREA(3),       AREA(31),
                                     AREA(1) | AREA(4), AREA(2) | AREA(4), SEC_AREAS_ALL, 0};
    size_t denied_level = 0, denied_area = 0;
    for (size_t l = 0; l < BW_ARRAY_LEN(levels); l++)
        for (size_t m = 0; m < BW_ARRAY_LEN(masks); m++) {
            struct bw_security_object obj = {.name = "Tank1.Level",
                                             .level = levels[l],
                                             .areas = masks[m],
                                             .permission = BW_PERM_TAG_WRITE};
            enum bw_security_deny_reason want = BW_SECURITY_ALLOWED;
            if (levels[l] > 50)
                want = BW_SECURITY_DENY_LEVEL;
            else if (!(masks[m] & (AREA(2) | AREA(3))))
                want = BW_SECURITY_DENY_AREA;
            enum bw_security_deny_reason got = decide(f, token, &obj, NULL, NULL);
            if (got != want)
                fail_msg("level %u areas %#x: %s, not %s", levels[l], masks[m],
                         bw_security_deny_reason_name(got), bw_security_deny_reason_name(want));
            denied_level += got == BW_SECURITY_DENY_LEVEL;
            denied_area += got == BW_SECURITY_DENY_AREA;
        }
    assert_int_equal(denied_level, 2 * BW_ARRAY_LEN(masks));
    assert_int_equal(denied_area, 3 * 4); /* levels 1..50 with masks 1, 31, 1|4, 0 */
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_ACCESS_DENIED, BW_AUDIT_DENIED, "olga"),
                     denied_level + denied_area);
}

/* The order of the rules: session, lock, password change, permission. */
static void test_rule_order(void **state)
{
    struct secfix *f = *state;
    add_user(f, "vera", "viewer", 1, SEC_AREAS_ALL);
    char token[BW_SECURITY_TOKEN_LEN + 1];
    login_ok(f, "vera", token);
    struct bw_security_object write = {.name = "Pump1.Speed",
                                       .level = 9999,
                                       .areas = 0,
                                       .permission = BW_PERM_TAG_WRITE,
                                       .needs_signature = true,
                                       .needs_approval = true};
    struct bw_security_decision d;
    assert_int_equal(decide(f, NULL, &write, NULL, &d), BW_SECURITY_DENY_NO_SESSION);
    assert_string_equal(d.user, "");
    assert_int_equal(decide(f, "0123", &write, NULL, NULL), BW_SECURITY_DENY_NO_SESSION);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_ACCESS_DENIED, BW_AUDIT_DENIED, "-"), 2);
    assert_detail(f, BW_AUDIT_EV_ACCESS_DENIED, "reason", "no_session");
    assert_int_equal(decide(f, token, &write, NULL, NULL), BW_SECURITY_DENY_PERMISSION);
    /* Rights fail first: no signature or approval is even tried. */
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SIGNATURE, 0, NULL), 0);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_APPROVAL, 0, NULL), 0);
    struct bw_security_object bogus = {
        .name = "x", .level = 1, .areas = SEC_AREAS_ALL, .permission = BW_PERM_COUNT_};
    assert_int_equal(decide(f, token, &bogus, NULL, NULL), BW_SECURITY_DENY_PERMISSION);
    assert_int_equal(bw_security_session_lock(f->sec, token), BW_OK);
    assert_int_equal(decide(f, token, &write, NULL, NULL), BW_SECURITY_DENY_LOCKED);
    assert_detail(f, BW_AUDIT_EV_ACCESS_DENIED, "reason", "locked");
    assert_int_equal(bw_security_authorize(f->sec, token, NULL, NULL, &d), BW_EINVAL);
    assert_false(d.allowed);

    /* A password set by an administrator must be changed first. */
    struct bw_security_actor terminal = {.os_user = "test"};
    char why[256];
    assert_int_equal(bw_security_user_reset_password(f->sec, &terminal, "vera", "Nw8%pq3!Ks6z", 12,
                                                     why, sizeof(why)),
                     BW_OK);
    assert_int_equal(secfix_login(f, "vera", "Nw8%pq3!Ks6z", "10.3.0.1", token),
                     BW_SECURITY_LOGIN_OK);
    struct bw_security_object read = {
        .name = "Pump1.Speed", .level = 1, .areas = SEC_AREAS_ALL, .permission = BW_PERM_TAG_READ};
    assert_int_equal(decide(f, token, &read, NULL, NULL), BW_SECURITY_DENY_PASSWORD_CHANGE);
    assert_int_equal(bw_security_password_change(f->sec, token, "Nw8%pq3!Ks6z", 12, "Hq4&vt8#Jm2c",
                                                 12, why, sizeof(why)),
                     BW_OK);
    assert_int_equal(decide(f, token, &read, NULL, NULL), BW_SECURITY_ALLOWED);
}

static void test_reason_names(void **state)
{
    (void)state;
    static const char *const names[] = {"allowed",    "no_session", "locked", "password_change",
                                        "permission", "level",      "area",   "signature",
                                        "approval",   "audit"};
    for (size_t i = 0; i < BW_ARRAY_LEN(names); i++) {
        assert_string_equal(bw_security_deny_reason_name((enum bw_security_deny_reason)i),
                            names[i]);
        const char *text = bw_security_deny_reason_text((enum bw_security_deny_reason)i);
        assert_non_null(text);
        assert_true(strlen(text) > 5);
    }
    assert_string_equal(bw_security_deny_reason_name((enum bw_security_deny_reason)99), "unknown");
    assert_non_null(bw_security_deny_reason_text((enum bw_security_deny_reason)99));
}

/* ---- signature ------------------------------------------------------- */

static void test_signature(void **state)
{
    struct secfix *f = *state;
    add_user(f, "alice", "operator", 10, SEC_AREAS_ALL);
    char token[BW_SECURITY_TOKEN_LEN + 1];
    login_ok(f, "alice", token);
    struct bw_security_object obj = {.name = "Pump1.Start",
                                     .level = 10,
                                     .areas = SEC_AREAS_ALL,
                                     .permission = BW_PERM_TAG_WRITE,
                                     .needs_signature = true};
    assert_int_equal(decide(f, token, &obj, NULL, NULL), BW_SECURITY_DENY_SIGNATURE);
    assert_detail(f, BW_AUDIT_EV_SIGNATURE, "failure", "no signature given");

    /* A wrong password: refused, recorded with the object and reason,
     * and counted against the account like a failed login. */
    const char *why = "Manual start for maintenance";
    struct bw_security_evidence ev = {
        .password = "not-my-password", .password_len = strlen("not-my-password"), .reason = why};
    assert_int_equal(decide(f, token, &obj, &ev, NULL), BW_SECURITY_DENY_SIGNATURE);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SIGNATURE, BW_AUDIT_FAILURE, "alice"), 2);
    json_t *d = last_details(f, BW_AUDIT_EV_SIGNATURE);
    assert_string_equal(json_string_value(json_object_get(d, "object")), "Pump1.Start");
    assert_string_equal(json_string_value(json_object_get(d, "reason")), why);
    assert_string_equal(json_string_value(json_object_get(d, "failure")), "wrong password");
    assert_string_equal(json_string_value(json_object_get(d, "permission")), "tag.write");
    json_decref(d);
    assert_detail(f, BW_AUDIT_EV_ACCESS_DENIED, "reason", "signature");
    struct bw_security_user_info ui;
    assert_int_equal(bw_security_user_get(f->sec, "alice", &ui), BW_OK);
    assert_int_equal(ui.failed_logins, 1);

    /* A reason is required, and bounded. */
    ev.password = GOOD;
    ev.password_len = strlen(GOOD);
    ev.reason = "";
    assert_int_equal(decide(f, token, &obj, &ev, NULL), BW_SECURITY_DENY_SIGNATURE);
    assert_detail(f, BW_AUDIT_EV_SIGNATURE, "failure", "no reason given");
    ev.reason = NULL;
    assert_int_equal(decide(f, token, &obj, &ev, NULL), BW_SECURITY_DENY_SIGNATURE);
    char long_reason[BW_SECURITY_REASON_MAX + 2];
    memset(long_reason, 'r', sizeof(long_reason) - 1);
    long_reason[sizeof(long_reason) - 1] = '\0';
    ev.reason = long_reason;
    assert_int_equal(decide(f, token, &obj, &ev, NULL), BW_SECURITY_DENY_SIGNATURE);
    assert_detail(f, BW_AUDIT_EV_SIGNATURE, "failure", "reason too long");
    long_reason[BW_SECURITY_REASON_MAX] = '\0'; /* exactly the maximum */
    assert_int_equal(decide(f, token, &obj, &ev, NULL), BW_SECURITY_ALLOWED);

    ev.reason = why;
    struct bw_security_decision dec;
    assert_int_equal(decide(f, token, &obj, &ev, &dec), BW_SECURITY_ALLOWED);
    assert_string_equal(dec.user, "alice");
    assert_string_equal(dec.approver, "");
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SIGNATURE, BW_AUDIT_SUCCESS, "alice"), 2);
    assert_detail(f, BW_AUDIT_EV_SIGNATURE, "reason", why);
    assert_int_equal(bw_security_user_get(f->sec, "alice", &ui), BW_OK);
    assert_int_equal(ui.failed_logins, 0);
}

/* ---- dual approval --------------------------------------------------- */

static void test_approval(void **state)
{
    struct secfix *f = *state;
    add_user(f, "alice", "operator", 10, SEC_AREAS_ALL);
    add_user(f, "bob", "operator", 10, AREA(2));
    add_user(f, "vic", "viewer", 10, SEC_AREAS_ALL);
    add_user(f, "lou", "operator", 5, SEC_AREAS_ALL);
    add_user(f, "arno", "operator", 10, AREA(3));
    add_user(f, "svc", "operator", 10, SEC_AREAS_ALL);
    struct bw_security_user_change service = {.set_type = true, .type = BW_SECURITY_SERVICE};
    struct bw_security_actor terminal = {.os_user = "test"};
    char why[256];
    assert_int_equal(bw_security_user_modify(f->sec, &terminal, "svc", &service, why, sizeof(why)),
                     BW_OK);
    char token[BW_SECURITY_TOKEN_LEN + 1];
    login_ok(f, "alice", token);
    struct bw_security_object obj = {.name = "Valve7.Open",
                                     .level = 10,
                                     .areas = AREA(2),
                                     .permission = BW_PERM_TAG_WRITE,
                                     .needs_approval = true};
    assert_int_equal(decide(f, token, &obj, NULL, NULL), BW_SECURITY_DENY_APPROVAL);
    assert_detail(f, BW_AUDIT_EV_APPROVAL, "failure", "no approver given");

    static const struct {
        const char *approver;
        const char *password;
        const char *failure;
    } refused[] = {
        {"alice", GOOD, "same user"},
        {"vic", GOOD, "approver lacks the permission"},
        {"lou", GOOD, "approver's level too low"},
        {"arno", GOOD, "approver lacks the area"},
        {"svc", GOOD, "service account"},
        {"bob", "not-bobs-password", "wrong password"},
        {"nobody", GOOD, "unknown user"},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(refused); i++) {
        struct bw_security_evidence ev = {.approver = refused[i].approver,
                                          .approver_password = refused[i].password,
                                          .approver_password_len = strlen(refused[i].password)};
        struct bw_security_decision dec;
        assert_int_equal(decide(f, token, &obj, &ev, &dec), BW_SECURITY_DENY_APPROVAL);
        assert_string_equal(dec.approver, "");
        json_t *d = last_details(f, BW_AUDIT_EV_APPROVAL);
        const char *failure = json_string_value(json_object_get(d, "failure"));
        if (!failure || strcmp(failure, refused[i].failure) != 0)
            fail_msg("approver %s: %s, not %s", refused[i].approver, failure ? failure : "(none)",
                     refused[i].failure);
        assert_string_equal(json_string_value(json_object_get(d, "user")), "alice");
        assert_string_equal(json_string_value(json_object_get(d, "object")), "Valve7.Open");
        json_decref(d);
        assert_detail(f, BW_AUDIT_EV_ACCESS_DENIED, "reason", "approval");
    }
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_APPROVAL, BW_AUDIT_FAILURE, "alice"), 1);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_APPROVAL, BW_AUDIT_FAILURE, NULL),
                     BW_ARRAY_LEN(refused) + 1);
    struct bw_security_user_info ui;
    assert_int_equal(bw_security_user_get(f->sec, "bob", &ui), BW_OK);
    assert_int_equal(ui.failed_logins, 1);

    struct bw_security_evidence ev = {
        .approver = "bob", .approver_password = GOOD, .approver_password_len = strlen(GOOD)};
    struct bw_security_decision dec;
    assert_int_equal(decide(f, token, &obj, &ev, &dec), BW_SECURITY_ALLOWED);
    assert_string_equal(dec.user, "alice");
    assert_string_equal(dec.approver, "bob");
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_APPROVAL, BW_AUDIT_SUCCESS, "bob"), 1);
    assert_detail(f, BW_AUDIT_EV_APPROVAL, "user", "alice");

    /* Signature and approval together: both recorded. */
    obj.needs_signature = true;
    ev.password = GOOD;
    ev.password_len = strlen(GOOD);
    ev.reason = "Draining the line";
    assert_int_equal(decide(f, token, &obj, &ev, &dec), BW_SECURITY_ALLOWED);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SIGNATURE, BW_AUDIT_SUCCESS, "alice"), 1);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_APPROVAL, BW_AUDIT_SUCCESS, "bob"), 2);
}

/* ---- supervisor override --------------------------------------------- */

struct cast {
    char sup[BW_SECURITY_TOKEN_LEN + 1], op[BW_SECURITY_TOKEN_LEN + 1];
    char adm[BW_SECURITY_TOKEN_LEN + 1], view[BW_SECURITY_TOKEN_LEN + 1];
    char op_id[BW_SECURITY_SESSION_ID_LEN + 1], sup_id[BW_SECURITY_SESSION_ID_LEN + 1];
};

static void cast_open(struct secfix *f, struct cast *c)
{
    add_user(f, "sue", "supervisor", 100, SEC_AREAS_ALL);
    add_user(f, "otto", "operator", 10, AREA(1));
    add_user(f, "ada", "supervisor,auditor", 100, SEC_AREAS_ALL);
    add_user(f, "val", "viewer", 1, SEC_AREAS_ALL);
    login_ok(f, "sue", c->sup);
    login_ok(f, "otto", c->op);
    login_ok(f, "ada", c->adm);
    login_ok(f, "val", c->view);
    id_of(f, c->op, c->op_id);
    id_of(f, c->sup, c->sup_id);
}

/* Supervisors here also manage sessions (no account may hold both
 * user.manage and override), so that what is never lent is at hand. */
static void adjust_supervisor(struct bw_project_security *p)
{
    size_t i = bw_project_role_find(p, "supervisor");
    assert_true(i != SIZE_MAX);
    p->roles[i].permissions |= PERM(BW_PERM_SESSION_MANAGE);
}

static int setup_override(void **state)
{
    struct secfix *f = calloc(1, sizeof(*f));
    if (!f || secfix_open(f, adjust_supervisor) != BW_OK) {
        if (f)
            secfix_close(f);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int setup_override_fake(void **state)
{
    bw_clock_fake_set(T0, 1000000);
    return setup_override(state);
}

static const struct bw_security_object boiler = {
    .name = "Boiler.Setpoint", .level = 50, .areas = AREA(2), .permission = BW_PERM_TAG_WRITE};
static const struct bw_security_object shelve = {
    .name = "Alarm.Shelve", .level = 1, .areas = SEC_AREAS_ALL, .permission = BW_PERM_ALARM_SHELVE};

static void test_override_grant_and_expiry(void **state)
{
    struct secfix *f = *state;
    struct cast c;
    cast_open(f, &c);
    const char *reason = "Valve stuck; covering the night shift";
    char why[256];
    assert_int_equal(decide(f, c.op, &boiler, NULL, NULL), BW_SECURITY_DENY_LEVEL);
    /* Only the override permission lends. */
    assert_int_equal(bw_security_override_grant(f->sec, c.view, c.op_id, 60, reason, why, 256),
                     BW_EDENIED);
    assert_detail(f, BW_AUDIT_EV_ACCESS_DENIED, "permission", "override");
    assert_int_equal(bw_security_override_grant(f->sec, "bad", c.op_id, 60, reason, why, 256),
                     BW_EDENIED);
    /* Bounds. */
    uint32_t max = f->policy.sessions.override_max_seconds;
    assert_int_equal(bw_security_override_grant(f->sec, c.sup, c.op_id, 0, reason, why, 256),
                     BW_EINVAL);
    assert_int_equal(bw_security_override_grant(f->sec, c.sup, c.op_id, max + 1, reason, why, 256),
                     BW_EINVAL);
    assert_non_null(strstr(why, "seconds"));
    assert_int_equal(bw_security_override_grant(f->sec, c.sup, c.op_id, 60, "", why, 256),
                     BW_EINVAL);
    assert_int_equal(bw_security_override_grant(f->sec, c.sup, c.op_id, 60, NULL, why, 256),
                     BW_EINVAL);
    assert_non_null(strstr(why, "reason"));
    assert_int_equal(bw_security_override_grant(f->sec, c.sup, c.sup_id, 60, reason, why, 256),
                     BW_EINVAL);
    char sup2[BW_SECURITY_TOKEN_LEN + 1], sup2_id[BW_SECURITY_SESSION_ID_LEN + 1];
    login_ok(f, "sue", sup2);
    id_of(f, sup2, sup2_id);
    assert_int_equal(bw_security_override_grant(f->sec, c.sup, sup2_id, 60, reason, why, 256),
                     BW_EINVAL);
    assert_int_equal(bw_security_override_grant(f->sec, c.sup, "0123456789abcdef0123456789abcdef",
                                                60, reason, why, 256),
                     BW_ENOTFOUND);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_OVERRIDE_STARTED, BW_AUDIT_FAILURE, "sue"), 7);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_OVERRIDE_STARTED, BW_AUDIT_SUCCESS, NULL), 0);

    assert_int_equal(bw_security_override_grant(f->sec, c.sup, c.op_id, 60, reason, why, 256),
                     BW_OK);
    json_t *d = last_details(f, BW_AUDIT_EV_OVERRIDE_STARTED);
    assert_string_equal(json_string_value(json_object_get(d, "user")), "otto");
    assert_string_equal(json_string_value(json_object_get(d, "id")), c.op_id);
    assert_string_equal(json_string_value(json_object_get(d, "reason")), reason);
    assert_int_equal(json_integer_value(json_object_get(d, "seconds")), 60);
    assert_int_equal(json_integer_value(json_object_get(d, "level")), 100);
    json_decref(d);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_OVERRIDE_STARTED, BW_AUDIT_SUCCESS, "sue"), 1);
    assert_int_equal(bw_security_override_grant(f->sec, c.sup, c.op_id, 60, reason, why, 256),
                     BW_EBUSY);

    struct bw_security_session_info info;
    assert_int_equal(bw_security_session_check(f->sec, c.op, NULL, &info), BW_OK);
    assert_true(info.elevated);
    struct sec_subject s;
    assert_int_equal(sec_session_subject(f->sec, c.op, true, &s), BW_OK);
    assert_true(s.elevated);
    assert_string_equal(s.elevated_by, "sue");
    assert_int_equal(s.level, 100);
    assert_int_equal(decide(f, c.op, &boiler, NULL, NULL), BW_SECURITY_ALLOWED);
    assert_int_equal(decide(f, c.op, &shelve, NULL, NULL), BW_SECURITY_ALLOWED);

    /* At its end the tick takes it back, recorded. */
    bw_clock_fake_advance(59 * SEC);
    assert_int_equal(decide(f, c.op, &boiler, NULL, NULL), BW_SECURITY_ALLOWED);
    bw_clock_fake_advance(SEC);
    bw_security_tick(f->sec);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_OVERRIDE_ENDED, BW_AUDIT_SUCCESS, "otto"), 1);
    d = last_details(f, BW_AUDIT_EV_OVERRIDE_ENDED);
    assert_string_equal(json_string_value(json_object_get(d, "reason")), "expired");
    assert_string_equal(json_string_value(json_object_get(d, "supervisor")), "sue");
    assert_string_equal(json_string_value(json_object_get(d, "id")), c.op_id);
    json_decref(d);
    assert_int_equal(decide(f, c.op, &boiler, NULL, NULL), BW_SECURITY_DENY_LEVEL);
    assert_int_equal(decide(f, c.op, &shelve, NULL, NULL), BW_SECURITY_DENY_PERMISSION);
    assert_int_equal(bw_security_session_check(f->sec, c.op, NULL, &info), BW_OK);
    assert_false(info.elevated);
    bw_security_tick(f->sec);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_OVERRIDE_ENDED, 0, NULL), 1);
}

/* Account and session administration are never lent, nor the override
 * itself (separation of duties). */
static void test_override_never_lends_administration(void **state)
{
    struct secfix *f = *state;
    struct cast c;
    cast_open(f, &c);
    char why[256];
    assert_int_equal(
        bw_security_override_grant(f->sec, c.adm, c.op_id, 300, "Shift handover", why, 256), BW_OK);
    json_t *d = last_details(f, BW_AUDIT_EV_OVERRIDE_STARTED);
    json_t *perms = json_object_get(d, "permissions");
    assert_true(json_is_array(perms));
    for (size_t i = 0; i < json_array_size(perms); i++) {
        const char *p = json_string_value(json_array_get(perms, i));
        assert_string_not_equal(p, "user.manage");
        assert_string_not_equal(p, "session.manage");
        assert_string_not_equal(p, "override");
    }
    json_decref(d);
    assert_int_equal(decide(f, c.op, &boiler, NULL, NULL), BW_SECURITY_ALLOWED);
    struct bw_security_actor ada = {.session = c.adm};
    static const enum bw_permission kept[] = {BW_PERM_USER_MANAGE, BW_PERM_SESSION_MANAGE,
                                              BW_PERM_OVERRIDE};
    for (size_t i = 0; i < BW_ARRAY_LEN(kept); i++) {
        struct bw_security_object obj = {
            .name = "admin", .level = 1, .areas = SEC_AREAS_ALL, .permission = kept[i]};
        assert_int_equal(decide(f, c.op, &obj, NULL, NULL), BW_SECURITY_DENY_PERMISSION);
    }
    /* Nor can the holder use what it was not lent. */
    char view_id[BW_SECURITY_SESSION_ID_LEN + 1];
    id_of(f, c.view, view_id);
    assert_int_equal(bw_security_override_grant(f->sec, c.op, view_id, 60, "again", why, 256),
                     BW_EDENIED);
    struct bw_security_actor op = {.session = c.op};
    assert_int_equal(bw_security_session_terminate(f->sec, &op, view_id), BW_EDENIED);
    struct bw_security_user_change change = {.set_level = true, .level = 9};
    assert_int_equal(bw_security_user_modify(f->sec, &op, "val", &change, why, sizeof(why)),
                     BW_EDENIED);
    struct sec_subject s;
    assert_int_equal(sec_session_subject(f->sec, c.op, true, &s), BW_OK);
    assert_int_equal(s.permissions & SEC_OVERRIDE_NEVER_LENT, 0);
    /* The lender itself does manage sessions. */
    assert_int_equal(bw_security_session_terminate(f->sec, &ada, view_id), BW_OK);

    /* Whatever is asked for, the table lends none of them. */
    assert_int_equal(bw_security_override_end(f->sec, c.adm, c.op_id), BW_OK);
    struct sec_override all = {.level = 1, .areas = AREA(1), .permissions = SEC_PERM_ALL};
    bw_strlcpy(all.supervisor, "ada", sizeof(all.supervisor));
    all.end_us = bw_clock_realtime_us() + 60 * SEC;
    all.end_mono = bw_clock_monotonic_us() + 60 * SEC;
    assert_int_equal(sec_session_override_set(f->sec, c.op_id, &all, &s), BW_OK);
    assert_true(s.elevated);
    assert_int_equal(s.permissions & SEC_OVERRIDE_NEVER_LENT, 0);
    assert_int_equal(s.permissions & PERM(BW_PERM_ALARM_SHELVE), PERM(BW_PERM_ALARM_SHELVE));
}

/* An override ends early by its supervisor or its holder, not by
 * anyone else; a change to the supervisor's account ends it; a takeover
 * of the session ends it. Each end recorded. */
static void test_override_ends(void **state)
{
    struct secfix *f = *state;
    struct cast c;
    cast_open(f, &c);
    char why[256];
    assert_int_equal(bw_security_override_grant(f->sec, c.sup, c.op_id, 600, "Cover", why, 256),
                     BW_OK);
    assert_int_equal(bw_security_override_end(f->sec, c.view, c.op_id), BW_EDENIED);
    assert_int_equal(bw_security_override_end(f->sec, "nope", c.op_id), BW_ENOTFOUND);
    assert_int_equal(bw_security_override_end(f->sec, c.sup, c.op_id), BW_OK);
    assert_detail(f, BW_AUDIT_EV_OVERRIDE_ENDED, "reason", "ended by the supervisor");
    assert_int_equal(decide(f, c.op, &boiler, NULL, NULL), BW_SECURITY_DENY_LEVEL);
    assert_int_equal(bw_security_override_end(f->sec, c.sup, c.op_id), BW_ESTATE);

    assert_int_equal(bw_security_override_grant(f->sec, c.sup, c.op_id, 600, "Cover", why, 256),
                     BW_OK);
    assert_int_equal(bw_security_override_end(f->sec, c.op, c.op_id), BW_OK);
    assert_detail(f, BW_AUDIT_EV_OVERRIDE_ENDED, "reason", "ended by the holder");
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_OVERRIDE_ENDED, BW_AUDIT_SUCCESS, "otto"), 1);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_OVERRIDE_ENDED, BW_AUDIT_SUCCESS, "sue"), 1);

    /* The supervisor's account disabled: what it lent ends. */
    assert_int_equal(bw_security_override_grant(f->sec, c.sup, c.op_id, 600, "Cover", why, 256),
                     BW_OK);
    struct bw_security_actor terminal = {.os_user = "test"};
    assert_int_equal(bw_security_user_set_state(f->sec, &terminal, "sue", false, why, sizeof(why)),
                     BW_OK);
    assert_detail(f, BW_AUDIT_EV_OVERRIDE_ENDED, "reason", "supervisor account changed");
    assert_int_equal(decide(f, c.op, &boiler, NULL, NULL), BW_SECURITY_DENY_LEVEL);

    /* A session taken over loses what its holder was lent. */
    assert_int_equal(bw_security_override_grant(f->sec, c.adm, c.op_id, 600, "Cover", why, 256),
                     BW_OK);
    assert_int_equal(bw_security_session_lock(f->sec, c.op), BW_OK);
    struct bw_security_login_request req = {
        .user = "val", .password = GOOD, .password_len = strlen(GOOD), .address = "10.3.0.5"};
    struct bw_security_login_result res;
    assert_int_equal(bw_security_session_unlock(f->sec, c.op, &req, &res), BW_OK);
    assert_int_equal(res.outcome, BW_SECURITY_LOGIN_OK);
    assert_detail(f, BW_AUDIT_EV_OVERRIDE_ENDED, "reason", "session taken over");
    struct sec_subject s;
    assert_int_equal(sec_session_subject(f->sec, res.token, true, &s), BW_OK);
    assert_false(s.elevated);
    assert_string_equal(s.user, "val");
    assert_int_equal(s.permissions, PERM(BW_PERM_TAG_READ));
    /* Logout ends a live one, recorded as well. */
    char val_id[BW_SECURITY_SESSION_ID_LEN + 1];
    id_of(f, res.token, val_id);
    assert_int_equal(bw_security_override_grant(f->sec, c.adm, val_id, 600, "Cover", why, 256),
                     BW_OK);
    assert_int_equal(bw_security_logout(f->sec, res.token), BW_OK);
    assert_detail(f, BW_AUDIT_EV_OVERRIDE_ENDED, "reason", "session ended");
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_OVERRIDE_STARTED, BW_AUDIT_SUCCESS, NULL), 5);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_OVERRIDE_ENDED, BW_AUDIT_SUCCESS, NULL), 5);
}

/* ---- failing closed -------------------------------------------------- */

static void test_fail_closed(void **state)
{
    (void)state;
    struct secfix fx, *f = &fx;
    memset(f, 0, sizeof(*f));
    bw_strlcpy(f->dir, "/tmp/bw-sec-XXXXXX", sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(bw_project_security_defaults(&f->policy), BW_OK);
    adjust_supervisor(&f->policy);
    /* Test-only Argon2 parameters (the loader refuses them; the paths
     * are the same). */
    f->policy.password.argon2_memory_kib = 256;
    f->policy.password.argon2_iterations = 1;
    struct bw_audit_config cfg;
    bw_audit_config_defaults(&cfg, f->dir);
    cfg.max_bytes = 256 * 1024;
    cfg.when_full = BW_AUDIT_FULL_REFUSE;
    assert_int_equal(bw_audit_open(&cfg, &f->audit), BW_OK);
    struct bw_security_config sc = {
        .state_dir = f->dir, .policy = &f->policy, .project_dir = f->dir, .audit = f->audit};
    assert_int_equal(bw_security_open(&sc, &f->sec), BW_OK);
    struct cast c;
    cast_open(f, &c);
    add_user(f, "bob", "operator", 100, SEC_AREAS_ALL);
    assert_int_equal(bw_security_session_lock(f->sec, c.view), BW_OK);

    /* Fill the trail to its limit: the refuse policy then stops every
     * non-essential operation. */
    char filler[4000];
    memset(filler, 'x', sizeof(filler) - 1);
    filler[sizeof(filler) - 1] = '\0';
    json_t *details = json_pack("{s:s}", "filler", filler);
    struct bw_audit_event ev = {.id = BW_AUDIT_EV_DAEMON_START,
                                .result = BW_AUDIT_SUCCESS,
                                .source = {.kind = BW_AUDIT_SOURCE_PROCESS, .name = "test"},
                                .details = details};
    for (int i = 0; i < 2000 && bw_audit_gate(f->audit) == BW_OK; i++)
        assert_int_equal(bw_audit_record(f->audit, &ev, NULL), BW_OK);
    json_decref(details);
    assert_int_equal(bw_audit_gate(f->audit), BW_EDENIED);

    /* Plain rights need no record of their own. */
    assert_int_equal(decide(f, c.sup, &boiler, NULL, NULL), BW_SECURITY_ALLOWED);
    /* A signature or an approval that cannot be recorded does not hold. */
    struct bw_security_object signed_obj = boiler;
    signed_obj.needs_signature = true;
    struct bw_security_evidence sig = {
        .password = GOOD, .password_len = strlen(GOOD), .reason = "Test"};
    assert_int_equal(decide(f, c.sup, &signed_obj, &sig, NULL), BW_SECURITY_DENY_AUDIT);
    struct bw_security_object approved = boiler;
    approved.needs_approval = true;
    struct bw_security_evidence appr = {
        .approver = "bob", .approver_password = GOOD, .approver_password_len = strlen(GOOD)};
    struct bw_security_decision dec;
    assert_int_equal(decide(f, c.sup, &approved, &appr, &dec), BW_SECURITY_DENY_AUDIT);
    assert_string_equal(dec.approver, "");
    /* Nor an override. */
    char why[256];
    assert_int_equal(bw_security_override_grant(f->sec, c.sup, c.op_id, 60, "Cover", why, 256),
                     BW_EDENIED);
    assert_non_null(strstr(why, "audit"));
    struct sec_subject s;
    assert_int_equal(sec_session_subject(f->sec, c.op, true, &s), BW_OK);
    assert_false(s.elevated);
    assert_int_equal(decide(f, c.op, &boiler, NULL, NULL), BW_SECURITY_DENY_LEVEL);
    /* Nor an unlock: the session stays locked. */
    struct bw_security_login_request req = {
        .user = "val", .password = GOOD, .password_len = strlen(GOOD), .address = "10.3.0.5"};
    struct bw_security_login_result res;
    assert_int_equal(bw_security_session_unlock(f->sec, c.view, &req, &res), BW_OK);
    assert_int_equal(res.outcome, BW_SECURITY_LOGIN_FAILED);
    assert_string_equal(res.token, "");
    assert_int_equal(bw_security_session_check(f->sec, c.view, NULL, NULL), BW_ESTATE);
    /* Nor a takeover: the session ends instead. */
    req.user = "bob";
    assert_int_equal(bw_security_session_unlock(f->sec, c.view, &req, &res), BW_OK);
    assert_int_equal(res.outcome, BW_SECURITY_LOGIN_FAILED);
    assert_string_equal(res.token, "");
    assert_int_equal(bw_security_session_check(f->sec, c.view, NULL, NULL), BW_ENOTFOUND);
    assert_int_equal(sec_sessions_count(f->sec), 3);
    secfix_close(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_role_matrix, secfix_setup, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_level_area_grid, secfix_setup, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_rule_order, secfix_setup, secfix_teardown),
        cmocka_unit_test(test_reason_names),
        cmocka_unit_test_setup_teardown(test_signature, secfix_setup, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_approval, secfix_setup, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_override_grant_and_expiry, setup_override_fake,
                                        teardown_fake),
        cmocka_unit_test_setup_teardown(test_override_never_lends_administration, setup_override,
                                        secfix_teardown),
        cmocka_unit_test_setup_teardown(test_override_ends, setup_override, secfix_teardown),
        cmocka_unit_test(test_fail_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
