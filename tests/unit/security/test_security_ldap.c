/* SPDX-License-Identifier: Apache-2.0
 *
 * Central accounts (src/security/ldap.c) against a real slapd on
 * loopback (support_slapd.h), started once for the group and stopped,
 * with its directory removed, by the group's teardown whatever happened.
 * The directory holds people (one of them named with every filter
 * special), a name that two entries share, a service account, and
 * groups kept in memberOf by the overlay.
 *
 * Covered: the RFC 4515 escaper on its own; configurations refused at
 * creation; good logins over LDAPS and over StartTLS, with a service
 * account and anonymously, the groups read from memberOf and by a group
 * search, mapped to roles without regard to case or spacing; wrong
 * password, unknown, ambiguous, too long and malformed names refused;
 * filter injection (wildcards, closing parentheses, escapes) refused;
 * the empty password refused although this slapd would take it as an
 * unauthenticated bind; a server certificate from another CA, or for
 * another name, refused (BW_EIO); a server that is down (BW_EIO at
 * once) or that never answers (BW_ETIMEOUT within the timeout); faults
 * of the service account (password file readable by others, missing,
 * wrong password) reported as faults, not as the user's denial; logins
 * from several threads at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "security/internal.h"
#include "unit/security/support_slapd.h"

#include <arpa/inet.h>
#include <ldap.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PEOPLE "ou=people," BW_TEST_SLAPD_SUFFIX
#define GROUPS "ou=groups," BW_TEST_SLAPD_SUFFIX
#define ALICE_DN "uid=alice," PEOPLE
#define ALICE_PW "alice-secret-1"
#define PAT "pat(*)\\x"                  /* every filter special in one name */
#define PAT_DN "uid=pat(*)\\5Cx," PEOPLE /* as slapd writes it */
#define PAT_PW "pat-secret-3"
#define SERVICE_DN "cn=bulwark,ou=services," BW_TEST_SLAPD_SUFFIX
#define SERVICE_PW "service-secret-4"

/* Roles the mapping grants: operators -> 1, engineers -> 3. */
#define ROLE_OPERATOR (UINT64_C(1) << 1)
#define ROLE_ENGINEER (UINT64_C(1) << 3)

static const char directory_ldif[] =
    "dn: " BW_TEST_SLAPD_SUFFIX "\n"
    "objectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n"
    "dn: " PEOPLE "\nobjectClass: organizationalUnit\nou: people\n\n"
    "dn: ou=contractors," BW_TEST_SLAPD_SUFFIX "\nobjectClass: organizationalUnit\n"
    "ou: contractors\n\n"
    "dn: ou=services," BW_TEST_SLAPD_SUFFIX "\nobjectClass: organizationalUnit\nou: services\n\n"
    "dn: " GROUPS "\nobjectClass: organizationalUnit\nou: groups\n\n"
    "dn: " ALICE_DN "\nobjectClass: inetOrgPerson\nuid: alice\ncn: Alice\nsn: Example\n"
    "userPassword: " ALICE_PW "\n\n"
    "dn: uid=bob," PEOPLE "\nobjectClass: inetOrgPerson\nuid: bob\ncn: Bob\nsn: Example\n"
    "userPassword: bob-secret-2\n\n"
    "dn: " PAT_DN "\nobjectClass: inetOrgPerson\nuid: " PAT "\ncn: Pat\nsn: Example\n"
    "userPassword: " PAT_PW "\n\n"
    "dn: uid=dup," PEOPLE "\nobjectClass: inetOrgPerson\nuid: dup\ncn: Dup\nsn: One\n"
    "userPassword: dup-secret\n\n"
    "dn: uid=dup,ou=contractors," BW_TEST_SLAPD_SUFFIX "\nobjectClass: inetOrgPerson\n"
    "uid: dup\ncn: Dup\nsn: Two\nuserPassword: dup-secret\n\n"
    "dn: " SERVICE_DN "\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
    "cn: bulwark\nuserPassword: " SERVICE_PW "\n\n"
    "dn: cn=operators," GROUPS "\nobjectClass: groupOfNames\ncn: operators\n"
    "member: " ALICE_DN "\nmember: " PAT_DN "\n\n"
    "dn: cn=engineers," GROUPS "\nobjectClass: groupOfNames\ncn: engineers\n"
    "member: " ALICE_DN "\n\n"
    "dn: cn=visitors," GROUPS "\nobjectClass: groupOfNames\ncn: visitors\n"
    "member: uid=bob," PEOPLE "\n";

