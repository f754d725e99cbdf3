/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the account actions' argument checks
 * (src/cli/user_args.c) and the text forms they share with the command
 * line (src/cli/user_json.c): what each action takes and needs, every
 * value's type and bounds, dates and area lists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/internal.h"

#include <string.h>

static int check(enum bw_cli_user_action action, const char *text, struct bw_cli_user_fields *f,
                 json_t **args)
{
    json_error_t jerr;
    *args = json_loads(text, JSON_ALLOW_NUL, &jerr);
    assert_non_null(*args);
    char why[BW_CLI_WHY_MAX] = "";
    int rc = bw_cli_user_fields_get(action, *args, f, why, sizeof(why));
    if (rc)
        assert_true(why[0] != '\0');
    return rc;
}

static void test_add_every_field(void **state)
{
    (void)state;
    struct bw_cli_user_fields f;
    json_t *args;
    assert_int_equal(check(BW_CLI_USER_ADD,
                           "{\"name\":\"alice\",\"full_name\":\"Alice Example\",\"type\":\"human\","
                           "\"level\":100,\"areas\":[1,2,5],\"roles\":[\"operator\",\"viewer\"],"
                           "\"expires\":\"2027-01-31\",\"password\":\"Correct-Horse-42\"}",
                           &f, &args),
                     BW_OK);
    assert_string_equal(f.name, "alice");
    assert_string_equal(f.change.full_name, "Alice Example");
    assert_true(f.change.set_type);
    assert_int_equal(f.change.type, BW_SECURITY_HUMAN);
    assert_true(f.change.set_level);
    assert_int_equal(f.change.level, 100);
    assert_true(f.change.set_areas);
    assert_int_equal(f.change.areas, (1u << 1) | (1u << 2) | (1u << 5));
    assert_true(f.change.set_roles);
    assert_int_equal(f.change.role_count, 2);
    assert_string_equal(f.change.roles[0], "operator");
    assert_string_equal(f.change.roles[1], "viewer");
    assert_true(f.change.set_expires);
    assert_int_equal(f.change.expires_us, 1801353600LL * 1000000); /* 2027-01-31T00:00:00Z */
    assert_int_equal(f.password_len, 16);
    assert_memory_equal(f.password, "Correct-Horse-42", 16);
    json_decref(args);

    /* Nothing but the name: every field stays unset. */
    assert_int_equal(check(BW_CLI_USER_ADD,
                           "{\"name\":\"svc\",\"type\":\"service\","
                           "\"no_password\":true}",
                           &f, &args),
                     BW_OK);
    assert_true(f.no_password);
    assert_null(f.password);
    assert_false(f.change.set_level || f.change.set_areas || f.change.set_roles ||
                 f.change.set_expires);
    json_decref(args);

    /* null clears the expiry; an empty list clears the roles. */
    assert_int_equal(
        check(BW_CLI_USER_MODIFY, "{\"name\":\"a\",\"expires\":null,\"roles\":[]}", &f, &args),
        BW_OK);
    assert_true(f.change.set_expires);
    assert_int_equal(f.change.expires_us, 0);
    assert_true(f.change.set_roles);
    assert_int_equal(f.change.role_count, 0);
    json_decref(args);
}

