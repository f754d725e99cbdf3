/* SPDX-License-Identifier: Apache-2.0
 *
 * Central accounts: checks a login name and password against an LDAP
 * directory (libldap) and maps the user's groups to the project's roles.
 * Owns the connection (TLS only: LDAPS or StartTLS, the server's
 * certificate checked against the configured CA and the URL's host name,
 * TLS 1.2 at least), the service account's password file, RFC 4515
 * escaping of what goes into a search filter, and the group mapping.
 *
 * One authentication, one connection: each call opens its own handle,
 * binds, searches, binds as the user and closes again, so calls share
 * nothing but the configuration (read only) and may come from any number
 * of threads at once. Every step is bounded by one deadline of
 * config->timeout_ms for the whole call. Faults (the directory cannot be
 * reached, TLS fails, the configuration is wrong) are logged without any
 * password; denials are left to the caller's audit record.
 *
 * The user's password goes to libldap as it is (no copy here); the
 * service account's is read into a stack buffer that is wiped after the
 * bind. libldap's own encoding buffers are freed without being wiped:
 * that is beyond this file.
 */
#include "security/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <ldap.h>
#include <netdb.h>
#include <openldap.h>
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define LDAP_PASSWORD_MAX 1024 /* bytes of the service account's or a user's password */
#define LDAP_FILTER_MAX 4096   /* bytes of a search filter with the escaped value */
#define LDAP_GROUPS_MAX 1024   /* group entries read in search mode */
#define LDAP_ROLES_MAX 64      /* bits of sec_ldap_result.roles */

struct sec_ldap {
    const struct bw_project_ldap *config;
    char *ca_file;       /* resolved against the project directory */
    char *password_file; /* likewise; NULL for an anonymous search */
    char **group_dns;    /* config->groups[i].group normalised (NULL: as written) */
};

/* libldap reads its global defaults (ldap.conf, LDAP* variables) on first
 * use; make that happen once, before threads race to it. */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    int version = 0;
    (void)ldap_get_option(NULL, LDAP_OPT_PROTOCOL_VERSION, &version);
}

/* ---- filters (RFC 4515) -------------------------------------------- */

int sec_ldap_filter_make(const char *template, const char *value, size_t len, char *out,
                         size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (!template || (!value && len > 0) || !out || size == 0)
        return BW_EINVAL;
    for (const char *t = template; *t; t++) {
        if (t[0] != '%' || t[1] != 's') {
            if (size - o < 2)
                return BW_ETOOLARGE;
            out[o++] = *t;
            continue;
        }
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)value[i];
            /* The four specials, NUL, controls and every byte outside
             * ASCII go as \XX: the server reads them back as the same
             * octets, and nothing in the value can end the assertion. */
            bool plain = c >= 0x20 && c < 0x7f && c != '*' && c != '(' && c != ')' && c != '\\';
            if (size - o < (plain ? 2u : 4u))
                return BW_ETOOLARGE;
            if (plain) {
                out[o++] = (char)c;
            } else {
                out[o++] = '\\';
                out[o++] = hex[c >> 4];
                out[o++] = hex[c & 15];
            }
        }
        t++;
    }
    out[o] = '\0';
    return BW_OK;
}

/* ---- the object ----------------------------------------------------- */

static char *resolve_path(const char *project_dir, const char *path)
{
    if (path[0] == '/' || !project_dir || !project_dir[0])
        return bw_strdup(path);
    size_t n = strlen(project_dir) + strlen(path) + 2;
    char *out = bw_malloc(n);
    if (out && bw_snprintf(out, n, "%s/%s", project_dir, path) != BW_OK) {
        bw_free(out);
        out = NULL;
    }
    return out;
}

/* The DN in the form compared: no spaces around separators, escapes
 * made uniform. NULL when s is no DN (a group name) or on no memory. */