/* Written as an administrator might: other case, spaces after commas. */
static struct bw_project_role_group role_groups[] = {
    {.group = "CN=Operators, OU=Groups, DC=example, DC=org", .role = 1},
    {.group = "cn=engineers,ou=groups,dc=example,dc=org", .role = 3},
    {.group = "cn=nobody,ou=groups,dc=example,dc=org", .role = 5},
};

static struct bw_test_slapd slapd;
static char ldaps_url[64], ldap_url[64];

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN); /* as the daemon does */
    /* The server would take an unauthenticated bind (a DN, no password)
     * as a success: the client must never send one. */
    if (bw_test_slapd_start(&slapd, "allow bind_anon_dn\n") != BW_OK)
        return -1;
    if (bw_test_slapd_load(&slapd, directory_ldif) != BW_OK ||
        bw_test_slapd_file(&slapd, "bind.pw", SERVICE_PW "\n", strlen(SERVICE_PW) + 1, 0600) ||
        bw_test_slapd_url(&slapd, true, "127.0.0.1", ldaps_url, sizeof(ldaps_url)) ||
        bw_test_slapd_url(&slapd, false, "127.0.0.1", ldap_url, sizeof(ldap_url))) {
        bw_test_slapd_stop(&slapd);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    bw_test_slapd_stop(&slapd);
    return 0;
}

/* LDAPS, the service account, memberOf; the CA as a path relative to the
 * project directory (the slapd directory). */
static struct bw_project_ldap config_base(void)
{
    return (struct bw_project_ldap){
        .url = ldaps_url,
        .tls = BW_PROJECT_LDAP_LDAPS,
        .ca_file = "ca.pem",
        .bind_dn = SERVICE_DN,
        .bind_password_file = "bind.pw",
        .user_base = BW_TEST_SLAPD_SUFFIX,
        .user_filter = "(&(objectClass=inetOrgPerson)(uid=%s))",
        .group_attribute = "memberOf",
        .timeout_ms = 5000,
        .level = 1,
        .areas = SEC_AREAS_ALL,
        .groups = role_groups,
        .group_count = BW_ARRAY_LEN(role_groups),
    };
}

/* The group search instead of memberOf. */
static struct bw_project_ldap config_search(void)
{
    struct bw_project_ldap c = config_base();
    c.group_attribute = NULL;
    c.group_base = GROUPS;
    c.group_filter = "(&(objectClass=groupOfNames)(member=%s))";
    return c;
}

static int authenticate(const struct bw_project_ldap *c, const char *user, const char *password,
                        struct sec_ldap_result *out)
{
    struct sec_ldap *l = NULL;
    assert_int_equal(sec_ldap_new(c, slapd.dir, &l), BW_OK);
    int rc = sec_ldap_authenticate(l, user, password, password ? strlen(password) : 0, out);
    sec_ldap_free(l);
    return rc;
}

static void assert_login(const struct bw_project_ldap *c, const char *user, const char *password,
                         const char *dn, uint64_t roles)
{
    struct sec_ldap_result r;
    assert_int_equal(authenticate(c, user, password, &r), BW_OK);
    assert_string_equal(r.dn, dn);
    assert_int_equal(r.roles, roles);
}

static void assert_denied(const struct bw_project_ldap *c, const char *user, const char *password)
{
    struct sec_ldap_result r;
    assert_int_equal(authenticate(c, user, password, &r), BW_EDENIED);
    assert_string_equal(r.dn, "");
    assert_int_equal(r.roles, 0);
}

/* ---- the escaper ------------------------------------------------------- */

static void assert_filter(const char *template, const char *value, size_t len, const char *want)
{
    char out[256];
    assert_int_equal(sec_ldap_filter_make(template, value, len, out, sizeof(out)), BW_OK);
    assert_string_equal(out, want);
}

