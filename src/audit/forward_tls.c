/* SPDX-License-Identifier: Apache-2.0
 *
 * The forwarder's connection to its collector: syslog over TLS (RFC
 * 5425) with OpenSSL 3. Owns the non-blocking TCP connect (the name
 * lookup is forward_resolve.c's), the TLS handshake that verifies the
 * collector's certificate against the configured CA and name and offers
 * only AEAD suites with forward secrecy, writing, and the wait for the
 * collector's acknowledgement on which the forwarder's position rests:
 * with TLS 1.3 the answer to a key update requested after the data
 * (the collector's process has read it), else its TCP's (SIOCOUTQ).
 * Every wait polls the socket together with a wake descriptor and
 * against a deadline, so the forwarder can stop at once. Runs on the
 * forwarder thread; never logs (errors go back as text, which never
 * holds key material).
 */
#include "audit/forward_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Keep-alive: a silent collector is noticed after 30 + 3 * 10 s idle;
 * unacknowledged data gives up after 60 s. */
#define KEEPALIVE_IDLE_S 30
#define KEEPALIVE_INTERVAL_S 10
#define KEEPALIVE_COUNT 3
#define USER_TIMEOUT_MS 60000
/* While waiting for the collector to answer a key update: send another
 * (unanswered) one this often, since OpenSSL answers only when it next
 * reads something; and give up on answers from a collector that has not
 * answered one on this connection after this long. */
#define NUDGE_INTERVAL_US 100000
#define READ_ACK_GRACE_US 2000000

struct bw_audit_fwd_tls {
    SSL_CTX *ctx;
};

struct bw_audit_fwd_conn {
    int fd;
    SSL *ssl;
    bool broken; /* a fatal TLS or socket error: no close_notify */
    /* Acknowledgement by the collector's TLS layer (TLS 1.3 key updates):
     * on until the collector fails to answer the first one. */
    bool read_ack, read_ack_proven;
    bool need_ask;            /* data written since the last request */
    uint64_t asked, answered; /* key updates we requested; the collector's */
    int64_t asked_at_us, nudged_at_us;
};

void bw_audit_fwd_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    if (n < 0)
        err[0] = '\0';
}

/* The newest OpenSSL error of this thread as text ("" when none); the
 * queue is emptied. */
static const char *ssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_peek_last_error();
    buf[0] = '\0';
    if (e)
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf[0] ? buf : "no detail from OpenSSL";
}

/* ---- the TLS context ---------------------------------------------------- */

/* An encrypted key would make OpenSSL prompt on the terminal; refuse it. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return 0;
}

static bool file_readable_by_others(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && (st.st_mode & (S_IROTH | S_IWOTH));
}

/* OpenSSL says "system lib" for a file it cannot open; say why. */
static int check_readable(const char *what, const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        bw_audit_fwd_set_err(err, errlen, "%s %s: %s", what, path, strerror(errno));
        return BW_EINVAL;
    }
    close(fd);
    return BW_OK;
}

