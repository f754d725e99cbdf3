/* SPDX-License-Identifier: Apache-2.0
 *
 * The systemd readiness protocol (sd_notify), spoken directly so that
 * Bulwark needs no libsystemd: one datagram such as "READY=1" to the
 * AF_UNIX socket named by $NOTIFY_SOCKET, a path or, when it starts with
 * '@', an abstract address. Without $NOTIFY_SOCKET (not under systemd)
 * it does nothing. Main thread.
 */
#include "cli/internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int bw_cli_notify_send(const char *state)
{
    const char *where = getenv("NOTIFY_SOCKET");
    if (!where || !where[0])
        return BW_OK;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(where);
    if (where[0] != '/' && where[0] != '@')
        return BW_EINVAL; /* e.g. vsock: not a transport we speak */
    if (len > sizeof(addr.sun_path) || (where[0] == '/' && len == sizeof(addr.sun_path)))
        return BW_ETOOLARGE;
    memcpy(addr.sun_path, where, len);
    if (where[0] == '@')
        addr.sun_path[0] = '\0'; /* abstract: the name is the bytes after NUL */
    socklen_t addr_len =
        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (where[0] == '/' ? 1 : 0));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return BW_EIO;
    ssize_t n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, addr_len);
    int saved = errno;
    close(fd);
    errno = saved;
    return n == (ssize_t)strlen(state) ? BW_OK : BW_EIO;
}
