/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the control socket server (src/cli/control_server.c)
 * with a stand-in handler instead of the plant: socket file mode, stale
 * socket replacement, request framing, error replies, the size limit,
 * the idle timeout and the request deadline, the connection limit,
 * replies produced chunk by chunk, and running out of file descriptors.
 * Each test uses its own temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct fixture {
    char dir[64];
    char sock[128];
    struct bw_cli_control_server *server;
};

static void echo_handler(void *ctx, const struct bw_cli_request *req,
                         struct bw_cli_reply_cursor *cursor, struct bw_buf *reply)
{
    (void)ctx;
    (void)cursor;
    static const char *const names[] = {"status", "tags", "write"};
    int rc = bw_buf_printf(reply, "{\"ok\":true,\"op\":\"%s\"}\n", names[req->op]);
    assert_int_equal(rc, BW_OK);
}

/* A reply of CHUNKS chunks of CHUNK_BYTES: {"ok":true,"data":"xxx..."}. */
#define CHUNKS 200
#define CHUNK_BYTES 32768
#define CHUNKED_HEAD "{\"ok\":true,\"data\":\""
#define CHUNKED_TAIL "\"}\n"
static int chunk_calls; /* handler calls for op tags, on the control thread */

static void chunked_handler(void *ctx, const struct bw_cli_request *req,
                            struct bw_cli_reply_cursor *cursor, struct bw_buf *reply)
{
    if (req->op != BW_CLI_OP_TAGS) {
        echo_handler(ctx, req, cursor, reply);
        return;
    }
    __atomic_add_fetch(&chunk_calls, 1, __ATOMIC_RELAXED);
    if (!cursor->started) {
        cursor->started = true;
        cursor->next = 0;
        cursor->end = CHUNKS;
        assert_int_equal(bw_buf_append_str(reply, CHUNKED_HEAD), BW_OK);
    }
    static char xs[CHUNK_BYTES];
    memset(xs, 'x', sizeof(xs));
    assert_int_equal(bw_buf_append(reply, xs, sizeof(xs)), BW_OK);
    cursor->more = ++cursor->next < cursor->end;
    if (!cursor->more)
        assert_int_equal(bw_buf_append_str(reply, CHUNKED_TAIL), BW_OK);
}

static int start_with(struct fixture *f, const struct bw_cli_control_config *cfg,
                      bw_cli_control_handler_fn handler)
{
    bw_strlcpy(f->dir, "/tmp/bw-test-control-XXXXXX", sizeof(f->dir));
    if (!mkdtemp(f->dir))
        return -1;
    if (bw_snprintf(f->sock, sizeof(f->sock), "%s/control.sock", f->dir) != BW_OK)
        return -1;
    int rc = bw_cli_control_server_new(f->dir, cfg, handler, NULL, &f->server);
    if (!rc)
        rc = bw_cli_control_server_start(f->server);
    return rc;
}

static int start(struct fixture *f, const struct bw_cli_control_config *cfg)
{
    return start_with(f, cfg, echo_handler);
}

static void stop(struct fixture *f)
{
    bw_cli_control_server_free(f->server);
    f->server = NULL;
    unlink(f->sock);
    rmdir(f->dir);
}

static int dial(const struct fixture *f)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    bw_strlcpy(addr.sun_path, f->sock, sizeof(addr.sun_path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    return fd;
}

static void send_text(int fd, const char *text, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(fd, text + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EPIPE)
            return; /* the server closed on us, as some tests expect */
        assert_true(n > 0);
        off += (size_t)n;
    }
}

/* Reads one line (without the newline) into out; returns its length, or
 * -1 when the connection closed first. Waits at most 5 s. */
static ssize_t read_line(int fd, char *out, size_t size)
{
    size_t n = 0;
    while (n + 1 < size) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) != 1)
            return -1;
        ssize_t r = recv(fd, out + n, 1, 0);
        if (r <= 0)
            return -1;
        if (out[n] == '\n') {
            out[n] = '\0';
            return (ssize_t)n;
        }
        n++;
    }
    return -1;
}

static bool closed_by_server(int fd)
{
    char c;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 5000) != 1)
        return false;
    /* 0, or ECONNRESET when the server closed with our excess unread. */
    return recv(fd, &c, 1, 0) <= 0;
}

