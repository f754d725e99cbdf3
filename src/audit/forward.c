/* SPDX-License-Identifier: Apache-2.0
 *
 * The forwarder: one thread that sends every record of the audit trail,
 * in order, to the configured syslog collector over TLS, and remembers in
 * STATE/audit-forward.state the last record the collector has
 * acknowledged (its TLS layer with TLS 1.3, else its TCP stack). It
 * reads the trail through the public reader (a read-only connection that
 * sees the writer's commits), and records already rolled into the
 * archive from their verified segments (forward_archive.c); sends
 * batches of frames from syslog_format.c over forward_tls.c's
 * connection, advances and persists its position only after the
 * acknowledgement, and on any failure closes, backs off and resends from
 * the persisted position. A lost connection is recorded in the trail
 * (audit.forward.lost, once per outage), its return too
 * (audit.forward.restored), and so is a range that can be had from
 * nowhere (audit.forward.skipped). The thread is the only one that
 * touches the connection, the readers and the batch; other threads read
 * the position (atomic) and ask it to stop (a flag and an eventfd).
 * docs/internals/audit-forwarding.md says what this guarantees.
 */
#include "audit/forward_internal.h"
#include "audit/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define FWD_POLL_US 200000                      /* idle: look for new records this often */
#define FWD_CONNECT_TIMEOUT_US 10000000         /* resolve, connect, handshake */
#define FWD_SEND_TIMEOUT_US 15000000            /* write a batch and see it acknowledged */
#define FWD_BACKOFF_MIN_US 1000000              /* first wait after a failure ... */
#define FWD_BACKOFF_MAX_US 30000000             /* ... doubling up to this */
#define FWD_STABLE_US 10000000                  /* a connection up this long resets the backoff */
#define FWD_STOP_GRACE_US 1000000               /* what stop leaves to send what is left */
#define FWD_BATCH_RECORDS 500                   /* records per query and per batch ... */
#define FWD_BATCH_BYTES (1024 * 1024)           /* ... and bytes (a frame may pass it once) */
#define FWD_STATE_MAX 4096                      /* the position file is tiny */
#define FWD_COLLECTOR_MAX (253 + 2 + 1 + 5 + 1) /* [host]:port */

/* Returned by the query callback to end a full batch; not an error. */
#define FWD_BATCH_FULL (BW_ERR_COUNT_ + 1)
/* Returned by it when audit.db no longer holds the next record. */
#define FWD_GAP (BW_ERR_COUNT_ + 2)

struct bw_audit_forwarder {
    struct bw_audit *audit;
    /* Owned copies of the configuration. */
    char *state_dir;
    char *host, *server_name, *ca_file, *client_cert, *client_key;
    uint16_t port;
    int facility;
    struct bw_audit_fwd_target target; /* points into the copies above */
    char collector[FWD_COLLECTOR_MAX];
    char state_path[4096];
    char hostname[256];
    int pid;

    /* Shared with other threads. */
    _Atomic uint64_t position;
    _Atomic bool stopping;
    _Atomic int64_t stop_deadline_us;
    int wake_fd;
    pthread_t thread;

    /* The thread's own. */
    struct bw_audit_fwd_tls *tls;
    struct bw_audit_fwd_conn *conn;
    struct bw_audit_reader *reader;
    struct bw_audit_fwd_archive *archive;
    struct bw_buf batch;
    uint64_t batch_last; /* seq of the batch's last record */
    size_t batch_count;
    uint64_t expect_seq; /* the next seq the trail should hand us */
    uint64_t db_first;   /* on FWD_GAP: the record audit.db holds after the gap */
    bool skipped;        /* this turn skipped a range: go on without pausing */
    bool in_archive;     /* the last batch came from the archive */
    bool outage;         /* lost after being connected; restored not yet recorded */
    bool connect_warned; /* this failure streak has been logged at warn */
    bool reader_warned;
    bool persist_warned;
    int64_t backoff_us;
    int64_t connected_at_us;
};

/* ---- the position file ---------------------------------------------------- */

/* Replaces the position file atomically: a temporary file (0600), synced,
 * renamed over the old one, the directory synced. */
