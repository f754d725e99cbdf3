/* SPDX-License-Identifier: Apache-2.0
 *
 * The control protocol's wire format: one JSON object per line. This
 * file owns the strict request parser (every key known, every type
 * checked, sizes bounded), the text-to-value conversion the write
 * request and the CLI share, and the error reply. Pure functions with no
 * state, called on the control thread and by the CLI, unit-tested and
 * fuzzed (tests/fuzz/fuzz_control.c).
 */
#include "cli/internal.h"
#include "crypto/crypto.h"

#include <string.h>

/* What each op accepts besides "op"; a key outside its list is an error,
 * so that a typo never passes silently. */
struct op_spec {
    const char *name;
    enum bw_cli_op op;
    const char *keys[6];
};

static const struct op_spec op_specs[] = {
    {"status", BW_CLI_OP_STATUS, {NULL}},
    {"tags", BW_CLI_OP_TAGS, {"prefix", NULL}},
    {"write", BW_CLI_OP_WRITE, {"tag", "value", NULL}},
    {"audit_archive", BW_CLI_OP_AUDIT_ARCHIVE, {NULL}},
    {"audit_exported",
     BW_CLI_OP_AUDIT_EXPORTED,
     {"file", "first_seq", "last_seq", "records", "sha256", NULL}},
    {"user", BW_CLI_OP_USER, {"action", "args", NULL}},
    {"devices", BW_CLI_OP_DEVICES, {NULL}},
};

/* The account actions of op "user", in enum bw_cli_user_action order. */
static const char *const user_actions[BW_CLI_USER_ACTION_COUNT_] = {
    [BW_CLI_USER_ADD] = "add",
    [BW_CLI_USER_MODIFY] = "modify",
    [BW_CLI_USER_DISABLE] = "disable",
    [BW_CLI_USER_ENABLE] = "enable",
    [BW_CLI_USER_REMOVE] = "remove",
    [BW_CLI_USER_UNLOCK] = "unlock",
    [BW_CLI_USER_PASSWD] = "passwd",
    [BW_CLI_USER_SHOW] = "show",
    [BW_CLI_USER_LIST] = "list",
    [BW_CLI_USER_MFA_ENROL] = "mfa_enrol",
    [BW_CLI_USER_MFA_CONFIRM] = "mfa_confirm",
    [BW_CLI_USER_MFA_REMOVE] = "mfa_remove",
    [BW_CLI_USER_SETUP] = "setup",
};

const char *bw_cli_user_action_name(enum bw_cli_user_action action)
{
    return (unsigned)action < BW_CLI_USER_ACTION_COUNT_ ? user_actions[action] : NULL;
}

bool bw_cli_user_action_find(const char *name, size_t len, enum bw_cli_user_action *out)
{
    for (size_t i = 0; i < BW_CLI_USER_ACTION_COUNT_; i++) {
        if (strlen(user_actions[i]) == len && memcmp(user_actions[i], name, len) == 0) {
            *out = (enum bw_cli_user_action)i;
            return true;
        }
    }
    return false;
}

static int fail(struct bw_cli_proto_error *err, int rc, const char *code, const char *fmt, ...)
    BW_PRINTF(4, 5);

static int fail(struct bw_cli_proto_error *err, int rc, const char *code, const char *fmt, ...)
{
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    if (n < 0)
        err->message[0] = '\0';
    return rc;
}

/* A key from the client is only echoed after this: at most 32 bytes of
 * [A-Za-z0-9_.-], anything else shown as '?', so that the reply and the
 * log cannot carry invalid UTF-8 or control characters. */
static void sanitise_key(const char *key, char *out, size_t size)
{
    size_t n = 0;
    for (; key[n] && n + 1 < size && n < 32; n++) {
        char c = key[n];
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '_' || c == '.' || c == '-';
        out[n] = plain ? c : '?';
    }
    out[n] = '\0';
}

/* Why jansson refused a request, in our words: its own text quotes the
 * bytes near the error ("near '...'"), which are the client's and may be
 * terminal escapes or invalid UTF-8, so it is never passed on. */
static const char *json_reason(enum json_error_code code)
{
    switch (code) {
    case json_error_invalid_utf8:
        return "invalid UTF-8";
    case json_error_premature_end_of_input:
        return "unexpected end of input";
    case json_error_end_of_input_expected:
        return "unexpected text after the JSON value";
    case json_error_null_character:
        return "NUL byte";
    case json_error_duplicate_key:
        return "duplicate key";
    case json_error_stack_overflow:
        return "nested too deeply";
    case json_error_numeric_overflow:
        return "number out of range";
    default:
        return "invalid syntax";
    }
}

