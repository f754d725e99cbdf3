/* SPDX-License-Identifier: Apache-2.0
 *
 * audit/forward_internal.h: forwarding the audit trail to a collector as
 * RFC 5424 syslog messages over TLS (RFC 5425). The files that share it:
 *   syslog_format.c    one record -> one octet-counted RFC 5424 frame (pure)
 *   forward_resolve.c  waits against a deadline; name lookup on a helper
 *   forward_tls.c      the TLS connection: connect, handshake, write, wait
 *                      for the collector's acknowledgement
 *   forward_archive.c  records gone from audit.db, from verified segments
 *   forward.c          the forwarder thread: reads new records, sends them,
 *                      keeps its position in STATE/audit-forward.state
 * docs/internals/audit-forwarding.md describes the design and exactly
 * what it guarantees.
 */
#ifndef BW_AUDIT_FORWARD_INTERNAL_H
#define BW_AUDIT_FORWARD_INTERNAL_H

#include "audit/audit.h"

/* ---- the forwarder (forward.c) ---------------------------------------- */

struct bw_audit;
struct bw_audit_forwarder;

/* The position file in the state directory. */
#define BW_AUDIT_FORWARD_STATE_NAME "audit-forward.state"

/* Starts forwarding the trail of audit (whose files are in state_dir) to
 * the collector cfg names. Copies what it needs from cfg and state_dir
 * (both borrowed; cfg's paths must be absolute by then), loads the
 * position from STATE/audit-forward.state (from 0 when the file is
 * missing, unreadable or names another collector; each logged), checks
 * that the CA file (and the client certificate and key, when given) can
 * be loaded, and starts one thread. Returns BW_EINVAL for a bad cfg
 * (no host, port 0, facility outside 0..23, a client certificate without
 * its key) or a CA file, certificate or key that cannot be loaded (logged
 * with the file's name and why), BW_ENOMEM, BW_EIO when the thread or its
 * wake-up descriptor cannot be created. Main thread, after the writer
 * runs: the thread records events with bw_audit_record(). */
BW_MUST_CHECK int bw_audit_forwarder_start(struct bw_audit *audit,
                                           const struct bw_audit_forward_config *cfg,
                                           const char *state_dir, struct bw_audit_forwarder **out);

/* Stops the thread and frees the forwarder. While connected, the thread
 * first sends what the trail holds (at most 1 s), so a record made
 * durable before this call (daemon.stop) reaches the collector; then it
 * closes the connection. Returns within about 1 s even while connecting
 * to a collector that does not answer or while a name lookup hangs.
 * NULL is fine. Main thread, before the writer stops (the thread may be
 * inside bw_audit_record()). */
void bw_audit_forwarder_stop(struct bw_audit_forwarder *fwd);

/* The sequence number of the last record the collector has acknowledged
 * (bw_audit_fwd_conn_settle says how), or of the last record of a range
 * skipped as lost (audit.forward.skipped), as persisted; 0 before the
 * first. Any thread. */
uint64_t bw_audit_forwarder_position(const struct bw_audit_forwarder *fwd);

/* ---- the archive (forward_archive.c) ----------------------------------- */

/* Records gone from audit.db before they were forwarded are read from the
 * archive segments. */
struct bw_audit_fwd_archive;
/* A range the archive cannot give: first..last and why. */
struct bw_audit_fwd_gap {
    uint64_t first, last;
    char reason[320];
};

/* For the trail in state_dir (copied). BW_EINVAL for a path too long,
 * BW_ENOMEM. Nothing is opened before the first read. */
BW_MUST_CHECK int bw_audit_fwd_archive_new(const char *state_dir,
                                           struct bw_audit_fwd_archive **out);
void bw_audit_fwd_archive_free(struct bw_audit_fwd_archive *a);

/* Calls fn for the archived records from `from` on, in order, up to the
 * end of the segment that holds `from` and never reaching `before` (the
 * first record audit.db holds; 0: no bound). Each record comes from a
 * segment that audit.db lists with its SHA-256 and last hash, whose
 * signature, chain and MACs hold, and is checked again as it is read.
 * Returns BW_OK (at the segment's end or at `before`), what fn returned
 * when not 0 (it stops there; the segment stays open, so a call from the
 * next record goes on without checking the file again), BW_ENOTFOUND when
 * record `from` cannot be had (gap says which range from `from` on, at
 * most up to before - 1, and why: no segment holds it, the file is
 * missing, unreadable after several tries, or does not verify),
 * BW_EIO / BW_ENOMEM for what may pass (the keys or audit.db cannot be
 * read now), BW_EINVAL for from 0 or before <= from. Forwarder thread. */