static void test_filter_escape(void **state)
{
    (void)state;
    assert_filter("(uid=%s)", "alice", 5, "(uid=alice)");
    assert_filter("(uid=%s)", "*", 1, "(uid=\\2a)");
    assert_filter("(uid=%s)", "a)(uid=*", 8, "(uid=a\\29\\28uid=\\2a)");
    assert_filter("(uid=%s)", "alic\\65", 7, "(uid=alic\\5c65)");
    assert_filter("(uid=%s)", "a\0b", 3, "(uid=a\\00b)");
    assert_filter("(uid=%s)", "\x01\x1f\x7f ~", 5, "(uid=\\01\\1f\\7f ~)");
    assert_filter("(uid=%s)", "j\xc3\xbcrgen", 7, "(uid=j\\c3\\bcrgen)");
    assert_filter("(uid=%s)", "", 0, "(uid=)");
    assert_filter("(|(uid=%s)(mail=%s))", "a*", 2, "(|(uid=a\\2a)(mail=a\\2a))");
    assert_filter("(member=%s)", PAT_DN, strlen(PAT_DN),
                  "(member=uid=pat\\28\\2a\\29\\5c5Cx,ou=people,dc=example,dc=org)");
    assert_filter("(x=%d%)", "v", 1, "(x=%d%)"); /* only %s is replaced */

    /* Bounds: "(uid=ab)" needs 9 bytes, "(uid=\2a)" 10. */
    char out[16];
    assert_int_equal(sec_ldap_filter_make("(uid=%s)", "ab", 2, out, 9), BW_OK);
    assert_int_equal(sec_ldap_filter_make("(uid=%s)", "abc", 3, out, 9), BW_ETOOLARGE);
    assert_int_equal(sec_ldap_filter_make("(uid=%s)", "*", 1, out, 10), BW_OK);
    assert_string_equal(out, "(uid=\\2a)");
    assert_int_equal(sec_ldap_filter_make("(uid=%s)", "*", 1, out, 9), BW_ETOOLARGE);
    assert_int_equal(sec_ldap_filter_make("", "x", 1, out, 1), BW_OK);
    assert_int_equal(sec_ldap_filter_make("(uid=%s)", "x", 1, out, 0), BW_EINVAL);
    assert_int_equal(sec_ldap_filter_make(NULL, "x", 1, out, sizeof(out)), BW_EINVAL);
}

/* ---- configuration ----------------------------------------------------- */

static void assert_config_refused(const struct bw_project_ldap *c)
{
    struct sec_ldap *l = (struct sec_ldap *)&l;
    assert_int_equal(sec_ldap_new(c, slapd.dir, &l), BW_EINVAL);
    assert_null(l);
}

static void test_config_refused(void **state)
{
    (void)state;
    struct bw_project_ldap c = config_base();
    c.ca_file = NULL; /* the CA is never left to the system's list */
    assert_config_refused(&c);
    c = config_base();
    c.url = ldap_url; /* plain ldap:// but LDAPS asked */
    assert_config_refused(&c);
    c = config_base();
    c.tls = BW_PROJECT_LDAP_STARTTLS; /* ldaps:// with StartTLS */
    assert_config_refused(&c);
    c = config_base();
    c.url = "ldapi:///run/slapd/ldapi";
    assert_config_refused(&c);
    c.url = "ldaps:///"; /* no host */
    assert_config_refused(&c);
    c.url = "not a URL";
    assert_config_refused(&c);
    c = config_base();
    c.user_filter = "(uid=alice)"; /* no %s: every login would be alice's */
    assert_config_refused(&c);
    c = config_base();
    c.bind_password_file = NULL;
    assert_config_refused(&c);
    c = config_search();
    c.group_base = NULL;
    assert_config_refused(&c);
    c = config_search();
    c.group_filter = "(member=x)";
    assert_config_refused(&c);
    c = config_base();
    c.timeout_ms = 0;
    assert_config_refused(&c);
    c = config_base();
    struct bw_project_role_group big = {.group = "cn=x", .role = 64};
    c.groups = &big;
    c.group_count = 1;
    assert_config_refused(&c);
    assert_config_refused(NULL);
}

/* ---- logins ------------------------------------------------------------ */

static void test_ldaps_member_of(void **state)
{
    (void)state;
    struct bw_project_ldap c = config_base();
    assert_login(&c, "alice", ALICE_PW, ALICE_DN, ROLE_OPERATOR | ROLE_ENGINEER);
    assert_login(&c, "bob", "bob-secret-2", "uid=bob," PEOPLE, 0);
    assert_login(&c, PAT, PAT_PW, PAT_DN, ROLE_OPERATOR);
    c.ca_file = slapd.ca_file; /* absolute */
    c.groups = NULL;
    c.group_count = 0;
    assert_login(&c, "alice", ALICE_PW, ALICE_DN, 0);
}