static bool name_char(char c, bool first)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
        return true;
    if (first)
        return false;
    return (c >= '0' && c <= '9') || c == '_' || c == '.';
}

bool bw_cli_name_valid(const char *name, size_t len)
{
    if (len == 0 || len > BW_TAG_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!name_char(name[i], i == 0))
            return false;
    return true;
}

/* A prefix is a possibly empty beginning of a name. */
static bool prefix_valid(const char *prefix, size_t len)
{
    if (len > BW_TAG_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!name_char(prefix[i], i == 0))
            return false;
    return true;
}

static int parse_prefix(const json_t *v, struct bw_cli_request *out, struct bw_cli_proto_error *err)
{
    if (!json_is_string(v))
        return fail(err, BW_EMALFORMED, "bad_request", "\"prefix\" must be a string");
    size_t len = json_string_length(v);
    if (!prefix_valid(json_string_value(v), len))
        return fail(err, BW_EMALFORMED, "bad_request",
                    "\"prefix\" must be the beginning of a tag name (letters, digits, '_', '.', "
                    "at most %d bytes)",
                    BW_TAG_NAME_MAX);
    memcpy(out->prefix, json_string_value(v), len);
    out->prefix[len] = '\0';
    return BW_OK;
}

static int parse_tag(const json_t *v, struct bw_cli_request *out, struct bw_cli_proto_error *err)
{
    if (!json_is_string(v))
        return fail(err, BW_EMALFORMED, "bad_request", "\"tag\" must be a string");
    size_t len = json_string_length(v);
    if (!bw_cli_name_valid(json_string_value(v), len))
        return fail(err, BW_EMALFORMED, "bad_request",
                    "\"tag\" is not a valid tag name (a letter, then letters, digits, '_', '.', "
                    "at most %d bytes)",
                    BW_TAG_NAME_MAX);
    memcpy(out->tag, json_string_value(v), len);
    out->tag[len] = '\0';
    return BW_OK;
}

static int parse_value(const json_t *v, struct bw_cli_request *out, struct bw_cli_proto_error *err)
{
    switch (json_typeof(v)) {
    case JSON_TRUE:
    case JSON_FALSE:
        out->value.type = BW_TYPE_BOOL;
        out->value.v.b = json_is_true(v);
        return BW_OK;
    case JSON_INTEGER:
        out->value.type = BW_TYPE_INT;
        out->value.v.i = (int64_t)json_integer_value(v);
        return BW_OK;
    case JSON_REAL:
        out->value.type = BW_TYPE_FLOAT;
        out->value.v.f = json_real_value(v);
        return BW_OK;
    case JSON_STRING: {
        size_t len = json_string_length(v);
        if (len > BW_TAG_STRING_MAX)
            return fail(err, BW_EMALFORMED, "bad_request", "\"value\" is longer than %d bytes",
                        BW_TAG_STRING_MAX);
        memcpy(out->text, json_string_value(v), len);
        out->text[len] = '\0';
        out->value.type = BW_TYPE_STRING;
        out->value.v.s = out->text;
        out->value.len = len;
        return BW_OK;
    }
    default:
        return fail(err, BW_EMALFORMED, "bad_request",
                    "\"value\" must be a boolean, a number or a string");
    }
}

static int parse_count(const json_t *obj, const char *key, uint64_t *out,
                       struct bw_cli_proto_error *err)
{
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return fail(err, BW_EMALFORMED, "bad_request", "op \"audit_exported\" needs \"%s\"", key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return fail(err, BW_EMALFORMED, "bad_request", "\"%s\" must be a whole number, 0 or more",
                    key);
    *out = (uint64_t)json_integer_value(v);
    return BW_OK;
}

static bool lower_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* The note of an export: the file's name is recorded, never echoed. */
static int parse_export_note(const json_t *obj, struct bw_cli_export_note *out,
                             struct bw_cli_proto_error *err)
{
    int rc = parse_count(obj, "first_seq", &out->first_seq, err);
    if (rc == BW_OK)
        rc = parse_count(obj, "last_seq", &out->last_seq, err);
    if (rc == BW_OK)
        rc = parse_count(obj, "records", &out->records, err);
    if (rc)
        return rc;
    if (out->last_seq < out->first_seq)
        return fail(err, BW_EMALFORMED, "bad_request", "\"last_seq\" is before \"first_seq\"");
    const json_t *v = json_object_get(obj, "sha256");
    if (!json_is_string(v) || json_string_length(v) != 64 ||
        !lower_hex(json_string_value(v), json_string_length(v)))
        return fail(err, BW_EMALFORMED, "bad_request",
                    "\"sha256\" must be 64 lower-case hexadecimal digits");
    memcpy(out->sha256, json_string_value(v), 65);
    v = json_object_get(obj, "file");
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        json_string_length(v) > BW_CLI_EXPORT_FILE_MAX ||
        strlen(json_string_value(v)) != json_string_length(v))
        return fail(err, BW_EMALFORMED, "bad_request", "\"file\" must be a path of 1 to %d bytes",
                    BW_CLI_EXPORT_FILE_MAX);
    memcpy(out->file, json_string_value(v), json_string_length(v) + 1);
    return BW_OK;
}

