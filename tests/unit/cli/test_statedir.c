/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the state directory's lock (src/cli/statedir.c): taken
 * and released on a fresh directory, refused while held, and refused
 * when something other than a regular file has the lock file's name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void make_dir(char *dir, size_t size)
{
    bw_strlcpy(dir, "/tmp/bw-test-statedir-XXXXXX", size);
    assert_non_null(mkdtemp(dir));
}

static void test_take_and_release(void **state)
{
    (void)state;
    char dir[64], why[256];
    make_dir(dir, sizeof(dir));
    struct bw_cli_state_lock a, b;
    pid_t holder = 0;
    assert_int_equal(bw_cli_state_lock_take(dir, &a, &holder, why, sizeof(why)), BW_OK);
    assert_int_equal(bw_cli_state_lock_take(dir, &b, &holder, why, sizeof(why)), BW_EBUSY);
    assert_int_equal(holder, getpid());
    bw_cli_state_lock_release(&a);
    assert_int_equal(access(a.path, F_OK), -1);
    assert_int_equal(bw_cli_state_lock_take(dir, &b, &holder, why, sizeof(why)), BW_OK);
    bw_cli_state_lock_release(&b);
    assert_int_equal(rmdir(dir), 0);
}

/* A FIFO (or any non-regular file) planted as bulwark.lock is refused
 * by name before anything is written to it. */
static void test_lock_not_regular(void **state)
{
    (void)state;
    char dir[64], path[128], why[256] = "";
    make_dir(dir, sizeof(dir));
    assert_int_equal(bw_snprintf(path, sizeof(path), "%s/bulwark.lock", dir), BW_OK);
    assert_int_equal(mkfifo(path, 0600), 0);
    struct bw_cli_state_lock lock;
    pid_t holder = 0;
    int rc = bw_cli_state_lock_take(dir, &lock, &holder, why, sizeof(why));
    assert_int_not_equal(rc, BW_OK);
    assert_int_not_equal(rc, BW_EBUSY);
    assert_int_equal(lock.fd, -1);
    assert_non_null(strstr(why, "not a regular file"));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take_and_release),
        cmocka_unit_test(test_lock_not_regular),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