static void test_starttls_anonymous(void **state)
{
    (void)state;
    struct bw_project_ldap c = config_base();
    c.url = ldap_url;
    c.tls = BW_PROJECT_LDAP_STARTTLS;
    c.bind_dn = NULL;
    c.bind_password_file = NULL;
    assert_login(&c, "alice", ALICE_PW, ALICE_DN, ROLE_OPERATOR | ROLE_ENGINEER);
    assert_login(&c, PAT, PAT_PW, PAT_DN, ROLE_OPERATOR);
    assert_denied(&c, "alice", "wrong");
}

static void test_group_search(void **state)
{
    (void)state;
    struct bw_project_ldap c = config_search();
    assert_login(&c, "alice", ALICE_PW, ALICE_DN, ROLE_OPERATOR | ROLE_ENGINEER);
    assert_login(&c, "bob", "bob-secret-2", "uid=bob," PEOPLE, 0);
    /* The DN in the group filter has a backslash and parentheses. */
    assert_login(&c, PAT, PAT_PW, PAT_DN, ROLE_OPERATOR);
    c.url = ldap_url;
    c.tls = BW_PROJECT_LDAP_STARTTLS;
    c.bind_dn = NULL;
    c.bind_password_file = NULL;
    assert_login(&c, "alice", ALICE_PW, ALICE_DN, ROLE_OPERATOR | ROLE_ENGINEER);
}

static void test_wrong_password(void **state)
{
    (void)state;
    struct bw_project_ldap c = config_base();
    assert_denied(&c, "alice", "wrong");
    assert_denied(&c, "alice", "alice-secret-"); /* a prefix */
    assert_denied(&c, "alice", ALICE_PW "1");
    assert_denied(&c, "alice", PAT_PW); /* another user's */
    assert_denied(&c, "bob", ALICE_PW);
    /* Only len bytes count. */
    struct sec_ldap *l = NULL;
    struct sec_ldap_result r;
    assert_int_equal(sec_ldap_new(&c, slapd.dir, &l), BW_OK);
    assert_int_equal(sec_ldap_authenticate(l, "alice", ALICE_PW, strlen(ALICE_PW) - 1, &r),
                     BW_EDENIED);
    assert_int_equal(sec_ldap_authenticate(l, "alice", ALICE_PW, strlen(ALICE_PW), &r), BW_OK);
    sec_ldap_free(l);
}

static void test_unknown_user(void **state)
{
    (void)state;
    struct bw_project_ldap c = config_base();
    assert_denied(&c, "mallory", ALICE_PW);
    assert_denied(&c, "", ALICE_PW);
    assert_denied(&c, NULL, ALICE_PW);
    assert_denied(&c, "\xff\xfe", ALICE_PW); /* not UTF-8 */
    char longer[BW_SECURITY_USER_MAX + 2];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_denied(&c, longer, ALICE_PW);
    /* The service account is not a person of the user filter. */
    assert_denied(&c, "bulwark", SERVICE_PW);
    /* The same uid twice under the base: ambiguous, refused with the
     * right password; one of them alone is fine. */
    assert_denied(&c, "dup", "dup-secret");
    c.user_base = PEOPLE;
    assert_login(&c, "dup", "dup-secret", "uid=dup," PEOPLE, 0);
}

/* Each of these, unescaped, would make a filter that finds alice (or
 * several), and her password would then let it in. */
static void test_filter_injection(void **state)
{
    (void)state;
    static const char *const names[] = {
        "*",
        "al*",
        "*ice",
        "a*e",
        "alice)(uid=*",
        "*)(uid=alice",
        "a)(uid=*",
        "alice))(|(uid=*",
        "alice)(|(objectClass=*)",
        "alic\\65",
        "\\2a",
        "alice\\00",
        "alice)",
        "(uid=alice)",
    };
    struct bw_project_ldap c = config_base();
    struct bw_project_ldap s = config_search();
    for (size_t i = 0; i < BW_ARRAY_LEN(names); i++) {
        assert_denied(&c, names[i], ALICE_PW);
        assert_denied(&s, names[i], ALICE_PW);
    }
    /* A filter with the value twice, and a plain one. */
    c.user_filter = "(|(uid=%s)(cn=%s))";
    assert_denied(&c, "*", ALICE_PW);
    assert_denied(&c, "Ali*", ALICE_PW);
    assert_login(&c, "alice", ALICE_PW, ALICE_DN, ROLE_OPERATOR | ROLE_ENGINEER);
    c.user_filter = "uid=%s";
    assert_denied(&c, "al*", ALICE_PW);
}

