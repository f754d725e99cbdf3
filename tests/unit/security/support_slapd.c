/* SPDX-License-Identifier: Apache-2.0
 *
 * The slapd of support_slapd.h: certificates made with the OpenSSL API
 * (P-256 keys, a CA and a server certificate with 127.0.0.1 and
 * localhost as subject alternative names), slapd.conf written from a
 * template, slapd and ldapadd run with fork and execv (never a shell).
 * Test support only; single thread.
 */
#include "unit/security/support_slapd.h"

#include "crypto/crypto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READY_TIMEOUT_US 10000000 /* slapd accepting connections */
#define LDAPADD_TIMEOUT_US 10000000
#define STOP_GRACE_US 2000000

/* ---- files ------------------------------------------------------------- */

int bw_test_slapd_path(const struct bw_test_slapd *s, const char *name, char *out, size_t size)
{
    return bw_snprintf(out, size, "%s/%s", s->dir, name);
}

int bw_test_slapd_url(const struct bw_test_slapd *s, bool ldaps, const char *host, char *out,
                      size_t size)
{
    return bw_snprintf(out, size, "%s://%s:%u", ldaps ? "ldaps" : "ldap", host,
                       (unsigned)(ldaps ? s->ldaps_port : s->ldap_port));
}

static int file_write(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return BW_EIO;
    int rc = fchmod(fd, mode) == 0 ? BW_OK : BW_EIO;
    const char *p = data;
    while (rc == BW_OK && len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = BW_EIO;
        else {
            p += n;
            len -= (size_t)n;
        }
    }
    if (close(fd) != 0)
        rc = BW_EIO;
    return rc;
}

int bw_test_slapd_file(const struct bw_test_slapd *s, const char *name, const void *data,
                       size_t len, mode_t mode)
{
    char path[256];
    int rc = bw_test_slapd_path(s, name, path, sizeof(path));
    return rc ? rc : file_write(path, data, len, mode);
}

/* ---- certificates ------------------------------------------------------ */

static bool ext_add(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    bool ok = ext && X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* A certificate for key named cn, signed by issuer (NULL: self-signed). */
static X509 *cert_make(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key)
{
    X509 *c = X509_new();
    uint32_t serial = 0;
    if (!c || bw_crypto_random(&serial, sizeof(serial)) != BW_OK)
        goto fail;
    X509_NAME *name = X509_get_subject_name(c);
    bool ok = X509_set_version(c, X509_VERSION_3) &&
              ASN1_INTEGER_set(X509_get_serialNumber(c), (long)(serial >> 1) + 1) &&
              X509_gmtime_adj(X509_getm_notBefore(c), -3600) &&
              X509_gmtime_adj(X509_getm_notAfter(c), 86400) && X509_set_pubkey(c, key) &&
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1,
                                         -1, 0) &&
              X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
    X509 *signer = issuer ? issuer : c;
    if (ok && !issuer)
        ok = ext_add(c, signer, NID_basic_constraints, "critical,CA:TRUE") &&
             ext_add(c, signer, NID_key_usage, "critical,keyCertSign,cRLSign") &&
             ext_add(c, signer, NID_subject_key_identifier, "hash");
    else if (ok)
        ok = ext_add(c, signer, NID_basic_constraints, "critical,CA:FALSE") &&
             ext_add(c, signer, NID_key_usage, "critical,digitalSignature") &&
             ext_add(c, signer, NID_ext_key_usage, "serverAuth") &&
             ext_add(c, signer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost") &&
             ext_add(c, signer, NID_subject_key_identifier, "hash") &&
             ext_add(c, signer, NID_authority_key_identifier, "keyid:always");
    if (ok && X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256()) > 0)
        return c;
fail:
    X509_free(c);
    return NULL;
}

static int pem_write(const char *path, X509 *cert, EVP_PKEY *key)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return BW_EIO;
    }
    bool ok =
        cert ? PEM_write_X509(f, cert) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    if (fclose(f) != 0)
        ok = false;
    return ok ? BW_OK : BW_EIO;
}

/* ca.pem (with its key kept in memory only), server.pem and server.key,
 * and other-ca.pem. */
