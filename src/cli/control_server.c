/* SPDX-License-Identifier: Apache-2.0
 *
 * The daemon's side of the control socket (state/control.sock). Owns the
 * listening socket, its file, and every connection; runs on its own
 * thread (the control thread), a poll() loop over non-blocking sockets so
 * that no client can stall it and nothing here ever waits on the engine.
 *
 * Each connection is checked with SO_PEERCRED when accepted (only the
 * daemon's own uid, or root). Requests are lines of at most
 * BW_CLI_REQUEST_MAX bytes: a longer one gets an error reply and the
 * connection is closed after it; a malformed one gets an error reply and
 * the connection stays usable. At most max_connections are served at
 * once (the next ones are told "busy" and closed).
 *
 * Time limits never restart on partial progress, so that a client
 * dribbling bytes cannot hold a slot: between requests a connection may
 * stay silent idle_timeout_ms; a request must arrive whole within
 * request_timeout_ms of its first byte; and each chunk of a reply must be
 * taken within request_timeout_ms of being made.
 *
 * Fairness: each pass of the loop does at most one piece of work per
 * connection (one request answered, or one chunk of a long reply made),
 * and a chunk is made only when the previous one has gone to the socket.
 * So no client monopolises the thread and one that does not read holds
 * one chunk of memory.
 */
#include "cli/internal.h"
#include "crypto/crypto.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CONN_LIMIT 64 /* hard ceiling on max_connections */
/* Out of file descriptors, the listening socket stays readable while
 * accept fails; it is left alone this long rather than spun on. */
#define ACCEPT_PAUSE_US 100000

/* Which time limit applies to a connection (see the file comment). */
enum conn_phase { PHASE_IDLE = 0, PHASE_REQUEST, PHASE_REPLY };

struct conn {
    int fd;
    uid_t uid;
    pid_t pid;
    struct bw_buf in;
    struct bw_buf out;
    size_t out_off;
    struct bw_cli_request req; /* the request whose reply is being made */
    struct bw_cli_reply_cursor cursor;
    bool replying; /* the handler has more chunks of req to make */
    enum conn_phase phase;
    int64_t deadline_us; /* monotonic; dropped when it passes */
    bool closing;        /* close once out is flushed */
    bool eof;            /* the client has finished sending */
};

struct bw_cli_control_server {
    int listen_fd;
    int wake_fd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    size_t max_connections;
    struct bw_audit *audit;
    int idle_timeout_ms;
    int request_timeout_ms;
    int64_t accept_paused_until_us; /* 0: accepting */
    bool accept_starved;            /* warned about the current shortage */
    bw_cli_control_handler_fn handler;
    void *ctx;
    pthread_t thread;
    bool running;
    struct conn conns[CONN_LIMIT];
    size_t conn_count;
};

bool bw_cli_control_peer_allowed(uid_t peer, uid_t self)
{
    return peer == self || peer == 0;
}

/* Removes a stale socket left by a daemon that died; anything else with
 * that name is not ours to delete. */
static int remove_stale(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? BW_OK : BW_EIO;
    if (!S_ISSOCK(st.st_mode))
        return BW_EEXIST;
    return unlink(path) == 0 ? BW_OK : BW_EIO;
}

static int listen_on(struct bw_cli_control_server *s)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    memcpy(addr.sun_path, s->path, sizeof(addr.sun_path));
    s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->listen_fd < 0)
        return BW_EIO;
    /* The socket file is born 0600: no window where others could connect. */
    mode_t old = umask(0177);
    int rc = bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr));
    umask(old);
    if (rc != 0 || chmod(s->path, 0600) != 0 || listen(s->listen_fd, 16) != 0)
        return BW_EIO;
    return BW_OK;
}

