/* SPDX-License-Identifier: Apache-2.0
 *
 * The error text of a parameter read from outside (a query string, a
 * CLI option): which key, why, and at most 32 bytes of what was given,
 * with anything but printable ASCII (and the quote and backslash)
 * shown as '?'. Pure; any thread.
 */
#include "base/base.h"

#include <string.h>

#define ECHO_MAX 32

int bw_param_error(char *err, size_t errlen, int rc, const char *key, const char *why,
                   const char *echo, size_t echo_len)
{
    if (!err || errlen == 0)
        return rc;
    char shown[ECHO_MAX + 4];
    int f;
    if (echo) {
        size_t n = echo_len > ECHO_MAX ? ECHO_MAX : echo_len;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)echo[i];
            shown[i] = c >= 0x20 && c < 0x7f && c != '\'' && c != '\\' ? (char)c : '?';
        }
        if (echo_len > ECHO_MAX)
            memcpy(shown + n, "...", 4);
        else
            shown[n] = '\0';
        f = bw_snprintf(err, errlen, "%s: %s: '%s'", key, why, shown);
    } else {
        f = bw_snprintf(err, errlen, "%s: %s", key, why);
    }
    if (f != BW_OK) {
        /* A short err buffer keeps the beginning, which says what. */
    }
    return rc;
}