/* Why a connection ended, from the error of a failed read or write. */
static void set_closed_err(char *err, size_t errlen, const char *doing, int e)
{
    char why[256];
    unsigned long last = ERR_peek_last_error();
    if (e == SSL_ERROR_SYSCALL && last == 0 && errno == ECONNRESET)
        bw_audit_fwd_set_err(err, errlen, "%s: the collector reset the connection", doing);
    else if (e == SSL_ERROR_SYSCALL && last == 0)
        bw_audit_fwd_set_err(err, errlen, "%s: %s", doing,
                             errno ? strerror(errno) : "connection closed");
    else if (ERR_GET_REASON(last) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        bw_audit_fwd_set_err(err, errlen, "%s: the collector closed the connection", doing);
    else
        bw_audit_fwd_set_err(err, errlen, "%s: %s", doing, ssl_reason(why, sizeof(why)));
    ERR_clear_error();
}

int bw_audit_fwd_tls_new(const struct bw_audit_fwd_target *target, struct bw_audit_fwd_tls **out,
                         char *err, size_t errlen)
{
    char why[256];
    *out = NULL;
    if (!target->ca_file || (!target->client_cert != !target->client_key)) {
        bw_audit_fwd_set_err(err, errlen,
                             "a CA file, and a client certificate only with its key, are needed");
        return BW_EINVAL;
    }
    if (target->client_key && file_readable_by_others(target->client_key)) {
        bw_audit_fwd_set_err(err, errlen, "client key %s is readable or writable by others",
                             target->client_key);
        return BW_EINVAL;
    }
    if (check_readable("CA file", target->ca_file, err, errlen) ||
        (target->client_cert &&
         check_readable("client certificate", target->client_cert, err, errlen)) ||
        (target->client_key && check_readable("client key", target->client_key, err, errlen)))
        return BW_EINVAL;
    struct bw_audit_fwd_tls *tls = bw_calloc(1, sizeof(*tls));
    if (!tls)
        return BW_ENOMEM;
    ERR_clear_error();
    int rc = BW_EINVAL;
    tls->ctx = SSL_CTX_new(TLS_client_method());
    if (!tls->ctx) {
        bw_audit_fwd_set_err(err, errlen, "TLS context: %s", ssl_reason(why, sizeof(why)));
        rc = BW_ENOMEM;
        goto fail;
    }
    SSL_CTX_set_default_passwd_cb(tls->ctx, no_passphrase);
    if (!SSL_CTX_set_min_proto_version(tls->ctx, TLS1_2_VERSION)) {
        bw_audit_fwd_set_err(err, errlen, "TLS 1.2 minimum: %s", ssl_reason(why, sizeof(why)));
        goto fail;
    }
    /* AEAD suites with forward secrecy only, whatever the system's
     * OpenSSL configuration would allow. */
    if (!SSL_CTX_set_cipher_list(tls->ctx, BW_AUDIT_FWD_TLS12_CIPHERS) ||
        !SSL_CTX_set_ciphersuites(tls->ctx, BW_AUDIT_FWD_TLS13_SUITES)) {
        bw_audit_fwd_set_err(err, errlen, "TLS cipher suites: %s", ssl_reason(why, sizeof(why)));
        goto fail;
    }
    SSL_CTX_set_options(tls->ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_session_cache_mode(tls->ctx, SSL_SESS_CACHE_OFF);
    /* Only the configured CA is trusted, never the system's store. */
    SSL_CTX_set_verify(tls->ctx, SSL_VERIFY_PEER, NULL);
    if (!SSL_CTX_load_verify_file(tls->ctx, target->ca_file)) {
        bw_audit_fwd_set_err(err, errlen, "CA file %s: %s", target->ca_file,
                             ssl_reason(why, sizeof(why)));
        goto fail;
    }
    if (target->client_cert) {
        if (!SSL_CTX_use_certificate_chain_file(tls->ctx, target->client_cert)) {
            bw_audit_fwd_set_err(err, errlen, "client certificate %s: %s", target->client_cert,
                                 ssl_reason(why, sizeof(why)));
            goto fail;
        }
        if (!SSL_CTX_use_PrivateKey_file(tls->ctx, target->client_key, SSL_FILETYPE_PEM) ||
            !SSL_CTX_check_private_key(tls->ctx)) {
            bw_audit_fwd_set_err(err, errlen, "client key %s: %s", target->client_key,
                                 ssl_reason(why, sizeof(why)));
            goto fail;
        }
    }
    *out = tls;
    return BW_OK;
fail:
    bw_audit_fwd_tls_free(tls);
    return rc;
}

void bw_audit_fwd_tls_free(struct bw_audit_fwd_tls *tls)
{
    if (!tls)
        return;
    SSL_CTX_free(tls->ctx);
    bw_free(tls);
}

/* ---- connecting ---------------------------------------------------------- */

static void set_socket_options(int fd)
{
    /* Best effort: a connection without them still works. */
    int on = 1, idle = KEEPALIVE_IDLE_S, intvl = KEEPALIVE_INTERVAL_S, cnt = KEEPALIVE_COUNT;
    unsigned user_timeout = USER_TIMEOUT_MS;
    (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    (void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
}

static void address_text(const struct addrinfo *ai, char *out, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    (void)getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), NULL, 0, NI_NUMERICHOST);
    bw_strlcpy(out, host, len);
}

/* Connects to one address. BW_OK with *fd_out, or an error with err. */
static int connect_one(const struct addrinfo *ai, uint16_t port, int64_t deadline_us, int wake_fd,
                       int *fd_out, char *err, size_t errlen)
{
    char addr[INET6_ADDRSTRLEN];
    address_text(ai, addr, sizeof(addr));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        bw_audit_fwd_set_err(err, errlen, "socket: %s", strerror(errno));
        return BW_EIO;
    }
    int rc = BW_OK, soerr = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            soerr = errno;
        } else {
            rc = bw_audit_fwd_wait(fd, POLLOUT, deadline_us, wake_fd, NULL);
            socklen_t sl = sizeof(soerr);
            if (!rc && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
                soerr = errno;
        }
    }
    if (rc == BW_ETIMEOUT)
        bw_audit_fwd_set_err(err, errlen, "connecting to %s port %u timed out", addr,
                             (unsigned)port);
    else if (!rc && soerr) {
        bw_audit_fwd_set_err(err, errlen, "connecting to %s port %u: %s", addr, (unsigned)port,
                             strerror(soerr));
        rc = BW_EIO;
    }
    if (rc) {
        close(fd);
        return rc;
    }
    set_socket_options(fd);
    *fd_out = fd;
    return BW_OK;
}