int bw_cli_control_server_new(const char *state_dir, const struct bw_cli_control_config *config,
                              bw_cli_control_handler_fn handler, void *ctx,
                              struct bw_cli_control_server **out)
{
    *out = NULL;
    struct bw_cli_control_server *s = bw_calloc(1, sizeof(*s));
    if (!s)
        return BW_ENOMEM;
    s->listen_fd = -1;
    s->max_connections = config && config->max_connections ? config->max_connections : 16;
    if (s->max_connections > CONN_LIMIT)
        s->max_connections = CONN_LIMIT;
    s->audit = config ? config->audit : NULL;
    s->idle_timeout_ms = config && config->idle_timeout_ms > 0 ? config->idle_timeout_ms : 5000;
    s->request_timeout_ms =
        config && config->request_timeout_ms > 0 ? config->request_timeout_ms : 5000;
    s->handler = handler;
    s->ctx = ctx;
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int rc = s->wake_fd < 0 ? BW_EIO : BW_OK;
    if (!rc)
        rc = bw_snprintf(s->path, sizeof(s->path), "%s/%s", state_dir, BW_CLI_CONTROL_SOCKET);
    if (!rc)
        rc = remove_stale(s->path);
    if (!rc)
        rc = listen_on(s);
    if (rc) {
        int saved = errno;
        if (rc != BW_ETOOLARGE && rc != BW_EEXIST && s->listen_fd >= 0)
            unlink(s->path);
        bw_cli_control_server_free(s);
        errno = saved;
        return rc;
    }
    *out = s;
    return BW_OK;
}

/* Closing a socket with unread input makes the kernel report a reset,
 * and a client that is still sending then fails on its send before it
 * reads our last word; so say we are done, take in what has arrived
 * (a bounded amount, never waiting) and only then close. */
static void close_gently(int fd)
{
    char sink[4096];
    (void)shutdown(fd, SHUT_WR);
    for (int i = 0; i < 16; i++)
        if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
            break;
    close(fd);
}

/* Input may hold a password (op user): what is dropped is wiped. */
static void buf_wipe_clear(struct bw_buf *buf)
{
    if (buf->data)
        bw_crypto_wipe(buf->data, buf->len);
    bw_buf_clear(buf);
}

static void conn_close(struct bw_cli_control_server *s, size_t i)
{
    struct conn *c = &s->conns[i];
    close_gently(c->fd);
    bw_cli_request_clear(&c->req);
    buf_wipe_clear(&c->in);
    buf_wipe_clear(&c->out);
    s->conns[i] = s->conns[--s->conn_count];
    /* A string value points into its own request's text, which moved. */
    if (s->conns[i].req.value.type == BW_TYPE_STRING)
        s->conns[i].req.value.v.s = s->conns[i].req.text;
}

/* A last word to a connection we will not serve; best effort, never
 * waits (the socket buffer of a new connection has room for it). */
static void say_and_close(int fd, const char *code, const char *message)
{
    struct bw_buf reply;
    bw_buf_init(&reply, 1024);
    if (bw_cli_reply_error(&reply, code, message) == BW_OK) {
        ssize_t n = send(fd, reply.data, reply.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)n;
    }
    bw_buf_clear(&reply);
    close_gently(fd);
}

/* accept4 failed with err. Running out of descriptors (or kernel memory)
 * leaves the connection queued and the listening socket readable, so
 * polling it again at once would spin; pause instead, and warn once per
 * shortage rather than once per attempt. */
static void accept_failed(struct bw_cli_control_server *s, int err)
{
    if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
        return; /* EAGAIN, or a client that gave up: nothing to do */
    s->accept_paused_until_us = bw_clock_monotonic_us() + ACCEPT_PAUSE_US;
    if (!s->accept_starved)
        bw_log(BW_LOG_WARN, BW_LOGC_CONTROL,
               "control: cannot accept connections: %s; retrying every %d ms", strerror(err),
               ACCEPT_PAUSE_US / 1000);
    s->accept_starved = true;
}

