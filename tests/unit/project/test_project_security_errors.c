/* SPDX-License-Identifier: Apache-2.0
 *
 * The project loader refuses a bad security section, or bad write flags
 * of a tag, with the exact JSON path and reason: one cmocka test per bad
 * input (a table), then every mistake of a section reported by one parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit/project/project_test.h"
#include "unit/project/security_test.h"

/* ---- refusals ------------------------------------------------------- */

struct bad_case {
    const char *name;
    const char *json;
    const char *path;
    const char *reason;
};

static const struct bad_case cases[] = {
    /* the section */
    {"security_not_object", "{'format':1,'name':'p','security':[]}", "security",
     "must be an object"},
    {"security_unknown_key", SEC("'role':[]"), "security.role", "unknown key"},
    {"mfa_choice", SEC("'mfa':'sometimes'"), "security.mfa",
     "\"sometimes\" is not one of off, untrusted, always"},
    {"mfa_bool", SEC("'mfa':true"), "security.mfa", "must be a string"},
    {"password_not_object", SEC("'password':12"), "security.password", "must be an object"},
    {"lockout_not_object", SEC("'lockout':[]"), "security.lockout", "must be an object"},
    {"sessions_not_object", SEC("'sessions':'x'"), "security.sessions", "must be an object"},
    /* roles */
    {"roles_not_array", SEC("'roles':{}"), "security.roles", "must be an array"},
    {"role_not_object", ROLES("'operator'"), "security.roles[0]", "must be an object"},
    {"role_unknown_key", ROLES("{'name':'x','permissions':[],'level':3}"),
     "security.roles[0].level", "unknown key"},
    {"role_name_missing", ROLES("{'permissions':[]}"), "security.roles[0].name", "is required"},
    {"role_permissions_missing", ROLES("{'name':'x'}"), "security.roles[0].permissions",
     "is required"},
    {"role_permissions_not_array", ROLES("{'name':'x','permissions':'tag.read'}"),
     "security.roles[0].permissions", "must be an array"},
    {"role_name_number", ROLES("{'name':7,'permissions':[]}"), "security.roles[0].name",
     "must be a string"},
    {"role_name_space", ROLES("{'name':'shift lead','permissions':[]}"), "security.roles[0].name",
     "\"shift lead\" " BAD_ROLE_NAME},
    {"role_name_dash_first", ROLES("{'name':'-x','permissions':[]}"), "security.roles[0].name",
     "\"-x\" " BAD_ROLE_NAME},
    {"role_name_empty", ROLES("{'name':'','permissions':[]}"), "security.roles[0].name",
     "\"\" " BAD_ROLE_NAME},
    {"role_name_too_long",
     ROLES("{'name':'" A16 A16 A16 A16 A16 A16 A16 A16 "a','permissions':[]}"),
     "security.roles[0].name", "must be at most 128 bytes"},
    {"role_duplicate",
     ROLES("{'name':'a','permissions':[]},{'name':'x','permissions':[]},{'name':'x',"
           "'permissions':['tag.read']}"),
     "security.roles[2].name", "duplicate role name \"x\" (first used at security.roles[1].name)"},
    {"role_duplicate_default",
     ROLES("{'name':'viewer','permissions':[]},{'name':'viewer','permissions':[]}"),
     "security.roles[1].name",
     "duplicate role name \"viewer\" (first used at security.roles[0].name)"},
    {"role_permission_unknown", ROLES("{'name':'x','permissions':['tag.read','tag.wrte']}"),
     "security.roles[0].permissions[1]", "\"tag.wrte\" is not one of " PERMS},
    {"role_permission_twice", ROLES("{'name':'x','permissions':['tag.read','tag.read']}"),
     "security.roles[0].permissions[1]", "\"tag.read\" is listed twice"},
    {"role_permission_number", ROLES("{'name':'x','permissions':[1]}"),
     "security.roles[0].permissions[0]", "must be a string"},
    /* password */
    {"password_unknown_key", PW("'min_len':8"), "security.password.min_len", "unknown key"},
    {"password_min_low", PW("'min_length':7"), "security.password.min_length",
     "must be between 8 and 128"},
    {"password_min_high", PW("'min_length':129"), "security.password.min_length",
     "must be between 8 and 128"},
    {"password_min_real", PW("'min_length':12.5"), "security.password.min_length",
     "must be an integer"},
    {"password_max_high", PW("'max_length':1025"), "security.password.max_length",
     "must be between 8 and 1024"},
    {"password_max_below_min", PW("'min_length':20,'max_length':16"),
     "security.password.max_length", "must be at least min_length (20)"},
    {"password_max_below_default_min", PW("'max_length':10"), "security.password.max_length",
     "must be at least min_length (12)"},
    {"password_require_unknown", PW("'require':['lower','lowercase']"),
     "security.password.require[1]", "\"lowercase\" is not one of lower, upper, digit, symbol"},
    {"password_require_twice", PW("'require':['digit','upper','digit']"),
     "security.password.require[2]", "\"digit\" is listed twice"},
    {"password_require_not_array", PW("'require':'lower'"), "security.password.require",
     "must be an array"},
    {"password_min_classes", PW("'min_classes':5"), "security.password.min_classes",
     "must be between 0 and 4"},
    {"password_reject_not_bool", PW("'reject_user_name':'yes'"),
     "security.password.reject_user_name", "must be true or false"},
    {"password_history", PW("'history':25"), "security.password.history",
     "must be between 0 and 24"},
    {"password_dictionary_not_bool", PW("'dictionary_check':1"),
     "security.password.dictionary_check", "must be true or false"},
    {"password_max_age", PW("'max_age_days':3651"), "security.password.max_age_days",
     "must be between 0 and 3650"},
    {"password_min_age", PW("'min_age_hours':721"), "security.password.min_age_hours",
     "must be between 0 and 720"},
    {"password_min_age_negative", PW("'min_age_hours':-1"), "security.password.min_age_hours",
     "must be between 0 and 720"},
    {"hash_concurrency_zero", PW("'hash_concurrency':0"), "security.password.hash_concurrency",
     "must be between 1 and 64"},
    {"hash_concurrency_high", PW("'hash_concurrency':65"), "security.password.hash_concurrency",
     "must be between 1 and 64"},
    {"hash_queue_negative", PW("'hash_queue':-1"), "security.password.hash_queue",
     "must be between 0 and 10000"},
    {"hash_queue_high", PW("'hash_queue':10001"), "security.password.hash_queue",
     "must be between 0 and 10000"},
    {"argon2_not_object", PW("'argon2':19456"), "security.password.argon2", "must be an object"},
    {"argon2_unknown_key", ARGON("'salt_bytes':16"), "security.password.argon2.salt_bytes",
     "unknown key"},
    {"argon2_memory_low", ARGON("'memory_kib':19455"), "security.password.argon2.memory_kib",
     "is below the minimum of 19456"},
    {"argon2_memory_negative", ARGON("'memory_kib':-1"), "security.password.argon2.memory_kib",
     "is below the minimum of 19456"},
    {"argon2_memory_high", ARGON("'memory_kib':4194305"), "security.password.argon2.memory_kib",
     "must be between 19456 and 4194304"},
    {"argon2_iterations_low", ARGON("'iterations':1"), "security.password.argon2.iterations",
     "is below the minimum of 2"},
    {"argon2_iterations_high", ARGON("'iterations':101"), "security.password.argon2.iterations",
     "must be between 2 and 100"},
    {"argon2_parallelism_zero", ARGON("'parallelism':0"), "security.password.argon2.parallelism",
     "is below the minimum of 1"},
    {"argon2_parallelism_high", ARGON("'parallelism':17"), "security.password.argon2.parallelism",
     "must be between 1 and 16"},
    /* lockout */
    {"lockout_unknown_key", LOCK("'attempts':3"), "security.lockout.attempts", "unknown key"},
    {"lockout_failures_zero", LOCK("'max_failures':0"), "security.lockout.max_failures",
     "must be between 1 and 100"},
    {"lockout_failures_high", LOCK("'max_failures':101"), "security.lockout.max_failures",
     "must be between 1 and 100"},
    {"lockout_window_zero", LOCK("'window_seconds':0"), "security.lockout.window_seconds",
     "must be between 1 and 86400"},
    {"lockout_window_high", LOCK("'window_seconds':86401"), "security.lockout.window_seconds",
     "must be between 1 and 86400"},
    {"lockout_lock_negative", LOCK("'lock_seconds':-1"), "security.lockout.lock_seconds",
     "must be between 0 and 604800"},
    {"lockout_lock_high", LOCK("'lock_seconds':604801"), "security.lockout.lock_seconds",
     "must be between 0 and 604800"},
    {"lockout_address_zero", LOCK("'address_max_failures':0"),
     "security.lockout.address_max_failures", "must be between 1 and 100000"},
    {"lockout_address_high", LOCK("'address_max_failures':100001"),
     "security.lockout.address_max_failures", "must be between 1 and 100000"},
    {"lockout_address_window_zero", LOCK("'address_window_seconds':0"),
     "security.lockout.address_window_seconds", "must be between 1 and 86400"},
    {"lockout_address_window_high", LOCK("'address_window_seconds':86401"),
     "security.lockout.address_window_seconds", "must be between 1 and 86400"},
    /* sessions */
    {"sessions_unknown_key", SESS("'timeout':60"), "security.sessions.timeout", "unknown key"},
    {"sessions_idle_low", SESS("'idle_seconds':29"), "security.sessions.idle_seconds",
     "must be between 30 and 86400"},
    {"sessions_idle_high", SESS("'idle_seconds':86401"), "security.sessions.idle_seconds",
     "must be between 30 and 86400"},
    {"sessions_lifetime_low", SESS("'lifetime_seconds':59"), "security.sessions.lifetime_seconds",
     "must be between 60 and 604800"},
    {"sessions_lifetime_high", SESS("'lifetime_seconds':604801"),
     "security.sessions.lifetime_seconds", "must be between 60 and 604800"},
    {"sessions_per_user_zero", SESS("'max_per_user':0"), "security.sessions.max_per_user",
     "must be between 1 and 1000"},
    {"sessions_per_user_high", SESS("'max_per_user':1001"), "security.sessions.max_per_user",
     "must be between 1 and 1000"},
    {"sessions_total_zero", SESS("'max_total':0"), "security.sessions.max_total",
     "must be between 1 and 100000"},
    {"sessions_total_high", SESS("'max_total':100001"), "security.sessions.max_total",
     "must be between 1 and 100000"},
    {"sessions_when_full", SESS("'when_full':'drop_oldest'"), "security.sessions.when_full",
     "\"drop_oldest\" is not one of refuse_new, end_oldest"},
    {"sessions_override_low", SESS("'override_max_seconds':59"),
     "security.sessions.override_max_seconds", "must be between 60 and 86400"},
    {"sessions_override_high", SESS("'override_max_seconds':86401"),
     "security.sessions.override_max_seconds", "must be between 60 and 86400"},
    {"sessions_approval_low", SESS("'approval_window_seconds':9"),
     "security.sessions.approval_window_seconds", "must be between 10 and 3600"},
    {"sessions_approval_high", SESS("'approval_window_seconds':3601"),
     "security.sessions.approval_window_seconds", "must be between 10 and 3600"},
    /* banner */
    {"banner_empty", SEC("'banner':''"), "security.banner", "must not be empty"},
    {"banner_number", SEC("'banner':1"), "security.banner", "must be a string"},
    {"banner_escape", SEC("'banner':'Hello\\u001b[2J'"), "security.banner",
     "must not contain control characters other than line feed and tab (byte 5)"},
    {"banner_cr", SEC("'banner':'a\\rb'"), "security.banner",
     "must not contain control characters other than line feed and tab (byte 1)"},
    {"banner_del", SEC("'banner':'ab\\u007f'"), "security.banner",
     "must not contain control characters other than line feed and tab (byte 2)"},
    {"banner_c1", SEC("'banner':'\\u00e9\\u009b'"), "security.banner",
     "must not contain control characters other than line feed and tab (byte 2)"},
    {"banner_accept_without_banner", SEC("'banner_must_accept':true"),
     "security.banner_must_accept", "needs a \"banner\""},
    {"banner_accept_not_bool", SEC("'banner':'x','banner_must_accept':'yes'"),
     "security.banner_must_accept", "must be true or false"},
    /* ldap: structure and required keys */
    {"ldap_not_object", SEC("'ldap':'ldaps://dir'"), "security.ldap", "must be an object"},
    {"ldap_unknown_key", LDAP_WITH("'port':636"), "security.ldap.port", "unknown key"},
    {"ldap_url_missing", LDAP("'ca_file':'ca.pem','user_base':'dc=x','user_filter':'(uid=%s)'"),
     "security.ldap.url", "is required"},
    {"ldap_ca_missing", LDAP("'url':'ldaps://d','user_base':'dc=x','user_filter':'(uid=%s)'"),
     "security.ldap.ca_file", "is required"},
    {"ldap_user_base_missing", LDAP("'url':'ldaps://d','ca_file':'c','user_filter':'(uid=%s)'"),
     "security.ldap.user_base", "is required"},
    {"ldap_user_filter_missing", LDAP("'url':'ldaps://d','ca_file':'c','user_base':'dc=x'"),
     "security.ldap.user_filter", "is required"},
    {"ldap_ca_empty",
     LDAP("'url':'ldaps://d','ca_file':'','user_base':'dc=x','user_filter':'(uid=%s)'"),
     "security.ldap.ca_file", "must not be empty"},
    {"ldap_user_base_number",
     LDAP("'url':'ldaps://d','ca_file':'c','user_base':1,'user_filter':'(uid=%s)'"),
     "security.ldap.user_base", "must be a string"},
    /* ldap: the URL and TLS */
    {"ldap_tls_choice", LDAP_WITH("'tls':'none'"), "security.ldap.tls",
     "\"none\" is not one of ldaps, starttls"},
    {"ldap_plain_url_for_ldaps",
     LDAP("'url':'ldap://dir.example','ca_file':'c','user_base':'b','user_filter':'%s'"),
     "security.ldap.url", "must start with \"ldaps://\" when tls is \"ldaps\""},
    {"ldap_plain_url_for_ldaps_explicit",
     LDAP("'url':'ldap://dir.example','tls':'ldaps','ca_file':'c','user_base':'b',"
          "'user_filter':'%s'"),
     "security.ldap.url", "must start with \"ldaps://\" when tls is \"ldaps\""},
    {"ldap_ldaps_url_for_starttls", LDAP_WITH("'tls':'starttls'"), "security.ldap.url",
     "must start with \"ldap://\" when tls is \"starttls\""},
    {"ldap_url_http",
     LDAP("'url':'https://dir.example','ca_file':'c','user_base':'b','user_filter':'%s'"),
     "security.ldap.url", "\"https://dir.example\" " NOT_URL},
    {"ldap_url_upper_scheme",
     LDAP("'url':'LDAPS://dir','ca_file':'c','user_base':'b','user_filter':'%s'"),
     "security.ldap.url", "\"LDAPS://dir\" " NOT_URL},
    {"ldap_url_no_host", LDAP("'url':'ldaps://','ca_file':'c','user_base':'b','user_filter':'%s'"),
     "security.ldap.url", "\"ldaps://\" " NOT_URL},
    {"ldap_url_list",
     LDAP("'url':'ldaps://a ldap://b','ca_file':'c','user_base':'b','user_filter':'%s'"),
     "security.ldap.url", "\"ldaps://a ldap://b\" " NOT_URL},
    {"ldap_url_comma_list",
     LDAP("'url':'ldaps://a,ldap://b','ca_file':'c','user_base':'b','user_filter':'%s'"),
     "security.ldap.url", "\"ldaps://a,ldap://b\" " NOT_URL},
    {"ldap_url_port_zero",
     LDAP("'url':'ldaps://a:0','ca_file':'c','user_base':'b','user_filter':'%s'"),
     "security.ldap.url", "\"ldaps://a:0\" " NOT_URL},
    {"ldap_url_port_high",
     LDAP("'url':'ldaps://a:65536','ca_file':'c','user_base':'b','user_filter':'%s'"),
     "security.ldap.url", "\"ldaps://a:65536\" " NOT_URL},
    {"ldap_url_port_empty",
     LDAP("'url':'ldaps://a:','ca_file':'c','user_base':'b','user_filter':'%s'"),
     "security.ldap.url", "\"ldaps://a:\" " NOT_URL},
    {"ldap_url_dn",
     LDAP("'url':'ldaps://a/dc=example??sub','ca_file':'c','user_base':'b','user_filter':'%s'"),
     "security.ldap.url", "\"ldaps://a/dc=example??sub\" " NOT_URL},
    {"ldap_url_userinfo",
     LDAP("'url':'ldaps://u@a','ca_file':'c','user_base':'b','user_filter':'%s'"),
     "security.ldap.url", "\"ldaps://u@a\" " NOT_URL},
    {"ldap_url_ipv6_open",
     LDAP("'url':'ldaps://[::1','ca_file':'c','user_base':'b','user_filter':'%s'"),
     "security.ldap.url", "\"ldaps://[::1\" " NOT_URL},
    {"ldap_url_ipv6_empty",
     LDAP("'url':'ldaps://[]:636','ca_file':'c','user_base':'b','user_filter':'%s'"),
     "security.ldap.url", "\"ldaps://[]:636\" " NOT_URL},
    /* ldap: filters and pairs */
    {"ldap_user_filter_no_place",
     LDAP("'url':'ldaps://d','ca_file':'c','user_base':'b','user_filter':'(uid=alice)'"),
     "security.ldap.user_filter",
     "must contain \"%s\" exactly once (where the escaped login name goes)"},
    {"ldap_user_filter_two_places",
     LDAP("'url':'ldaps://d','ca_file':'c','user_base':'b','user_filter':'(|(uid=%s)(mail=%s))'"),
     "security.ldap.user_filter",
     "must contain \"%s\" exactly once (where the escaped login name goes)"},
    {"ldap_user_filter_other_percent",
     LDAP("'url':'ldaps://d','ca_file':'c','user_base':'b','user_filter':'(uid=%s%d)'"),
     "security.ldap.user_filter", "must not contain \"%\" except in the one \"%s\""},
    {"ldap_user_filter_trailing_percent",
     LDAP("'url':'ldaps://d','ca_file':'c','user_base':'b','user_filter':'(uid=%s)%'"),
     "security.ldap.user_filter", "must not contain \"%\" except in the one \"%s\""},
    {"ldap_bind_dn_only", LDAP_WITH("'bind_dn':'cn=svc'"), "security.ldap.bind_password_file",
     "is required when \"bind_dn\" is given"},
    {"ldap_bind_password_only", LDAP_WITH("'bind_password_file':'pw'"), "security.ldap.bind_dn",
     "is required when \"bind_password_file\" is given"},
    {"ldap_group_filter_no_base", LDAP_WITH("'group_filter':'(member=%s)'"),
     "security.ldap.group_base", "is required when \"group_filter\" is given"},
    {"ldap_group_base_no_filter", LDAP_WITH("'group_base':'ou=groups'"),
     "security.ldap.group_filter", "is required when \"group_base\" is given"},
    {"ldap_group_filter_no_place", LDAP_WITH("'group_base':'ou=g','group_filter':'(member=x)'"),
     "security.ldap.group_filter",
     "must contain \"%s\" exactly once (where the escaped user DN goes)"},
    {"ldap_group_attribute_and_filter",
     LDAP_WITH("'group_attribute':'memberOf','group_filter':'(member=%s)'"),
     "security.ldap.group_filter", "is not used when \"group_attribute\" is given"},
    {"ldap_group_attribute_and_base", LDAP_WITH("'group_attribute':'memberOf','group_base':'g'"),
     "security.ldap.group_base", "is not used when \"group_attribute\" is given"},
    {"ldap_group_attribute_empty", LDAP_WITH("'group_attribute':''"),
     "security.ldap.group_attribute", "must not be empty"},
    {"ldap_groups_without_lookup", LDAP_WITH("'groups':[{'group':'cn=ops','role':'operator'}]"),
     "security.ldap.groups",
     "needs \"group_attribute\" or \"group_filter\" to find a user's groups"},
    /* ldap: numbers, areas, group mappings */
    {"ldap_timeout_low", LDAP_WITH("'timeout_ms':99"), "security.ldap.timeout_ms",
     "must be between 100 and 60000"},
    {"ldap_timeout_high", LDAP_WITH("'timeout_ms':60001"), "security.ldap.timeout_ms",
     "must be between 100 and 60000"},
    {"ldap_level_zero", LDAP_WITH("'level':0"), "security.ldap.level",
     "must be between 1 and 9999"},
    {"ldap_level_high", LDAP_WITH("'level':10000"), "security.ldap.level",
     "must be between 1 and 9999"},
    {"ldap_areas_empty", LDAP_WITH("'areas':[]"), "security.ldap.areas",
     "must list at least one area"},
    {"ldap_areas_zero", LDAP_WITH("'areas':[1,0]"), "security.ldap.areas[1]",
     "must be between 1 and 31"},
    {"ldap_areas_twice", LDAP_WITH("'areas':[4,4]"), "security.ldap.areas[1]",
     "area 4 is listed twice"},
    {"ldap_groups_not_array", LDAP_WITH("'group_attribute':'memberOf','groups':{}"),
     "security.ldap.groups", "must be an array"},
    {"ldap_group_not_object", LDAP_WITH("'group_attribute':'memberOf','groups':['cn=ops']"),
     "security.ldap.groups[0]", "must be an object"},
    {"ldap_group_role_unknown",
     LDAP_WITH("'group_attribute':'memberOf','groups':[{'group':'cn=a','role':'viewer'},"
               "{'group':'cn=ops','role':'operators'}]"),
     "security.ldap.groups[1].role", "no role named \"operators\""},
    {"ldap_group_role_case",
     LDAP_WITH("'group_attribute':'memberOf','groups':[{'group':'cn=a','role':'Viewer'}]"),
     "security.ldap.groups[0].role", "no role named \"Viewer\""},
    {"ldap_group_missing_group", LDAP_WITH("'group_attribute':'m','groups':[{'role':'viewer'}]"),
     "security.ldap.groups[0].group", "is required"},
    {"ldap_group_missing_role", LDAP_WITH("'group_attribute':'m','groups':[{'group':'g'}]"),
     "security.ldap.groups[0].role", "is required"},
    {"ldap_group_empty", LDAP_WITH("'group_attribute':'m','groups':[{'group':'','role':'viewer'}]"),
     "security.ldap.groups[0].group", "must not be empty"},
    {"ldap_group_unknown_key",
     LDAP_WITH("'group_attribute':'m','groups':[{'group':'g','role':'viewer','level':5}]"),
     "security.ldap.groups[0].level", "unknown key"},
    /* tags */
    {"tag_approval_not_bool", TAGW(",'approval':'yes'"), "tags[0].access.write.approval",
     "must be true or false"},
    {"tag_signature_not_bool", TAGW(",'signature':1"), "tags[0].access.write.signature",
     "must be true or false"},
    {"tag_approval_on_read",
     "{'format':1,'name':'p','tags':[{'name':'a','type':'int','access':{'read':{'level':1,"
     "'areas':[1],'approval':true}}}]}",
     "tags[0].access.read.approval", "unknown key"},
};

