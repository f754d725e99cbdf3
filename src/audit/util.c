/* SPDX-License-Identifier: Apache-2.0
 *
 * Small helpers the audit module's files share: paths inside the state
 * directory, writing a whole buffer, syncing a directory after a rename
 * or create, and the verifier's problem report. Any thread.
 */
#include "audit/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

int audit_path(char *out, const char *state_dir, const char *name)
{
    int n = snprintf(out, BW_AUDIT_PATH_MAX, "%s/%s", state_dir, name);
    return n > 0 && n < BW_AUDIT_PATH_MAX ? BW_OK : BW_ETOOLARGE;
}

int audit_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return BW_EIO;
    int rc = fsync(fd) == 0 ? BW_OK : BW_EIO;
    close(fd);
    return rc;
}

int audit_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return errno == ENOSPC ? BW_EFULL : BW_EIO;
        p += n;
        len -= (size_t)n;
    }
    return BW_OK;
}

void audit_report_problem(struct bw_audit_verify_report *report, uint64_t seq, const char *fmt, ...)
{
    if (report->problem[0])
        return; /* the first problem is the one that matters */
    report->bad_seq = seq;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(report->problem, sizeof(report->problem), fmt, ap);
    va_end(ap);
}
