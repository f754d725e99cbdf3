/* SPDX-License-Identifier: Apache-2.0
 *
 * The CLI's side of the control socket: connects to state/control.sock,
 * sends one request line and reads one reply line, with a deadline and a
 * size limit so that a stuck or confused daemon cannot hang the command.
 * A large reply comes in chunks; the deadline is for the reply to start
 * and then for each piece of it, so a long reply is not cut short while
 * it keeps coming. Only a daemon of the state directory's owner (or
 * root) is talked to. Main thread of the short-lived CLI commands.
 */
#include "cli/internal.h"
#include "crypto/crypto.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CALL_TIMEOUT_MS 10000

/* Whoever listens must be the daemon of state_dir: its uid (from the
 * kernel, SO_PEERCRED) the directory's owner's, or root's. Anyone else
 * who managed to put a socket there would be handed our requests, and
 * with them passwords and setup secrets. BW_EDENIED (said) otherwise. */
static int peer_check(int fd, const char *state_dir, const char *path)
{
    struct ucred peer;
    socklen_t len = sizeof(peer);
    struct stat st;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 || len != sizeof(peer)) {
        bw_cli_errorf("cannot tell who serves %s: %s", path, strerror(errno));
        return BW_EIO;
    }
    if (stat(state_dir, &st) != 0) {
        bw_cli_errorf("cannot use state directory %s: %s", state_dir, strerror(errno));
        return BW_EIO;
    }
    if (peer.uid == st.st_uid || peer.uid == 0)
        return BW_OK;
    bw_cli_errorf("%s is served by uid %u, which is neither the owner of the state directory "
                  "(uid %u) nor root; refusing to talk to it",
                  path, (unsigned)peer.uid, (unsigned)st.st_uid);
    return BW_EDENIED;
}

/* Connects to the daemon of state_dir. *fd is the socket on BW_OK;
 * BW_ENOTFOUND when none answers, BW_EDENIED when the wrong one does,
 * BW_EIO; each said. */
static int connect_to(const char *state_dir, int *out)
{
    *out = -1;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (bw_snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", state_dir,
                    BW_CLI_CONTROL_SOCKET) != BW_OK) {
        bw_cli_errorf("state directory path %s is too long for a socket address", state_dir);
        return BW_ENOTFOUND;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        bw_cli_errorf("cannot create a socket: %s", strerror(errno));
        return BW_ENOTFOUND;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        int saved = errno;
        close(fd);
        if (saved == ENOENT || saved == ECONNREFUSED)
            bw_cli_errorf("no bulwark is running on state directory %s (cannot connect to %s: %s)",
                          state_dir, addr.sun_path, strerror(saved));
        else
            bw_cli_errorf("cannot connect to %s: %s", addr.sun_path, strerror(saved));
        return BW_ENOTFOUND;
    }
    int rc = peer_check(fd, state_dir, addr.sun_path);
    if (rc) {
        close(fd);
        return rc;
    }
    *out = fd;
    return BW_OK;
}

static int wait_for(int fd, short events, int64_t deadline_us)
{
    for (;;) {
        int64_t left = (deadline_us - bw_clock_monotonic_us()) / 1000;
        if (left <= 0)
            return BW_ETIMEOUT;
        struct pollfd p = {.fd = fd, .events = events};
        int rc = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
        if (rc > 0)
            return BW_OK;
        if (rc < 0 && errno != EINTR)
            return BW_EIO;
    }
}

static int send_all(int fd, const char *data, size_t len, int64_t deadline_us)
{
    size_t off = 0;
    while (off < len) {
        int rc = wait_for(fd, POLLOUT, deadline_us);
        if (rc)
            return rc;
        ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return BW_EIO;
        if (n > 0)
            off += (size_t)n;
    }
    return BW_OK;
}

/* Reads up to the first newline into line. The deadline moves on with
 * each piece received. BW_EIO when the daemon closes first (or cuts the
 * line), BW_ETOOLARGE past line's maximum. */
static int read_line(int fd, struct bw_buf *line, int64_t deadline_us)
{
    char chunk[65536];
    for (;;) {
        int rc = wait_for(fd, POLLIN, deadline_us);
        if (rc)
            return rc;
        ssize_t n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            return BW_EIO; /* closed before a whole reply */
        rc = bw_buf_append(line, chunk, (size_t)n);
        bool end = memchr(chunk, '\n', (size_t)n) != NULL;
        bw_crypto_wipe(chunk, (size_t)n); /* a reply may carry a key (enrolment) */
        if (rc)
            return rc;
        if (end)
            return BW_OK;
        deadline_us = bw_clock_monotonic_us() + (int64_t)CALL_TIMEOUT_MS * 1000;
    }
}

