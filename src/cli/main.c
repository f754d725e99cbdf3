/* SPDX-License-Identifier: Apache-2.0
 *
 * The bulwark binary: dispatches to subcommands.
 */
#include "base/base.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    puts("bulwark " BW_VERSION);
    return 0;
}