static void test_empty_password(void **state)
{
    (void)state;
    /* This server would say yes to a DN without a password ... */
    LDAP *ld = NULL;
    int version = LDAP_VERSION3;
    struct berval empty = {0, NULL};
    assert_int_equal(ldap_initialize(&ld, ldap_url), LDAP_SUCCESS);
    assert_int_equal(ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version), LDAP_OPT_SUCCESS);
    assert_int_equal(ldap_sasl_bind_s(ld, ALICE_DN, LDAP_SASL_SIMPLE, &empty, NULL, NULL, NULL),
                     LDAP_SUCCESS);
    ldap_unbind_ext_s(ld, NULL, NULL);
    /* ... so the client must refuse it first. */
    struct bw_project_ldap c = config_base();
    assert_denied(&c, "alice", "");
    assert_denied(&c, "alice", NULL);
    c = config_search();
    assert_denied(&c, "alice", "");
}

/* ---- the directory's certificate and reachability ---------------------- */

static void test_other_ca(void **state)
{
    (void)state;
    struct sec_ldap_result r;
    struct bw_project_ldap c = config_base();
    c.ca_file = slapd.other_ca_file; /* same CA name, another key */
    assert_int_equal(authenticate(&c, "alice", ALICE_PW, &r), BW_EIO);
    assert_string_equal(r.dn, "");
    c.url = ldap_url;
    c.tls = BW_PROJECT_LDAP_STARTTLS;
    assert_int_equal(authenticate(&c, "alice", ALICE_PW, &r), BW_EIO);
    c.ca_file = "missing-ca.pem";
    assert_int_equal(authenticate(&c, "alice", ALICE_PW, &r), BW_EIO);
    c.ca_file = "server.key"; /* not a certificate */
    assert_int_equal(authenticate(&c, "alice", ALICE_PW, &r), BW_EIO);
}

static void test_other_name(void **state)
{
    (void)state;
    if (!slapd.second_address)
        skip(); /* 127.0.0.2 cannot be bound here */
    char url[64];
    struct sec_ldap_result r;
    struct bw_project_ldap c = config_base();
    assert_int_equal(bw_test_slapd_url(&slapd, true, "127.0.0.2", url, sizeof(url)), BW_OK);
    c.url = url; /* the certificate names 127.0.0.1 and localhost only */
    assert_int_equal(authenticate(&c, "alice", ALICE_PW, &r), BW_EIO);
    assert_int_equal(bw_test_slapd_url(&slapd, false, "127.0.0.2", url, sizeof(url)), BW_OK);
    c.tls = BW_PROJECT_LDAP_STARTTLS;
    assert_int_equal(authenticate(&c, "alice", ALICE_PW, &r), BW_EIO);
}

static void test_server_down(void **state)
{
    (void)state;
    char url[64];
    struct sec_ldap_result r;
    uint16_t port = bw_test_free_port();
    assert_int_not_equal(port, 0);
    struct bw_project_ldap c = config_base();
    c.timeout_ms = 2000;
    assert_int_equal(bw_snprintf(url, sizeof(url), "ldaps://127.0.0.1:%u", port), BW_OK);
    c.url = url;
    int64_t t0 = bw_clock_monotonic_us();
    assert_int_equal(authenticate(&c, "alice", ALICE_PW, &r), BW_EIO);
    assert_int_equal(bw_snprintf(url, sizeof(url), "ldap://127.0.0.1:%u", port), BW_OK);
    c.tls = BW_PROJECT_LDAP_STARTTLS;
    assert_int_equal(authenticate(&c, "alice", ALICE_PW, &r), BW_EIO);
    assert_true(bw_clock_monotonic_us() - t0 < 1000000); /* refused at once */
}

/* A listener that never accepts: the TCP connection completes (the
 * kernel's backlog), then nothing ever answers. */