/* The request as one line, in a buffer of its exact size: a request may
 * carry a password, and a buffer that grew would leave copies behind.
 * NULL when it is larger than BW_CLI_REQUEST_MAX or memory is short. */
static char *request_line(const json_t *request, size_t *len)
{
    size_t n = json_dumpb(request, NULL, 0, JSON_COMPACT);
    if (n == 0 || n > BW_CLI_REQUEST_MAX)
        return NULL;
    char *line = bw_malloc(n + 1);
    if (!line)
        return NULL;
    if (json_dumpb(request, line, n, JSON_COMPACT) != n) {
        bw_crypto_wipe(line, n);
        bw_free(line);
        return NULL;
    }
    line[n] = '\n';
    *len = n + 1;
    return line;
}

int bw_cli_control_call(const char *state_dir, json_t *request, json_t **reply)
{
    *reply = NULL;
    struct bw_buf in;
    bw_buf_init(&in, BW_CLI_REPLY_MAX + 1);
    size_t out_len = 0;
    char *out = request_line(request, &out_len);
    int rc = out ? BW_OK : BW_ETOOLARGE;
    int fd = -1;
    if (rc)
        bw_cli_errorf("the request is too large");
    else
        rc = connect_to(state_dir, &fd);
    int64_t deadline = bw_clock_monotonic_us() + (int64_t)CALL_TIMEOUT_MS * 1000;
    int sent = rc ? rc : send_all(fd, out, out_len, deadline);
    /* A daemon that refuses us (busy, too large) says why and closes
     * without reading, which can fail our send: its word is still there
     * to read, and says more than the send error. */
    if (!rc && sent != BW_ETIMEOUT) {
        rc = read_line(fd, &in, deadline);
        if (rc == BW_ETOOLARGE)
            bw_cli_errorf("the daemon's reply is larger than %u MiB; ask for less (e.g. with "
                          "--prefix)",
                          BW_CLI_REPLY_MAX / (1024u * 1024u));
        else if (rc && sent)
            bw_cli_errorf("cannot send to the daemon: %s", bw_strerror(sent));
        else if (rc)
            bw_cli_errorf("no reply from the daemon: %s", bw_strerror(rc));
    } else if (!rc) {
        rc = sent;
        bw_cli_errorf("cannot send to the daemon: %s", bw_strerror(rc));
    }
    if (fd >= 0)
        close(fd);
    if (!rc) {
        json_error_t jerr;
        const char *nl = memchr(in.data, '\n', in.len);
        *reply = json_loadb(in.data, nl ? (size_t)(nl - in.data) : in.len, 0, &jerr);
        if (!json_is_object(*reply) || !json_is_boolean(json_object_get(*reply, "ok"))) {
            bw_cli_errorf("the daemon's reply is not understood");
            json_decref(*reply);
            *reply = NULL;
            rc = BW_EMALFORMED;
        }
    }
    if (out) {
        bw_crypto_wipe(out, out_len);
        bw_free(out);
    }
    if (in.data)
        bw_crypto_wipe(in.data, in.len);
    bw_buf_clear(&in);
    return rc;
}

void bw_cli_control_print_error(const json_t *reply, const char *what)
{
    const char *message = NULL;
    if (json_unpack((json_t *)reply, "{s:{s:s}}", "error", "message", &message) != 0)
        message = "refused, no reason given";
    fputs("bulwark: ", stderr);
    bw_cli_print_safe(stderr, what, strlen(what)); /* may hold an argument */
    fputs(": ", stderr);
    bw_cli_print_safe(stderr, message, strlen(message));
    fputc('\n', stderr);
}

int bw_cli_control_ask(const char *state_dir, json_t *request_take, const char *what,
                       json_t **reply)
{
    *reply = NULL;
    int rc = request_take ? bw_cli_control_call(state_dir, request_take, reply) : BW_ENOMEM;
    json_decref(request_take);
    if (rc)
        return rc;
    if (json_is_true(json_object_get(*reply, "ok")))
        return BW_OK;
    bw_cli_control_print_error(*reply, what);
    json_decref(*reply);
    *reply = NULL;
    return BW_EDENIED;
}

int bw_cli_print_json(const json_t *reply)
{
    /* ASCII only: text from an account or a device (a full name, a
     * string value) reaches the terminal as \u escapes, never as raw
     * control characters. */
    int rc = json_dumpf(reply, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    putchar('\n');
    return rc == 0 ? BW_CLI_EXIT_OK : BW_CLI_EXIT_FAIL;
}