static int state_save(struct bw_audit_forwarder *fwd, uint64_t seq)
{
    char tmp[sizeof(fwd->state_path) + 8];
    if (bw_snprintf(tmp, sizeof(tmp), "%s.tmp", fwd->state_path))
        return BW_ETOOLARGE;
    json_t *doc = json_pack("{s:s, s:I}", "collector", fwd->collector, "seq", (json_int_t)seq);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text)
        return BW_ENOMEM;
    int rc = BW_EIO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
        rc = fchmod(fd, 0600) == 0 ? BW_OK : BW_EIO;
        if (!rc)
            rc = audit_write_all(fd, text, strlen(text));
        if (!rc)
            rc = audit_write_all(fd, "\n", 1);
        if (!rc && fsync(fd) != 0)
            rc = BW_EIO;
        close(fd);
        if (!rc && rename(tmp, fwd->state_path) != 0)
            rc = BW_EIO;
        if (rc)
            unlink(tmp);
        else
            rc = audit_fsync_dir(fwd->state_dir);
    }
    free(text); /* jansson's allocator */
    return rc;
}

/* Reads the position file: BW_OK with *seq and the collector it names
 * (in collector), BW_ENOTFOUND when absent, BW_EMALFORMED or BW_EIO. */
static int state_load(const char *path, char *collector, size_t collector_len, uint64_t *seq)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? BW_ENOTFOUND : BW_EIO;
    char text[FWD_STATE_MAX];
    size_t len = 0;
    int rc = BW_OK;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        rc = BW_EIO;
    while (!rc) {
        ssize_t n = read(fd, text + len, sizeof(text) - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = BW_EIO;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == sizeof(text))
            rc = BW_EMALFORMED; /* far larger than any position file */
    }
    close(fd);
    if (rc)
        return rc;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *c = json_object_get(doc, "collector");
    json_t *s = json_object_get(doc, "seq");
    if (json_is_string(c) && json_is_integer(s) && json_integer_value(s) >= 0 &&
        bw_strlcpy(collector, json_string_value(c), collector_len) < collector_len)
        *seq = (uint64_t)json_integer_value(s);
    else
        rc = BW_EMALFORMED;
    json_decref(doc);
    return rc;
}

/* Where to start: the persisted position when it is for this collector
 * and within the trail; else 0 (the whole trail), said in the log. */
static uint64_t initial_position(struct bw_audit_forwarder *fwd)
{
    char named[FWD_COLLECTOR_MAX + 64];
    uint64_t seq = 0;
    int rc = state_load(fwd->state_path, named, sizeof(named), &seq);
    if (rc == BW_ENOTFOUND) {
        bw_log(BW_LOG_INFO, BW_LOGC_AUDIT,
               "audit forwarding to %s: no position yet, sending the whole trail", fwd->collector);
        return 0;
    }
    if (rc) {
        bw_log(BW_LOG_WARN, BW_LOGC_AUDIT,
               "audit forwarding to %s: position file %s unreadable (%s), sending the whole "
               "trail again",
               fwd->collector, fwd->state_path, bw_strerror(rc));
        return 0;
    }
    if (strcmp(named, fwd->collector) != 0) {
        bw_log(BW_LOG_WARN, BW_LOGC_AUDIT,
               "audit forwarding: the collector changed from %s to %s, sending the whole trail "
               "to the new one",
               named, fwd->collector);
        return 0;
    }
    struct bw_audit_status st;
    bw_audit_status_get(fwd->audit, &st);
    if (st.state != BW_AUDIT_STATE_FAILED && st.last_seq < seq) {
        bw_log(BW_LOG_WARN, BW_LOGC_AUDIT,
               "audit forwarding to %s: position %llu is past the trail's last record %llu "
               "(a new trail?), sending the whole trail",
               fwd->collector, (unsigned long long)seq, (unsigned long long)st.last_seq);
        return 0;
    }
    bw_log(BW_LOG_INFO, BW_LOGC_AUDIT, "audit forwarding to %s: resuming after record %llu",
           fwd->collector, (unsigned long long)seq);
    return seq;
}

/* ---- events and waits ----------------------------------------------------- */