/* Only the shape is checked here: a known action and an object of
 * arguments, which bw_cli_user_apply checks key by key. The arguments
 * may hold a password: they are kept (a reference, released and wiped
 * by bw_cli_request_clear), never echoed. */
static int parse_user(const json_t *obj, struct bw_cli_request *out, struct bw_cli_proto_error *err)
{
    const json_t *action = json_object_get(obj, "action");
    if (!action)
        return fail(err, BW_EMALFORMED, "bad_request", "op \"user\" needs \"action\"");
    if (!json_is_string(action) ||
        !bw_cli_user_action_find(json_string_value(action), json_string_length(action),
                                 &out->user_action))
        return fail(err, BW_EMALFORMED, "bad_request",
                    "\"action\" must be one of add, modify, disable, enable, remove, unlock, "
                    "passwd, show, list, mfa_enrol, mfa_confirm, mfa_remove, setup");
    json_t *args = json_object_get(obj, "args");
    if (!args)
        return fail(err, BW_EMALFORMED, "bad_request", "op \"user\" needs \"args\"");
    if (!json_is_object(args))
        return fail(err, BW_EMALFORMED, "bad_request", "\"args\" must be an object");
    out->user_args = json_incref(args);
    return BW_OK;
}

/* Overwrites the text of a secret member of args in place, so that it
 * leaves no copy when the object is freed. */
static void wipe_member(json_t *args, const char *key)
{
    json_t *v = json_object_get(args, key);
    if (json_is_string(v))
        bw_crypto_wipe((char *)json_string_value(v), json_string_length(v));
}

void bw_cli_user_args_wipe(json_t *args)
{
    static const char *const secrets[] = {"password", "secret", "code"};
    if (!json_is_object(args))
        return;
    for (size_t i = 0; i < BW_ARRAY_LEN(secrets); i++)
        wipe_member(args, secrets[i]);
}

void bw_cli_request_clear(struct bw_cli_request *req)
{
    if (!req->user_args)
        return;
    /* The parser's object is the request's alone: handlers borrow it. */
    bw_cli_user_args_wipe(req->user_args);
    json_decref(req->user_args);
    req->user_args = NULL;
}

static const struct op_spec *find_op(const json_t *op)
{
    for (size_t i = 0; i < BW_ARRAY_LEN(op_specs); i++)
        if (strcmp(json_string_value(op), op_specs[i].name) == 0 &&
            json_string_length(op) == strlen(op_specs[i].name))
            return &op_specs[i];
    return NULL;
}

static bool key_allowed(const struct op_spec *spec, const char *key)
{
    if (strcmp(key, "op") == 0)
        return true;
    for (size_t i = 0; spec->keys[i]; i++)
        if (strcmp(key, spec->keys[i]) == 0)
            return true;
    return false;
}

/* Checks the object's keys against the op, then each key's value. */
static int parse_fields(const json_t *obj, const struct op_spec *spec, struct bw_cli_request *out,
                        struct bw_cli_proto_error *err)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (!key_allowed(spec, key)) {
            char shown[40];
            sanitise_key(key, shown, sizeof(shown));
            return fail(err, BW_EMALFORMED, "bad_request", "unknown key \"%s\" for op \"%s\"",
                        shown, spec->name);
        }
    }
    int rc = BW_OK;
    if ((v = json_object_get(obj, "prefix")) != NULL)
        rc = parse_prefix(v, out, err);
    if (rc)
        return rc;
    if (spec->op == BW_CLI_OP_AUDIT_EXPORTED)
        return parse_export_note(obj, &out->export_note, err);
    if (spec->op == BW_CLI_OP_USER)
        return parse_user(obj, out, err);
    if (spec->op != BW_CLI_OP_WRITE)
        return BW_OK;
    if ((v = json_object_get(obj, "tag")) == NULL)
        return fail(err, BW_EMALFORMED, "bad_request", "op \"write\" needs \"tag\"");
    rc = parse_tag(v, out, err);
    if (rc)
        return rc;
    if ((v = json_object_get(obj, "value")) == NULL)
        return fail(err, BW_EMALFORMED, "bad_request", "op \"write\" needs \"value\"");
    return parse_value(v, out, err);
}