static char *dn_normalise(const char *s)
{
    char *norm = NULL;
    if (ldap_dn_normalize(s, LDAP_DN_FORMAT_LDAP, &norm, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
        return NULL;
    char *copy = norm ? bw_strdup(norm) : NULL;
    ldap_memfree(norm);
    return copy;
}

/* One URL of the scheme, naming a host (this file connects to it). */
static bool url_valid(const char *url, const char *scheme)
{
    LDAPURLDesc *lud = NULL;
    if (ldap_url_parse(url, &lud) != LDAP_URL_SUCCESS)
        return false;
    bool ok = lud->lud_scheme && strcasecmp(lud->lud_scheme, scheme) == 0 && lud->lud_host &&
              lud->lud_host[0];
    ldap_free_urldesc(lud);
    return ok;
}

static bool config_valid(const struct bw_project_ldap *c)
{
    const char *scheme = c->tls == BW_PROJECT_LDAP_STARTTLS ? "ldap" : "ldaps";
    if (!c->url || !url_valid(c->url, scheme) || !c->ca_file || !c->ca_file[0])
        return false;
    if (!c->user_base || !c->user_filter || !strstr(c->user_filter, "%s"))
        return false;
    if (!c->bind_dn != !c->bind_password_file)
        return false;
    if (!c->group_attribute && !c->group_base != !c->group_filter)
        return false;
    if (c->group_filter && !strstr(c->group_filter, "%s"))
        return false;
    if (c->timeout_ms < 100 || c->timeout_ms > 60000 || (c->group_count && !c->groups))
        return false;
    for (size_t i = 0; i < c->group_count; i++)
        if (!c->groups[i].group || c->groups[i].role >= LDAP_ROLES_MAX)
            return false;
    return true;
}

int sec_ldap_new(const struct bw_project_ldap *config, const char *project_dir,
                 struct sec_ldap **out)
{
    *out = NULL;
    if (!config || !config_valid(config))
        return BW_EINVAL;
    pthread_once(&global_once, global_init);
    struct sec_ldap *l = bw_calloc(1, sizeof(*l));
    if (!l)
        return BW_ENOMEM;
    l->config = config;
    l->ca_file = resolve_path(project_dir, config->ca_file);
    if (config->bind_password_file)
        l->password_file = resolve_path(project_dir, config->bind_password_file);
    if (config->group_count)
        l->group_dns = bw_calloc(config->group_count, sizeof(*l->group_dns));
    bool ok = l->ca_file && (!config->bind_password_file || l->password_file) &&
              (!config->group_count || l->group_dns);
    for (size_t i = 0; ok && i < config->group_count; i++)
        l->group_dns[i] = dn_normalise(config->groups[i].group);
    if (!ok) {
        sec_ldap_free(l);
        return BW_ENOMEM;
    }
    *out = l;
    return BW_OK;
}

void sec_ldap_free(struct sec_ldap *ldap)
{
    if (!ldap)
        return;
    for (size_t i = 0; ldap->group_dns && i < ldap->config->group_count; i++)
        bw_free(ldap->group_dns[i]);
    bw_free(ldap->group_dns);
    bw_free(ldap->ca_file);
    bw_free(ldap->password_file);
    bw_free(ldap);
}

/* ---- the service account's password --------------------------------- */

/* Reads the password file (only when nobody but its owner, this process's
 * user, can read or change it; never through a symbolic link) into buf,
 * without one trailing newline. BW_EDENIED for the file's permissions,
 * BW_ETOOLARGE, BW_EMALFORMED (empty), BW_EIO. buf is wiped on failure. */
static int password_file_read(const char *path, char *buf, size_t size, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ELOOP ? BW_EDENIED : BW_EIO;
    struct stat st;
    int rc = BW_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        rc = BW_EIO;
    else if (st.st_mode & 077 || st.st_uid != geteuid())
        rc = BW_EDENIED;
    size_t got = 0;
    while (rc == BW_OK) {
        if (got == size) {
            rc = BW_ETOOLARGE;
            break;
        }
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = BW_EIO;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (rc == BW_OK && got > 0 && buf[got - 1] == '\n')
        got--;
    if (rc == BW_OK && got == 0)
        rc = BW_EMALFORMED; /* an empty password binds unauthenticated */
    if (rc != BW_OK)
        bw_crypto_wipe(buf, size);
    *len = rc == BW_OK ? got : 0;
    return rc;
}

/* ---- libldap results ------------------------------------------------ */

/* Logs what libldap says of a failed step (its messages hold no
 * password) and maps it: BW_ETIMEOUT once the deadline has passed,
 * whatever libldap called it; BW_EIO otherwise. */
static int fault(LDAP *ld, int lrc, const char *what, int64_t deadline)
{
    char *diag = NULL;
    if (ld)
        (void)ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
    if (diag && strcmp(diag, "(unknown error code)") == 0) {
        ldap_memfree(diag); /* all GnuTLS says of a refused certificate */
        diag = NULL;
    }
    bw_log(BW_LOG_WARN, BW_LOGC_SECURITY, "ldap: %s: %s%s%s", what, ldap_err2string(lrc),
           diag && diag[0] ? ": " : "", diag ? diag : "");
    ldap_memfree(diag);
    if (lrc == LDAP_NO_MEMORY)
        return BW_ENOMEM;
    if (lrc == LDAP_TIMEOUT || lrc == LDAP_TIMELIMIT_EXCEEDED ||
        bw_clock_monotonic_us() >= deadline)
        return BW_ETIMEOUT;
    return BW_EIO;
}

/* Gives the next libldap call what is left of the deadline. */
static int time_left(LDAP *ld, int64_t deadline, struct timeval *tv)
{
    int64_t left = deadline - bw_clock_monotonic_us();
    if (left <= 0)
        return BW_ETIMEOUT;
    tv->tv_sec = (time_t)(left / 1000000);
    tv->tv_usec = (suseconds_t)(left % 1000000);
    if (ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, tv) != LDAP_OPT_SUCCESS ||
        ldap_set_option(ld, LDAP_OPT_TIMEOUT, tv) != LDAP_OPT_SUCCESS)
        return BW_EIO;
    return BW_OK;
}

/* ---- the connection ------------------------------------------------- */

static int tls_options(struct sec_ldap *l, LDAP *ld)
{
    int version = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND;
    int min = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2, is_server = 0;
    /* Only the configured CA is trusted: no directory of others from
     * ldap.conf. Referrals are not chased (they would take the password
     * elsewhere). "Asynchronous": the connection is already open (ours);
     * it makes libldap wait for the TLS handshake with the timeout. */
    if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) != LDAP_OPT_SUCCESS ||
        ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
        ldap_set_option(ld, LDAP_OPT_CONNECT_ASYNC, LDAP_OPT_ON) != LDAP_OPT_SUCCESS ||
        ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != LDAP_OPT_SUCCESS ||
        ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, l->ca_file) != LDAP_OPT_SUCCESS ||
        ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTDIR, NULL) != LDAP_OPT_SUCCESS ||
        ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &min) != LDAP_OPT_SUCCESS)
        return BW_EIO;
    /* The handle's own TLS context, made from the options above. */
    if (ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server) != LDAP_OPT_SUCCESS) {
        bw_log(BW_LOG_WARN, BW_LOGC_SECURITY, "ldap: cannot use the CA file %s", l->ca_file);
        return BW_EIO;
    }
    return BW_OK;
}

