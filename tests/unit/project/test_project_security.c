/* SPDX-License-Identifier: Apache-2.0
 *
 * The project's security section: the defaults a project without it gets
 * (the six roles and every policy number), a full section read into the
 * structs, roles that replace a default or are added, the directory, the
 * tag flags for dual approval and signature, the limits, and unwinding
 * when memory runs out. Refusals: test_project_security_errors.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit/project/project_test.h"

#include "unit/project/security_test.h"

/* ---- defaults ------------------------------------------------------- */

static const struct {
    const char *name;
    uint32_t permissions;
} want_roles[] = {
    {"viewer", P(BW_PERM_TAG_READ)},
    {"operator", P(BW_PERM_TAG_READ) | P(BW_PERM_TAG_WRITE) | P(BW_PERM_ALARM_ACK)},
    {"supervisor", P(BW_PERM_TAG_READ) | P(BW_PERM_TAG_WRITE) | P(BW_PERM_ALARM_ACK) |
                       P(BW_PERM_ALARM_SHELVE) | P(BW_PERM_OVERRIDE)},
    {"engineer", P(BW_PERM_TAG_READ) | P(BW_PERM_TAG_WRITE) | P(BW_PERM_ALARM_ACK) |
                     P(BW_PERM_ALARM_SHELVE) | P(BW_PERM_CONFIG_CHANGE) | P(BW_PERM_BACKUP_RUN)},
    {"security-admin", P(BW_PERM_USER_MANAGE) | P(BW_PERM_SESSION_MANAGE) | P(BW_PERM_AUDIT_READ)},
    {"auditor", P(BW_PERM_AUDIT_READ)},
};

static void expect_default_roles(const struct bw_project_security *s)
{
    assert_int_equal(s->role_count, BW_ARRAY_LEN(want_roles));
    for (size_t i = 0; i < BW_ARRAY_LEN(want_roles); i++) {
        assert_string_equal(s->roles[i].name, want_roles[i].name);
        assert_int_equal(s->roles[i].permissions, want_roles[i].permissions);
        assert_int_equal(bw_project_role_find(s, want_roles[i].name), i);
        /* Security administration and process operation are separate. */
        uint32_t both = P(BW_PERM_USER_MANAGE) | P(BW_PERM_TAG_WRITE);
        assert_true((s->roles[i].permissions & both) != both);
    }
}

static void expect_policy_defaults(const struct bw_project_security *s)
{
    const struct bw_project_password_policy *pw = &s->password;
    assert_int_equal(pw->min_length, 12);
    assert_int_equal(pw->max_length, 128);
    assert_int_equal(pw->require_classes, BW_PWCLASS_LOWER | BW_PWCLASS_UPPER | BW_PWCLASS_DIGIT);
    assert_int_equal(pw->min_classes, 0);
    assert_true(pw->reject_user_name);
    assert_int_equal(pw->history, 5);
    assert_true(pw->dictionary_check);
    assert_int_equal(pw->max_age_days, 0);
    assert_int_equal(pw->min_age_hours, 0);
    assert_int_equal(pw->argon2_memory_kib, 19456);
    assert_int_equal(pw->argon2_iterations, 2);
    assert_int_equal(pw->argon2_parallelism, 1);
    assert_int_equal(pw->hash_concurrency, 2);
    assert_int_equal(pw->hash_queue, 64);
    const struct bw_project_lockout_policy *lo = &s->lockout;
    assert_int_equal(lo->max_failures, 5);
    assert_int_equal(lo->window_seconds, 900);
    assert_int_equal(lo->lock_seconds, 900);
    assert_int_equal(lo->address_max_failures, 20);
    assert_int_equal(lo->address_window_seconds, 300);
    const struct bw_project_session_policy *se = &s->sessions;
    assert_int_equal(se->idle_seconds, 900);
    assert_int_equal(se->lifetime_seconds, 43200);
    assert_int_equal(se->max_per_user, 3);
    assert_int_equal(se->max_total, 1000);
    assert_int_equal(se->when_full, BW_PROJECT_SESSION_REFUSE_NEW);
    assert_int_equal(se->override_max_seconds, 3600);
    assert_int_equal(se->approval_window_seconds, 120);
    assert_int_equal(s->mfa, BW_PROJECT_MFA_UNTRUSTED);
    assert_null(s->banner);
    assert_false(s->banner_must_accept);
    assert_null(s->ldap);
}

