/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/qr.h: QR codes drawn in a terminal, for enrolling an authenticator
 * app (an otpauth:// URI) from `bulwark user` commands. Its own header
 * so that the commands and the test include it without internal.h.
 */
#ifndef BW_CLI_QR_H
#define BW_CLI_QR_H

#include "base/base.h"

#include <stdio.h>

/* Writes text as a QR code (error correction level M, byte mode where
 * the text is not digits or upper-case alphanumerics) to out: UTF-8 half
 * blocks, two rows of modules per line, inside a quiet zone of 4
 * modules, light modules in the terminal's foreground colour (see qr.c).
 * text is borrowed and must be NUL-terminated. BW_EINVAL for a NULL
 * argument or text libqrencode refuses (an empty one), BW_ETOOLARGE when
 * text does not fit the largest QR code (40-M: 2331 bytes), BW_ENOMEM,
 * BW_EIO when writing to out fails. Any thread; out is the caller's. */
BW_MUST_CHECK int bw_cli_qr_print(FILE *out, const char *text);

#endif