static int wait_connected(int fd, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - bw_clock_monotonic_us();
        if (left <= 0)
            return BW_ETIMEOUT;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int n = poll(&p, 1, (int)((left + 999) / 1000));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return BW_EIO;
        if (n == 0)
            return BW_ETIMEOUT;
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
            return BW_EIO;
        return BW_OK;
    }
}

/* A TCP connection to the URL's host, trying each of its addresses in
 * turn until the deadline. Left non-blocking: libldap, told the
 * connection is asynchronous, then waits for TLS with the deadline. */
static int tcp_connect(const struct sec_ldap *l, int64_t deadline, int *out)
{
    LDAPURLDesc *lud = NULL;
    char port[8];
    if (ldap_url_parse(l->config->url, &lud) != LDAP_URL_SUCCESS)
        return BW_EIO;
    bool ldaps = l->config->tls == BW_PROJECT_LDAP_LDAPS;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *list = NULL;
    int rc = bw_snprintf(port, sizeof(port), "%d",
                         lud->lud_port ? lud->lud_port
                         : ldaps       ? 636
                                       : 389);
    if (rc == BW_OK && getaddrinfo(lud->lud_host, port, &hints, &list) != 0) {
        bw_log(BW_LOG_WARN, BW_LOGC_SECURITY, "ldap: cannot resolve %s", lud->lud_host);
        rc = BW_EIO;
    }
    int fd = -1;
    for (struct addrinfo *a = list; rc == BW_OK && a; a = a->ai_next) {
        fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        int step = connect(fd, a->ai_addr, a->ai_addrlen) == 0 ? BW_OK
                   : errno == EINPROGRESS                      ? wait_connected(fd, deadline)
                                                               : BW_EIO;
        if (step == BW_OK)
            break;
        close(fd);
        fd = -1;
        if (step == BW_ETIMEOUT)
            rc = step;
    }
    if (rc == BW_OK && fd < 0) {
        bw_log(BW_LOG_WARN, BW_LOGC_SECURITY, "ldap: cannot connect to %s port %s", lud->lud_host,
               port);
        rc = BW_EIO;
    } else if (rc == BW_ETIMEOUT) {
        bw_log(BW_LOG_WARN, BW_LOGC_SECURITY, "ldap: no connection to %s port %s in time",
               lud->lud_host, port);
    }
    freeaddrinfo(list);
    ldap_free_urldesc(lud);
    *out = fd;
    return rc;
}

