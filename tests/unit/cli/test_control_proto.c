/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the control protocol's request parser, the text-to-value
 * conversion and the error reply (src/cli/control_proto.c): many good
 * and bad requests, each checked for its result and error code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int parse(const char *text, struct bw_cli_request *req, struct bw_cli_proto_error *err)
{
    return bw_cli_request_parse(text, strlen(text), req, err);
}

static void test_status_ok(void **state)
{
    (void)state;
    struct bw_cli_request req;
    struct bw_cli_proto_error err;
    assert_int_equal(parse("{\"op\":\"status\"}", &req, &err), BW_OK);
    assert_int_equal(req.op, BW_CLI_OP_STATUS);
    assert_int_equal(parse("  { \"op\" : \"status\" }  \r", &req, &err), BW_OK);
    assert_int_equal(parse("{\"op\":\"audit_archive\"}", &req, &err), BW_OK);
    assert_int_equal(req.op, BW_CLI_OP_AUDIT_ARCHIVE);
    const char *note = "{\"op\":\"audit_exported\",\"file\":\"/media/worm/a.jsonl\","
                       "\"first_seq\":5,\"last_seq\":9,\"records\":5,\"sha256\":"
                       "\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}";
    assert_int_equal(parse(note, &req, &err), BW_OK);
    assert_int_equal(req.op, BW_CLI_OP_AUDIT_EXPORTED);
    assert_string_equal(req.export_note.file, "/media/worm/a.jsonl");
    assert_int_equal(req.export_note.first_seq, 5);
    assert_int_equal(req.export_note.last_seq, 9);
    assert_int_equal(req.export_note.records, 5);
    assert_string_equal(req.export_note.sha256,
                        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
}

/* op "user": the shape only (a known action, an object of arguments),
 * which the request keeps until it is cleared. */
static void test_user_ok(void **state)
{
    (void)state;
    struct bw_cli_request req;
    struct bw_cli_proto_error err;
    assert_int_equal(parse("{\"op\":\"user\",\"action\":\"add\",\"args\":{\"name\":\"alice\","
                           "\"password\":\"Correct-Horse-42\",\"level\":3}}",
                           &req, &err),
                     BW_OK);
    assert_int_equal(req.op, BW_CLI_OP_USER);
    assert_int_equal(req.user_action, BW_CLI_USER_ADD);
    assert_true(json_is_object(req.user_args));
    assert_string_equal(json_string_value(json_object_get(req.user_args, "name")), "alice");
    bw_cli_request_clear(&req);
    assert_null(req.user_args);
    bw_cli_request_clear(&req); /* twice is fine */

    /* Every action by its name; the arguments are not judged here. */
    for (size_t a = 0; a < BW_CLI_USER_ACTION_COUNT_; a++) {
        char text[128];
        assert_int_equal(bw_snprintf(text, sizeof(text),
                                     "{\"args\":{\"x\":1},\"action\":\"%s\",\"op\":\"user\"}",
                                     bw_cli_user_action_name((enum bw_cli_user_action)a)),
                         BW_OK);
        assert_int_equal(parse(text, &req, &err), BW_OK);
        assert_int_equal(req.user_action, a);
        bw_cli_request_clear(&req);
    }
    assert_null(bw_cli_user_action_name(BW_CLI_USER_ACTION_COUNT_));

    /* Other ops own nothing: clearing them is a no-op. */
    assert_int_equal(parse("{\"op\":\"status\"}", &req, &err), BW_OK);
    assert_null(req.user_args);
    bw_cli_request_clear(&req);
}

/* The secrets of an account request are overwritten before it is freed. */
static void test_user_args_wipe(void **state)
{
    (void)state;
    json_t *args = json_pack("{s:s, s:s, s:s, s:s}", "name", "alice", "password", "hunter2-Secret",
                             "secret", "ABCDEF", "code", "123456");
    assert_non_null(args);
    bw_cli_user_args_wipe(args);
    static const char *const keys[] = {"password", "secret", "code"};
    for (size_t i = 0; i < BW_ARRAY_LEN(keys); i++) {
        const json_t *v = json_object_get(args, keys[i]);
        for (size_t k = 0; k < json_string_length(v); k++)
            assert_int_equal(json_string_value(v)[k], 0);
    }
    assert_string_equal(json_string_value(json_object_get(args, "name")), "alice");
    json_decref(args);
    bw_cli_user_args_wipe(NULL);
}

static void test_tags_ok(void **state)
{
    (void)state;
    struct bw_cli_request req;
    struct bw_cli_proto_error err;
    assert_int_equal(parse("{\"op\":\"tags\"}", &req, &err), BW_OK);
    assert_int_equal(req.op, BW_CLI_OP_TAGS);
    assert_string_equal(req.prefix, "");
    assert_int_equal(parse("{\"op\":\"tags\",\"prefix\":\"Tank1.\"}", &req, &err), BW_OK);
    assert_string_equal(req.prefix, "Tank1.");
    assert_int_equal(parse("{\"prefix\":\"\",\"op\":\"tags\"}", &req, &err), BW_OK);
    assert_string_equal(req.prefix, "");
}

static void test_write_values(void **state)
{
    (void)state;
    struct bw_cli_request req;
    struct bw_cli_proto_error err;
    assert_int_equal(parse("{\"op\":\"write\",\"tag\":\"Pump1.Run\",\"value\":true}", &req, &err),
                     BW_OK);
    assert_int_equal(req.op, BW_CLI_OP_WRITE);
    assert_string_equal(req.tag, "Pump1.Run");
    assert_int_equal(req.value.type, BW_TYPE_BOOL);
    assert_true(req.value.v.b);

    assert_int_equal(parse("{\"op\":\"write\",\"tag\":\"C\",\"value\":-42}", &req, &err), BW_OK);
    assert_int_equal(req.value.type, BW_TYPE_INT);
    assert_int_equal(req.value.v.i, -42);

    assert_int_equal(parse("{\"op\":\"write\",\"tag\":\"F\",\"value\":2.5e1}", &req, &err), BW_OK);
    assert_int_equal(req.value.type, BW_TYPE_FLOAT);
    assert_true(req.value.v.f == 25.0);

    assert_int_equal(parse("{\"value\":\"h\\u00e9\",\"tag\":\"S_1\",\"op\":\"write\"}", &req, &err),
                     BW_OK);
    assert_int_equal(req.value.type, BW_TYPE_STRING);
    assert_int_equal(req.value.len, 3);
    assert_memory_equal(req.value.v.s, "h\xc3\xa9", 3);
    assert_ptr_equal(req.value.v.s, req.text);

    assert_int_equal(parse("{\"op\":\"write\",\"tag\":\"S\",\"value\":\"\"}", &req, &err), BW_OK);
    assert_int_equal(req.value.len, 0);
}

/* Every bad request: its result and the code the client sees. */
struct bad_case {
    const char *text;
    int rc;
    const char *code;
};

static const struct bad_case bad_cases[] = {
    {"", BW_EMALFORMED, "malformed"},
    {" ", BW_EMALFORMED, "malformed"},
    {"{", BW_EMALFORMED, "malformed"},
    {"}", BW_EMALFORMED, "malformed"},
    {"null", BW_EMALFORMED, "malformed"},
    {"\"status\"", BW_EMALFORMED, "malformed"},
    {"42", BW_EMALFORMED, "malformed"},
    {"[]", BW_EMALFORMED, "bad_request"},
    {"[{\"op\":\"status\"}]", BW_EMALFORMED, "bad_request"},
    {"{}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"status\"} {\"op\":\"status\"}", BW_EMALFORMED, "malformed"},
    {"{\"op\":\"status\"}x", BW_EMALFORMED, "malformed"},
    {"{\"op\":\"status\",}", BW_EMALFORMED, "malformed"},
    {"{'op':'status'}", BW_EMALFORMED, "malformed"},
    {"{\"op\":\"status\",\"op\":\"status\"}", BW_EMALFORMED, "malformed"},
    {"{\"op\":\"Status\"}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"status \"}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"\"}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"shutdown\"}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":1}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":null}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":[\"status\"]}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"stat\\u0000us\"}", BW_EMALFORMED, "malformed"},
    {"{\"op\":\"status\",\"x\":1}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"status\",\"prefix\":\"A\"}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"tags\",\"prefix\":1}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"tags\",\"prefix\":null}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"tags\",\"prefix\":\"a b\"}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"tags\",\"prefix\":\"1abc\"}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"tags\",\"prefix\":\"../x\"}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"tags\",\"tag\":\"A\"}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"write\"}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"write\",\"tag\":\"A\"}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"write\",\"value\":1}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"write\",\"tag\":\"\",\"value\":1}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"write\",\"tag\":\"_A\",\"value\":1}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"write\",\"tag\":\"A-B\",\"value\":1}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"write\",\"tag\":\"A\\nB\",\"value\":1}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"write\",\"tag\":7,\"value\":1}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"write\",\"tag\":\"A\",\"value\":null}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"write\",\"tag\":\"A\",\"value\":[1]}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"write\",\"tag\":\"A\",\"value\":{}}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"write\",\"tag\":\"A\",\"value\":1,\"reason\":\"x\"}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"write\",\"tag\":\"A\",\"value\":NaN}", BW_EMALFORMED, "malformed"},
    {"{\"op\":\"write\",\"tag\":\"A\",\"value\":1e999}", BW_EMALFORMED, "malformed"},
    {"{\"op\":\"write\",\"tag\":\"A\",\"value\":99999999999999999999}", BW_EMALFORMED, "malformed"},
    {"{\"op\":\"write\",\"tag\":\"A\",\"value\":01}", BW_EMALFORMED, "malformed"},
    {"{\"op\":\"audit_archive\",\"tag\":\"A\"}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"audit-archive\"}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"audit_exported\"}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"audit_exported\",\"file\":\"f\",\"first_seq\":1,\"last_seq\":2,\"records\":2}",
     BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"audit_exported\",\"file\":\"f\",\"first_seq\":-1,\"last_seq\":2,\"records\":2,"
     "\"sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}",
     BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"audit_exported\",\"file\":\"f\",\"first_seq\":3,\"last_seq\":2,\"records\":2,"
     "\"sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}",
     BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"audit_exported\",\"file\":\"f\",\"first_seq\":1,\"last_seq\":2,\"records\":2.5,"
     "\"sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}",
     BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"audit_exported\",\"file\":\"f\",\"first_seq\":1,\"last_seq\":2,\"records\":2,"
     "\"sha256\":\"0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\"}",
     BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"audit_exported\",\"file\":\"f\",\"first_seq\":1,\"last_seq\":2,\"records\":2,"
     "\"sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\"}",
     BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"audit_exported\",\"file\":\"\",\"first_seq\":1,\"last_seq\":2,\"records\":2,"
     "\"sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}",
     BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"audit_exported\",\"file\":7,\"first_seq\":1,\"last_seq\":2,\"records\":2,"
     "\"sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}",
     BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"audit_exported\",\"file\":\"f\",\"first_seq\":1,\"last_seq\":2,\"records\":2,"
     "\"sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\"tag\":"
     "\"A\"}",
     BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"user\"}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"user\",\"args\":{}}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"user\",\"action\":\"add\"}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"user\",\"action\":\"shutdown\",\"args\":{}}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"user\",\"action\":\"Add\",\"args\":{}}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"user\",\"action\":\"add \",\"args\":{}}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"user\",\"action\":\"mfa-enrol\",\"args\":{}}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"user\",\"action\":1,\"args\":{}}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"user\",\"action\":null,\"args\":{}}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"user\",\"action\":[\"add\"],\"args\":{}}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"user\",\"action\":\"show\",\"args\":[\"alice\"]}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"user\",\"action\":\"show\",\"args\":\"alice\"}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"user\",\"action\":\"show\",\"args\":null}", BW_EMALFORMED, "bad_request"},
    {"{\"op\":\"user\",\"action\":\"show\",\"args\":{},\"name\":\"alice\"}", BW_EMALFORMED,
     "bad_request"},
    {"{\"op\":\"user\",\"action\":\"show\",\"args\":{},\"tag\":\"A\"}", BW_EMALFORMED,
     "bad_request"},
    {"{\"op\":\"user\",\"action\":\"ad\\u0000d\",\"args\":{}}", BW_EMALFORMED, "malformed"},
    {"{\"op\":\"status\xff\"}", BW_EMALFORMED, "malformed"},
    {"{\"op\":\"\xc3\"}", BW_EMALFORMED, "malformed"},
};

static void test_bad_requests(void **state)
{
    (void)state;
    for (size_t i = 0; i < BW_ARRAY_LEN(bad_cases); i++) {
        struct bw_cli_request req;
        struct bw_cli_proto_error err;
        int rc = parse(bad_cases[i].text, &req, &err);
        if (rc != bad_cases[i].rc || !err.code || strcmp(err.code, bad_cases[i].code) != 0)
            fail_msg("case %zu (%s): rc %d code %s, expected %d %s", i, bad_cases[i].text, rc,
                     err.code ? err.code : "(none)", bad_cases[i].rc, bad_cases[i].code);
        assert_true(err.message[0] != '\0');
    }
}

static void test_embedded_nul_in_data(void **state)
{
    (void)state;
    static const char text[] = "{\"op\":\"status\"}\0garbage";
    struct bw_cli_request req;
    struct bw_cli_proto_error err;
    assert_int_equal(bw_cli_request_parse(text, sizeof(text) - 1, &req, &err), BW_EMALFORMED);
    /* Not NUL-terminated: only len bytes are read. */
    assert_int_equal(bw_cli_request_parse(text, 15, &req, &err), BW_OK);
}

static void test_limits(void **state)
{
    (void)state;
    struct bw_cli_request req;
    struct bw_cli_proto_error err;
    char *big = malloc(BW_CLI_REQUEST_MAX + 2);
    assert_non_null(big);
    memset(big, ' ', BW_CLI_REQUEST_MAX + 1);
    memcpy(big, "{\"op\":\"status\"}", 15);
    assert_int_equal(bw_cli_request_parse(big, BW_CLI_REQUEST_MAX, &req, &err), BW_OK);
    assert_int_equal(bw_cli_request_parse(big, BW_CLI_REQUEST_MAX + 1, &req, &err), BW_ETOOLARGE);
    assert_string_equal(err.code, "too_large");
    free(big);

    /* Names: 128 bytes pass, 129 do not. */
    char name[BW_TAG_NAME_MAX + 2];
    memset(name, 'a', sizeof(name));
    char line[512];
    name[BW_TAG_NAME_MAX] = '\0';
    assert_int_equal(
        bw_snprintf(line, sizeof(line), "{\"op\":\"write\",\"tag\":\"%s\",\"value\":1}", name),
        BW_OK);
    assert_int_equal(parse(line, &req, &err), BW_OK);
    name[BW_TAG_NAME_MAX] = 'a';
    name[BW_TAG_NAME_MAX + 1] = '\0';
    assert_int_equal(
        bw_snprintf(line, sizeof(line), "{\"op\":\"write\",\"tag\":\"%s\",\"value\":1}", name),
        BW_OK);
    assert_int_equal(parse(line, &req, &err), BW_EMALFORMED);
    assert_int_equal(bw_snprintf(line, sizeof(line), "{\"op\":\"tags\",\"prefix\":\"%s\"}", name),
                     BW_OK);
    assert_int_equal(parse(line, &req, &err), BW_EMALFORMED);

    /* String values: 255 bytes pass, 256 do not. */
    char text[BW_TAG_STRING_MAX + 2];
    memset(text, 'x', sizeof(text));
    text[BW_TAG_STRING_MAX] = '\0';
    assert_int_equal(
        bw_snprintf(line, sizeof(line), "{\"op\":\"write\",\"tag\":\"S\",\"value\":\"%s\"}", text),
        BW_OK);
    assert_int_equal(parse(line, &req, &err), BW_OK);
    assert_int_equal(req.value.len, BW_TAG_STRING_MAX);
    text[BW_TAG_STRING_MAX] = 'x';
    text[BW_TAG_STRING_MAX + 1] = '\0';
    assert_int_equal(
        bw_snprintf(line, sizeof(line), "{\"op\":\"write\",\"tag\":\"S\",\"value\":\"%s\"}", text),
        BW_OK);
    assert_int_equal(parse(line, &req, &err), BW_EMALFORMED);
}

static void test_deep_nesting(void **state)
{
    (void)state;
    /* Deep arrays inside a known key: refused, not a stack overflow. */
    size_t depth = 20000;
    size_t len = 40 + 2 * depth;
    char *text = malloc(len);
    assert_non_null(text);
    size_t n = 0;
    const char *head = "{\"op\":\"write\",\"tag\":\"A\",\"value\":";
    memcpy(text, head, strlen(head));
    n = strlen(head);
    for (size_t i = 0; i < depth; i++)
        text[n++] = '[';
    for (size_t i = 0; i < depth; i++)
        text[n++] = ']';
    text[n++] = '}';
    struct bw_cli_request req;
    struct bw_cli_proto_error err;
    assert_int_equal(bw_cli_request_parse(text, n, &req, &err), BW_EMALFORMED);
    free(text);
}

static void test_unknown_key_is_sanitised(void **state)
{
    (void)state;
    struct bw_cli_request req;
    struct bw_cli_proto_error err;
    assert_int_equal(parse("{\"op\":\"status\",\"b\\u00e4d\\nkey\":1}", &req, &err), BW_EMALFORMED);
    assert_non_null(strstr(err.message, "b??d?key"));
    for (const char *p = err.message; *p; p++)
        assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

/* jansson's own error text quotes the bytes near the error ("near
 * '\x1b[31m'"); what a client sent must never come back raw, in the reply
 * or the log, so the message gives the position and a generic reason. */
static void test_malformed_never_echoes_bytes(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"op\":\x1b[31m\x07}", "{\"op\":\"status\"}\x1b]0;owned\x07",
        "\x1b[2J\x01\x02\x7f",   "{\"op\":\"st\x1b[1matus\"}",
        "{\"op\":tru\x9b\xff}",  "{\"op\":\"status\"",
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(bad); i++) {
        struct bw_cli_request req;
        struct bw_cli_proto_error err;
        assert_int_equal(parse(bad[i], &req, &err), BW_EMALFORMED);
        assert_string_equal(err.code, "malformed");
        assert_non_null(strstr(err.message, "line 1, column "));
        assert_null(strstr(err.message, "near"));
        for (const char *p = err.message; *p; p++)
            assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
    }
}

static void test_name_valid(void **state)
{
    (void)state;
    assert_true(bw_cli_name_valid("A", 1));
    assert_true(bw_cli_name_valid("Tank1.Level_pct", 15));
    assert_false(bw_cli_name_valid("", 0));
    assert_false(bw_cli_name_valid("1A", 2));
    assert_false(bw_cli_name_valid(".A", 2));
    assert_false(bw_cli_name_valid("A B", 3));
    assert_false(bw_cli_name_valid("A\0B", 3));
}

static void test_value_from_text(void **state)
{
    (void)state;
    struct bw_value v;
    assert_int_equal(bw_cli_value_from_text(BW_TYPE_BOOL, "true", 4, &v), BW_OK);
    assert_true(v.v.b);
    assert_int_equal(bw_cli_value_from_text(BW_TYPE_BOOL, "0", 1, &v), BW_OK);
    assert_false(v.v.b);
    assert_int_equal(bw_cli_value_from_text(BW_TYPE_BOOL, "yes", 3, &v), BW_ETYPE);
    assert_int_equal(bw_cli_value_from_text(BW_TYPE_BOOL, "TRUE", 4, &v), BW_ETYPE);
    assert_int_equal(bw_cli_value_from_text(BW_TYPE_BOOL, "", 0, &v), BW_ETYPE);

    assert_int_equal(bw_cli_value_from_text(BW_TYPE_INT, "-17", 3, &v), BW_OK);
    assert_int_equal(v.type, BW_TYPE_INT);
    assert_int_equal(v.v.i, -17);
    assert_int_equal(bw_cli_value_from_text(BW_TYPE_INT, "3.0", 3, &v), BW_OK);
    assert_int_equal(v.type, BW_TYPE_FLOAT);
    assert_int_equal(bw_cli_value_from_text(BW_TYPE_INT, "12abc", 5, &v), BW_ETYPE);
    assert_int_equal(bw_cli_value_from_text(BW_TYPE_INT, " 1", 2, &v), BW_ETYPE);

    assert_int_equal(bw_cli_value_from_text(BW_TYPE_FLOAT, "42.5", 4, &v), BW_OK);
    assert_true(v.v.f == 42.5);
    assert_int_equal(bw_cli_value_from_text(BW_TYPE_FLOAT, "1e3", 3, &v), BW_OK);
    assert_true(v.v.f == 1000.0);
    assert_int_equal(bw_cli_value_from_text(BW_TYPE_FLOAT, "nan", 3, &v), BW_ETYPE);
    assert_int_equal(bw_cli_value_from_text(BW_TYPE_FLOAT, "inf", 3, &v), BW_ETYPE);
    assert_int_equal(bw_cli_value_from_text(BW_TYPE_FLOAT, "abc", 3, &v), BW_ETYPE);

    assert_int_equal(bw_cli_value_from_text(BW_TYPE_STRING, "anything 1", 10, &v), BW_OK);
    assert_int_equal(v.type, BW_TYPE_STRING);
    assert_int_equal(v.len, 10);
    char big[BW_TAG_STRING_MAX + 1];
    memset(big, 'x', sizeof(big));
    assert_int_equal(bw_cli_value_from_text(BW_TYPE_STRING, big, sizeof(big), &v), BW_ETYPE);
}

static void test_reply_error(void **state)
{
    (void)state;
    struct bw_buf buf;
    bw_buf_init(&buf, 4096);
    assert_int_equal(bw_cli_reply_error(&buf, "bad_request", "missing \"op\""), BW_OK);
    assert_string_equal(buf.data, "{\"ok\":false,\"error\":{\"code\":\"bad_request\","
                                  "\"message\":\"missing \\\"op\\\"\"}}\n");
    bw_buf_reset(&buf);
    assert_int_equal(bw_cli_reply_error(&buf, "x", "bad \xff utf-8"), BW_OK);
    assert_non_null(strstr(buf.data, "request refused"));
    bw_buf_clear(&buf);

    bw_buf_init(&buf, 10);
    assert_int_equal(bw_cli_reply_error(&buf, "bad_request", "too long for ten bytes"),
                     BW_ETOOLARGE);
    assert_int_equal(buf.len, 0);
    bw_buf_clear(&buf);
}

static void test_peer_policy(void **state)
{
    (void)state;
    assert_true(bw_cli_control_peer_allowed(1000, 1000));
    assert_true(bw_cli_control_peer_allowed(0, 1000));
    assert_false(bw_cli_control_peer_allowed(1001, 1000));
    assert_false(bw_cli_control_peer_allowed(65534, 0));
    assert_true(bw_cli_control_peer_allowed(0, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_ok),
        cmocka_unit_test(test_tags_ok),
        cmocka_unit_test(test_user_ok),
        cmocka_unit_test(test_user_args_wipe),
        cmocka_unit_test(test_write_values),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_embedded_nul_in_data),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_unknown_key_is_sanitised),
        cmocka_unit_test(test_malformed_never_echoes_bytes),
        cmocka_unit_test(test_name_valid),
        cmocka_unit_test(test_value_from_text),
        cmocka_unit_test(test_reply_error),
        cmocka_unit_test(test_peer_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