BW_MUST_CHECK int bw_audit_fwd_archive_read(struct bw_audit_fwd_archive *a, uint64_t from,
                                            uint64_t before, bw_audit_entry_fn fn, void *ctx,
                                            struct bw_audit_fwd_gap *gap);

/* ---- the syslog frame (syslog_format.c) ------------------------------- */

/* A frame (length, space and message) is at most this long; a longer
 * record has its MSG (the details) cut, never the record dropped. */
#define BW_AUDIT_SYSLOG_FRAME_MAX 65536
/* Structured-data values longer than this (in bytes, before escaping) are
 * cut at a character boundary and end with "...". */
#define BW_AUDIT_SYSLOG_VALUE_MAX 1024
/* The SD-ID: our name @ the documentation enterprise number (RFC 5612). */
#define BW_AUDIT_SYSLOG_SD_ID "bulwark@32473"
#define BW_AUDIT_SYSLOG_APP_NAME "bulwark"

/* Appends to out one record as an octet-counted frame of RFC 5425 /
 * RFC 6587: `LEN SP SYSLOG-MSG`, the message as RFC 5424 lays it out:
 *
 *   <PRI>1 TIMESTAMP HOSTNAME bulwark PROCID MSGID
 *   [bulwark@32473 seq="" category="" event="" result=""
 *    source_kind="" source="" address=""] MSG
 *
 * PRI = facility * 8 + severity (success 6, failure and denied 4, error
 * 3); TIMESTAMP is UTC with microseconds; HOSTNAME, PROCID and MSGID (the
 * event type) keep printable ASCII only (others become '_') within their
 * RFC lengths, "-" when empty; address is left out when NULL; MSG is the
 * details JSON, left out when empty, cut with a marker when the frame
 * would exceed BW_AUDIT_SYSLOG_FRAME_MAX. Invalid UTF-8 in values and MSG
 * becomes '?'. e, hostname borrowed. Returns BW_EINVAL for a facility
 * outside 0..23 or a NULL argument, BW_ETOOLARGE when out cannot hold the
 * frame (out unchanged then), BW_ENOMEM. Any thread. */
BW_MUST_CHECK int bw_audit_syslog_format(const struct bw_audit_entry *e, int facility,
                                         const char *hostname, int pid, struct bw_buf *out);

/* ---- waiting and name resolution (forward_resolve.c) ------------------ */

struct addrinfo;

/* Formats a reason into err (errlen bytes, may be NULL/0: nothing);
 * the forwarder's files all report their failures this way. */
void bw_audit_fwd_set_err(char *err, size_t errlen, const char *fmt, ...) BW_PRINTF(3, 4);

/* Waits until fd reports one of events (or an error or hang-up), at most
 * until deadline_us (monotonic), unless wake_fd (-1: none) becomes
 * readable first. BW_OK (with *revents when not NULL), BW_ETIMEOUT,
 * BW_ESTATE (woken), BW_EIO. Any thread. */
BW_MUST_CHECK int bw_audit_fwd_wait(int fd, short events, int64_t deadline_us, int wake_fd,
                                    short *revents);

/* Resolves host:port (TCP) on a helper thread that is left behind when
 * the deadline passes or wake_fd becomes readable. *out is freed with
 * freeaddrinfo. BW_ETIMEOUT, BW_ESTATE, BW_EIO (why in err), BW_EINVAL
 * (host name too long), BW_ENOMEM. Forwarder thread. */
BW_MUST_CHECK int bw_audit_fwd_resolve(const char *host, uint16_t port, int64_t deadline_us,
                                       int wake_fd, struct addrinfo **out, char *err,
                                       size_t errlen);

/* ---- the TLS connection (forward_tls.c) -------------------------------- */

/* TLS 1.2 suites the forwarder offers: ECDHE key exchange (forward
 * secrecy) with AEAD ciphers only (DESIGN.md section 4). TLS 1.3 suites
 * are all AEAD with ephemeral key exchange: its three standard ones. */
#define BW_AUDIT_FWD_TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20"
#define BW_AUDIT_FWD_TLS13_SUITES                                                                  \
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"