/* Opens the connection and completes TLS. The TCP connection is made
 * here, not by libldap: libldap's TLS handshake waits with a timeout only
 * on a connection it treats as asynchronous (on any other, it spins
 * without end against a server that says nothing), and libldap's own
 * asynchronous connect leaves when to give up to each later call. */
static int connect_tls(struct sec_ldap *l, int64_t deadline, LDAP **out)
{
    LDAP *ld = NULL;
    struct timeval tv;
    int fd = -1;
    int rc = tcp_connect(l, deadline, &fd);
    if (rc != BW_OK)
        return rc;
    int lrc = ldap_init_fd(fd, LDAP_PROTO_TCP, l->config->url, &ld);
    if (lrc != LDAP_SUCCESS) {
        close(fd);
        return fault(NULL, lrc, "cannot use the directory's URL", deadline);
    }
    rc = tls_options(l, ld);
    if (rc == BW_OK)
        rc = time_left(ld, deadline, &tv);
    if (rc == BW_OK) {
        if (l->config->tls == BW_PROJECT_LDAP_STARTTLS)
            lrc = ldap_start_tls_s(ld, NULL, NULL);
        else
            lrc = ldap_install_tls(ld);
        if (lrc != LDAP_SUCCESS)
            rc = fault(ld, lrc,
                       lrc == LDAP_CONNECT_ERROR
                           ? "TLS with the directory (is its certificate signed by the "
                             "configured CA, for the URL's host name, TLS 1.2 or later?)"
                           : "TLS with the directory",
                       deadline);
    }
    if (rc != BW_OK) {
        ldap_unbind_ext_s(ld, NULL, NULL); /* closes fd */
        return rc;
    }
    *out = ld;
    return BW_OK;
}

/* Simple bind. BW_EDENIED when the directory refuses the credentials. */
static int bind_simple(LDAP *ld, const char *dn, const char *password, size_t len, int64_t deadline)
{
    struct timeval tv;
    int rc = time_left(ld, deadline, &tv);
    if (rc != BW_OK)
        return rc;
    struct berval cred = {.bv_len = len, .bv_val = (char *)password};
    int lrc = ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
    if (lrc == LDAP_SUCCESS)
        return BW_OK;
    /* Negative codes are libldap's own: the connection failed. Any
     * answer from the server (invalid credentials, account locked,
     * unwilling) is a refusal. */
    return lrc < 0 ? fault(ld, lrc, "bind", deadline) : BW_EDENIED;
}