static int certificates_make(struct bw_test_slapd *s)
{
    EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *srv_key = EVP_EC_gen("P-256");
    EVP_PKEY *other_key = EVP_EC_gen("P-256");
    X509 *ca = NULL, *srv = NULL, *other = NULL;
    char path[256];
    int rc = BW_EIO;
    if (!ca_key || !srv_key || !other_key)
        goto out;
    ca = cert_make(ca_key, "Bulwark test CA", NULL, NULL);
    other = cert_make(other_key, "Bulwark test CA", NULL, NULL); /* same name, other key */
    srv = ca ? cert_make(srv_key, "localhost", ca, ca_key) : NULL;
    if (!ca || !srv || !other)
        goto out;
    rc = bw_test_slapd_path(s, "ca.pem", s->ca_file, sizeof(s->ca_file));
    if (rc == BW_OK)
        rc = pem_write(s->ca_file, ca, NULL);
    if (rc == BW_OK)
        rc = bw_test_slapd_path(s, "other-ca.pem", s->other_ca_file, sizeof(s->other_ca_file));
    if (rc == BW_OK)
        rc = pem_write(s->other_ca_file, other, NULL);
    if (rc == BW_OK)
        rc = bw_test_slapd_path(s, "server.pem", path, sizeof(path));
    if (rc == BW_OK)
        rc = pem_write(path, srv, NULL);
    if (rc == BW_OK)
        rc = bw_test_slapd_path(s, "server.key", path, sizeof(path));
    if (rc == BW_OK)
        rc = pem_write(path, NULL, srv_key);
out:
    X509_free(ca);
    X509_free(srv);
    X509_free(other);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(srv_key);
    EVP_PKEY_free(other_key);
    return rc;
}

/* ---- configuration ----------------------------------------------------- */

static int config_write(struct bw_test_slapd *s, const char *extra)
{
    uint8_t raw[16];
    char password[2 * sizeof(raw) + 1];
    if (bw_crypto_random(raw, sizeof(raw)) != BW_OK)
        return BW_EIO;
    bw_crypto_hex(raw, sizeof(raw), password);
    struct bw_buf conf;
    bw_buf_init(&conf, 8192);
    const char *d = s->dir;
    int rc = bw_buf_printf(&conf,
                           "include /etc/ldap/schema/core.schema\n"
                           "include /etc/ldap/schema/cosine.schema\n"
                           "include /etc/ldap/schema/inetorgperson.schema\n"
                           "modulepath " BW_TEST_SLAPD_MODULES "\n"
                           "moduleload back_mdb\n"
                           "moduleload memberof\n"
                           "pidfile %s/slapd.pid\n"
                           "TLSCertificateFile %s/server.pem\n"
                           "TLSCertificateKeyFile %s/server.key\n"
                           "%s"
                           "database mdb\n"
                           "maxsize 16777216\n"
                           "dbnosync\n"
                           "suffix \"" BW_TEST_SLAPD_SUFFIX "\"\n"
                           "rootdn \"" BW_TEST_SLAPD_ROOT_DN "\"\n"
                           "rootpw %s\n"
                           "directory %s/db\n"
                           "overlay memberof\n"
                           "access to attrs=userPassword by anonymous auth by * none\n"
                           "access to * by * read\n",
                           d, d, d, extra ? extra : "", password, d);
    char path[256];
    if (rc == BW_OK)
        rc = bw_test_slapd_path(s, "db", path, sizeof(path));
    if (rc == BW_OK && mkdir(path, 0700) != 0)
        rc = BW_EIO;
    if (rc == BW_OK)
        rc = bw_test_slapd_file(s, "slapd.conf", conf.data, conf.len, 0600);
    if (rc == BW_OK) /* for ldapadd -y: the whole file is the password */
        rc = bw_test_slapd_file(s, "rootpw", password, strlen(password), 0600);
    bw_buf_clear(&conf);
    return rc;
}

/* ---- processes ----------------------------------------------------------- */

uint16_t bw_test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    uint16_t port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static bool address_bindable(const char *address)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    bool ok = fd >= 0 && inet_pton(AF_INET, address, &a.sin_addr) == 1 &&
              bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static void sleep_us(long us)
{
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Runs argv[0] with standard output and error appended to log (NULL:
 * output discarded, errors inherited). die_with_parent: SIGKILL when the
 * test process ends. */
static pid_t spawn(char *const argv[], const char *log, bool die_with_parent)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    if (die_with_parent && (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent))
        _exit(126);
    int in = open("/dev/null", O_RDONLY);
    int out = log ? open(log, O_WRONLY | O_CREAT | O_APPEND, 0600) : open("/dev/null", O_WRONLY);
    if (in < 0 || out < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
        (log && dup2(out, STDERR_FILENO) < 0))
        _exit(126);
    /* Neither ldap.conf nor LDAP* variables of the caller apply. */
    if (setenv("LDAPNOINIT", "1", 1) != 0)
        _exit(126);
    execv(argv[0], argv);
    _exit(127);
}

/* Waits up to timeout_us for pid; its exit status into *status. */
static bool wait_for(pid_t pid, long timeout_us, int *status)
{
    for (long waited = 0;; waited += 10000) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return true;
        if (waited >= timeout_us)
            return false;
        sleep_us(10000);
    }
}