static void record_event(struct bw_audit_forwarder *fwd, uint32_t id, enum bw_audit_result result,
                         json_t *details)
{
    if (!details) {
        bw_log(BW_LOG_ERROR, BW_LOGC_AUDIT, "audit forwarding: out of memory for event %u",
               (unsigned)id);
        return;
    }
    struct bw_audit_event ev = {
        .id = id,
        .result = result,
        .source = {.kind = BW_AUDIT_SOURCE_PROCESS, .name = "bulwark", .address = NULL},
        .details = details,
    };
    int rc = bw_audit_record(fwd->audit, &ev, NULL);
    /* BW_EIO: queued until the disk recovers; the trail reports that. */
    if (rc && rc != BW_EIO)
        bw_log(BW_LOG_ERROR, BW_LOGC_AUDIT, "audit forwarding: cannot record event %u: %s",
               (unsigned)id, bw_strerror(rc));
    json_decref(details);
}

/* Sleeps up to us microseconds; returns at once when asked to stop. */
static void pause_for(struct bw_audit_forwarder *fwd, int64_t us)
{
    struct pollfd p = {.fd = fwd->wake_fd, .events = POLLIN};
    int64_t deadline = bw_clock_monotonic_us() + us;
    for (;;) {
        int64_t left = deadline - bw_clock_monotonic_us();
        if (left <= 0 || atomic_load(&fwd->stopping))
            return;
        int n = poll(&p, 1, (int)((left + 999) / 1000));
        if (n != 0 && !(n < 0 && errno == EINTR))
            return;
    }
}

static void backoff_pause(struct bw_audit_forwarder *fwd)
{
    pause_for(fwd, fwd->backoff_us);
    fwd->backoff_us =
        fwd->backoff_us * 2 > FWD_BACKOFF_MAX_US ? FWD_BACKOFF_MAX_US : fwd->backoff_us * 2;
}

/* ---- connection ------------------------------------------------------------ */

static int try_connect(struct bw_audit_forwarder *fwd)
{
    char err[512] = "";
    int rc = BW_OK;
    /* The context is rebuilt for each connection, so a renewed CA file
     * or client certificate is taken without a restart. */
    if (!fwd->tls)
        rc = bw_audit_fwd_tls_new(&fwd->target, &fwd->tls, err, sizeof(err));
    if (!rc)
        rc = bw_audit_fwd_conn_open(fwd->tls, &fwd->target,
                                    bw_clock_monotonic_us() + FWD_CONNECT_TIMEOUT_US, fwd->wake_fd,
                                    &fwd->conn, err, sizeof(err));
    bw_audit_fwd_tls_free(fwd->tls);
    fwd->tls = NULL;
    if (rc == BW_ESTATE)
        return rc;
    if (rc) {
        /* One warning per failure streak; the rest at debug level. */
        enum bw_log_level level = fwd->connect_warned ? BW_LOG_DEBUG : BW_LOG_WARN;
        bw_log(level, BW_LOGC_AUDIT, "audit forwarding to %s: cannot connect: %s; retrying",
               fwd->collector, err);
        fwd->connect_warned = true;
        return rc;
    }
    fwd->connect_warned = false;
    fwd->connected_at_us = bw_clock_monotonic_us();
    uint64_t pos = atomic_load(&fwd->position);
    char how[160];
    bw_audit_fwd_conn_describe(fwd->conn, how, sizeof(how));
    bw_log(BW_LOG_INFO, BW_LOGC_AUDIT, "audit forwarding to %s: %s, records acknowledged by %s",
           fwd->collector, how,
           bw_audit_fwd_conn_read_ack(fwd->conn) ? "the collector's TLS layer (key updates)"
                                                 : "the collector's TCP stack only (TLS 1.2)");
    if (fwd->outage) {
        fwd->outage = false;
        bw_log(BW_LOG_INFO, BW_LOGC_AUDIT,
               "audit forwarding to %s restored, resending from record %llu", fwd->collector,
               (unsigned long long)pos + 1);
        record_event(fwd, BW_AUDIT_EV_AUDIT_FORWARD_RESTORED, BW_AUDIT_SUCCESS,
                     json_pack("{s:s, s:I}", "collector", fwd->collector, "resume_seq",
                               (json_int_t)(pos + 1)));
    } else {
        bw_log(BW_LOG_INFO, BW_LOGC_AUDIT, "audit forwarding to %s connected, from record %llu",
               fwd->collector, (unsigned long long)pos + 1);
    }
    return BW_OK;
}

