/* SPDX-License-Identifier: Apache-2.0
 *
 * The one-time setup secret beyond its happy path: a right secret is not
 * spent when the first administrator cannot be made for another reason
 * (a taken name, a busy hashing queue), while wrong ones still count;
 * and a file tied to the secret goes when the secret does (used, void
 * after wrong tries, expired, or the context closed).
 */
#include "support_secfix.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define GOOD "Tx9#mq4!Lz2w"
#define WRONG "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static int setup_admin(struct secfix *f, const char *secret, const char *name)
{
    char why[256];
    return bw_security_setup_admin(f->sec, secret, name, GOOD, strlen(GOOD), "test", why,
                                   sizeof(why));
}

static void test_taken_name_keeps_secret(void **state)
{
    struct secfix *f = *state;
    char secret[64];
    assert_int_equal(bw_security_setup_secret_issue(f->sec, secret, sizeof(secret)), BW_OK);
    assert_int_equal(secfix_add(f, "root", "viewer", GOOD), BW_OK);
    assert_int_equal(setup_admin(f, secret, "root"), BW_EEXIST);
    /* Not a wrong secret: nothing refused on record, and still good. */
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SETUP_SECRET_REFUSED, 0, NULL), 0);
    assert_int_equal(setup_admin(f, secret, "admin"), BW_OK);
    assert_int_equal(secfix_count(f, BW_AUDIT_EV_SETUP_ADMIN_CREATED, 0, "admin"), 1);
    assert_int_equal(setup_admin(f, secret, "admin2"), BW_EDENIED);
}

static void one_hash_no_queue(struct bw_project_security *p)
{
    p->password.hash_concurrency = 1;
    p->password.hash_queue = 0;
}

static int setup_busy(void **state)
{
    struct secfix *f = calloc(1, sizeof(*f));
    if (!f || secfix_open(f, one_hash_no_queue) != BW_OK) {
        if (f)
            secfix_close(f);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static void test_busy_queue_keeps_secret(void **state)
{
    struct secfix *f = *state;
    char secret[64];
    assert_int_equal(bw_security_setup_secret_issue(f->sec, secret, sizeof(secret)), BW_OK);
    /* Four wrong tries: one more voids the secret. */
    for (int i = 0; i < 4; i++)
        assert_int_equal(setup_admin(f, WRONG, "root"), BW_EDENIED);
    /* The only hashing slot is taken: the right secret fails for that,
     * after it was taken, and is put back. */
    assert_int_equal(sec_hashpool_enter(&f->sec->pool), BW_OK);
    assert_int_equal(setup_admin(f, secret, "root"), BW_EFULL);
    sec_hashpool_leave(&f->sec->pool);
    struct bw_security_user_info info;
    assert_int_equal(bw_security_user_get(f->sec, "root", &info), BW_ENOTFOUND);
    /* Put back with the wrong tries counted: the fifth still voids it. */
    assert_int_equal(setup_admin(f, WRONG, "root"), BW_EDENIED);
    assert_int_equal(setup_admin(f, secret, "root"), BW_EDENIED);
}

static void test_busy_queue_then_success(void **state)
{
    struct secfix *f = *state;
    char secret[64];
    assert_int_equal(bw_security_setup_secret_issue(f->sec, secret, sizeof(secret)), BW_OK);
    assert_int_equal(sec_hashpool_enter(&f->sec->pool), BW_OK);
    assert_int_equal(setup_admin(f, secret, "root"), BW_EFULL);
    sec_hashpool_leave(&f->sec->pool);
    assert_int_equal(setup_admin(f, secret, "root"), BW_OK);
    assert_int_equal(secfix_login(f, "root", GOOD, NULL, NULL), BW_SECURITY_LOGIN_OK);
}

/* Issues a secret and ties a file at DIR/setup-secret to it. */
static void issue_with_file(struct secfix *f, char *secret, char *path, size_t path_size)
{
    assert_int_equal(bw_security_setup_secret_issue(f->sec, secret, 64), BW_OK);
    assert_int_equal(bw_snprintf(path, path_size, "%s/setup-secret", f->dir), BW_OK);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    fprintf(out, "%s\n", secret);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(bw_security_setup_secret_file(f->sec, path), BW_OK);
}

static void test_file_goes_when_used(void **state)
{
    struct secfix *f = *state;
    char secret[64], path[512];
    issue_with_file(f, secret, path, sizeof(path));
    /* A wrong try, a taken name: the secret and its file stay. */
    assert_int_equal(setup_admin(f, WRONG, "root"), BW_EDENIED);
    assert_int_equal(secfix_add(f, "taken", NULL, GOOD), BW_OK);
    assert_int_equal(setup_admin(f, secret, "taken"), BW_EEXIST);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(setup_admin(f, secret, "root"), BW_OK);
    assert_int_equal(access(path, F_OK), -1);
    /* No secret outstanding: nothing to tie a file to. */
    assert_int_equal(bw_security_setup_secret_file(f->sec, path), BW_ESTATE);
}

static void test_file_goes_when_void(void **state)
{
    struct secfix *f = *state;
    char secret[64], path[512];
    issue_with_file(f, secret, path, sizeof(path));
    for (int i = 0; i < 4; i++)
        assert_int_equal(setup_admin(f, WRONG, "root"), BW_EDENIED);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(setup_admin(f, WRONG, "root"), BW_EDENIED);
    assert_int_equal(access(path, F_OK), -1);
}

static void test_file_goes_when_closed(void **state)
{
    struct secfix *f = *state;
    char secret[64], path[512];
    issue_with_file(f, secret, path, sizeof(path));
    secfix_close_context(f);
    assert_int_equal(access(path, F_OK), -1);
}

static void test_file_goes_when_expired(void **state)
{
    (void)state;
    bw_clock_fake_set(1800000000ll * 1000000, 1000000);
    struct secfix f;
    assert_int_equal(secfix_open(&f, NULL), BW_OK);
    char secret[64], path[512];
    issue_with_file(&f, secret, path, sizeof(path));
    bw_clock_fake_advance(3599ll * 1000000);
    bw_security_tick(f.sec);
    assert_int_equal(access(path, F_OK), 0);
    bw_clock_fake_advance(2ll * 1000000);
    bw_security_tick(f.sec);
    assert_int_equal(access(path, F_OK), -1);
    secfix_close(&f);
    bw_clock_fake_disable();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_taken_name_keeps_secret, secfix_setup,
                                        secfix_teardown),
        cmocka_unit_test_setup_teardown(test_busy_queue_keeps_secret, setup_busy, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_busy_queue_then_success, setup_busy, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_file_goes_when_used, secfix_setup, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_file_goes_when_void, secfix_setup, secfix_teardown),
        cmocka_unit_test_setup_teardown(test_file_goes_when_closed, secfix_setup, secfix_teardown),
        cmocka_unit_test(test_file_goes_when_expired),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