static bool port_open(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static void log_dump(const struct bw_test_slapd *s)
{
    char path[256];
    if (bw_test_slapd_path(s, "slapd.log", path, sizeof(path)) != BW_OK)
        return;
    FILE *f = fopen(path, "r");
    char line[512];
    while (f && fgets(line, sizeof(line), f))
        fprintf(stderr, "slapd: %s", line);
    if (f)
        fclose(f);
}

/* One attempt on two fresh ports; BW_EBUSY when slapd ended at once (a
 * port taken meanwhile, say). */
static int slapd_run(struct bw_test_slapd *s)
{
    char conf[256], log[256], urls[256];
    s->ldaps_port = bw_test_free_port();
    do
        s->ldap_port = bw_test_free_port();
    while (s->ldap_port == s->ldaps_port);
    if (!s->ldaps_port || !s->ldap_port)
        return BW_EIO;
    unsigned p1 = s->ldaps_port, p2 = s->ldap_port;
    int rc = bw_test_slapd_path(s, "slapd.conf", conf, sizeof(conf));
    if (rc == BW_OK)
        rc = bw_test_slapd_path(s, "slapd.log", log, sizeof(log));
    if (rc == BW_OK && s->second_address)
        rc = bw_snprintf(urls, sizeof(urls),
                         "ldaps://127.0.0.1:%u/ ldap://127.0.0.1:%u/ ldaps://127.0.0.2:%u/ "
                         "ldap://127.0.0.2:%u/",
                         p1, p2, p1, p2);
    else if (rc == BW_OK)
        rc = bw_snprintf(urls, sizeof(urls), "ldaps://127.0.0.1:%u/ ldap://127.0.0.1:%u/", p1, p2);
    if (rc != BW_OK)
        return rc;
    /* -d 0: stay in the foreground (our child, killed by pid), no debug
     * output. As root, slapd keeps running as root: fine for a test. */
    char *argv[] = {BW_TEST_SLAPD_BIN, "-f", conf, "-h", urls, "-d", "0", NULL};
    s->pid = spawn(argv, log, true);
    if (s->pid < 0) {
        s->pid = 0;
        return BW_EIO;
    }
    for (long waited = 0; waited < READY_TIMEOUT_US; waited += 20000) {
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            return BW_EBUSY;
        }
        if (port_open(s->ldap_port) && port_open(s->ldaps_port))
            return BW_OK;
        sleep_us(20000);
    }
    return BW_ETIMEOUT;
}

int bw_test_slapd_start(struct bw_test_slapd *s, const char *extra_config)
{
    memset(s, 0, sizeof(*s));
    if (bw_snprintf(s->dir, sizeof(s->dir), "/tmp/bw-slapd-XXXXXX") != BW_OK || !mkdtemp(s->dir)) {
        s->dir[0] = '\0';
        return BW_EIO;
    }
    s->second_address = address_bindable("127.0.0.2");
    int rc = certificates_make(s);
    if (rc == BW_OK)
        rc = config_write(s, extra_config);
    for (int attempt = 0; rc == BW_OK && attempt < 3; attempt++) {
        rc = slapd_run(s);
        if (rc != BW_EBUSY)
            break;
    }
    if (rc != BW_OK) {
        fprintf(stderr, "slapd did not start: %s\n", bw_strerror(rc));
        log_dump(s);
        bw_test_slapd_stop(s);
    }
    return rc;
}

int bw_test_slapd_load(struct bw_test_slapd *s, const char *ldif)
{
    char file[256], pwfile[256], url[64];
    int rc = bw_test_slapd_path(s, "load.ldif", file, sizeof(file));
    if (rc == BW_OK)
        rc = bw_test_slapd_path(s, "rootpw", pwfile, sizeof(pwfile));
    if (rc == BW_OK)
        rc = bw_test_slapd_url(s, false, "127.0.0.1", url, sizeof(url));
    if (rc == BW_OK)
        rc = file_write(file, ldif, strlen(ldif), 0600);
    if (rc != BW_OK)
        return rc;
    char *argv[] = {BW_TEST_SLAPD_LDAPADD,
                    "-x",
                    "-H",
                    url,
                    "-D",
                    BW_TEST_SLAPD_ROOT_DN,
                    "-y",
                    pwfile,
                    "-f",
                    file,
                    NULL};
    pid_t pid = spawn(argv, NULL, true);
    int status = 0;
    if (pid < 0)
        return BW_EIO;
    if (!wait_for(pid, LDAPADD_TIMEOUT_US, &status)) {
        kill(pid, SIGKILL);
        (void)wait_for(pid, STOP_GRACE_US, &status);
        return BW_ETIMEOUT;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? BW_OK : BW_EIO;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void bw_test_slapd_stop(struct bw_test_slapd *s)
{
    if (s->pid > 0) {
        int status;
        kill(s->pid, SIGTERM);
        if (!wait_for(s->pid, STOP_GRACE_US, &status)) {
            kill(s->pid, SIGKILL);
            (void)wait_for(s->pid, STOP_GRACE_US, &status);
        }
        s->pid = 0;
    }
    if (s->dir[0]) {
        (void)nftw(s->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
        s->dir[0] = '\0';
    }
}