/* Drops the connection; records the loss once per outage (never while
 * stopping: closing is ours then). */
static void connection_lost(struct bw_audit_forwarder *fwd, const char *reason)
{
    bw_audit_fwd_conn_close(fwd->conn);
    fwd->conn = NULL;
    uint64_t pos = atomic_load(&fwd->position);
    bw_log(BW_LOG_WARN, BW_LOGC_AUDIT,
           "audit forwarding to %s lost: %s; records after %llu will be sent on reconnection",
           fwd->collector, reason, (unsigned long long)pos);
    if (fwd->outage || atomic_load(&fwd->stopping))
        return;
    fwd->outage = true;
    record_event(fwd, BW_AUDIT_EV_AUDIT_FORWARD_LOST, BW_AUDIT_FAILURE,
                 json_pack("{s:s, s:s}", "collector", fwd->collector, "reason", reason));
}

/* ---- batches --------------------------------------------------------------- */

static int batch_add(const struct bw_audit_entry *e, void *ctx)
{
    struct bw_audit_forwarder *fwd = ctx;
    if (e->seq != fwd->expect_seq) {
        /* Records missing from audit.db (rolled into the archive before
         * they were forwarded): the batch ends before them, and the next
         * one, starting with the gap, takes them from the archive. */
        fwd->db_first = e->seq;
        return fwd->batch_count > 0 ? FWD_BATCH_FULL : FWD_GAP;
    }
    int rc = bw_audit_syslog_format(e, fwd->facility, fwd->hostname, fwd->pid, &fwd->batch);
    if (rc == BW_ETOOLARGE && fwd->batch_count > 0)
        return FWD_BATCH_FULL;
    if (rc)
        return rc;
    fwd->batch_count++;
    fwd->batch_last = e->seq;
    fwd->expect_seq = e->seq + 1;
    return fwd->batch.len >= FWD_BATCH_BYTES ? FWD_BATCH_FULL : BW_OK;
}

/* Records first..last cannot be had from audit.db or the archive: said
 * in the log and in the trail (audit.forward.skipped), then passed, so
 * that one lost range does not hold back every later record. The event
 * is durable before the position moves past the range: a crash in
 * between records it again rather than not at all. */
static void skip_range(struct bw_audit_forwarder *fwd, const struct bw_audit_fwd_gap *gap)
{
    bw_log(BW_LOG_ERROR, BW_LOGC_AUDIT,
           "audit forwarding to %s: records %llu..%llu cannot be forwarded: %s; skipped",
           fwd->collector, (unsigned long long)gap->first, (unsigned long long)gap->last,
           gap->reason);
    record_event(fwd, BW_AUDIT_EV_AUDIT_FORWARD_SKIPPED, BW_AUDIT_FAILURE,
                 json_pack("{s:s, s:I, s:I, s:s}", "collector", fwd->collector, "first_seq",
                           (json_int_t)gap->first, "last_seq", (json_int_t)gap->last, "reason",
                           gap->reason));
    atomic_store(&fwd->position, gap->last);
    int rc = state_save(fwd, gap->last);
    if (rc)
        bw_log(BW_LOG_WARN, BW_LOGC_AUDIT,
               "audit forwarding: cannot save the position in %s: %s (a restart would skip "
               "again)",
               fwd->state_path, bw_strerror(rc));
    fwd->skipped = true;
}

/* The records after the position are gone from audit.db up to db_first:
 * the batch takes them from the archive, or the range is skipped. */