static int bind_service(struct sec_ldap *l, LDAP *ld, int64_t deadline)
{
    if (!l->config->bind_dn)
        return BW_OK; /* anonymous search */
    char password[LDAP_PASSWORD_MAX];
    size_t len = 0;
    int rc = password_file_read(l->password_file, password, sizeof(password), &len);
    if (rc != BW_OK) {
        bw_log(BW_LOG_WARN, BW_LOGC_SECURITY, "ldap: bind password file %s: %s", l->password_file,
               rc == BW_EDENIED ? "readable or writable by others, or a link"
               : rc == BW_EIO   ? "cannot be read"
                                : bw_strerror(rc));
        return BW_EIO;
    }
    rc = bind_simple(ld, l->config->bind_dn, password, len, deadline);
    bw_crypto_wipe(password, sizeof(password));
    if (rc == BW_EDENIED) {
        bw_log(BW_LOG_WARN, BW_LOGC_SECURITY, "ldap: the directory refused the bind as %s",
               l->config->bind_dn);
        rc = BW_EIO; /* the configuration's fault, not the user's */
    }
    return rc;
}

/* ---- groups ------------------------------------------------------------ */

/* Adds the roles the group named by value (len bytes) grants: compared
 * without regard to case, as normalised DNs when both are DNs. */
static void roles_add(struct sec_ldap *l, const char *value, size_t len, uint64_t *roles)
{
    char group[sizeof(((struct sec_ldap_result *)0)->dn)];
    if (len >= sizeof(group) || memchr(value, '\0', len))
        return; /* no configured group is that long */
    memcpy(group, value, len);
    group[len] = '\0';
    char *norm = dn_normalise(group);
    for (size_t i = 0; i < l->config->group_count; i++) {
        bool both = norm && l->group_dns[i];
        if (strcasecmp(both ? norm : group, both ? l->group_dns[i] : l->config->groups[i].group) ==
            0)
            *roles |= UINT64_C(1) << l->config->groups[i].role;
    }
    bw_free(norm);
}

static void roles_from_attribute(struct sec_ldap *l, LDAP *ld, LDAPMessage *entry, uint64_t *roles)
{
    struct berval **values = ldap_get_values_len(ld, entry, l->config->group_attribute);
    for (size_t i = 0; values && values[i]; i++)
        roles_add(l, values[i]->bv_val, values[i]->bv_len, roles);
    ldap_value_free_len(values);
}

static int roles_from_search(struct sec_ldap *l, LDAP *ld, const char *dn, int64_t deadline,
                             uint64_t *roles)
{
    char filter[LDAP_FILTER_MAX];
    char *attrs[] = {LDAP_NO_ATTRS, NULL};
    LDAPMessage *res = NULL;
    struct timeval tv;
    int rc = sec_ldap_filter_make(l->config->group_filter, dn, strlen(dn), filter, sizeof(filter));
    if (rc == BW_OK)
        rc = time_left(ld, deadline, &tv);
    if (rc != BW_OK)
        return rc;
    int lrc = ldap_search_ext_s(ld, l->config->group_base, LDAP_SCOPE_SUBTREE, filter, attrs, 1,
                                NULL, NULL, &tv, LDAP_GROUPS_MAX, &res);
    /* More groups than the limit: the user gets the roles of those read
     * (fewer roles, never more). */
    if (lrc != LDAP_SUCCESS && lrc != LDAP_SIZELIMIT_EXCEEDED && lrc != LDAP_NO_SUCH_OBJECT) {
        ldap_msgfree(res);
        return fault(ld, lrc, "group search", deadline);
    }
    for (LDAPMessage *e = ldap_first_entry(ld, res); e; e = ldap_next_entry(ld, e)) {
        char *group = ldap_get_dn(ld, e);
        if (group)
            roles_add(l, group, strlen(group), roles);
        ldap_memfree(group);
    }
    ldap_msgfree(res);
    return BW_OK;
}

