/* SPDX-License-Identifier: Apache-2.0
 *
 * Small helpers the subcommands share: error messages in one shape,
 * durations for people, and printing text that came from outside (a
 * device, the daemon) without letting it drive the terminal. Main thread.
 */
#include "cli/internal.h"

#include <stdarg.h>
#include <stdio.h>

void bw_cli_errorf(const char *fmt, ...)
{
    va_list ap;
    fputs("bulwark: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void bw_cli_duration_format(uint64_t seconds, char *out, size_t size)
{
    uint64_t d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60, s = seconds % 60;
    int rc = d ? bw_snprintf(out, size, "%llud %02llu:%02llu:%02llu", (unsigned long long)d,
                             (unsigned long long)h, (unsigned long long)m, (unsigned long long)s)
               : bw_snprintf(out, size, "%02llu:%02llu:%02llu", (unsigned long long)h,
                             (unsigned long long)m, (unsigned long long)s);
    if (rc && size > 0)
        out[0] = '\0';
}

void bw_cli_print_safe(FILE *out, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        /* U+0080..U+009F (C2 80..C2 9F) are C1 controls, such as CSI. */
        if (c == 0xc2 && i + 1 < len && (unsigned char)text[i + 1] < 0xa0 &&
            (unsigned char)text[i + 1] >= 0x80) {
            fprintf(out, "\\x%02x\\x%02x", c, (unsigned char)text[i + 1]);
            i++;
            continue;
        }
        /* Printable ASCII and other UTF-8 bytes pass; controls (ESC above
         * all) are shown escaped. */
        if ((c >= 0x20 && c != 0x7f) || c >= 0x80)
            fputc(c, out);
        else
            fprintf(out, "\\x%02x", c);
    }
}