static int connect_any(const struct bw_audit_fwd_target *target, int64_t deadline_us, int wake_fd,
                       int *fd_out, char *err, size_t errlen)
{
    struct addrinfo *list = NULL;
    int rc =
        bw_audit_fwd_resolve(target->host, target->port, deadline_us, wake_fd, &list, err, errlen);
    if (rc)
        return rc;
    rc = BW_EIO;
    bw_audit_fwd_set_err(err, errlen, "%s has no address", target->host);
    for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
        rc = connect_one(ai, target->port, deadline_us, wake_fd, fd_out, err, errlen);
        if (rc == BW_OK || rc == BW_ESTATE || rc == BW_ETIMEOUT)
            break;
    }
    freeaddrinfo(list);
    return rc;
}

static bool is_ip_literal(const char *name)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

/* Names the certificate must carry, and SNI (never for an address). */
static int set_peer_name(SSL *ssl, const char *name, char *err, size_t errlen)
{
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (is_ip_literal(name)) {
        if (X509_VERIFY_PARAM_set1_ip_asc(param, name) == 1)
            return BW_OK;
    } else if (X509_VERIFY_PARAM_set1_host(param, name, 0) == 1 &&
               SSL_set_tlsext_host_name(ssl, name) == 1) {
        return BW_OK;
    }
    char why[256];
    bw_audit_fwd_set_err(err, errlen, "server name %s: %s", name, ssl_reason(why, sizeof(why)));
    return BW_EINVAL;
}

/* Counts the collector's key updates that answer ours (request_update
 * 0; one with 1 is the collector asking for ours, not an answer). */
static void on_tls_message(int write_p, int version, int content_type, const void *buf, size_t len,
                           SSL *ssl, void *arg)
{
    (void)version, (void)ssl;
    const unsigned char *msg = buf;
    struct bw_audit_fwd_conn *conn = arg;
    /* type (1), length (3), request_update (1) */
    if (!write_p && content_type == SSL3_RT_HANDSHAKE && len == 5 && msg[0] == SSL3_MT_KEY_UPDATE &&
        msg[4] == 0)
        conn->answered++;
}