static void test_bad_case(void **state)
{
    const struct bad_case *c = *state;
    struct bw_project *p = (struct bw_project *)1;
    struct bw_project_errors errors = {0};
    int rc = pt_parse(c->json, &p, &errors);
    if (rc != BW_EMALFORMED || errors.count != 1)
        pt_dump(&errors);
    assert_null(p);
    assert_int_equal(rc, BW_EMALFORMED);
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.items[0].path, c->path);
    assert_string_equal(errors.items[0].reason, c->reason);
    bw_project_errors_clear(&errors);
}

/* Every mistake of the section, reported by one parse: each object's
 * keys in table order, then the rules across its keys. */
static void test_errors_at_once(void **state)
{
    (void)state;
    const char *text =
        SEC("'colour':'red','ldap':{'url':'ldap://dir','ca_file':'c','user_base':'b',"
            "'user_filter':'(uid=x)','bind_dn':'cn=svc','group_base':'g',"
            "'groups':[{'group':'cn=ops','role':'nobody'}],'timeout_ms':1},"
            "'banner_must_accept':true,'mfa':'never',"
            "'sessions':{'idle_seconds':1,'when_full':'wait'},"
            "'lockout':{'max_failures':0},"
            "'password':{'min_length':30,'max_length':20,'require':['upper','Upper'],"
            "'argon2':{'memory_kib':1024,'iterations':1,'parallelism':32}},"
            "'roles':[{'name':'a b','permissions':['root']},{'name':'ok','permissions':[]},"
            "{'name':'ok','permissions':[]}]");
    struct bw_project *p = NULL;
    struct bw_project_errors errors = {0};
    assert_int_equal(pt_parse(text, &p, &errors), BW_EMALFORMED);
    static const char *const want[][2] = {
        {"security.colour", "unknown key"},
        {"security.roles[0].permissions[0]", "\"root\" is not one of " PERMS},
        {"security.roles[0].name", "\"a b\" " BAD_ROLE_NAME},
        {"security.roles[2].name",
         "duplicate role name \"ok\" (first used at security.roles[1].name)"},
        {"security.password.require[1]", "\"Upper\" is not one of lower, upper, digit, symbol"},
        {"security.password.argon2.memory_kib", "is below the minimum of 19456"},
        {"security.password.argon2.iterations", "is below the minimum of 2"},
        {"security.password.argon2.parallelism", "must be between 1 and 16"},
        {"security.password.max_length", "must be at least min_length (30)"},
        {"security.lockout.max_failures", "must be between 1 and 100"},
        {"security.sessions.idle_seconds", "must be between 30 and 86400"},
        {"security.sessions.when_full", "\"wait\" is not one of refuse_new, end_oldest"},
        {"security.mfa", "\"never\" is not one of off, untrusted, always"},
        {"security.banner_must_accept", "needs a \"banner\""},
        {"security.ldap.timeout_ms", "must be between 100 and 60000"},
        {"security.ldap.groups[0].role", "no role named \"nobody\""},
        {"security.ldap.url", "must start with \"ldaps://\" when tls is \"ldaps\""},
        {"security.ldap.bind_password_file", "is required when \"bind_dn\" is given"},
        {"security.ldap.user_filter",
         "must contain \"%s\" exactly once (where the escaped login name goes)"},
        {"security.ldap.group_filter", "is required when \"group_base\" is given"},
    };
    if (errors.count != BW_ARRAY_LEN(want))
        pt_dump(&errors);
    assert_int_equal(errors.count, BW_ARRAY_LEN(want));
    for (size_t i = 0; i < BW_ARRAY_LEN(want); i++) {
        if (strcmp(errors.items[i].path, want[i][0]) || strcmp(errors.items[i].reason, want[i][1]))
            pt_dump(&errors);
        assert_string_equal(errors.items[i].path, want[i][0]);
        assert_string_equal(errors.items[i].reason, want[i][1]);
    }
    bw_project_errors_clear(&errors);
}

int main(void)
{
    static struct CMUnitTest tests[BW_ARRAY_LEN(cases) + 1];
    size_t n = 0;
    for (size_t i = 0; i < BW_ARRAY_LEN(cases); i++, n++) {
        tests[n] = (struct CMUnitTest){
            .name = cases[i].name, .test_func = test_bad_case, .initial_state = (void *)&cases[i]};
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_errors_at_once);
    return _cmocka_run_group_tests("project_security_errors", tests, n, NULL, NULL);
}
