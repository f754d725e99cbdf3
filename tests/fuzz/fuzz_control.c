/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the control socket's request parser: feeds each
 * input to bw_cli_request_parse(), the same function the control thread
 * calls for every request line, then exercises what the daemon does
 * next with a parsed request (text-to-value conversion for each tag
 * type; an account request's arguments checked as each action would
 * check them) and with a refusal (the error reply). Seeds in
 * tests/fuzz/corpus/control/, dictionary in tests/fuzz/control.dict.
 */
#include "cli/internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bw_cli_request req;
    struct bw_cli_proto_error err;
    struct bw_buf reply;
    bw_buf_init(&reply, 4096);
    int rc = bw_cli_request_parse((const char *)data, size, &req, &err);
    if (rc) {
        if (!err.code || !err.message[0])
            abort(); /* every refusal must say why */
        if (bw_cli_reply_error(&reply, err.code, err.message) != BW_OK)
            abort(); /* a refusal always fits its reply */
    } else if (req.op == BW_CLI_OP_WRITE) {
        if (!bw_cli_name_valid(req.tag, strlen(req.tag)))
            abort();
        if (req.value.type == BW_TYPE_STRING) {
            static const enum bw_type types[] = {BW_TYPE_BOOL, BW_TYPE_INT, BW_TYPE_FLOAT,
                                                 BW_TYPE_STRING};
            for (size_t i = 0; i < BW_ARRAY_LEN(types); i++) {
                struct bw_value v;
                int conv = bw_cli_value_from_text(types[i], req.text, req.value.len, &v);
                (void)conv; /* any answer is fine; it must not crash */
            }
        }
    } else if (req.op == BW_CLI_OP_USER) {
        if (!req.user_args || !bw_cli_user_action_name(req.user_action))
            abort();
        for (size_t a = 0; a < BW_CLI_USER_ACTION_COUNT_; a++) {
            struct bw_cli_user_fields fields;
            char why[BW_CLI_WHY_MAX] = "";
            int checked = bw_cli_user_fields_get((enum bw_cli_user_action)a, req.user_args, &fields,
                                                 why, sizeof(why));
            if (checked && !why[0])
                abort(); /* every refusal must say why */
            if (!checked && a != BW_CLI_USER_LIST && !fields.name)
                abort(); /* every action but list names an account */
        }
    }
    bw_cli_request_clear(&req);
    bw_buf_clear(&reply);
    return 0;
}