/* Drives SSL_connect to its end. */
static int handshake(struct bw_audit_fwd_conn *conn, const char *name, int64_t deadline_us,
                     int wake_fd, char *err, size_t errlen)
{
    char why[256];
    for (;;) {
        ERR_clear_error();
        int ret = SSL_connect(conn->ssl);
        if (ret == 1)
            break;
        int e = SSL_get_error(conn->ssl, ret);
        short events = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (events) {
            int rc = bw_audit_fwd_wait(conn->fd, events, deadline_us, wake_fd, NULL);
            if (rc == BW_ETIMEOUT)
                bw_audit_fwd_set_err(err, errlen, "TLS handshake timed out");
            if (rc)
                return rc;
            continue;
        }
        conn->broken = true;
        long verify = SSL_get_verify_result(conn->ssl);
        if (verify != X509_V_OK) {
            bw_audit_fwd_set_err(err, errlen, "collector's certificate refused for %s: %s", name,
                                 X509_verify_cert_error_string(verify));
            ERR_clear_error();
            return BW_EDENIED;
        }
        if (e == SSL_ERROR_SYSCALL && ERR_peek_last_error() == 0)
            bw_audit_fwd_set_err(err, errlen, "TLS handshake: connection closed by the collector");
        else
            bw_audit_fwd_set_err(err, errlen, "TLS handshake: %s", ssl_reason(why, sizeof(why)));
        return BW_EIO;
    }
    /* SSL_VERIFY_PEER has refused a bad certificate already; this also
     * catches a server that sent none. */
    X509 *peer = SSL_get1_peer_certificate(conn->ssl);
    bool ok = peer && SSL_get_verify_result(conn->ssl) == X509_V_OK;
    X509_free(peer);
    if (!ok) {
        bw_audit_fwd_set_err(err, errlen, "collector presented no verified certificate");
        return BW_EDENIED;
    }
    return BW_OK;
}

int bw_audit_fwd_conn_open(struct bw_audit_fwd_tls *tls, const struct bw_audit_fwd_target *target,
                           int64_t deadline_us, int wake_fd, struct bw_audit_fwd_conn **out,
                           char *err, size_t errlen)
{
    *out = NULL;
    struct bw_audit_fwd_conn *conn = bw_calloc(1, sizeof(*conn));
    if (!conn)
        return BW_ENOMEM;
    conn->fd = -1;
    int rc = connect_any(target, deadline_us, wake_fd, &conn->fd, err, errlen);
    if (rc)
        goto fail;
    ERR_clear_error();
    conn->ssl = SSL_new(tls->ctx);
    if (!conn->ssl || SSL_set_fd(conn->ssl, conn->fd) != 1) {
        char why[256];
        bw_audit_fwd_set_err(err, errlen, "TLS session: %s", ssl_reason(why, sizeof(why)));
        rc = BW_ENOMEM;
        goto fail;
    }
    SSL_set_msg_callback(conn->ssl, on_tls_message);
    SSL_set_msg_callback_arg(conn->ssl, conn);
    const char *name = target->server_name ? target->server_name : target->host;
    rc = set_peer_name(conn->ssl, name, err, errlen);
    if (!rc)
        rc = handshake(conn, name, deadline_us, wake_fd, err, errlen);
    if (rc)
        goto fail;
    conn->read_ack = SSL_version(conn->ssl) >= TLS1_3_VERSION;
    *out = conn;
    return BW_OK;
fail:
    conn->broken = true;
    bw_audit_fwd_conn_close(conn);
    return rc;
}

/* ---- sending --------------------------------------------------------- */

int bw_audit_fwd_conn_write(struct bw_audit_fwd_conn *conn, const void *data, size_t len,
                            size_t *done, int64_t deadline_us, int wake_fd, char *err,
                            size_t errlen)
{
    const char *p = data;
    while (*done < len) {
        size_t n = 0;
        ERR_clear_error();
        /* A retry after WANT_* passes the same buffer, as OpenSSL asks:
         * *done moves only when a write succeeds. */
        errno = 0;
        if (SSL_write_ex(conn->ssl, p + *done, len - *done, &n) == 1) {
            *done += n;
            conn->need_ask = true;
            continue;
        }
        int e = SSL_get_error(conn->ssl, 0);
        short events = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (events) {
            int rc = bw_audit_fwd_wait(conn->fd, events, deadline_us, wake_fd, NULL);
            if (rc == BW_ETIMEOUT)
                bw_audit_fwd_set_err(err, errlen,
                                     "sending timed out (the collector does not read)");
            if (rc)
                return rc;
            continue;
        }
        conn->broken = true;
        set_closed_err(err, errlen, "sending", e);
        return BW_EIO;
    }
    return BW_OK;
}