static void expect_defaults(const struct bw_project_security *s)
{
    expect_default_roles(s);
    expect_policy_defaults(s);
}

/* No section, an empty one, or empty parts: every default. */
static void test_defaults(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "{'format':1,'name':'p'}",
        SEC(""),
        SEC("'roles':[],'password':{'argon2':{}},'lockout':{},'sessions':{}"),
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(texts); i++) {
        struct bw_project *p = pt_parse_ok(texts[i]);
        expect_defaults(&p->security);
        bw_project_free(p);
    }
    /* On its own, for a policy built without a project. */
    struct bw_project_security s;
    assert_int_equal(bw_project_security_defaults(&s), BW_OK);
    expect_defaults(&s);
    assert_int_equal(bw_project_role_find(&s, "Operator"), SIZE_MAX);
    assert_int_equal(bw_project_role_find(&s, "operator "), SIZE_MAX);
    assert_int_equal(bw_project_role_find(&s, NULL), SIZE_MAX);
    assert_int_equal(bw_project_role_find(NULL, "viewer"), SIZE_MAX);
    bw_project_security_clear(&s);
    assert_null(s.roles);
    assert_int_equal(s.role_count, 0);
    bw_project_security_clear(&s); /* twice is fine */
    bw_project_security_clear(NULL);
}

/* Out of memory while the defaults are built: BW_ENOMEM, nothing held. */
static void test_defaults_out_of_memory(void **state)
{
    (void)state;
    for (long n = 0;; n++) {
        struct bw_project_security s;
        bw_alloc_fail_after(n);
        int rc = bw_project_security_defaults(&s);
        bw_alloc_fail_after(-1);
        if (rc == BW_OK) {
            assert_true(n > 6);
            expect_defaults(&s);
            bw_project_security_clear(&s);
            break;
        }
        assert_int_equal(rc, BW_ENOMEM);
        assert_null(s.roles);
        assert_int_equal(s.role_count, 0);
    }
}

/* ---- a full section ------------------------------------------------- */

#define FULL_SECTION                                                                               \
    SEC("'roles':[{'name':'operator','permissions':['tag.read','alarm.ack']},"                     \
        "{'name':'shift-lead','permissions':['override','tag.read','tag.write','alarm.ack',"       \
        "'alarm.shelve']},{'name':'nobody','permissions':[]}],"                                    \
        "'password':{'min_length':16,'max_length':256,'require':['symbol','lower'],"               \
        "'min_classes':3,'reject_user_name':false,'history':24,'dictionary_check':false,"          \
        "'max_age_days':365,'min_age_hours':24,"                                                   \
        "'argon2':{'memory_kib':65536,'iterations':3,'parallelism':4},"                            \
        "'hash_concurrency':4,'hash_queue':100},"                                                  \
        "'lockout':{'max_failures':3,'window_seconds':600,'lock_seconds':0,"                       \
        "'address_max_failures':50,'address_window_seconds':60},"                                  \
        "'sessions':{'idle_seconds':300,'lifetime_seconds':28800,'max_per_user':1,"                \
        "'max_total':200,'when_full':'end_oldest','override_max_seconds':1800,"                    \
        "'approval_window_seconds':60},"                                                           \
        "'mfa':'always','banner':'Authorised use only.\\nActivity is\\tmonitored.',"               \
        "'banner_must_accept':true,"                                                               \
        "'ldap':{'url':'ldap://dir.example.org:389','tls':'starttls',"                             \
        "'ca_file':'certs/dir-ca.pem','bind_dn':'cn=bulwark,ou=services,dc=example,dc=org',"       \
        "'bind_password_file':'secrets/ldap.pw','user_base':'ou=people,dc=example,dc=org',"        \
        "'user_filter':'(&(objectClass=person)(uid=%s))',"                                         \
        "'group_base':'ou=groups,dc=example,dc=org',"                                              \
        "'group_filter':'(&(objectClass=groupOfNames)(member=%s))','timeout_ms':2000,"             \
        "'level':100,'areas':[3,1],"                                                               \
        "'groups':[{'group':'cn=ops,ou=groups,dc=example,dc=org','role':'operator'},"              \
        "{'group':'cn=leads,ou=groups,dc=example,dc=org','role':'shift-lead'},"                    \
        "{'group':'cn=admins,ou=groups,dc=example,dc=org','role':'security-admin'}]}")

