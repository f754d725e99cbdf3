/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the terminal QR code (src/cli/qr.c): the drawing is read
 * back from the half-block characters into a module matrix and compared
 * with libqrencode's own matrix for the same text and settings, so a
 * swapped half, an inverted colour or a shifted row fails. Also: the
 * size (width + 8 columns, (width + 9) / 2 lines), the 4-module light
 * quiet zone on every side, nothing drawn below the last module row;
 * an empty text BW_EINVAL, one beyond the largest code BW_ETOOLARGE, a
 * full disk BW_EIO.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/qr.h"

#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

#define QUIET 4
#define MAX_SIZE (177 + 2 * QUIET)

/* What a drawing decodes to: ink[y][x] for every module row drawn, and
 * whether the lower half of the last line had any ink. */
struct drawing {
    int cols, rows, lines;
    bool ink[MAX_SIZE + 1][MAX_SIZE];
};

/* Reads one glyph at *p: returns the ink of its top and bottom halves
 * as bits 1 and 0, or -1 for anything that is not one of the four. */
static int glyph(const char **p)
{
    static const struct {
        const char *text;
        int ink;
    } glyphs[] = {
        {" ", 0},
        {"\xe2\x96\x84", 1}, /* lower half */
        {"\xe2\x96\x80", 2}, /* upper half */
        {"\xe2\x96\x88", 3}, /* full */
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(glyphs); i++) {
        size_t n = strlen(glyphs[i].text);
        if (strncmp(*p, glyphs[i].text, n) == 0) {
            *p += n;
            return glyphs[i].ink;
        }
    }
    return -1;
}

static char *render(const char *text, size_t *len)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(bw_cli_qr_print(f, text), BW_OK);
    long size = ftell(f);
    assert_true(size > 0);
    rewind(f);
    char *buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    buf[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static void decode(const char *buf, struct drawing *d)
{
    memset(d, 0, sizeof(*d));
    const char *p = buf;
    while (*p) {
        assert_true(d->lines < (MAX_SIZE + 1) / 2);
        int x = 0;
        while (*p != '\n') {
            assert_true(x < MAX_SIZE);
            int ink = glyph(&p);
            if (ink < 0)
                fail_msg("line %d column %d: not a half block", d->lines, x);
            d->ink[2 * d->lines][x] = ink & 2;
            d->ink[2 * d->lines + 1][x] = ink & 1;
            x++;
        }
        p++;
        if (d->lines == 0)
            d->cols = x;
        assert_int_equal(x, d->cols); /* every line as wide as the first */
        d->lines++;
    }
}

static void check(const char *text)
{
    size_t len;
    char *buf = render(text, &len);
    assert_int_equal(buf[len - 1], '\n');
    struct drawing *d = calloc(1, sizeof(*d));
    assert_non_null(d);
    decode(buf, d);

    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    assert_non_null(qr);
    int w = qr->width, size = w + 2 * QUIET;
    assert_int_equal(d->cols, size);
    assert_int_equal(d->lines, (size + 1) / 2);
    for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
            bool in_code = x >= QUIET && x < QUIET + w && y >= QUIET && y < QUIET + w;
            /* Light modules are the inked ones (see qr.c). */
            bool light = !in_code || !(qr->data[(y - QUIET) * w + (x - QUIET)] & 1);
            if (d->ink[y][x] != light)
                fail_msg("\"%s\": module (%d, %d) is %s, libqrencode says %s", text, x - QUIET,
                         y - QUIET, d->ink[y][x] ? "light" : "dark", light ? "light" : "dark");
        }
    }
    /* size is odd: the last line's lower half lies outside the symbol
     * and its margin, and stays blank. */
    assert_int_equal(size % 2, 1);
    for (int x = 0; x < size; x++)
        assert_false(d->ink[size][x]);
    QRcode_free(qr);
    free(d);
    free(buf);
}

static void test_matrix(void **state)
{
    (void)state;
    check("otpauth://totp/Bulwark:operator1?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
          "&issuer=Bulwark&algorithm=SHA1&digits=6&period=30");
    check("1");
    check("HELLO WORLD");
    check("Pumpe Süd, Fördermenge");
    /* Around the largest code: version 40-M holds 2331 bytes. */
    char *big = malloc(2332);
    assert_non_null(big);
    memset(big, 'a', 2331);
    big[2331] = '\0';
    check(big);
    free(big);
}

static void test_errors(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(bw_cli_qr_print(f, ""), BW_EINVAL);
    assert_int_equal(bw_cli_qr_print(f, NULL), BW_EINVAL);
    assert_int_equal(bw_cli_qr_print(NULL, "x"), BW_EINVAL);
    char *huge = malloc(2333);
    assert_non_null(huge);
    memset(huge, 'a', 2332);
    huge[2332] = '\0';
    assert_int_equal(bw_cli_qr_print(f, huge), BW_ETOOLARGE);
    free(huge);
    assert_int_equal(ftell(f), 0); /* nothing drawn on failure */
    fclose(f);

    FILE *full = fopen("/dev/full", "w");
    if (full) {
        assert_int_equal(bw_cli_qr_print(full, "x"), BW_EIO);
        fclose(full);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
