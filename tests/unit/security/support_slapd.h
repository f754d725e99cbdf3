/* SPDX-License-Identifier: Apache-2.0
 *
 * Test support: a real OpenLDAP server (/usr/sbin/slapd) on loopback,
 * in a temporary directory of its own: a test CA and a server
 * certificate for 127.0.0.1 and localhost (made with OpenSSL), a second
 * CA that signed nothing, a generated slapd.conf (mdb database with the
 * memberof overlay, suffix BW_TEST_SLAPD_SUFFIX), and an administrator
 * (BW_TEST_SLAPD_ROOT_DN) whose random password is in the directory.
 * Entries are loaded with ldapadd over the plain port, so overlays see
 * them. slapd runs in the foreground as a child of the test (it dies
 * with the test, even when the test is killed); stop kills it by its
 * pid and removes the directory. Works as root (as CI runs) and as any
 * other user. Use 127.0.0.1 in URLs: libldap checks a URL's "localhost"
 * against the machine's own name, which the certificate does not hold.
 * Single thread.
 */
#ifndef BW_TEST_SUPPORT_SLAPD_H
#define BW_TEST_SUPPORT_SLAPD_H

#include "base/base.h"

#include <sys/types.h>

#define BW_TEST_SLAPD_SUFFIX "dc=example,dc=org"
#define BW_TEST_SLAPD_ROOT_DN "cn=admin,dc=example,dc=org"
#define BW_TEST_SLAPD_BIN "/usr/sbin/slapd"
#define BW_TEST_SLAPD_LDAPADD "/usr/bin/ldapadd"
#define BW_TEST_SLAPD_MODULES "/usr/lib/ldap" /* Debian's; back_mdb and memberof */

struct bw_test_slapd {
    char dir[64];        /* the temporary directory */
    pid_t pid;           /* slapd's; 0 when not running */
    uint16_t ldaps_port; /* ldaps://127.0.0.1:ldaps_port */
    uint16_t ldap_port;  /* ldap://127.0.0.1:ldap_port (StartTLS, or plain) */
    /* Also listening (both ports) on 127.0.0.2, an address the server's
     * certificate does not name; false where it cannot be bound. */
    bool second_address;
    char ca_file[128];       /* PEM of the CA that signed the server's certificate */
    char other_ca_file[128]; /* PEM of a CA that signed nothing here */
};

/* Makes the directory, the certificates and the configuration and starts
 * slapd on two free ports, returning when it accepts connections (a few
 * hundred milliseconds). extra_config (may be NULL) is added to the
 * global section of slapd.conf, e.g. "allow bind_anon_dn\n". On failure
 * slapd's log is copied to standard error and everything is undone. */
BW_MUST_CHECK int bw_test_slapd_start(struct bw_test_slapd *s, const char *extra_config);
/* Adds the entries of ldif (LDIF text) as the administrator, through
 * ldapadd. BW_EIO when ldapadd fails (its messages go to standard error). */
BW_MUST_CHECK int bw_test_slapd_load(struct bw_test_slapd *s, const char *ldif);
/* Kills slapd (SIGTERM, then SIGKILL after 2 s) and removes the
 * directory. Safe on a zeroed struct and when called twice. */
void bw_test_slapd_stop(struct bw_test_slapd *s);

/* "<dir>/<name>" into out. */
BW_MUST_CHECK int bw_test_slapd_path(const struct bw_test_slapd *s, const char *name, char *out,
                                     size_t size);
/* "ldaps://host:port" or "ldap://host:port" into out. */
BW_MUST_CHECK int bw_test_slapd_url(const struct bw_test_slapd *s, bool ldaps, const char *host,
                                    char *out, size_t size);
/* Writes len bytes to "<dir>/<name>" with mode (replacing it). */
BW_MUST_CHECK int bw_test_slapd_file(const struct bw_test_slapd *s, const char *name,
                                     const void *data, size_t len, mode_t mode);
/* A loopback TCP port nothing listens on right now. 0 on failure. */
uint16_t bw_test_free_port(void);

#endif