static void test_full_section(void **state)
{
    (void)state;
    struct bw_project *p = pt_parse_ok(FULL_SECTION);
    const struct bw_project_security *s = &p->security;
    assert_int_equal(s->role_count, 8);
    assert_string_equal(s->roles[1].name, "operator");
    assert_int_equal(s->roles[1].permissions, P(BW_PERM_TAG_READ) | P(BW_PERM_ALARM_ACK));
    assert_string_equal(s->roles[6].name, "shift-lead");
    assert_int_equal(s->roles[6].permissions, want_roles[2].permissions);
    assert_string_equal(s->roles[7].name, "nobody");
    assert_int_equal(s->roles[7].permissions, 0);

    const struct bw_project_password_policy *pw = &s->password;
    assert_int_equal(pw->min_length, 16);
    assert_int_equal(pw->max_length, 256);
    assert_int_equal(pw->require_classes, BW_PWCLASS_LOWER | BW_PWCLASS_SYMBOL);
    assert_int_equal(pw->min_classes, 3);
    assert_false(pw->reject_user_name);
    assert_int_equal(pw->history, 24);
    assert_false(pw->dictionary_check);
    assert_int_equal(pw->max_age_days, 365);
    assert_int_equal(pw->min_age_hours, 24);
    assert_int_equal(pw->argon2_memory_kib, 65536);
    assert_int_equal(pw->argon2_iterations, 3);
    assert_int_equal(pw->argon2_parallelism, 4);
    assert_int_equal(pw->hash_concurrency, 4);
    assert_int_equal(pw->hash_queue, 100);

    assert_int_equal(s->lockout.max_failures, 3);
    assert_int_equal(s->lockout.window_seconds, 600);
    assert_int_equal(s->lockout.lock_seconds, 0);
    assert_int_equal(s->lockout.address_max_failures, 50);
    assert_int_equal(s->lockout.address_window_seconds, 60);

    assert_int_equal(s->sessions.idle_seconds, 300);
    assert_int_equal(s->sessions.lifetime_seconds, 28800);
    assert_int_equal(s->sessions.max_per_user, 1);
    assert_int_equal(s->sessions.max_total, 200);
    assert_int_equal(s->sessions.when_full, BW_PROJECT_SESSION_END_OLDEST);
    assert_int_equal(s->sessions.override_max_seconds, 1800);
    assert_int_equal(s->sessions.approval_window_seconds, 60);

    assert_int_equal(s->mfa, BW_PROJECT_MFA_ALWAYS);
    assert_string_equal(s->banner, "Authorised use only.\nActivity is\tmonitored.");
    assert_true(s->banner_must_accept);

    const struct bw_project_ldap *l = s->ldap;
    assert_non_null(l);
    assert_string_equal(l->url, "ldap://dir.example.org:389");
    assert_int_equal(l->tls, BW_PROJECT_LDAP_STARTTLS);
    assert_string_equal(l->ca_file, "certs/dir-ca.pem");
    assert_string_equal(l->bind_dn, "cn=bulwark,ou=services,dc=example,dc=org");
    assert_string_equal(l->bind_password_file, "secrets/ldap.pw");
    assert_string_equal(l->user_base, "ou=people,dc=example,dc=org");
    assert_string_equal(l->user_filter, "(&(objectClass=person)(uid=%s))");
    assert_null(l->group_attribute);
    assert_string_equal(l->group_base, "ou=groups,dc=example,dc=org");
    assert_string_equal(l->group_filter, "(&(objectClass=groupOfNames)(member=%s))");
    assert_int_equal(l->timeout_ms, 2000);
    assert_int_equal(l->level, 100);
    assert_int_equal(l->areas, (1u << 1) | (1u << 3));
    assert_int_equal(l->group_count, 3);
    assert_string_equal(l->groups[0].group, "cn=ops,ou=groups,dc=example,dc=org");
    assert_int_equal(l->groups[0].role, 1);
    assert_string_equal(l->groups[1].group, "cn=leads,ou=groups,dc=example,dc=org");
    assert_int_equal(l->groups[1].role, 6);
    assert_int_equal(l->groups[2].role, 4);
    bw_project_free(p);
}

/* The directory with only what it requires, and with a group attribute
 * (and an IPv6 address, and the bounds). */