static void assert_times_out(const char *scheme, enum bw_project_ldap_tls tls)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    char url[64];
    assert_int_equal(
        bw_snprintf(url, sizeof(url), "%s://127.0.0.1:%u", scheme, (unsigned)ntohs(a.sin_port)),
        BW_OK);
    struct bw_project_ldap c = config_base();
    c.url = url;
    c.tls = tls;
    c.timeout_ms = 500;
    struct sec_ldap_result r;
    int64_t t0 = bw_clock_monotonic_us();
    assert_int_equal(authenticate(&c, "alice", ALICE_PW, &r), BW_ETIMEOUT);
    int64_t took = bw_clock_monotonic_us() - t0;
    assert_true(took >= 400000);
    assert_true(took < 1500000);
    close(fd);
}

static void test_server_silent(void **state)
{
    (void)state;
    assert_times_out("ldaps", BW_PROJECT_LDAP_LDAPS);
    assert_times_out("ldap", BW_PROJECT_LDAP_STARTTLS);
}

/* ---- the service account ----------------------------------------------- */

static void test_service_account_faults(void **state)
{
    (void)state;
    struct sec_ldap_result r;
    struct bw_project_ldap c = config_base();
    assert_int_equal(bw_test_slapd_file(&slapd, "open.pw", SERVICE_PW, strlen(SERVICE_PW), 0640),
                     BW_OK);
    c.bind_password_file = "open.pw"; /* group may read it */
    assert_int_equal(authenticate(&c, "alice", ALICE_PW, &r), BW_EIO);
    c.bind_password_file = "missing.pw";
    assert_int_equal(authenticate(&c, "alice", ALICE_PW, &r), BW_EIO);
    assert_int_equal(bw_test_slapd_file(&slapd, "wrong.pw", "nope\n", 5, 0600), BW_OK);
    c.bind_password_file = "wrong.pw";
    assert_int_equal(authenticate(&c, "alice", ALICE_PW, &r), BW_EIO);
    assert_int_equal(bw_test_slapd_file(&slapd, "empty.pw", "\n", 1, 0600), BW_OK);
    c.bind_password_file = "empty.pw"; /* would be an unauthenticated bind */
    assert_int_equal(authenticate(&c, "alice", ALICE_PW, &r), BW_EIO);
    /* Without a trailing newline, and through an absolute path. */
    char path[256];
    assert_int_equal(bw_test_slapd_file(&slapd, "plain.pw", SERVICE_PW, strlen(SERVICE_PW), 0400),
                     BW_OK);
    assert_int_equal(bw_test_slapd_path(&slapd, "plain.pw", path, sizeof(path)), BW_OK);
    c.bind_password_file = path;
    assert_login(&c, "alice", ALICE_PW, ALICE_DN, ROLE_OPERATOR | ROLE_ENGINEER);
}

/* ---- threads ------------------------------------------------------------ */

#define THREADS 4
#define LOGINS_EACH 5

static void *login_thread(void *arg)
{
    struct sec_ldap *l = arg;
    uintptr_t failures = 0;
    for (int i = 0; i < LOGINS_EACH; i++) {
        struct sec_ldap_result r;
        bool good = i % 2 == 0;
        int rc = sec_ldap_authenticate(l, "alice", good ? ALICE_PW : "wrong",
                                       good ? strlen(ALICE_PW) : 5, &r);
        if (rc != (good ? BW_OK : BW_EDENIED) ||
            (good && r.roles != (ROLE_OPERATOR | ROLE_ENGINEER)))
            failures++;
    }
    return (void *)failures;
}

static void test_threads(void **state)
{
    (void)state;
    struct bw_project_ldap c = config_search();
    struct sec_ldap *l = NULL;
    assert_int_equal(sec_ldap_new(&c, slapd.dir, &l), BW_OK);
    pthread_t t[THREADS];
    for (size_t i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, login_thread, l), 0);
    uintptr_t failures = 0;
    for (size_t i = 0; i < THREADS; i++) {
        void *ret = NULL;
        assert_int_equal(pthread_join(t[i], &ret), 0);
        failures += (uintptr_t)ret;
    }
    sec_ldap_free(l);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_escape),   cmocka_unit_test(test_config_refused),
        cmocka_unit_test(test_ldaps_member_of), cmocka_unit_test(test_starttls_anonymous),
        cmocka_unit_test(test_group_search),    cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_unknown_user),    cmocka_unit_test(test_filter_injection),
        cmocka_unit_test(test_empty_password),  cmocka_unit_test(test_other_ca),
        cmocka_unit_test(test_other_name),      cmocka_unit_test(test_server_down),
        cmocka_unit_test(test_server_silent),   cmocka_unit_test(test_service_account_faults),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