/* ---- the user ---------------------------------------------------------- */

/* Finds the one entry user_filter matches for user: its DN into out and,
 * with a group attribute, the roles its groups grant. BW_EDENIED when no
 * entry or more than one matches. */
static int user_find(struct sec_ldap *l, LDAP *ld, const char *user, int64_t deadline,
                     struct sec_ldap_result *out)
{
    char filter[LDAP_FILTER_MAX];
    char *attrs[] = {l->config->group_attribute ? l->config->group_attribute : LDAP_NO_ATTRS, NULL};
    LDAPMessage *res = NULL;
    struct timeval tv;
    int rc =
        sec_ldap_filter_make(l->config->user_filter, user, strlen(user), filter, sizeof(filter));
    if (rc == BW_ETOOLARGE)
        return BW_EDENIED;
    if (rc == BW_OK)
        rc = time_left(ld, deadline, &tv);
    if (rc != BW_OK)
        return rc;
    /* Two are enough to know the name is ambiguous. */
    int lrc = ldap_search_ext_s(ld, l->config->user_base, LDAP_SCOPE_SUBTREE, filter, attrs, 0,
                                NULL, NULL, &tv, 2, &res);
    if (lrc == LDAP_SIZELIMIT_EXCEEDED) {
        rc = BW_EDENIED;
    } else if (lrc != LDAP_SUCCESS) {
        rc = fault(ld, lrc, "user search", deadline);
    } else if (ldap_count_entries(ld, res) != 1) {
        rc = BW_EDENIED;
    } else {
        LDAPMessage *entry = ldap_first_entry(ld, res);
        char *dn = ldap_get_dn(ld, entry);
        if (!dn || !dn[0] || bw_strlcpy(out->dn, dn, sizeof(out->dn)) >= sizeof(out->dn))
            rc = BW_EDENIED; /* the root DSE, or a DN longer than the result holds */
        ldap_memfree(dn);
        if (rc == BW_OK && l->config->group_attribute)
            roles_from_attribute(l, ld, entry, &out->roles);
    }
    ldap_msgfree(res);
    return rc;
}

static bool user_acceptable(const char *user, const char *password, size_t len)
{
    if (!user || !user[0] || !password)
        return false;
    size_t n = strnlen(user, BW_SECURITY_USER_MAX + 1);
    /* An empty password would be an unauthenticated bind (RFC 4513
     * 5.1.2), which some directories answer with success. */
    return n <= BW_SECURITY_USER_MAX && bw_utf8_valid(user, n) && len > 0 &&
           len <= LDAP_PASSWORD_MAX;
}

int sec_ldap_authenticate(struct sec_ldap *ldap, const char *user, const char *password, size_t len,
                          struct sec_ldap_result *out)
{
    memset(out, 0, sizeof(*out));
    if (!user_acceptable(user, password, len))
        return BW_EDENIED;
    int64_t deadline = bw_clock_monotonic_us() + (int64_t)ldap->config->timeout_ms * 1000;
    LDAP *ld = NULL;
    int rc = connect_tls(ldap, deadline, &ld);
    if (rc != BW_OK)
        return rc;
    rc = bind_service(ldap, ld, deadline);
    if (rc == BW_OK)
        rc = user_find(ldap, ld, user, deadline, out);
    /* Groups are read with the search's identity, before the connection
     * turns into the user's. */
    if (rc == BW_OK && !ldap->config->group_attribute && ldap->config->group_filter)
        rc = roles_from_search(ldap, ld, out->dn, deadline, &out->roles);
    if (rc == BW_OK)
        rc = bind_simple(ld, out->dn, password, len, deadline);
    ldap_unbind_ext_s(ld, NULL, NULL);
    if (rc != BW_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}