static void test_ldap_variants(void **state)
{
    (void)state;
    struct bw_project *p = pt_parse_ok(LDAP(LDAP_OK));
    const struct bw_project_ldap *l = p->security.ldap;
    assert_non_null(l);
    assert_string_equal(l->url, "ldaps://dir.example:636");
    assert_int_equal(l->tls, BW_PROJECT_LDAP_LDAPS);
    assert_null(l->bind_dn);
    assert_null(l->bind_password_file);
    assert_null(l->group_attribute);
    assert_null(l->group_base);
    assert_null(l->group_filter);
    assert_int_equal(l->timeout_ms, 5000);
    assert_int_equal(l->level, 1);
    assert_int_equal(l->areas, 0xFFFFFFFEu);
    assert_null(l->groups);
    assert_int_equal(l->group_count, 0);
    expect_default_roles(&p->security);
    bw_project_free(p);

    p = pt_parse_ok(LDAP("'url':'ldaps://[2001:db8::7]:10636/','tls':'ldaps','ca_file':'/ca',"
                         "'user_base':'dc=x','user_filter':'uid=%s','group_attribute':'memberOf',"
                         "'timeout_ms':100,'level':9999,'areas':[31],'groups':[{'group':'ops',"
                         "'role':'viewer'},{'group':'ops','role':'auditor'}]"));
    l = p->security.ldap;
    assert_string_equal(l->url, "ldaps://[2001:db8::7]:10636/");
    assert_string_equal(l->group_attribute, "memberOf");
    assert_int_equal(l->timeout_ms, 100);
    assert_int_equal(l->level, 9999);
    assert_int_equal(l->areas, 1u << 31);
    assert_int_equal(l->group_count, 2);
    assert_int_equal(l->groups[0].role, 0);
    assert_int_equal(l->groups[1].role, 5);
    bw_project_free(p);

    p = pt_parse_ok(LDAP("'url':'ldap://10.0.0.5','tls':'starttls','ca_file':'c',"
                         "'user_base':'b','user_filter':'%s','timeout_ms':60000"));
    assert_int_equal(p->security.ldap->tls, BW_PROJECT_LDAP_STARTTLS);
    assert_int_equal(p->security.ldap->timeout_ms, 60000);
    bw_project_free(p);
}

/* ---- roles ---------------------------------------------------------- */

/* A listed role with a default's name replaces it in place; another name
 * is added after the defaults, in the order listed. */
static void test_role_override_and_add(void **state)
{
    (void)state;
    struct bw_project *p =
        pt_parse_ok(ROLES("{'name':'shift_lead.2','permissions':['tag.read','override']},"
                          "{'name':'auditor','permissions':['audit.read','backup.run']},"
                          "{'name':'Viewer','permissions':['tag.read','alarm.ack']}"));
    const struct bw_project_security *s = &p->security;
    assert_int_equal(s->role_count, 8);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(s->roles[i].name, want_roles[i].name);
        assert_int_equal(s->roles[i].permissions, want_roles[i].permissions);
    }
    assert_string_equal(s->roles[5].name, "auditor");
    assert_int_equal(s->roles[5].permissions, P(BW_PERM_AUDIT_READ) | P(BW_PERM_BACKUP_RUN));
    assert_string_equal(s->roles[6].name, "shift_lead.2");
    assert_int_equal(s->roles[6].permissions, P(BW_PERM_TAG_READ) | P(BW_PERM_OVERRIDE));
    /* Names are exact: "Viewer" is a role of its own. */
    assert_string_equal(s->roles[7].name, "Viewer");
    assert_int_equal(bw_project_role_find(s, "Viewer"), 7);
    assert_int_equal(bw_project_role_find(s, "viewer"), 0);
    assert_int_equal(bw_project_role_find(s, "shift_lead.2"), 6);
    bw_project_free(p);

    /* A directory group may name an added role or a replaced default. */
    p = pt_parse_ok(SEC("'roles':[{'name':'operator','permissions':['tag.read']},"
                        "{'name':'night-shift','permissions':['tag.read','alarm.ack']}],"
                        "'ldap':{" LDAP_OK ",'group_attribute':'memberOf','groups':["
                        "{'group':'cn=night','role':'night-shift'},"
                        "{'group':'cn=ops','role':'operator'}]}"));
    assert_int_equal(p->security.ldap->groups[0].role, 6);
    assert_int_equal(p->security.ldap->groups[1].role, 1);
    assert_int_equal(p->security.roles[1].permissions, P(BW_PERM_TAG_READ));
    bw_project_free(p);
}

/* Builds a roles list of count roles named r0, r1, ... (the first
 * `defaults` of them named after the default roles instead). */
