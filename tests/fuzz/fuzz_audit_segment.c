/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the segment file reader: writes each input to a
 * temporary file and calls audit_segment_verify(), the entry that
 * `bulwark audit verify` and `audit verify-segment` use, with and
 * without a MAC key. Checks the contract on the way out: a refusal says
 * why, and an accepted file's counts agree with its range. Seeds in
 * tests/fuzz/corpus/audit_segment/ (good-mac-key.seg holds MACs under
 * the key in setup(), so that the keyed check can also pass), dictionary
 * in audit_segment.dict.
 */
#include "audit/internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];
static struct bw_crypto_mac *mac;

static void remove_file(void)
{
    unlink(path);
}

static void setup(void)
{
    static const uint8_t key[BW_AUDIT_MAC_KEY_LEN] = {1, 2, 3};
    if (bw_snprintf(path, sizeof(path), "/tmp/bw-fuzz-segment-%ld", (long)getpid()) != BW_OK ||
        bw_crypto_mac_new(key, sizeof(key), &mac) != BW_OK)
        abort();
    /* The replay test runs in every make check: leave nothing in /tmp. */
    if (atexit(remove_file) != 0)
        abort();
}

static void check(struct bw_crypto_mac *with)
{
    struct audit_segment_info info;
    struct bw_audit_verify_report r = {0};
    int rc = audit_segment_verify(path, NULL, with, NULL, &info, &r);
    if (rc == BW_EMALFORMED && !r.problem[0])
        abort(); /* every refusal says why */
    if (rc == BW_OK && (r.problem[0] || info.records != info.last_seq - info.first_seq + 1 ||
                        r.records != info.records))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!mac)
        setup();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    if (size && write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    check(NULL);
    check(mac);
    return 0;
}