static void accept_one(struct bw_cli_control_server *s)
{
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        accept_failed(s, errno);
        return;
    }
    if (s->accept_starved) {
        bw_log(BW_LOG_INFO, BW_LOGC_CONTROL, "control: accepting connections again");
        s->accept_starved = false;
    }
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred)) {
        bw_log(BW_LOG_WARN, BW_LOGC_SECURITY, "control: refused a connection without credentials");
        close(fd);
        return;
    }
    if (!bw_cli_control_peer_allowed(cred.uid, geteuid())) {
        bw_log(BW_LOG_WARN, BW_LOGC_SECURITY,
               "control: refused a connection from uid %u pid %d (only uid %u or root may "
               "connect)",
               (unsigned)cred.uid, (int)cred.pid, (unsigned)geteuid());
        say_and_close(fd, "denied", "not permitted");
        bw_cli_audit_peer_refused(s->audit, cred.uid, cred.pid, "uid not permitted");
        return;
    }
    if (s->conn_count >= s->max_connections) {
        bw_log(BW_LOG_WARN, BW_LOGC_CONTROL,
               "control: refused a connection from pid %d: %zu connections already open",
               (int)cred.pid, s->conn_count);
        say_and_close(fd, "busy", "too many control connections; try again");
        return;
    }
    struct conn *c = &s->conns[s->conn_count++];
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    c->uid = cred.uid;
    c->pid = cred.pid;
    bw_buf_init(&c->in, BW_CLI_REQUEST_MAX + 1);
    bw_buf_init(&c->out, BW_CLI_CHUNK_MAX);
    c->phase = PHASE_IDLE;
    c->deadline_us = bw_clock_monotonic_us() + (int64_t)s->idle_timeout_ms * 1000;
    bw_log(BW_LOG_DEBUG, BW_LOGC_CONTROL, "control: connection from uid %u pid %d",
           (unsigned)cred.uid, (int)cred.pid);
}

/* Makes the next chunk of c's reply into c->out (which is empty). */
static void make_chunk(struct bw_cli_control_server *s, struct conn *c)
{
    bool first = !c->cursor.started;
    c->cursor.more = false;
    s->handler(s->ctx, &c->req, &c->cursor, &c->out);
    c->cursor.started = true;
    c->replying = c->cursor.more;
    if (!c->replying)
        bw_cli_request_clear(&c->req);
    if (c->out.len > 0)
        return;
    /* Nothing made: on the first chunk we can still say why; in the
     * middle of a line we can only cut it. */
    c->replying = false;
    c->closing = true;
    if (first && bw_cli_reply_error(&c->out, "internal", "no reply could be made") != BW_OK)
        bw_buf_reset(&c->out);
    if (!first)
        bw_log(BW_LOG_WARN, BW_LOGC_CONTROL, "control: pid %d: reply cut short", (int)c->pid);
}

/* Answers one request line: an error reply into c->out, or the first
 * chunk of the handler's reply. */
static void handle_line(struct bw_cli_control_server *s, struct conn *c, const char *line,
                        size_t len)
{
    struct bw_cli_proto_error err;
    bw_cli_request_clear(&c->req);
    int rc = bw_cli_request_parse(line, len, &c->req, &err);
    if (rc) {
        bw_log(BW_LOG_DEBUG, BW_LOGC_CONTROL, "control: pid %d: refused request: %s", (int)c->pid,
               err.message);
        bw_cli_audit_request_malformed(s->audit, c->uid, c->pid, &err);
        if (bw_cli_reply_error(&c->out, err.code, err.message) != BW_OK)
            c->closing = true;
        if (rc == BW_ETOOLARGE)
            c->closing = true;
        return;
    }
    c->req.peer_uid = c->uid;
    c->req.peer_pid = c->pid;
    memset(&c->cursor, 0, sizeof(c->cursor));
    make_chunk(s, c);
}

/* Drops the first used bytes of c->in, leaving no copy of them behind
 * (a request may carry a password). */
static void consume(struct conn *c, size_t used)
{
    size_t old_len = c->in.len;
    memmove(c->in.data, c->in.data + used, old_len - used);
    c->in.len -= used;
    bw_crypto_wipe(c->in.data + c->in.len, old_len - c->in.len);
    c->in.data[c->in.len] = '\0';
}

/* True when c->in holds a request to answer: a complete line, an
 * over-long one, or what is left when the client has finished sending. */