static void test_socket_mode_and_requests(void **state)
{
    (void)state;
    struct fixture f;
    assert_int_equal(start(&f, NULL), BW_OK);
    struct stat st;
    assert_int_equal(lstat(f.sock, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);

    int fd = dial(&f);
    char line[512];
    /* Two requests in one write, answered in order. */
    const char *two = "{\"op\":\"status\"}\n{\"op\":\"tags\",\"prefix\":\"A\"}\n";
    send_text(fd, two, strlen(two));
    assert_true(read_line(fd, line, sizeof(line)) > 0);
    assert_string_equal(line, "{\"ok\":true,\"op\":\"status\"}");
    assert_true(read_line(fd, line, sizeof(line)) > 0);
    assert_string_equal(line, "{\"ok\":true,\"op\":\"tags\"}");

    /* Malformed: an error reply, and the connection stays usable. */
    send_text(fd, "{nope\n", 6);
    assert_true(read_line(fd, line, sizeof(line)) > 0);
    assert_non_null(strstr(line, "\"ok\":false"));
    assert_non_null(strstr(line, "\"code\":\"malformed\""));
    send_text(fd, "{\"op\":\"launch\"}\n", 16);
    assert_true(read_line(fd, line, sizeof(line)) > 0);
    assert_non_null(strstr(line, "\"code\":\"bad_request\""));
    send_text(fd, "{\"op\":\"write\",\"tag\":\"A\",\"value\":1}\n", 35);
    assert_true(read_line(fd, line, sizeof(line)) > 0);
    assert_string_equal(line, "{\"ok\":true,\"op\":\"write\"}");

    /* A last request without its newline is answered at end of input. */
    send_text(fd, "{\"op\":\"status\"}", 15);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    assert_true(read_line(fd, line, sizeof(line)) > 0);
    assert_string_equal(line, "{\"ok\":true,\"op\":\"status\"}");
    assert_true(closed_by_server(fd));
    close(fd);
    stop(&f);
}

static void test_too_large_closes(void **state)
{
    (void)state;
    struct fixture f;
    assert_int_equal(start(&f, NULL), BW_OK);
    int fd = dial(&f);
    size_t len = BW_CLI_REQUEST_MAX + 100;
    char *big = malloc(len);
    assert_non_null(big);
    memset(big, ' ', len);
    send_text(fd, big, len);
    free(big);
    char line[512];
    assert_true(read_line(fd, line, sizeof(line)) > 0);
    assert_non_null(strstr(line, "\"code\":\"too_large\""));
    assert_true(closed_by_server(fd));
    close(fd);

    /* The server still serves others. */
    fd = dial(&f);
    send_text(fd, "{\"op\":\"status\"}\n", 16);
    assert_true(read_line(fd, line, sizeof(line)) > 0);
    close(fd);
    stop(&f);
}

static void test_idle_client_dropped(void **state)
{
    (void)state;
    struct fixture f;
    struct bw_cli_control_config cfg = {.idle_timeout_ms = 200, .request_timeout_ms = 400};
    assert_int_equal(start(&f, &cfg), BW_OK);
    /* Silent from the start: the idle timeout. */
    int fd = dial(&f);
    int64_t t0 = bw_clock_monotonic_us();
    assert_true(closed_by_server(fd));
    int64_t waited = bw_clock_monotonic_us() - t0;
    assert_true(waited >= 150000 && waited < 3000000);
    close(fd);

    /* Half a request and then nothing: the request deadline. */
    fd = dial(&f);
    send_text(fd, "{\"op\":", 6);
    t0 = bw_clock_monotonic_us();
    assert_true(closed_by_server(fd));
    waited = bw_clock_monotonic_us() - t0;
    assert_true(waited >= 300000 && waited < 4000000);
    close(fd);

    /* Between requests the idle timeout applies afresh. */
    fd = dial(&f);
    char line[512];
    for (int i = 0; i < 3; i++) {
        struct timespec pause = {.tv_nsec = 120000000};
        nanosleep(&pause, NULL);
        send_text(fd, "{\"op\":\"status\"}\n", 16);
        assert_true(read_line(fd, line, sizeof(line)) > 0);
    }
    assert_true(closed_by_server(fd));
    close(fd);
    stop(&f);
}

/* Each byte of an unfinished request used to restart the timer, so a
 * client sending a space now and then held its slot for ever. */
static void test_trickling_client_dropped(void **state)
{
    (void)state;
    struct fixture f;
    struct bw_cli_control_config cfg = {.idle_timeout_ms = 300, .request_timeout_ms = 600};
    assert_int_equal(start(&f, &cfg), BW_OK);
    int fd = dial(&f);
    int64_t t0 = bw_clock_monotonic_us();
    bool dropped = false;
    while (!dropped && bw_clock_monotonic_us() - t0 < 10000000) {
        if (send(fd, " ", 1, MSG_NOSIGNAL) != 1)
            break; /* the server closed on us */
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char c;
        dropped = poll(&p, 1, 100) == 1 && recv(fd, &c, 1, 0) <= 0;
    }
    int64_t waited = bw_clock_monotonic_us() - t0;
    assert_true(waited >= 500000 && waited < 8000000);
    close(fd);
    stop(&f);
}

/* Reads one reply line of any size; returns its length with the
 * newline, or 0 when the connection closed first. */
static size_t read_big_line(int fd, char *out, size_t size)
{
    size_t n = 0;
    while (n < size) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 10000) != 1)
            return 0;
        ssize_t r = recv(fd, out + n, size - n, 0);
        if (r <= 0)
            return 0;
        n += (size_t)r;
        if (out[n - 1] == '\n')
            return n;
    }
    return 0;
}

