/* SPDX-License-Identifier: Apache-2.0
 *
 * A consistent online copy of history.db (SQLite's backup API) while the
 * writer goes on: the copy is taken in steps, each under a short read
 * lock, and restarts when the writer changed what was copied, so the
 * result is one committed state. The backup feature calls it. Caller's
 * thread.
 */
#include "store/store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#define PAGES_PER_STEP 256
#define BUSY_PAUSE_MS 5

int bw_store_backup(const char *path, const char *dest)
{
    /* The copy is private: it is made 0600 before SQLite writes into it. */
    int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return BW_EEXIST;
    close(fd);
    sqlite3 *src = NULL, *dst = NULL;
    int rc = BW_EIO;
    if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
        sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
        if (b) {
            int r;
            while ((r = sqlite3_backup_step(b, PAGES_PER_STEP)) == SQLITE_OK || r == SQLITE_BUSY ||
                   r == SQLITE_LOCKED)
                if (r != SQLITE_OK)
                    sqlite3_sleep(BUSY_PAUSE_MS);
            rc = r == SQLITE_DONE ? BW_OK : BW_EIO;
            if (sqlite3_backup_finish(b) != SQLITE_OK)
                rc = BW_EIO;
        }
    }
    sqlite3_close(src);
    sqlite3_close(dst);
    if (rc)
        unlink(dest);
    return rc;
}
