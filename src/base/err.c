/* SPDX-License-Identifier: Apache-2.0
 *
 * Error codes and their texts. The texts reach users, so they name the
 * kind of failure and nothing internal.
 */
#include "base/base.h"

static const char *const err_text[BW_ERR_COUNT_] = {
    [BW_OK] = "success",
    [BW_ENOMEM] = "out of memory",
    [BW_EINVAL] = "invalid argument",
    [BW_EMALFORMED] = "malformed input",
    [BW_ETOOLARGE] = "input too large",
    [BW_EDENIED] = "permission denied",
    [BW_EIO] = "input/output error",
    [BW_ETIMEOUT] = "timed out",
    [BW_ENOTFOUND] = "not found",
    [BW_EEXIST] = "already exists",
    [BW_EFULL] = "queue or table full",
    [BW_EBUSY] = "resource busy",
    [BW_ERANGE] = "value out of range",
    [BW_ETYPE] = "wrong type",
    [BW_ESTATE] = "wrong state for this operation",
};

const char *bw_strerror(int err)
{
    if (err < 0 || err >= BW_ERR_COUNT_)
        return "unknown error";
    return err_text[err];
}