static void test_each_action_takes_its_own(void **state)
{
    (void)state;
    static const struct {
        enum bw_cli_user_action action;
        const char *args;
        int rc;
    } cases[] = {
        {BW_CLI_USER_LIST, "{}", BW_OK},
        {BW_CLI_USER_LIST, "{\"after\":\"bob\"}", BW_OK},
        {BW_CLI_USER_LIST, "{\"name\":\"bob\"}", BW_EMALFORMED},
        {BW_CLI_USER_SHOW, "{\"name\":\"bob\"}", BW_OK},
        {BW_CLI_USER_SHOW, "{}", BW_EMALFORMED},
        {BW_CLI_USER_SHOW, "{\"name\":\"bob\",\"level\":3}", BW_EMALFORMED},
        {BW_CLI_USER_DISABLE, "{\"name\":\"bob\"}", BW_OK},
        {BW_CLI_USER_DISABLE, "{\"name\":\"bob\",\"password\":\"x\"}", BW_EMALFORMED},
        {BW_CLI_USER_ENABLE, "{\"name\":\"bob\"}", BW_OK},
        {BW_CLI_USER_REMOVE, "{\"name\":\"bob\"}", BW_OK},
        {BW_CLI_USER_UNLOCK, "{\"name\":\"bob\"}", BW_OK},
        {BW_CLI_USER_PASSWD, "{\"name\":\"bob\",\"password\":\"pw\"}", BW_OK},
        {BW_CLI_USER_PASSWD, "{\"name\":\"bob\"}", BW_EMALFORMED},
        {BW_CLI_USER_MODIFY, "{\"name\":\"bob\",\"password\":\"pw\"}", BW_EMALFORMED},
        {BW_CLI_USER_MODIFY, "{\"name\":\"bob\",\"no_password\":true}", BW_EMALFORMED},
        {BW_CLI_USER_MFA_ENROL, "{\"name\":\"bob\"}", BW_OK},
        {BW_CLI_USER_MFA_CONFIRM, "{\"name\":\"bob\",\"code\":\"123456\"}", BW_OK},
        {BW_CLI_USER_MFA_CONFIRM, "{\"name\":\"bob\"}", BW_EMALFORMED},
        {BW_CLI_USER_MFA_REMOVE, "{\"name\":\"bob\",\"code\":\"1\"}", BW_EMALFORMED},
        {BW_CLI_USER_SETUP, "{\"name\":\"a\",\"secret\":\"S\",\"password\":\"p\"}", BW_OK},
        {BW_CLI_USER_SETUP, "{\"name\":\"a\",\"password\":\"p\"}", BW_EMALFORMED},
        {BW_CLI_USER_SETUP, "{\"name\":\"a\",\"secret\":\"S\"}", BW_EMALFORMED},
        {BW_CLI_USER_ADD, "{\"name\":\"a\",\"password\":\"p\",\"no_password\":true}",
         BW_EMALFORMED},
        {BW_CLI_USER_ADD, "{\"name\":\"a\",\"secret\":\"S\"}", BW_EMALFORMED},
        {BW_CLI_USER_ADD, "{\"name\":\"a\",\"bogus\":1}", BW_EMALFORMED},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(cases); i++) {
        struct bw_cli_user_fields f;
        json_t *args;
        int rc = check(cases[i].action, cases[i].args, &f, &args);
        if (rc != cases[i].rc)
            fail_msg("case %zu (%s %s): rc %d, expected %d", i,
                     bw_cli_user_action_name(cases[i].action), cases[i].args, rc, cases[i].rc);
        json_decref(args);
    }
}

static void test_wrong_types_and_bounds(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"name\":7}",
        "{\"name\":\"\"}",
        "{\"name\":null}",
        "{\"name\":\"a\\u0000b\"}",
        "{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
        "{\"name\":\"a\",\"type\":\"robot\"}",
        "{\"name\":\"a\",\"type\":\"directory\"}",
        "{\"name\":\"a\",\"type\":1}",
        "{\"name\":\"a\",\"level\":\"high\"}",
        "{\"name\":\"a\",\"level\":0}",
        "{\"name\":\"a\",\"level\":10000}",
        "{\"name\":\"a\",\"level\":1.5}",
        "{\"name\":\"a\",\"areas\":[]}",
        "{\"name\":\"a\",\"areas\":[0]}",
        "{\"name\":\"a\",\"areas\":[32]}",
        "{\"name\":\"a\",\"areas\":[\"1\"]}",
        "{\"name\":\"a\",\"areas\":3}",
        "{\"name\":\"a\",\"roles\":\"operator\"}",
        "{\"name\":\"a\",\"roles\":[1]}",
        "{\"name\":\"a\",\"roles\":[\"\"]}",
        "{\"name\":\"a\",\"expires\":\"2027-02-29\"}",
        "{\"name\":\"a\",\"expires\":\"2027-13-01\"}",
        "{\"name\":\"a\",\"expires\":\"27-01-01\"}",
        "{\"name\":\"a\",\"expires\":\"2027-01-01T00:00:00Z\"}",
        "{\"name\":\"a\",\"expires\":20270101}",
        "{\"name\":\"a\",\"full_name\":7}",
        "{\"name\":\"a\",\"password\":\"\"}",
        "{\"name\":\"a\",\"password\":7}",
        "{\"name\":\"a\",\"no_password\":\"yes\"}",
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(bad); i++) {
        struct bw_cli_user_fields f;
        json_t *args;
        if (check(BW_CLI_USER_ADD, bad[i], &f, &args) != BW_EMALFORMED)
            fail_msg("case %zu accepted: %s", i, bad[i]);
        json_decref(args);
    }
    /* A refusal names the key, never the value. */
    json_t *args = json_pack("{s:s, s:i}", "name", "a", "level", 123456);
    struct bw_cli_user_fields f;
    char why[BW_CLI_WHY_MAX];
    assert_int_equal(bw_cli_user_fields_get(BW_CLI_USER_ADD, args, &f, why, sizeof(why)),
                     BW_EMALFORMED);
    assert_non_null(strstr(why, "\"level\""));
    assert_null(strstr(why, "123456"));
    json_decref(args);
    args = json_pack("{s:s, s:s}", "name", "a", "secret-ish-key", "x");
    assert_int_equal(bw_cli_user_fields_get(BW_CLI_USER_SHOW, args, &f, why, sizeof(why)),
                     BW_EMALFORMED);
    assert_null(strstr(why, "secret-ish-key"));
    json_decref(args);
    assert_int_equal(bw_cli_user_fields_get(BW_CLI_USER_SHOW, NULL, &f, why, sizeof(why)),
                     BW_EMALFORMED);
}