/* What a connection needs; every string borrowed for the call. */
struct bw_audit_fwd_target {
    const char *host;
    uint16_t port;
    const char *server_name; /* checked in the certificate and sent as SNI; NULL: host */
    const char *ca_file;
    const char *client_cert; /* NULL: none */
    const char *client_key;
};

/* A TLS client context: the CA to trust, TLS 1.2 at least, the client
 * certificate. */
struct bw_audit_fwd_tls;
/* Loads the files of target. BW_EINVAL when one cannot be loaded (why,
 * with the file's name, in err), BW_ENOMEM. Any thread. */
BW_MUST_CHECK int bw_audit_fwd_tls_new(const struct bw_audit_fwd_target *target,
                                       struct bw_audit_fwd_tls **out, char *err, size_t errlen);
void bw_audit_fwd_tls_free(struct bw_audit_fwd_tls *tls);

/* One connection to the collector. All its calls take a deadline on the
 * monotonic clock and a wake descriptor (-1: none): when the wake
 * descriptor becomes readable the call gives up with BW_ESTATE. They
 * report why they failed in err (never key material). One thread. */
struct bw_audit_fwd_conn;

/* Resolves the host, connects (non-blocking, each address in turn), sets
 * TCP keep-alive and TCP_NODELAY, and completes the TLS handshake,
 * verifying the collector's certificate against the CA and the name.
 * BW_ETIMEOUT, BW_ESTATE (woken), BW_EDENIED (certificate refused), BW_EIO
 * (resolution, connection or handshake failed), BW_ENOMEM. */
BW_MUST_CHECK int bw_audit_fwd_conn_open(struct bw_audit_fwd_tls *tls,
                                         const struct bw_audit_fwd_target *target,
                                         int64_t deadline_us, int wake_fd,
                                         struct bw_audit_fwd_conn **out, char *err, size_t errlen);

/* Writes data[*done..len) through TLS, advancing *done as it goes; call
 * again with the same data and *done to go on after BW_ESTATE or
 * BW_ETIMEOUT. BW_ETIMEOUT, BW_ESTATE, BW_EIO (the connection broke). */
BW_MUST_CHECK int bw_audit_fwd_conn_write(struct bw_audit_fwd_conn *conn, const void *data,
                                          size_t len, size_t *done, int64_t deadline_us,
                                          int wake_fd, char *err, size_t errlen);

/* Waits until the collector has acknowledged every byte written. With
 * TLS 1.3 (read acknowledgement), that is its TLS layer: after new data
 * the call sends a key update that requests the collector's, and returns
 * once the collector has answered every such request; since TLS records
 * are read in order, an answer means the collector's process has read
 * every byte before the request, not just its kernel. With TLS 1.2, or
 * once a collector has let its first request go unanswered for 2 s (the
 * connection then stays in TCP mode: bw_audit_fwd_conn_read_ack() turns
 * false), it is the collector's TCP stack (SIOCOUTQ reads 0). Call again
 * with the same deadline after BW_ESTATE. BW_ETIMEOUT, BW_ESTATE, BW_EIO
 * (the peer closed or reset the connection). */
BW_MUST_CHECK int bw_audit_fwd_conn_settle(struct bw_audit_fwd_conn *conn, int64_t deadline_us,
                                           int wake_fd, char *err, size_t errlen);

/* True while settling waits for the collector's TLS layer (TLS 1.3 and
 * the collector answers key updates); false: its TCP stack only. */
bool bw_audit_fwd_conn_read_ack(const struct bw_audit_fwd_conn *conn);
/* "TLSv1.3, TLS_AES_256_GCM_SHA384", for the log. */
void bw_audit_fwd_conn_describe(const struct bw_audit_fwd_conn *conn, char *out, size_t len);

/* Without blocking: BW_OK when the connection still looks alive, BW_EIO
 * when the peer has closed or reset it (it never sends us data, so
 * anything readable other than TLS records it may send by itself means
 * the end). */
BW_MUST_CHECK int bw_audit_fwd_conn_probe(struct bw_audit_fwd_conn *conn, char *err, size_t errlen);

/* Closes (sends close_notify when the connection is still sound) and
 * frees. NULL is fine. */
void bw_audit_fwd_conn_close(struct bw_audit_fwd_conn *conn);

#endif
