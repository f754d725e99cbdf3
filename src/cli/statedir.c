/* SPDX-License-Identifier: Apache-2.0
 *
 * The state directory's guard: creates it private (0700) or refuses one
 * that others could tamper with, and owns the exclusive lock file
 * (bulwark.lock, flock) that keeps a second daemon off the same state.
 * The lock file holds the holder's pid so the refusal can name it. Main
 * thread of `bulwark serve` and of the commands that work on the state.
 */
#include "cli/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_NAME "bulwark.lock"

static int why_set(char *why, size_t size, int rc, const char *fmt, ...) BW_PRINTF(4, 5);

static int why_set(char *why, size_t size, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (vsnprintf(why, size, fmt, ap) < 0 && size > 0)
        why[0] = '\0';
    va_end(ap);
    return rc;
}

int bw_cli_state_dir_prepare(const char *dir, char *why, size_t why_size)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return why_set(why, why_size, BW_EIO, "cannot create state directory %s: %s", dir,
                       strerror(errno));
    /* stat, not lstat: under systemd's DynamicUser the state directory
     * is a symlink into /var/lib/private. */
    struct stat st;
    if (stat(dir, &st) != 0)
        return why_set(why, why_size, BW_EIO, "cannot use state directory %s: %s", dir,
                       strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return why_set(why, why_size, BW_EINVAL, "state directory %s is not a directory", dir);
    if (st.st_uid != geteuid())
        return why_set(why, why_size, BW_EDENIED,
                       "state directory %s is owned by uid %u, not by this user (uid %u); "
                       "refusing to use it",
                       dir, (unsigned)st.st_uid, (unsigned)geteuid());
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return why_set(why, why_size, BW_EDENIED,
                       "state directory %s is writable by group or others (mode %04o); "
                       "make it private with: chmod 700 %s",
                       dir, (unsigned)(st.st_mode & 07777), dir);
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        bw_log(BW_LOG_WARN, BW_LOGC_SECURITY,
               "state directory %s is readable by group or others (mode %04o); 0700 is advised",
               dir, (unsigned)(st.st_mode & 07777));
    return BW_OK;
}

static pid_t read_holder(int fd)
{
    char text[32];
    ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
    if (n <= 0)
        return 0;
    size_t len = (size_t)n;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        len--;
    uint64_t pid;
    if (bw_parse_u64(text, len, INT32_MAX, &pid) != BW_OK)
        return 0;
    return (pid_t)pid;
}

int bw_cli_state_lock_probe(const char *dir, pid_t *holder, char *why, size_t why_size)
{
    *holder = 0;
    char path[4096];
    if (bw_snprintf(path, sizeof(path), "%s/%s", dir, LOCK_NAME) != BW_OK)
        return why_set(why, why_size, BW_ETOOLARGE, "state directory path is too long");
    /* Opened, never created: the prober may not own the directory. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
        return BW_OK; /* a running daemon keeps the file */
    if (fd < 0)
        return why_set(why, why_size, BW_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return why_set(why, why_size, BW_EINVAL,
                       "%s is not a regular file; remove it and start again", path);
    }
    int rc = BW_OK;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
        int saved = errno;
        if (saved == EWOULDBLOCK) {
            *holder = read_holder(fd);
            rc = BW_EBUSY;
        } else {
            rc = why_set(why, why_size, BW_EIO, "cannot lock %s: %s", path, strerror(saved));
        }
    }
    close(fd); /* lets go of the shared lock, if taken */
    return rc;
}

/* True when fd is still the file at path: the previous holder unlinks
 * the file on its way out, and a lock on an unlinked file guards
 * nothing. */
static bool still_linked(int fd, const char *path)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

int bw_cli_state_lock_take(const char *dir, struct bw_cli_state_lock *lock, pid_t *holder,
                           char *why, size_t why_size)
{
    *holder = 0;
    lock->fd = -1;
    if (bw_snprintf(lock->path, sizeof(lock->path), "%s/%s", dir, LOCK_NAME) != BW_OK)
        return why_set(why, why_size, BW_ETOOLARGE, "state directory path is too long");
    for (int attempt = 0; attempt < 5; attempt++) {
        /* O_NONBLOCK: a FIFO planted under the name must not hang us in
         * open; it is refused just below. */
        int fd = open(lock->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
        if (fd < 0)
            return why_set(why, why_size, BW_EIO, "cannot open %s: %s", lock->path,
                           strerror(errno));
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            return why_set(why, why_size, BW_EINVAL,
                           "%s is not a regular file; remove it and start again", lock->path);
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int saved = errno;
            if (saved == EWOULDBLOCK)
                *holder = read_holder(fd);
            close(fd);
            if (saved == EWOULDBLOCK)
                return BW_EBUSY;
            return why_set(why, why_size, BW_EIO, "cannot lock %s: %s", lock->path,
                           strerror(saved));
        }
        if (!still_linked(fd, lock->path)) {
            close(fd);
            continue;
        }
        char text[32];
        int len = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
        if (len < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)len, 0) != len) {
            int saved = errno;
            close(fd);
            return why_set(why, why_size, BW_EIO, "cannot write %s: %s", lock->path,
                           strerror(saved));
        }
        lock->fd = fd;
        return BW_OK;
    }
    return why_set(why, why_size, BW_EIO, "could not take %s: it keeps changing", lock->path);
}

void bw_cli_state_lock_release(struct bw_cli_state_lock *lock)
{
    if (lock->fd < 0)
        return;
    /* Unlink while still holding the lock, so that no newcomer locks the
     * old file after we let go (still_linked catches the rest). */
    unlink(lock->path);
    close(lock->fd);
    lock->fd = -1;
}
