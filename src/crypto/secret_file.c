/* SPDX-License-Identifier: Apache-2.0
 *
 * Secret files: created exclusively with mode 0600 and synced with their
 * directory; read only when nobody but the owner can read or change them
 * and when they are not symbolic links. Any thread.
 */
#include "crypto/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int sync_parent_dir(const char *path)
{
    char copy[4096];
    if (bw_strlcpy(copy, path, sizeof(copy)) >= sizeof(copy))
        return BW_EIO;
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return BW_EIO;
    int rc = fsync(dfd) == 0 ? BW_OK : BW_EIO;
    close(dfd);
    return rc;
}

int bw_crypto_secret_file_create(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? BW_EEXIST : BW_EIO;
    const char *p = data;
    size_t left = len;
    int rc = BW_OK;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = BW_EIO;
            break;
        }
        p += n;
        left -= (size_t)n;
    }
    if (rc == BW_OK && fsync(fd) != 0)
        rc = BW_EIO;
    close(fd);
    if (rc == BW_OK)
        rc = sync_parent_dir(path);
    if (rc != BW_OK)
        unlink(path); /* never leave a half-written key behind */
    return rc;
}

int bw_crypto_secret_file_load(const char *path, void *out, size_t len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return BW_ENOTFOUND;
        return errno == ELOOP ? BW_EDENIED : BW_EIO;
    }
    struct stat st;
    int rc = BW_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        rc = BW_EIO;
    else if (st.st_mode & 077 || st.st_uid != geteuid())
        rc = BW_EDENIED;
    else if ((size_t)st.st_size != len)
        rc = BW_EMALFORMED;
    size_t got = 0;
    while (rc == BW_OK && got < len) {
        ssize_t n = read(fd, (char *)out + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = BW_EIO;
        else
            got += (size_t)n;
    }
    close(fd);
    if (rc != BW_OK)
        bw_crypto_wipe(out, len);
    return rc;
}
