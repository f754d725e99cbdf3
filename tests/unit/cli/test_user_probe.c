/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of what `bulwark user` looks at before it touches a state
 * directory: probing the state lock (src/cli/statedir.c) says whether a
 * daemon holds it and creates nothing, whoever runs it; the audit login
 * uid of a process (src/cli/user_session.c) is read, or known to be
 * unknown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void make_dir(char *dir, size_t size)
{
    bw_strlcpy(dir, "/tmp/bw-test-probe-XXXXXX", size);
    assert_non_null(mkdtemp(dir));
}

static void test_probe_creates_nothing(void **state)
{
    (void)state;
    char dir[64], missing[96], why[256];
    make_dir(dir, sizeof(dir));
    pid_t holder = 123;
    /* No lock file: no daemon, and none is made. */
    assert_int_equal(bw_cli_state_lock_probe(dir, &holder, why, sizeof(why)), BW_OK);
    assert_int_equal(holder, 0);
    assert_int_equal(rmdir(dir), 0); /* still empty */
    /* No directory: no daemon, and no directory is made. */
    assert_int_equal(bw_snprintf(missing, sizeof(missing), "%s/none", dir), BW_OK);
    assert_int_equal(bw_cli_state_lock_probe(missing, &holder, why, sizeof(why)), BW_OK);
    assert_int_equal(bw_cli_state_lock_probe(dir, &holder, why, sizeof(why)), BW_OK);
    assert_int_equal(access(dir, F_OK), -1);
}

static void test_probe_sees_the_holder(void **state)
{
    (void)state;
    char dir[64], why[256];
    make_dir(dir, sizeof(dir));
    struct bw_cli_state_lock lock;
    pid_t holder = 0;
    assert_int_equal(bw_cli_state_lock_take(dir, &lock, &holder, why, sizeof(why)), BW_OK);
    assert_int_equal(bw_cli_state_lock_probe(dir, &holder, why, sizeof(why)), BW_EBUSY);
    assert_int_equal(holder, getpid());
    /* The probe let go of what it looked with: the holder keeps it, and
     * once released the lock is free again. */
    pid_t other = 0;
    struct bw_cli_state_lock second;
    assert_int_equal(bw_cli_state_lock_take(dir, &second, &other, why, sizeof(why)), BW_EBUSY);
    bw_cli_state_lock_release(&lock);
    assert_int_equal(bw_cli_state_lock_probe(dir, &holder, why, sizeof(why)), BW_OK);
    assert_int_equal(bw_cli_state_lock_take(dir, &second, &other, why, sizeof(why)), BW_OK);
    bw_cli_state_lock_release(&second);
    assert_int_equal(rmdir(dir), 0);
}

static void test_probe_refuses_odd_files(void **state)
{
    (void)state;
    char dir[64], path[96], why[256];
    make_dir(dir, sizeof(dir));
    assert_int_equal(bw_snprintf(path, sizeof(path), "%s/bulwark.lock", dir), BW_OK);
    pid_t holder;
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(bw_cli_state_lock_probe(dir, &holder, why, sizeof(why)), BW_EINVAL);
    assert_non_null(strstr(why, "not a regular file"));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    assert_int_equal(bw_cli_state_lock_probe(dir, &holder, why, sizeof(why)), BW_EIO);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_login_uid(void **state)
{
    (void)state;
    uint32_t uid = 7;
    /* No such process. */
    assert_false(bw_cli_login_uid(INT32_MAX, &uid));
    /* This one: as /proc says, unless it is unset. */
    char text[32] = "";
    FILE *in = fopen("/proc/self/loginuid", "r");
    if (!in)
        skip();
    if (!fgets(text, sizeof(text), in))
        text[0] = '\0';
    fclose(in);
    bool known = bw_cli_login_uid(0, &uid);
    if (strncmp(text, "4294967295", 10) == 0 || text[0] == '\0') {
        assert_false(known);
    } else {
        assert_true(known);
        uint64_t want = 0;
        assert_int_equal(bw_parse_u64(text, strcspn(text, "\n"), UINT32_MAX, &want), BW_OK);
        assert_int_equal(uid, want);
        uint32_t by_pid = 0;
        assert_true(bw_cli_login_uid(getpid(), &by_pid));
        assert_int_equal(by_pid, uid);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_creates_nothing),
        cmocka_unit_test(test_probe_sees_the_holder),
        cmocka_unit_test(test_probe_refuses_odd_files),
        cmocka_unit_test(test_login_uid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