/* Clients that ask for a large reply and never read get only a socket
 * buffer's worth of chunks made for them; others are answered
 * meanwhile, and a client that reads gets the whole reply. */
static void test_chunked_reply(void **state)
{
    (void)state;
    struct fixture f;
    assert_int_equal(start_with(&f, NULL, chunked_handler), BW_OK);
    __atomic_store_n(&chunk_calls, 0, __ATOMIC_RELAXED);
    int lazy[3];
    for (size_t i = 0; i < BW_ARRAY_LEN(lazy); i++) {
        lazy[i] = dial(&f);
        send_text(lazy[i], "{\"op\":\"tags\"}\n", 14);
    }
    /* Wait until the server has made all it will make for them. */
    int last = -1, now = 0;
    for (int i = 0; i < 100 && now != last; i++) {
        struct timespec pause = {.tv_nsec = 200000000};
        nanosleep(&pause, NULL);
        last = now;
        now = __atomic_load_n(&chunk_calls, __ATOMIC_RELAXED);
    }
    assert_true(now >= 3);
    assert_true(now < 3 * 40); /* of 3 * 200 if each reply were made whole */

    int other = dial(&f);
    char line[512];
    send_text(other, "{\"op\":\"status\"}\n", 16);
    assert_true(read_line(other, line, sizeof(line)) > 0);
    assert_string_equal(line, "{\"ok\":true,\"op\":\"status\"}");

    size_t want = strlen(CHUNKED_HEAD) + (size_t)CHUNKS * CHUNK_BYTES + strlen(CHUNKED_TAIL);
    char *big = malloc(want + 1);
    assert_non_null(big);
    send_text(other, "{\"op\":\"tags\"}\n", 14);
    assert_int_equal(read_big_line(other, big, want + 1), want);
    assert_memory_equal(big, CHUNKED_HEAD, strlen(CHUNKED_HEAD));
    assert_memory_equal(big + want - strlen(CHUNKED_TAIL), CHUNKED_TAIL, strlen(CHUNKED_TAIL));
    /* The connection is usable after a chunked reply. */
    send_text(other, "{\"op\":\"status\"}\n", 16);
    assert_true(read_line(other, line, sizeof(line)) > 0);
    free(big);
    close(other);
    for (size_t i = 0; i < BW_ARRAY_LEN(lazy); i++)
        close(lazy[i]);
    stop(&f);
}

static double cpu_seconds(void)
{
    struct timespec t;
    assert_int_equal(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t), 0);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Out of file descriptors, accept4 fails with EMFILE and the listening
 * socket stays readable: the control thread must not spin on it, and
 * must accept again once descriptors are free. */