static int batch_fill_archive(struct bw_audit_forwarder *fwd, uint64_t from)
{
    if (!fwd->in_archive)
        bw_log(BW_LOG_INFO, BW_LOGC_AUDIT,
               "audit forwarding to %s: reading records %llu.. from the archive (no longer in "
               "audit.db)",
               fwd->collector, (unsigned long long)from);
    fwd->in_archive = true;
    struct bw_audit_fwd_gap gap;
    int rc = bw_audit_fwd_archive_read(fwd->archive, from, fwd->db_first, batch_add, fwd, &gap);
    if (rc == FWD_BATCH_FULL)
        return BW_OK;
    if (rc == BW_ENOTFOUND) {
        skip_range(fwd, &gap);
        return BW_OK;
    }
    return rc;
}

/* Reads the records after the position into the batch (maybe none). */
static int batch_fill(struct bw_audit_forwarder *fwd)
{
    bw_buf_reset(&fwd->batch);
    fwd->batch_count = 0;
    uint64_t pos = atomic_load(&fwd->position);
    fwd->batch_last = pos;
    fwd->expect_seq = pos + 1;
    int rc = BW_OK;
    if (!fwd->reader) {
        rc = bw_audit_reader_open(fwd->state_dir, &fwd->reader);
        if (rc == BW_ENOTFOUND)
            return BW_OK; /* no trail yet */
        if (rc)
            return rc;
    }
    struct bw_audit_filter filter;
    bw_audit_filter_init(&filter);
    filter.cursor = pos;
    filter.limit = FWD_BATCH_RECORDS;
    uint64_t next = 0;
    rc = bw_audit_query(fwd->reader, &filter, batch_add, fwd, &next);
    if (rc == FWD_BATCH_FULL)
        rc = BW_OK;
    if (rc == FWD_GAP)
        return batch_fill_archive(fwd, pos + 1);
    if (!rc && fwd->in_archive && fwd->batch_count > 0) {
        fwd->in_archive = false;
        bw_log(BW_LOG_INFO, BW_LOGC_AUDIT,
               "audit forwarding to %s: back to audit.db at record %llu", fwd->collector,
               (unsigned long long)pos + 1);
    }
    if (rc) {
        bw_audit_reader_free(fwd->reader);
        fwd->reader = NULL;
    }
    return rc;
}

/* Writes the batch and waits for its acknowledgement, then advances and
 * persists the position. A stop request does not cut a batch short: it
 * continues without the wake descriptor, within the stop's grace. */
static int batch_send(struct bw_audit_forwarder *fwd, char *err, size_t errlen)
{
    int64_t deadline = bw_clock_monotonic_us() + FWD_SEND_TIMEOUT_US;
    int wake = fwd->wake_fd;
    bool read_ack = bw_audit_fwd_conn_read_ack(fwd->conn);
    int rc;
    size_t done = 0;
    bool settling = false;
    for (;;) {
        if (atomic_load(&fwd->stopping)) {
            int64_t stop_deadline = atomic_load(&fwd->stop_deadline_us);
            wake = -1;
            deadline = stop_deadline < deadline ? stop_deadline : deadline;
        }
        if (!settling)
            rc = bw_audit_fwd_conn_write(fwd->conn, fwd->batch.data, fwd->batch.len, &done,
                                         deadline, wake, err, errlen);
        else
            rc = bw_audit_fwd_conn_settle(fwd->conn, deadline, wake, err, errlen);
        if (rc == BW_ESTATE)
            continue; /* stopping: go on within the grace */
        if (rc)
            return rc;
        if (settling)
            break;
        settling = true;
    }
    if (read_ack && !bw_audit_fwd_conn_read_ack(fwd->conn))
        bw_log(BW_LOG_WARN, BW_LOGC_AUDIT,
               "audit forwarding to %s: the collector does not answer TLS key updates; records "
               "are acknowledged by its TCP stack only on this connection (a collector that stops "
               "can lose what it had not read)",
               fwd->collector);
    atomic_store(&fwd->position, fwd->batch_last);
    rc = state_save(fwd, fwd->batch_last);
    if (rc && !fwd->persist_warned)
        bw_log(BW_LOG_WARN, BW_LOGC_AUDIT,
               "audit forwarding: cannot save the position in %s: %s (a restart would resend "
               "from an older one)",
               fwd->state_path, bw_strerror(rc));
    fwd->persist_warned = rc != BW_OK;
    bw_log(BW_LOG_DEBUG, BW_LOGC_AUDIT, "audit forwarding to %s: %zu records up to %llu sent",
           fwd->collector, fwd->batch_count, (unsigned long long)fwd->batch_last);
    return BW_OK;
}