static void test_dates(void **state)
{
    (void)state;
    int64_t us;
    assert_int_equal(bw_cli_date_parse("1970-01-01", 10, &us), BW_OK);
    assert_int_equal(us, 0);
    assert_int_equal(bw_cli_date_parse("2028-02-29", 10, &us), BW_OK);
    assert_int_equal(us, 1835395200LL * 1000000);
    assert_int_equal(bw_cli_date_parse("2027-04-31", 10, &us), BW_EINVAL);
    assert_int_equal(bw_cli_date_parse("2027-00-10", 10, &us), BW_EINVAL);
    assert_int_equal(bw_cli_date_parse("2027-01-00", 10, &us), BW_EINVAL);
    assert_int_equal(bw_cli_date_parse("1969-12-31", 10, &us), BW_EINVAL);
    assert_int_equal(bw_cli_date_parse("2027/01/01", 10, &us), BW_EINVAL);
    assert_int_equal(bw_cli_date_parse("2027-1-1", 8, &us), BW_EINVAL);
    assert_int_equal(bw_cli_date_parse("+027-01-01", 10, &us), BW_EINVAL);
}

static void test_areas(void **state)
{
    (void)state;
    uint32_t a;
    char text[128];
    assert_int_equal(bw_cli_areas_parse("all", &a), BW_OK);
    assert_int_equal(a, 0xfffffffeu);
    bw_cli_areas_format(a, text, sizeof(text));
    assert_string_equal(text, "all");
    assert_int_equal(bw_cli_areas_parse("1,2,5", &a), BW_OK);
    assert_int_equal(a, (1u << 1) | (1u << 2) | (1u << 5));
    bw_cli_areas_format(a, text, sizeof(text));
    assert_string_equal(text, "1,2,5");
    assert_int_equal(bw_cli_areas_parse("1-4,7,9-10,31", &a), BW_OK);
    bw_cli_areas_format(a, text, sizeof(text));
    assert_string_equal(text, "1-4,7,9,10,31");
    bw_cli_areas_format(0, text, sizeof(text));
    assert_string_equal(text, "none");
    static const char *const bad[] = {"",   "0",  "32", "1,",  ",1",  "1,,2",  "4-2",
                                      "1-", "-3", "a",  "1 2", "1;2", "01-99", "-"};
    for (size_t i = 0; i < BW_ARRAY_LEN(bad); i++)
        if (bw_cli_areas_parse(bad[i], &a) != BW_EINVAL)
            fail_msg("areas \"%s\" accepted", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_every_field),
        cmocka_unit_test(test_each_action_takes_its_own),
        cmocka_unit_test(test_wrong_types_and_bounds),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_areas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
