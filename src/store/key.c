/* SPDX-License-Identifier: Apache-2.0
 *
 * The historian's MAC key, STATE/keys/history-mac.key: 256 random bits,
 * mode 0600 in the 0700 keys directory, made on first use. A key that
 * others could read is refused (bw_crypto_secret_file_load). Any thread.
 */
#include "crypto/crypto.h"
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

int bw_store_key_load(const char *state_dir, bool create, uint8_t key[BW_STORE_KEY_LEN])
{
    char dir[4096], path[4200];
    if (bw_snprintf(dir, sizeof(dir), "%s/keys", state_dir) != BW_OK ||
        bw_snprintf(path, sizeof(path), "%s/history-mac.key", dir) != BW_OK)
        return BW_EINVAL;
    if (create && mkdir(dir, 0700) != 0 && errno != EEXIST)
        return BW_EIO;
    struct stat st;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || (st.st_mode & 077))
        return BW_EDENIED;
    int rc = bw_crypto_secret_file_load(path, key, BW_STORE_KEY_LEN);
    if (rc != BW_ENOTFOUND || !create)
        return rc;
    rc = bw_crypto_random(key, BW_STORE_KEY_LEN);
    if (!rc)
        rc = bw_crypto_secret_file_create(path, key, BW_STORE_KEY_LEN);
    if (rc == BW_EEXIST) /* made meanwhile by another process: use it */
        rc = bw_crypto_secret_file_load(path, key, BW_STORE_KEY_LEN);
    return rc;
}