/* ---- the thread ---------------------------------------------------------- */

static bool should_exit(struct bw_audit_forwarder *fwd)
{
    if (!atomic_load(&fwd->stopping))
        return false;
    return !fwd->conn || bw_clock_monotonic_us() >= atomic_load(&fwd->stop_deadline_us);
}

/* One turn of the loop: connect when needed, then send what is new or
 * check the connection and wait. */
static void forward_step(struct bw_audit_forwarder *fwd)
{
    char err[512] = "";
    bool stopping = atomic_load(&fwd->stopping);
    if (!fwd->conn && try_connect(fwd) != BW_OK) {
        backoff_pause(fwd);
        return;
    }
    if (bw_clock_monotonic_us() - fwd->connected_at_us >= FWD_STABLE_US)
        fwd->backoff_us = FWD_BACKOFF_MIN_US;
    int rc = batch_fill(fwd);
    if (rc && stopping) {
        atomic_store(&fwd->stop_deadline_us, 0); /* nothing more can be sent */
        return;
    }
    if (rc) {
        if (!fwd->reader_warned)
            bw_log(BW_LOG_WARN, BW_LOGC_AUDIT, "audit forwarding: cannot read the trail: %s",
                   bw_strerror(rc));
        fwd->reader_warned = true;
        pause_for(fwd, FWD_BACKOFF_MIN_US);
        return;
    }
    fwd->reader_warned = false;
    if (fwd->skipped) {
        fwd->skipped = false;
        return; /* on at once with what follows the range */
    }
    if (fwd->batch_count == 0) {
        if (stopping) {
            atomic_store(&fwd->stop_deadline_us, 0); /* all sent: done */
            return;
        }
        rc = bw_audit_fwd_conn_probe(fwd->conn, err, sizeof(err));
        if (rc) {
            connection_lost(fwd, err);
            backoff_pause(fwd);
        } else {
            pause_for(fwd, FWD_POLL_US);
        }
        return;
    }
    rc = batch_send(fwd, err, sizeof(err));
    if (rc) {
        connection_lost(fwd, err);
        backoff_pause(fwd);
    }
}

