/* SPDX-License-Identifier: Apache-2.0
 *
 * QR codes in the terminal (qr.h): libqrencode makes the module matrix;
 * this file draws it with Unicode half blocks, two rows of modules to a
 * line of text, so that the code is square on a terminal whose cells are
 * about twice as high as wide. Runs on the caller's thread; libqrencode
 * is thread-safe as Debian builds it (with pthread).
 */
#include "cli/qr.h"

#include <errno.h>
#include <qrencode.h>

/* ISO/IEC 18004 asks for 4 light modules around the symbol; scanners
 * find the finder patterns by that margin. */
#define QR_QUIET 4

/* Which half of a character cell gets ink, indexed [top][bottom].
 *
 * Light modules are the ones drawn in ink (the terminal's foreground
 * colour) and dark modules are left blank (its background), as
 * qrencode's own UTF8 output does. A terminal gives us two colours and
 * no say over which is light: the usual one, a light foreground on a
 * dark background, then shows dark modules on light with a light quiet
 * zone, which is what every scanner reads. Drawing dark modules in ink
 * instead would give, on that same terminal, a light-on-dark code with
 * a dark margin, which many phone cameras refuse. On a terminal with a
 * dark foreground on a light background the code comes out inverted;
 * the commands that print one also print the key as text to type in.
 * Escape sequences that set both colours would fix the colours but not
 * help where output goes to a file, a pager or a serial console. */
static const char *const qr_glyph[2][2] = {
    {" ", "\xe2\x96\x84"},            /* blank, LOWER HALF BLOCK */
    {"\xe2\x96\x80", "\xe2\x96\x88"}, /* UPPER HALF BLOCK, FULL BLOCK */
};

/* True when the module at (x, y) of the symbol with its quiet zone is
 * light; false beyond the last row, so an odd row count leaves the
 * lower half of the last line blank instead of widening the margin. */
static bool qr_ink(const QRcode *qr, int x, int y)
{
    int size = qr->width + 2 * QR_QUIET;
    if (y >= size)
        return false;
    x -= QR_QUIET;
    y -= QR_QUIET;
    if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
        return true;
    /* Bit 0 of each byte is the module's colour (1 dark); the others
     * say what kind of module it is. */
    return (qr->data[(size_t)y * (size_t)qr->width + (size_t)x] & 1) == 0;
}

int bw_cli_qr_print(FILE *out, const char *text)
{
    if (!out || !text)
        return BW_EINVAL;
    errno = 0;
    /* Version 0: the smallest that holds text. Level M (15 % of the
     * code may be lost) is what authenticator enrolment codes use. */
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr) {
        if (errno == ENOMEM)
            return BW_ENOMEM;
        return errno == ERANGE ? BW_ETOOLARGE : BW_EINVAL;
    }
    int size = qr->width + 2 * QR_QUIET;
    for (int y = 0; y < size; y += 2) {
        for (int x = 0; x < size; x++)
            fputs(qr_glyph[qr_ink(qr, x, y)][qr_ink(qr, x, y + 1)], out);
        fputc('\n', out);
    }
    QRcode_free(qr);
    return fflush(out) == 0 && !ferror(out) ? BW_OK : BW_EIO;
}
