/* SPDX-License-Identifier: Apache-2.0
 *
 * Reading secrets (passwords, the setup secret, second-factor codes) for
 * `bulwark user`: from the terminal (/dev/tty, without echo for what is
 * secret, the terminal's settings restored even when a signal comes),
 * or as one line of standard input for scripts (without echo when that
 * is a terminal too). Never from the command line, where other users see
 * it; never while a terminal would show it: when echo cannot be turned
 * off, nothing is read. A line's one trailing carriage return is not
 * part of it; a new password with control characters is refused. Bytes
 * are read one at a time with read(2), so no stdio buffer keeps a copy;
 * every buffer is wiped. Main thread of the short-lived commands.
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

/* Reads up to a newline (not kept; nor one carriage return before it,
 * as a Windows line end or a terminal in raw mode leaves) or the end of
 * input; an empty line and no line are both BW_OK with len 0.
 * BW_ETOOLARGE for a line longer than the buffer (the rest of it is read
 * and dropped), BW_EIO; EINTR stops it with BW_EIO once *interrupted
 * (may be NULL) is set. */
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
    if (s->len > 0 && s->data[s->len - 1] == '\r')
        s->len--;
    s->data[s->len] = '\0';
    if (too_long) {
        bw_cli_secret_clear(s);
        return BW_ETOOLARGE;
    }
    return BW_OK;
}

/* The signal that came while the terminal did not echo, if any. */
static volatile sig_atomic_t caught;

static void catch_signal(int sig)
{
    caught = sig;
}

static const int stop_signals[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGTSTP, SIGTTIN, SIGTTOU};

/* Writes prompt (may be NULL) to the terminal fd and reads a line from
 * it with echo off. When echo cannot be turned off, nothing is read
 * (BW_EIO, said): a secret is never read while the terminal shows it.
 * BW_ENOTFOUND when fd is not a terminal. A stop signal while echo is
 * off restores the terminal, then takes its course. */
static int read_quiet(int fd, const char *prompt, struct bw_cli_secret *s)
{
    s->len = 0;
    struct termios saved, quiet;
    if (tcgetattr(fd, &saved) != 0)
        return BW_ENOTFOUND; /* not a terminal */
    /* Without SA_RESTART, a signal ends the read with EINTR: the
     * terminal is put back before the signal takes its course. */
    struct sigaction old[BW_ARRAY_LEN(stop_signals)];
    struct sigaction sa = {.sa_handler = catch_signal};
    sigemptyset(&sa.sa_mask);
    caught = 0;
    for (size_t i = 0; i < BW_ARRAY_LEN(stop_signals); i++)
        sigaction(stop_signals[i], &sa, &old[i]);
    quiet = saved;
    quiet.c_lflag &= (tcflag_t) ~(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    int rc = BW_OK;
    bool quiet_on = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
    /* tcsetattr succeeds when any of the changes was made: look. */
    struct termios now;
    if (quiet_on && (tcgetattr(fd, &now) != 0 || (now.c_lflag & ECHO))) {
        rc = BW_EIO;
        errno = ENOTSUP;
    }
    if (!quiet_on || rc) {
        int saved_errno = errno;
        if (!caught)
            bw_cli_errorf("cannot turn off the terminal's echo (%s); nothing was read",
                          strerror(saved_errno));
        rc = BW_EIO;
    }
    ssize_t w = 0;
    if (rc == BW_OK && prompt)
        w = write(fd, prompt, strlen(prompt));
    if (rc == BW_OK)
        rc = w < 0 ? BW_EIO : read_line(fd, s, &caught);
    if (quiet_on) {
        if (tcsetattr(fd, TCSAFLUSH, &saved) != 0) {
            /* Echo may stay off; the shell's `reset` brings it back. */
        }
        if (write(fd, "\n", 1) < 0) { /* the user's Enter was not echoed */
        }
    }
    for (size_t i = 0; i < BW_ARRAY_LEN(stop_signals); i++)
        sigaction(stop_signals[i], &old[i], NULL);
    if (caught) {
        bw_cli_secret_clear(s);
        raise(caught);
        return BW_EIO;
    }
    return rc;
}

int bw_cli_secret_read_stdin(struct bw_cli_secret *s)
{
    /* Standard input that is a terminal gets the terminal's treatment:
     * what is typed is not shown. */
    if (isatty(STDIN_FILENO))
        return read_quiet(STDIN_FILENO, NULL, s);
    return read_line(STDIN_FILENO, s, NULL);
}

int bw_cli_secret_read_tty(const char *prompt, bool echo, struct bw_cli_secret *s)
{
    s->len = 0;
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return BW_ENOTFOUND;
    int rc;
    if (echo) {
        ssize_t w = write(fd, prompt, strlen(prompt));
        rc = w < 0 ? BW_EIO : read_line(fd, s, NULL);
    } else {
        rc = read_quiet(fd, prompt, s);
    }
    close(fd);
    return rc;
}

/* A password is text a person can type again: no control characters
 * (C0, DEL, or C1 as UTF-8), which no keyboard enters on purpose and
 * some terminals and login forms would not pass on. */
static bool password_text_ok(const struct bw_cli_secret *s)
{
    for (size_t i = 0; i < s->len; i++) {
        unsigned char c = (unsigned char)s->data[i];
        if (c < 0x20 || c == 0x7f ||
            (c == 0xc2 && i + 1 < s->len && (unsigned char)s->data[i + 1] >= 0x80 &&
             (unsigned char)s->data[i + 1] <= 0x9f))
            return false;
    }
    return true;
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

static int password_read(bool from_stdin, const char *whose, struct bw_cli_secret *out);

int bw_cli_password_read(bool from_stdin, const char *whose, struct bw_cli_secret *out)
{
    int rc = password_read(from_stdin, whose, out);
    if (rc == BW_OK && !password_text_ok(out)) {
        bw_cli_errorf("the password contains a control character (a tab, an escape, ...); "
                      "nothing was changed");
        bw_cli_secret_clear(out);
        rc = BW_EINVAL;
    }
    return rc;
}

static int password_read(bool from_stdin, const char *whose, struct bw_cli_secret *out)
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