static void *forward_main(void *arg)
{
    struct bw_audit_forwarder *fwd = arg;
    /* A reset connection must give EPIPE, never kill the daemon. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    while (!should_exit(fwd))
        forward_step(fwd);

    bw_audit_fwd_conn_close(fwd->conn);
    fwd->conn = NULL;
    bw_audit_reader_free(fwd->reader);
    fwd->reader = NULL;
    bw_audit_fwd_archive_free(fwd->archive);
    fwd->archive = NULL;
    return NULL;
}

/* ---- life cycle ------------------------------------------------------------- */

static void forwarder_free(struct bw_audit_forwarder *fwd)
{
    if (!fwd)
        return;
    if (fwd->wake_fd >= 0)
        close(fwd->wake_fd);
    bw_audit_fwd_tls_free(fwd->tls);
    bw_audit_fwd_archive_free(fwd->archive);
    bw_buf_clear(&fwd->batch);
    bw_free(fwd->state_dir);
    bw_free(fwd->host);
    bw_free(fwd->server_name);
    bw_free(fwd->ca_file);
    bw_free(fwd->client_cert);
    bw_free(fwd->client_key);
    bw_free(fwd);
}

/* A copy of s, or NULL for NULL; false when out of memory. */
static bool copy_opt(const char *s, char **out)
{
    *out = s ? bw_strdup(s) : NULL;
    return !s || *out;
}

static int forwarder_configure(struct bw_audit_forwarder *fwd,
                               const struct bw_audit_forward_config *cfg, const char *state_dir)
{
    if (!copy_opt(state_dir, &fwd->state_dir) || !copy_opt(cfg->host, &fwd->host) ||
        !copy_opt(cfg->server_name, &fwd->server_name) || !copy_opt(cfg->ca_file, &fwd->ca_file) ||
        !copy_opt(cfg->client_cert, &fwd->client_cert) ||
        !copy_opt(cfg->client_key, &fwd->client_key))
        return BW_ENOMEM;
    fwd->port = cfg->port;
    fwd->facility = cfg->facility;
    fwd->target = (struct bw_audit_fwd_target){
        .host = fwd->host,
        .port = fwd->port,
        .server_name = fwd->server_name,
        .ca_file = fwd->ca_file,
        .client_cert = fwd->client_cert,
        .client_key = fwd->client_key,
    };
    bool v6 = strchr(fwd->host, ':') != NULL;
    if (bw_snprintf(fwd->collector, sizeof(fwd->collector), v6 ? "[%s]:%u" : "%s:%u", fwd->host,
                    (unsigned)fwd->port) ||
        bw_snprintf(fwd->state_path, sizeof(fwd->state_path), "%s/%s", state_dir,
                    BW_AUDIT_FORWARD_STATE_NAME))
        return BW_EINVAL;
    if (gethostname(fwd->hostname, sizeof(fwd->hostname)) != 0)
        bw_strlcpy(fwd->hostname, "-", sizeof(fwd->hostname));
    fwd->hostname[sizeof(fwd->hostname) - 1] = '\0';
    fwd->pid = (int)getpid();
    return BW_OK;
}

int bw_audit_forwarder_start(struct bw_audit *audit, const struct bw_audit_forward_config *cfg,
                             const char *state_dir, struct bw_audit_forwarder **out)
{
    *out = NULL;
    if (!audit || !cfg || !state_dir || !cfg->host || !cfg->host[0] || !cfg->ca_file ||
        cfg->port == 0 || cfg->facility < 0 || cfg->facility > 23 ||
        !cfg->client_cert != !cfg->client_key)
        return BW_EINVAL;
    struct bw_audit_forwarder *fwd = bw_calloc(1, sizeof(*fwd));
    if (!fwd)
        return BW_ENOMEM;
    fwd->audit = audit;
    fwd->wake_fd = -1;
    bw_buf_init(&fwd->batch, FWD_BATCH_BYTES + BW_AUDIT_SYSLOG_FRAME_MAX);
    fwd->backoff_us = FWD_BACKOFF_MIN_US;
    int rc = forwarder_configure(fwd, cfg, state_dir);
    if (rc == BW_OK)
        rc = bw_audit_fwd_archive_new(state_dir, &fwd->archive);
    if (rc)
        goto fail;
    /* Files that cannot be loaded now are a configuration error, said
     * now rather than at each reconnection. */
    char err[512] = "";
    rc = bw_audit_fwd_tls_new(&fwd->target, &fwd->tls, err, sizeof(err));
    if (rc) {
        bw_log(BW_LOG_ERROR, BW_LOGC_AUDIT, "audit forwarding to %s: %s", fwd->collector, err);
        goto fail;
    }
    atomic_init(&fwd->position, initial_position(fwd));
    atomic_init(&fwd->stopping, false);
    atomic_init(&fwd->stop_deadline_us, INT64_MAX);
    fwd->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fwd->wake_fd < 0) {
        rc = BW_EIO;
        goto fail;
    }
    if (pthread_create(&fwd->thread, NULL, forward_main, fwd) != 0) {
        rc = BW_EIO;
        goto fail;
    }
    *out = fwd;
    return BW_OK;
fail:
    forwarder_free(fwd);
    return rc;
}

void bw_audit_forwarder_stop(struct bw_audit_forwarder *fwd)
{
    if (!fwd)
        return;
    atomic_store(&fwd->stop_deadline_us, bw_clock_monotonic_us() + FWD_STOP_GRACE_US);
    atomic_store(&fwd->stopping, true);
    uint64_t one = 1;
    while (write(fwd->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
    pthread_join(fwd->thread, NULL);
    forwarder_free(fwd);
}

uint64_t bw_audit_forwarder_position(const struct bw_audit_forwarder *fwd)
{
    return fwd ? atomic_load(&fwd->position) : 0;
}
