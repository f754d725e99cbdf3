/* SPDX-License-Identifier: Apache-2.0
 *
 * Names of the value types shared by every module.
 */
#include "base/base.h"

const char *bw_type_name(enum bw_type type)
{
    switch (type) {
    case BW_TYPE_BOOL:
        return "bool";
    case BW_TYPE_INT:
        return "int";
    case BW_TYPE_FLOAT:
        return "float";
    case BW_TYPE_STRING:
        return "string";
    }
    return "?";
}