static char *roles_text(size_t count, size_t defaults)
{
    struct bw_buf buf;
    bw_buf_init(&buf, 1u << 16);
    assert_int_equal(
        bw_buf_append_str(&buf, "{\"format\":1,\"name\":\"p\",\"security\":{\"roles\":["), BW_OK);
    for (size_t i = 0; i < count; i++) {
        if (i < defaults)
            assert_int_equal(bw_buf_printf(&buf, "%s{\"name\":\"%s\",\"permissions\":[]}",
                                           i ? "," : "", want_roles[i].name),
                             BW_OK);
        else
            assert_int_equal(
                bw_buf_printf(&buf, "%s{\"name\":\"r%zu\",\"permissions\":[]}", i ? "," : "", i),
                BW_OK);
    }
    assert_int_equal(bw_buf_append_str(&buf, "]}}"), BW_OK);
    return buf.data;
}

static int parse_raw(const char *json, struct bw_project **p, struct bw_project_errors *errors)
{
    return bw_project_parse(json, strlen(json), p, errors);
}

/* 64 roles in all; the list itself at most 64 long. */
static void test_role_limits(void **state)
{
    (void)state;
    struct bw_project *p = NULL;
    struct bw_project_errors errors = {0};
    /* 58 added + the 6 defaults. */
    char *text = roles_text(58, 0);
    assert_int_equal(parse_raw(text, &p, &errors), BW_OK);
    assert_int_equal(p->security.role_count, BW_PROJECT_MAX_ROLES);
    assert_string_equal(p->security.roles[63].name, "r57");
    bw_project_free(p);
    free(text);
    /* 64 listed, 6 of them replacing defaults. */
    text = roles_text(64, 6);
    assert_int_equal(parse_raw(text, &p, &errors), BW_OK);
    assert_int_equal(p->security.role_count, BW_PROJECT_MAX_ROLES);
    assert_int_equal(p->security.roles[0].permissions, 0);
    bw_project_free(p);
    free(text);
    /* 59 added make 65. */
    text = roles_text(59, 0);
    assert_int_equal(parse_raw(text, &p, &errors), BW_EMALFORMED);
    assert_null(p);
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.items[0].path, "security.roles");
    assert_string_equal(errors.items[0].reason,
                        "makes 65 roles with the default ones; at most 64 are allowed");
    free(text);
    /* A list of 65 is refused before it is read. */
    text = roles_text(65, 6);
    assert_int_equal(parse_raw(text, &p, &errors), BW_ETOOLARGE);
    assert_null(p);
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.items[0].path, "security.roles");
    assert_string_equal(errors.items[0].reason, "has 65 roles; at most 64 are allowed");
    free(text);

    /* 64 group mappings, then 65. */
    struct bw_buf buf;
    bw_buf_init(&buf, 1u << 16);
    assert_int_equal(bw_buf_append_str(&buf, "{'format':1,'name':'p','security':{'ldap':{" LDAP_OK
                                             ",'group_attribute':'memberOf','groups':["),
                     BW_OK);
    for (int i = 0; i < 64; i++)
        assert_int_equal(
            bw_buf_printf(&buf, "%s{'group':'cn=g%d','role':'viewer'}", i ? "," : "", i), BW_OK);
    size_t len = buf.len;
    assert_int_equal(bw_buf_append_str(&buf, "]}}}"), BW_OK);
    p = pt_parse_ok(buf.data);
    assert_int_equal(p->security.ldap->group_count, 64);
    assert_string_equal(p->security.ldap->groups[63].group, "cn=g63");
    bw_project_free(p);
    buf.len = len;
    assert_int_equal(bw_buf_append_str(&buf, ",{'group':'x','role':'viewer'}]}}}"), BW_OK);
    assert_int_equal(pt_parse(buf.data, &p, &errors), BW_ETOOLARGE);
    assert_null(p);
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.items[0].path, "security.ldap.groups");
    assert_string_equal(errors.items[0].reason, "has 65 groups; at most 64 are allowed");
    bw_buf_clear(&buf);
    bw_project_errors_clear(&errors);
}

/* ---- the banner ----------------------------------------------------- */

