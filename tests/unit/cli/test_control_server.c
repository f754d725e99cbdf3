/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the control socket server (src/cli/control_server.c)
 * with a stand-in handler instead of the plant: socket file mode, stale
 * socket replacement, request framing, error replies, the size limit,
 * the idle timeout and the connection limit. Each test uses its own
 * temporary directory.
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

static void echo_handler(void *ctx, const struct bw_cli_request *req, struct bw_buf *reply)
{
    (void)ctx;
    static const char *const names[] = {"status", "tags", "write"};
    int rc = bw_buf_printf(reply, "{\"ok\":true,\"op\":\"%s\"}\n", names[req->op]);
    assert_int_equal(rc, BW_OK);
}

static int start(struct fixture *f, const struct bw_cli_control_config *cfg)
{
    bw_strlcpy(f->dir, "/tmp/bw-test-control-XXXXXX", sizeof(f->dir));
    if (!mkdtemp(f->dir))
        return -1;
    if (bw_snprintf(f->sock, sizeof(f->sock), "%s/control.sock", f->dir) != BW_OK)
        return -1;
    int rc = bw_cli_control_server_new(f->dir, cfg, echo_handler, NULL, &f->server);
    if (!rc)
        rc = bw_cli_control_server_start(f->server);
    return rc;
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
    struct bw_cli_control_config cfg = {.idle_timeout_ms = 200};
    assert_int_equal(start(&f, &cfg), BW_OK);
    int fd = dial(&f);
    send_text(fd, "{\"op\":", 6); /* and then nothing */
    int64_t t0 = bw_clock_monotonic_us();
    assert_true(closed_by_server(fd));
    int64_t waited = bw_clock_monotonic_us() - t0;
    assert_true(waited >= 150000 && waited < 3000000);
    close(fd);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