static void test_accept_emfile_no_spin(void **state)
{
    (void)state;
    struct fixture f;
    assert_int_equal(start(&f, NULL), BW_OK);
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    int client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(client >= 0);
    struct rlimit low = old;
    low.rlim_cur = 128;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    int fill[128];
    size_t filled = 0;
    while (filled < BW_ARRAY_LEN(fill)) {
        int fd = dup(0);
        if (fd < 0)
            break;
        fill[filled++] = fd;
    }
    assert_true(errno == EMFILE);

    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    bw_strlcpy(addr.sun_path, f.sock, sizeof(addr.sun_path));
    assert_int_equal(connect(client, (struct sockaddr *)&addr, sizeof(addr)), 0);
    double cpu0 = cpu_seconds();
    struct timespec second = {.tv_sec = 1};
    nanosleep(&second, NULL);
    double used = cpu_seconds() - cpu0;

    for (size_t i = 0; i < filled; i++)
        close(fill[i]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_true(used < 0.5);

    send_text(client, "{\"op\":\"status\"}\n", 16);
    char line[512];
    assert_true(read_line(client, line, sizeof(line)) > 0);
    assert_string_equal(line, "{\"ok\":true,\"op\":\"status\"}");
    close(client);
    stop(&f);
}

static void test_connection_limit(void **state)
{
    (void)state;
    struct fixture f;
    struct bw_cli_control_config cfg = {.max_connections = 2};
    assert_int_equal(start(&f, &cfg), BW_OK);
    int a = dial(&f), b = dial(&f);
    char line[512];
    /* Make sure both are accepted before the third arrives. */
    send_text(a, "{\"op\":\"status\"}\n", 16);
    assert_true(read_line(a, line, sizeof(line)) > 0);
    send_text(b, "{\"op\":\"status\"}\n", 16);
    assert_true(read_line(b, line, sizeof(line)) > 0);
    int c = dial(&f);
    assert_true(read_line(c, line, sizeof(line)) > 0);
    assert_non_null(strstr(line, "\"code\":\"busy\""));
    assert_true(closed_by_server(c));
    close(c);
    close(a);
    /* A freed slot is usable again. */
    struct timespec pause = {.tv_nsec = 50000000};
    nanosleep(&pause, NULL);
    c = dial(&f);
    send_text(c, "{\"op\":\"status\"}\n", 16);
    assert_true(read_line(c, line, sizeof(line)) > 0);
    assert_string_equal(line, "{\"ok\":true,\"op\":\"status\"}");
    close(c);
    close(b);
    stop(&f);
}

static void test_stale_socket_and_squatter(void **state)
{
    (void)state;
    struct fixture f;
    assert_int_equal(start(&f, NULL), BW_OK);
    /* A second server on the same directory replaces the socket file
     * (the state lock, not this, keeps two daemons apart). */
    struct bw_cli_control_server *again = NULL;
    assert_int_equal(bw_cli_control_server_new(f.dir, NULL, echo_handler, NULL, &again), BW_OK);
    bw_cli_control_server_free(again);
    bw_cli_control_server_free(f.server);
    f.server = NULL;
    assert_int_equal(access(f.sock, F_OK), -1); /* free removes the file */

    /* A regular file with that name is not ours to delete. */
    FILE *file = fopen(f.sock, "w");
    assert_non_null(file);
    fclose(file);
    assert_int_equal(bw_cli_control_server_new(f.dir, NULL, echo_handler, NULL, &again), BW_EEXIST);
    assert_null(again);
    assert_int_equal(access(f.sock, F_OK), 0);
    stop(&f);
}

static void test_path_too_long(void **state)
{
    (void)state;
    char dir[200];
    memset(dir, 'd', sizeof(dir) - 1);
    dir[0] = '/';
    dir[sizeof(dir) - 1] = '\0';
    struct bw_cli_control_server *s = NULL;
    assert_int_equal(bw_cli_control_server_new(dir, NULL, echo_handler, NULL, &s), BW_ETOOLARGE);
    assert_null(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_socket_mode_and_requests),  cmocka_unit_test(test_too_large_closes),
        cmocka_unit_test(test_idle_client_dropped),       cmocka_unit_test(test_connection_limit),
        cmocka_unit_test(test_stale_socket_and_squatter), cmocka_unit_test(test_path_too_long),
        cmocka_unit_test(test_trickling_client_dropped),  cmocka_unit_test(test_chunked_reply),
        cmocka_unit_test(test_accept_emfile_no_spin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