static bool request_ready(const struct conn *c)
{
    if (c->in.len == 0)
        return false;
    return c->in.len > BW_CLI_REQUEST_MAX || c->eof || memchr(c->in.data, '\n', c->in.len);
}

/* Answers the next request waiting in c->in, if there is one. Returns
 * false when there is none yet. */
static bool handle_next(struct bw_cli_control_server *s, struct conn *c)
{
    if (!request_ready(c))
        return false;
    const char *nl = memchr(c->in.data, '\n', c->in.len);
    size_t len = nl ? (size_t)(nl - c->in.data) : c->in.len;
    handle_line(s, c, c->in.data, len);
    consume(c, nl ? len + 1 : len);
    return true;
}

/* Reads what the client sent. Returns false on a socket error. */
static bool conn_read(struct conn *c)
{
    char chunk[16384];
    size_t room = c->in.max - c->in.len;
    if (room == 0)
        return true; /* handle_next refuses the over-long request first */
    ssize_t n = recv(c->fd, chunk, room < sizeof(chunk) ? room : sizeof(chunk), 0);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR;
    if (n == 0)
        c->eof = true;
    else if (bw_buf_append(&c->in, chunk, (size_t)n) != BW_OK)
        return false; /* cannot happen: room was checked */
    if (n > 0)
        bw_crypto_wipe(chunk, (size_t)n);
    return true;
}

/* Sends what is pending. Returns false on a socket error. */
static bool conn_flush(struct conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR;
        c->out_off += (size_t)n;
    }
    /* An account reply may carry a second factor's key (enrolment). */
    if (c->req.op == BW_CLI_OP_USER && c->out.data)
        bw_crypto_wipe(c->out.data, c->out.len);
    bw_buf_reset(&c->out);
    c->out_off = 0;
    return true;
}

static bool out_pending(const struct conn *c)
{
    return c->out_off < c->out.len;
}

/* True when the connection has work to do as soon as its socket can take
 * more: output to send, a chunk to make, a request to answer, or a close.
 * Such a connection waits for POLLOUT, the others for input; a client
 * that pipelines requests is read only once its replies are out. */
static bool has_work(const struct conn *c)
{
    return out_pending(c) || c->replying || c->closing || request_ready(c);
}

static short conn_events(const struct conn *c)
{
    return has_work(c) ? POLLOUT : POLLIN;
}

/* Moves one connection along after poll() reported ev for it: at most one
 * request answered or one chunk made. *made tells whether output was
 * made. Returns false when it is to be closed. */
static bool conn_step(struct bw_cli_control_server *s, struct conn *c, short ev, bool *made)
{
    *made = false;
    if (ev & POLLERR)
        return false;
    if ((ev & (POLLIN | POLLHUP)) && !has_work(c) && !c->eof && !conn_read(c))
        return false;
    if (!conn_flush(c))
        return false;
    if (out_pending(c))
        return true; /* wait until the client reads */
    if (c->closing)
        return false;
    if (c->replying) {
        make_chunk(s, c);
        *made = true;
    } else {
        *made = handle_next(s, c);
    }
    if (*made && !conn_flush(c))
        return false;
    return has_work(c) || !c->eof;
}

static enum conn_phase conn_phase_of(const struct conn *c)
{
    if (out_pending(c) || c->replying)
        return PHASE_REPLY;
    return c->in.len > 0 ? PHASE_REQUEST : PHASE_IDLE;
}

/* Starts the time limit of the connection's phase when it enters it, and
 * anew whenever output was made (a request answered, which may go from
 * idle back to idle in one step, or a reply's next chunk made); partial
 * input never moves it. */
static void deadline_update(const struct bw_cli_control_server *s, struct conn *c, int64_t now,
                            bool made)
{
    enum conn_phase phase = conn_phase_of(c);
    if (phase == c->phase && !made)
        return;
    c->phase = phase;
    int ms = phase == PHASE_IDLE ? s->idle_timeout_ms : s->request_timeout_ms;
    c->deadline_us = now + (int64_t)ms * 1000;
}