int bw_audit_fwd_conn_probe(struct bw_audit_fwd_conn *conn, char *err, size_t errlen)
{
    struct pollfd p = {.fd = conn->fd, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0 || !p.revents)
        return BW_OK;
    if (p.revents & POLLERR) {
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        (void)getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        conn->broken = true;
        bw_audit_fwd_set_err(err, errlen, "connection failed: %s",
                             soerr ? strerror(soerr) : "socket error");
        return BW_EIO;
    }
    /* The collector never sends application data; what it may send by
     * itself (TLS 1.3 session tickets, alerts) is consumed here. */
    char buf[4096];
    for (int i = 0; i < 16; i++) {
        size_t n = 0;
        ERR_clear_error();
        errno = 0;
        if (SSL_read_ex(conn->ssl, buf, sizeof(buf), &n) == 1)
            continue;
        int e = SSL_get_error(conn->ssl, 0);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return BW_OK;
        if (e == SSL_ERROR_ZERO_RETURN) {
            bw_audit_fwd_set_err(err, errlen, "reading: the collector closed the connection");
        } else {
            conn->broken = true;
            set_closed_err(err, errlen, "reading", e);
        }
        return BW_EIO;
    }
    return BW_OK;
}

/* Bytes written but not yet acknowledged by the peer, or -1. */
static int unacknowledged(int fd)
{
    int n = 0;
    return ioctl(fd, SIOCOUTQ, &n) == 0 ? n : -1;
}

/* Sends a key update now (asking for the collector's when type says
 * so), or finishes sending one a woken call left pending. */
static int key_update(struct bw_audit_fwd_conn *conn, int type, int64_t deadline_us, int wake_fd,
                      char *err, size_t errlen)
{
    char why[256];
    ERR_clear_error();
    bool sending = SSL_get_key_update_type(conn->ssl) != SSL_KEY_UPDATE_NONE;
    if (type != SSL_KEY_UPDATE_NONE && !sending) {
        sending = true;
        if (SSL_key_update(conn->ssl, type) != 1) {
            conn->broken = true;
            bw_audit_fwd_set_err(err, errlen, "TLS key update: %s", ssl_reason(why, sizeof(why)));
            return BW_EIO;
        }
        if (type == SSL_KEY_UPDATE_REQUESTED) {
            conn->asked++;
            conn->asked_at_us = bw_clock_monotonic_us();
        }
    }
    while (SSL_get_key_update_type(conn->ssl) != SSL_KEY_UPDATE_NONE) {
        errno = 0;
        int ret = SSL_do_handshake(conn->ssl);
        if (ret == 1)
            break;
        int e = SSL_get_error(conn->ssl, ret);
        short events = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (!events) {
            conn->broken = true;
            set_closed_err(err, errlen, "sending", e);
            return BW_EIO;
        }
        int rc = bw_audit_fwd_wait(conn->fd, events, deadline_us, wake_fd, NULL);
        if (rc == BW_ETIMEOUT)
            bw_audit_fwd_set_err(err, errlen, "sending timed out (the collector does not read)");
        if (rc)
            return rc;
    }
    if (sending)
        conn->nudged_at_us = bw_clock_monotonic_us();
    return BW_OK;
}

/* Whether the wait is over: every byte acknowledged by the collector's
 * TCP and, in read-acknowledgement mode, every key update we requested
 * answered by its TLS layer, which reads records in order: the answer
 * comes only after the collector has read every byte before the request.
 * Nudges a collector that has not answered yet; drops to TCP-only for
 * the connection when it never answers. */
