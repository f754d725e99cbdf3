/* SPDX-License-Identifier: Apache-2.0
 *
 * Reading secrets (passwords, the setup secret, second-factor codes) for
 * `bulwark user`: from the terminal (/dev/tty, without echo for what is
 * secret, the terminal's settings restored even when a signal comes),
 * or as one line of standard input for scripts. Never from the command
 * line, where other users see it. Bytes are read one at a time with
 * read(2), so no stdio buffer keeps a copy; every buffer is wiped.
 * Main thread of the short-lived commands.
 */
#include "cli/internal.h"
#include "crypto/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

void bw_cli_secret_clear(struct bw_cli_secret *s)
{
    bw_crypto_wipe(s->data, sizeof(s->data));
    s->len = 0;
}

/* Reads up to a newline (not kept) or the end of input; an empty line
 * and no line are both BW_OK with len 0. BW_ETOOLARGE for a line longer
 * than the buffer (the rest of it is read and dropped), BW_EIO; EINTR
 * stops it with BW_EIO once *interrupted (may be NULL) is set. */
static int read_line(int fd, struct bw_cli_secret *s, volatile sig_atomic_t *interrupted)
{
    s->len = 0;
    bool too_long = false;
    for (;;) {
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR && !(interrupted && *interrupted))
            continue;
        if (n < 0) {
            bw_cli_secret_clear(s);
            return BW_EIO;
        }
        if (n == 0 || c == '\n')
            break;
        if (s->len < BW_CLI_SECRET_MAX)
            s->data[s->len++] = c;
        else
            too_long = true;
        c = 0;
    }
    s->data[s->len] = '\0';
    if (too_long) {
        bw_cli_secret_clear(s);
        return BW_ETOOLARGE;
    }
    return BW_OK;
}

int bw_cli_secret_read_stdin(struct bw_cli_secret *s)
{
    return read_line(STDIN_FILENO, s, NULL);
}

/* The signal that came while the terminal did not echo, if any. */
static volatile sig_atomic_t caught;

static void catch_signal(int sig)
{
    caught = sig;
}

static const int stop_signals[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGTSTP, SIGTTIN, SIGTTOU};

int bw_cli_secret_read_tty(const char *prompt, bool echo, struct bw_cli_secret *s)
{
    s->len = 0;
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return BW_ENOTFOUND;
    struct termios saved, quiet;
    bool restore = false;
    struct sigaction old[BW_ARRAY_LEN(stop_signals)];
    if (!echo) {
        if (tcgetattr(fd, &saved) != 0) {
            close(fd);
            return BW_ENOTFOUND; /* not a terminal */
        }
        /* Without SA_RESTART, a signal ends the read with EINTR: the
         * terminal is put back before the signal takes its course. */
        struct sigaction sa = {.sa_handler = catch_signal};
        sigemptyset(&sa.sa_mask);
        caught = 0;
        for (size_t i = 0; i < BW_ARRAY_LEN(stop_signals); i++)
            sigaction(stop_signals[i], &sa, &old[i]);
        quiet = saved;
        quiet.c_lflag &= (tcflag_t) ~(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
    }
    ssize_t w = write(fd, prompt, strlen(prompt));
    int rc = w < 0 ? BW_EIO : read_line(fd, s, &caught);
    if (!echo) {
        if (restore)
            (void)tcsetattr(fd, TCSAFLUSH, &saved);
        w = write(fd, "\n", 1); /* the user's Enter was not echoed */
        for (size_t i = 0; i < BW_ARRAY_LEN(stop_signals); i++)
            sigaction(stop_signals[i], &old[i], NULL);
    }
    (void)w;
    close(fd);
    if (!echo && caught) {
        bw_cli_secret_clear(s);
        raise(caught);
        return BW_EIO;
    }
    return rc;
}

static int stdin_password(struct bw_cli_secret *out)
{
    int rc = bw_cli_secret_read_stdin(out);
    if (rc == BW_OK && out->len == 0)
        rc = BW_ENOTFOUND;
    if (rc == BW_ENOTFOUND)
        bw_cli_errorf("no password on standard input (--password-stdin reads its first line)");
    else if (rc == BW_ETOOLARGE)
        bw_cli_errorf("the password on standard input is longer than %u bytes", BW_CLI_SECRET_MAX);
    else if (rc)
        bw_cli_errorf("cannot read standard input");
    return rc;
}

int bw_cli_password_read(bool from_stdin, const char *whose, struct bw_cli_secret *out)
{
    if (from_stdin)
        return stdin_password(out);
    char prompt[160];
    if (bw_snprintf(prompt, sizeof(prompt), "New password for %s: ", whose))
        bw_strlcpy(prompt, "New password: ", sizeof(prompt));
    struct bw_cli_secret again = {.len = 0};
    int rc = bw_cli_secret_read_tty(prompt, false, out);
    if (rc == BW_OK && out->len == 0)
        rc = BW_ESTATE;
    if (rc == BW_OK)
        rc = bw_cli_secret_read_tty("Repeat it: ", false, &again);
    if (rc == BW_OK && (again.len != out->len || !bw_crypto_equal(again.data, out->data, out->len)))
        rc = BW_EINVAL;
    bw_cli_secret_clear(&again);
    switch (rc) {
    case BW_OK:
        return BW_OK;
    case BW_EINVAL:
        bw_cli_errorf("the two passwords differ; nothing was changed");
        break;
    case BW_ESTATE:
        bw_cli_errorf("no password given; nothing was changed");
        break;
    case BW_ENOTFOUND:
        bw_cli_errorf("no terminal to ask for the password on; give it with --password-stdin");
        break;
    case BW_ETOOLARGE:
        bw_cli_errorf("the password is longer than %u bytes", BW_CLI_SECRET_MAX);
        break;
    default:
        bw_cli_errorf("cannot read the password from the terminal");
        break;
    }
    bw_cli_secret_clear(out);
    return rc;
}