static void test_banner(void **state)
{
    (void)state;
    char *text = malloc(4200);
    assert_non_null(text);
    /* 4096 bytes, of which some are a three-byte character. */
    size_t n = (size_t)snprintf(text, 4200, "{'format':1,'name':'p','security':{'banner':'");
    memcpy(text + n, "\xe2\x9a\xa0 ", 4);
    memset(text + n + 4, 'b', 4092);
    memcpy(text + n + 4096, "'}}", 4);
    struct bw_project *p = pt_parse_ok(text);
    assert_int_equal(strlen(p->security.banner), 4096);
    assert_false(p->security.banner_must_accept);
    bw_project_free(p);
    memcpy(text + n + 4096, "b'}}", 5);
    struct bw_project_errors errors = {0};
    assert_int_equal(pt_parse(text, &p, &errors), BW_EMALFORMED);
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.items[0].path, "security.banner");
    assert_string_equal(errors.items[0].reason, "must be at most 4096 bytes");
    bw_project_errors_clear(&errors);
    free(text);
}

/* ---- tags: dual approval and signature ------------------------------ */

static void test_tag_write_flags(void **state)
{
    (void)state;
    struct bw_project *p = pt_parse_ok(
        "{'format':1,'name':'p','tags':["
        "{'name':'a','type':'int','access':{'write':{'level':5,'areas':[1],'approval':true}}},"
        "{'name':'b','type':'int','access':{'write':{'level':5,'areas':[1],'signature':true}}},"
        "{'name':'c','type':'int','access':{'write':{'level':5,'areas':[1],'approval':true,"
        "'signature':true,'permission':'override'}}},"
        "{'name':'d','type':'int','access':{'write':{'level':5,'areas':[1],'approval':false,"
        "'signature':false}}},"
        "{'name':'e','type':'int','access':{'write':{'level':5,'areas':[1]}}},"
        "{'name':'f','type':'int'}]}");
    static const bool want[][2] = {{true, false},  {false, true},  {true, true},
                                   {false, false}, {false, false}, {false, false}};
    assert_int_equal(p->tag_count, BW_ARRAY_LEN(want));
    for (size_t i = 0; i < BW_ARRAY_LEN(want); i++) {
        assert_int_equal(p->tags[i].access.write_approval, want[i][0]);
        assert_int_equal(p->tags[i].access.write_signature, want[i][1]);
    }
    assert_true(p->tags[2].access.writable);
    assert_int_equal(p->tags[2].access.write_permission, BW_PERM_OVERRIDE);
    assert_false(p->tags[5].access.writable);
    bw_project_free(p);
}

/* ---- out of memory -------------------------------------------------- */

/* Fails the n-th allocation for n = 0, 1, ... until the parse gets
 * through; every failing run must say BW_ENOMEM and hold nothing (the
 * sanitizer build finds what leaks). */
static void alloc_loop(const char *text, int final_rc)
{
    char *json = pt_dequote(text);
    struct bw_project_errors errors = {0};
    for (long n = 0;; n++) {
        struct bw_project *p = NULL;
        bw_alloc_fail_after(n);
        int rc = bw_project_parse(json, strlen(json), &p, &errors);
        bw_alloc_fail_after(-1);
        if (rc == BW_ENOMEM) {
            assert_null(p);
            assert_int_equal(errors.count, 0);
            continue;
        }
        assert_int_equal(rc, final_rc);
        /* Roles, banner, the directory, its strings and mappings. */
        assert_true(n > 20);
        bw_project_free(p);
        break;
    }
    bw_project_errors_clear(&errors);
    free(json);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    alloc_loop(FULL_SECTION, BW_OK);
    alloc_loop(SEC("'roles':[{'name':'x','permissions':['tag.read']},{'name':'x',"
                   "'permissions':[]},{'name':'y y','permissions':[1]}],'banner':'\\u0001',"
                   "'ldap':{'url':'ldap://a','ca_file':'c','bind_dn':'d','user_base':'b',"
                   "'user_filter':'f','group_attribute':'memberOf','group_base':'g',"
                   "'groups':[{'group':'g1','role':'x'},{'group':'g2','role':'zz'},"
                   "{'group':'g3','role':'viewer','q':1}],'a':1,'b':2,'c':3}"),
               BW_EMALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_defaults_out_of_memory),
        cmocka_unit_test(test_full_section),
        cmocka_unit_test(test_ldap_variants),
        cmocka_unit_test(test_role_override_and_add),
        cmocka_unit_test(test_role_limits),
        cmocka_unit_test(test_banner),
        cmocka_unit_test(test_tag_write_flags),
        cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests_name("project_security", tests, NULL, NULL);
}