int bw_cli_request_parse(const char *data, size_t len, struct bw_cli_request *out,
                         struct bw_cli_proto_error *err)
{
    memset(out, 0, sizeof(*out));
    err->code = NULL;
    err->message[0] = '\0';
    if (len > BW_CLI_REQUEST_MAX)
        return fail(err, BW_ETOOLARGE, "too_large", "request is longer than %u bytes",
                    BW_CLI_REQUEST_MAX);
    json_error_t jerr;
    json_t *obj = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj) {
        if (json_error_code(&jerr) == json_error_out_of_memory)
            return fail(err, BW_ENOMEM, "no_memory", "out of memory");
        return fail(err, BW_EMALFORMED, "malformed", "not valid JSON at line %d, column %d: %s",
                    jerr.line, jerr.column, json_reason(json_error_code(&jerr)));
    }
    int rc;
    const json_t *op = json_object_get(obj, "op");
    const struct op_spec *spec = NULL;
    if (!json_is_object(obj))
        rc = fail(err, BW_EMALFORMED, "bad_request", "a request must be a JSON object");
    else if (!op)
        rc = fail(err, BW_EMALFORMED, "bad_request", "missing \"op\"");
    else if (!json_is_string(op))
        rc = fail(err, BW_EMALFORMED, "bad_request", "\"op\" must be a string");
    else if ((spec = find_op(op)) == NULL)
        rc = fail(err, BW_EMALFORMED, "bad_request",
                  "unknown op (expected \"status\", \"tags\", \"write\", \"audit_archive\", "
                  "\"audit_exported\" or \"user\")");
    else {
        out->op = spec->op;
        rc = parse_fields(obj, spec, out, err);
    }
    json_decref(obj);
    return rc;
}

int bw_cli_value_from_text(enum bw_type type, const char *text, size_t len, struct bw_value *out)
{
    memset(out, 0, sizeof(*out));
    switch (type) {
    case BW_TYPE_BOOL:
        out->type = BW_TYPE_BOOL;
        if ((len == 4 && memcmp(text, "true", 4) == 0) || (len == 1 && text[0] == '1'))
            out->v.b = true;
        else if ((len == 5 && memcmp(text, "false", 5) == 0) || (len == 1 && text[0] == '0'))
            out->v.b = false;
        else
            return BW_ETYPE;
        return BW_OK;
    case BW_TYPE_INT:
        out->type = BW_TYPE_INT;
        if (bw_parse_i64(text, len, INT64_MIN, INT64_MAX, &out->v.i) == BW_OK)
            return BW_OK;
        /* "3.0" or "1e3": a number the core may accept as integral. */
        out->type = BW_TYPE_FLOAT;
        return bw_parse_double(text, len, &out->v.f) == BW_OK ? BW_OK : BW_ETYPE;
    case BW_TYPE_FLOAT:
        out->type = BW_TYPE_FLOAT;
        return bw_parse_double(text, len, &out->v.f) == BW_OK ? BW_OK : BW_ETYPE;
    case BW_TYPE_STRING:
        if (len > BW_TAG_STRING_MAX)
            return BW_ETYPE;
        out->type = BW_TYPE_STRING;
        out->v.s = text;
        out->len = len;
        return BW_OK;
    }
    return BW_ETYPE;
}

static int append_cb(const char *buffer, size_t size, void *data)
{
    return bw_buf_append(data, buffer, size) == BW_OK ? 0 : -1;
}

int bw_cli_json_append(struct bw_buf *out, const json_t *json)
{
    size_t before = out->len;
    if (json_dump_callback(json, append_cb, out, JSON_COMPACT | JSON_ENCODE_ANY) != 0) {
        out->len = before;
        if (out->data)
            out->data[before] = '\0';
        return BW_ETOOLARGE;
    }
    return BW_OK;
}

int bw_cli_reply_error(struct bw_buf *out, const char *code, const char *message)
{
    json_t *msg = json_string(message);
    if (!msg)
        msg = json_string("request refused");
    json_t *reply =
        json_pack("{s:b, s:{s:s, s:o}}", "ok", 0, "error", "code", code, "message", msg);
    if (!reply)
        return BW_ENOMEM;
    int rc = bw_cli_json_append(out, reply);
    json_decref(reply);
    if (rc)
        return rc;
    return bw_buf_append(out, "\n", 1);
}