static const char *overdue_reason(enum conn_phase phase)
{
    switch (phase) {
    case PHASE_REQUEST:
        return "did not complete its request in time";
    case PHASE_REPLY:
        return "did not read its reply in time";
    case PHASE_IDLE:
        break;
    }
    return "idle too long";
}

static int64_t next_deadline(const struct bw_cli_control_server *s)
{
    int64_t next = s->accept_paused_until_us > 0 ? s->accept_paused_until_us : -1;
    for (size_t i = 0; i < s->conn_count; i++)
        if (next < 0 || s->conns[i].deadline_us < next)
            next = s->conns[i].deadline_us;
    return next;
}

static int poll_timeout_ms(const struct bw_cli_control_server *s, int64_t now)
{
    int64_t next = next_deadline(s);
    if (next < 0)
        return -1;
    int64_t ms = (next - now) / 1000 + 1;
    return ms < 0 ? 0 : (int)(ms > 60000 ? 60000 : ms);
}

/* Serves what poll() reported for the first n connections and drops those
 * whose deadline passed. */
static void serve_conns(struct bw_cli_control_server *s, const struct pollfd *pfds, size_t n)
{
    int64_t now = bw_clock_monotonic_us();
    /* Backwards: conn_close moves the last connection into slot k, and
     * that one has been served already. */
    for (size_t k = n; k-- > 0;) {
        struct conn *c = &s->conns[k];
        short ev = pfds[k].revents;
        bool made = false;
        bool keep = ev ? conn_step(s, c, ev, &made) : true;
        if (keep)
            deadline_update(s, c, now, made);
        if (keep && c->deadline_us <= now) {
            bw_log(BW_LOG_DEBUG, BW_LOGC_CONTROL, "control: pid %d %s, dropped", (int)c->pid,
                   overdue_reason(c->phase));
            keep = false;
        }
        if (!keep)
            conn_close(s, k);
    }
}

static void *control_thread(void *arg)
{
    struct bw_cli_control_server *s = arg;
    struct pollfd pfds[CONN_LIMIT + 2];
    for (;;) {
        size_t n = s->conn_count;
        for (size_t i = 0; i < n; i++)
            pfds[i] = (struct pollfd){.fd = s->conns[i].fd, .events = conn_events(&s->conns[i])};
        int64_t now = bw_clock_monotonic_us();
        if (s->accept_paused_until_us > 0 && s->accept_paused_until_us <= now)
            s->accept_paused_until_us = 0;
        /* poll() skips a negative fd: how the listening socket rests. */
        pfds[n] =
            (struct pollfd){.fd = s->accept_paused_until_us ? -1 : s->listen_fd, .events = POLLIN};
        pfds[n + 1] = (struct pollfd){.fd = s->wake_fd, .events = POLLIN};
        int rc = poll(pfds, n + 2, poll_timeout_ms(s, now));
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            bw_log(BW_LOG_ERROR, BW_LOGC_CONTROL, "control: poll failed: %s", strerror(errno));
            break;
        }
        if (pfds[n + 1].revents)
            break;
        serve_conns(s, pfds, n);
        if (pfds[n].revents & POLLIN)
            accept_one(s);
    }
    while (s->conn_count > 0)
        conn_close(s, s->conn_count - 1);
    return NULL;
}

int bw_cli_control_server_start(struct bw_cli_control_server *s)
{
    if (s->running)
        return BW_ESTATE;
    if (pthread_create(&s->thread, NULL, control_thread, s) != 0)
        return BW_EIO;
    s->running = true;
    return BW_OK;
}

void bw_cli_control_server_stop(struct bw_cli_control_server *s)
{
    if (!s || !s->running)
        return;
    uint64_t one = 1;
    ssize_t n = write(s->wake_fd, &one, sizeof(one));
    (void)n; /* an eventfd write only fails when the counter overflows */
    pthread_join(s->thread, NULL);
    s->running = false;
}

void bw_cli_control_server_free(struct bw_cli_control_server *s)
{
    if (!s)
        return;
    bw_cli_control_server_stop(s);
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        unlink(s->path);
    }
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    bw_free(s);
}