static int settled(struct bw_audit_fwd_conn *conn, int outq, int64_t deadline_us, int wake_fd,
                   bool *done, char *err, size_t errlen)
{
    *done = false;
    if (!conn->read_ack) {
        *done = outq == 0;
        return BW_OK;
    }
    if (conn->answered >= conn->asked) {
        conn->read_ack_proven = true;
        *done = true;
        return BW_OK;
    }
    int64_t now = bw_clock_monotonic_us();
    if (outq != 0)
        return BW_OK; /* the request itself is not through yet */
    if (!conn->read_ack_proven && now - conn->asked_at_us >= READ_ACK_GRACE_US) {
        conn->read_ack = false;
        *done = true;
        return BW_OK;
    }
    if (now - conn->nudged_at_us >= NUDGE_INTERVAL_US)
        return key_update(conn, SSL_KEY_UPDATE_NOT_REQUESTED, deadline_us, wake_fd, err, errlen);
    return BW_OK;
}

int bw_audit_fwd_conn_settle(struct bw_audit_fwd_conn *conn, int64_t deadline_us, int wake_fd,
                             char *err, size_t errlen)
{
    /* Finish a key update a woken call left half sent, then ask for the
     * collector's (and nudge it to answer at once) after new data. */
    int rc = key_update(conn, SSL_KEY_UPDATE_NONE, deadline_us, wake_fd, err, errlen);
    if (!rc && conn->read_ack && conn->need_ask) {
        conn->need_ask = false;
        rc = key_update(conn, SSL_KEY_UPDATE_REQUESTED, deadline_us, wake_fd, err, errlen);
        if (!rc)
            rc = key_update(conn, SSL_KEY_UPDATE_NOT_REQUESTED, deadline_us, wake_fd, err, errlen);
    }
    if (rc)
        return rc;
    int slice_ms = 1;
    for (;;) {
        int n = unacknowledged(conn->fd);
        if (n < 0) {
            conn->broken = true;
            bw_audit_fwd_set_err(err, errlen, "SIOCOUTQ: %s", strerror(errno));
            return BW_EIO;
        }
        /* Reading also takes in the collector's key updates. */
        rc = bw_audit_fwd_conn_probe(conn, err, errlen);
        if (rc)
            return rc;
        bool done;
        rc = settled(conn, n, deadline_us, wake_fd, &done, err, errlen);
        if (rc || done)
            return rc;
        struct tcp_info ti;
        socklen_t sl = sizeof(ti);
        if (getsockopt(conn->fd, IPPROTO_TCP, TCP_INFO, &ti, &sl) == 0 &&
            ti.tcpi_state == TCP_CLOSE) {
            conn->broken = true;
            bw_audit_fwd_set_err(err, errlen, "connection closed with %d bytes unacknowledged", n);
            return BW_EIO;
        }
        int64_t now = bw_clock_monotonic_us();
        if (now >= deadline_us) {
            if (n)
                bw_audit_fwd_set_err(err, errlen,
                                     "the collector did not acknowledge %d bytes in time", n);
            else
                bw_audit_fwd_set_err(err, errlen,
                                     "the collector did not answer a TLS key update in time");
            return BW_ETIMEOUT;
        }
        /* Sleep a little (the ACK comes after a round trip), but wake on
         * data (the answer), a hang-up or a stop request. */
        int64_t until = now + (int64_t)slice_ms * 1000;
        rc = bw_audit_fwd_wait(conn->fd, POLLIN, until < deadline_us ? until : deadline_us, wake_fd,
                               NULL);
        if (rc == BW_ESTATE || rc == BW_EIO)
            return rc;
        if (slice_ms < 20)
            slice_ms *= 2;
    }
}

bool bw_audit_fwd_conn_read_ack(const struct bw_audit_fwd_conn *conn)
{
    return conn->read_ack;
}

void bw_audit_fwd_conn_describe(const struct bw_audit_fwd_conn *conn, char *out, size_t len)
{
    bw_audit_fwd_set_err(out, len, "%s, %s", SSL_get_version(conn->ssl),
                         SSL_get_cipher_name(conn->ssl));
}

void bw_audit_fwd_conn_close(struct bw_audit_fwd_conn *conn)
{
    if (!conn)
        return;
    if (conn->ssl) {
        if (!conn->broken) {
            ERR_clear_error();
            (void)SSL_shutdown(conn->ssl); /* one try: sends close_notify */
        }
        SSL_free(conn->ssl);
    }
    ERR_clear_error();
    if (conn->fd >= 0)
        close(conn->fd);
    bw_free(conn);
}
