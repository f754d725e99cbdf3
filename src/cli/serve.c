/* SPDX-License-Identifier: Apache-2.0
 *
 * `bulwark serve`: the daemon's life cycle. In order: load the project,
 * make the state directory private and lock it, open the audit trail and
 * the accounts (security context, with the project's policy), build and
 * start the plant (engine and drivers), open the control socket, report
 * readiness (log and sd_notify; with no administrator yet, a one-time
 * setup secret on standard output, or in STATE/setup-secret when that
 * is not a terminal); then wait for SIGTERM or SIGINT
 * (signalfd) while logging a status line every --status-interval seconds
 * and ticking the security context every second; then undo it all in
 * reverse. The main thread runs this; the engine, the drivers and
 * the control socket each have their own thread, none of which takes a
 * signal (they are blocked before any thread starts).
 */
#include "audit/audit.h"
#include "cli/internal.h"
#include "crypto/crypto.h"
#include "project/project.h"
#include "security/security.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OPT_PROJECT, OPT_STATE, OPT_LOG_LEVEL, OPT_STATUS_INTERVAL };

static const struct bw_cli_option serve_options[] = {
    [OPT_PROJECT] = {"project", "DIR", "the project directory (holds project.json)"},
    [OPT_STATE] = {"state", "DIR", "the state directory (created 0700 when missing)"},
    [OPT_LOG_LEVEL] = {"log-level", "LEVEL", "error, warn, info (default) or debug"},
    [OPT_STATUS_INTERVAL] = {"status-interval", "SECONDS",
                             "log a status line this often (default 10; 0: never)"},
};

struct serve_config {
    const char *project_dir;
    const char *state_dir;
    uint64_t status_interval_s;
};

/* Prints every project error as `project.json: <path>: <reason>`. */
static void print_project_errors(const struct bw_project_errors *errors)
{
    for (size_t i = 0; i < errors->count; i++) {
        const struct bw_project_error *e = &errors->items[i];
        if (e->path[0])
            fprintf(stderr, "project.json: %s: %s\n", e->path, e->reason);
        else
            fprintf(stderr, "project.json: %s\n", e->reason);
    }
    if (errors->omitted)
        fprintf(stderr, "project.json: ... and %zu more errors\n", errors->omitted);
}

/* Loads the project; a refused one is recorded in the trail of
 * state_dir (whose lock the caller holds). */
static int load_project(const char *dir, const char *state_dir, struct bw_project **out)
{
    struct bw_project_errors errors = {0};
    int rc = bw_project_load(dir, out, &errors);
    if (rc) {
        print_project_errors(&errors);
        bw_log(BW_LOG_ERROR, BW_LOGC_PROJECT, "project %s refused: %s", dir, bw_strerror(rc));
        char first[320] = "";
        if (errors.count > 0) {
            int fits = bw_snprintf(first, sizeof(first), "%s%s%s", errors.items[0].path,
                                   errors.items[0].path[0] ? ": " : "", errors.items[0].reason);
            (void)fits; /* a shortened first error is still the first error */
        }
        bw_cli_audit_project_refused(state_dir, dir, errors.count + errors.omitted, first);
    }
    bw_project_errors_clear(&errors);
    return rc;
}

static int open_audit(const struct serve_config *cfg, const struct bw_project *project,
                      struct bw_audit **out)
{
    int rc = bw_cli_audit_open(project, cfg->project_dir, cfg->state_dir, out);
    if (rc)
        bw_log(BW_LOG_ERROR, BW_LOGC_AUDIT, "cannot open the audit trail in %s: %s%s",
               cfg->state_dir, bw_strerror(rc),
               rc == BW_EDENIED ? " (a key in keys/ is readable by others or is a link)" : "");
    return rc;
}

static int open_security(const struct serve_config *cfg, const struct bw_project *project,
                         struct bw_audit *audit, struct bw_security **out)
{
    struct bw_security_config scfg = {
        .state_dir = cfg->state_dir,
        .policy = &project->security,
        .project_dir = cfg->project_dir,
        .audit = audit,
    };
    int rc = bw_security_open(&scfg, out);
    if (rc)
        bw_log(BW_LOG_ERROR, BW_LOGC_SECURITY, "cannot open the accounts in %s: %s%s",
               cfg->state_dir, bw_strerror(rc),
               rc == BW_EDENIED ? " (users.db or keys/users.key is readable by others or is a "
                                  "link)"
                                : "");
    return rc;
}

/* Where the setup secret goes when standard output is not a terminal. */
#define SETUP_SECRET_FILE "setup-secret"

/* Writes secret and a newline into a new file at path, mode 0600, never
 * through a link or into an existing file; a stale one (left by a daemon
 * that did not stop cleanly: we hold the lock) is replaced. BW_EIO. */
static int secret_file_write(const char *path, const char *secret)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST && attempt == 0 && unlink(path) == 0)
            continue;
        if (fd < 0)
            return BW_EIO;
        size_t len = strlen(secret);
        bool ok =
            write(fd, secret, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
        if (close(fd) != 0)
            ok = false;
        if (ok)
            return BW_OK;
        if (unlink(path) != 0) {
            /* Nothing more to do: the daemon's stop removes it too. */
        }
        return BW_EIO;
    }
    return BW_EIO;
}

/* With no account able to manage accounts, the first administrator is
 * made with a one-time secret, shown once to whoever started the daemon
 * and never in the log. On a terminal it is printed on standard output.
 * Otherwise standard output is a log too (under systemd, the journal),
 * so the secret goes into STATE/setup-secret (0600, the daemon's user
 * and root only) and standard output gets only the file's name; the
 * security module removes the file once the secret is used, void or
 * expired, and when the daemon stops. */
static void offer_setup_secret(struct bw_security *sec, const char *state_dir)
{
    char path[4096];
    if (bw_snprintf(path, sizeof(path), "%s/%s", state_dir, SETUP_SECRET_FILE)) {
        bw_log(BW_LOG_WARN, BW_LOGC_SECURITY, "state directory path too long for %s",
               SETUP_SECRET_FILE);
        return;
    }
    /* A file left by an earlier run holds a secret that is void. */
    if (unlink(path) != 0 && errno != ENOENT)
        bw_log(BW_LOG_WARN, BW_LOGC_SECURITY, "cannot remove the stale %s: %s", path,
               strerror(errno));
    char secret[BW_SECURITY_SETUP_SECRET_LEN + 1];
    int rc = bw_security_setup_secret_issue(sec, secret, sizeof(secret));
    if (rc == BW_EEXIST)
        return;
    if (rc) {
        bw_log(BW_LOG_WARN, BW_LOGC_SECURITY,
               "no administrator exists and no setup secret could be made: %s; add one with "
               "`bulwark user add` while the daemon is stopped",
               bw_strerror(rc));
        return;
    }
    bool terminal = isatty(STDOUT_FILENO);
    if (terminal) {
        printf("\nNo administrator exists. One-time setup secret (valid for one hour): %s\n",
               secret);
    } else {
        rc = secret_file_write(path, secret);
        if (rc == BW_OK)
            rc = bw_security_setup_secret_file(sec, path);
    }
    bw_crypto_wipe(secret, sizeof(secret));
    if (rc) {
        bw_log(BW_LOG_WARN, BW_LOGC_SECURITY,
               "no administrator exists, and the setup secret could not be written to %s: %s; "
               "add one with `bulwark user add` while the daemon is stopped",
               path, bw_strerror(rc));
        return;
    }
    if (!terminal)
        printf("\nNo administrator exists. The one-time setup secret (valid for one hour) is in "
               "the file %s, readable only by the daemon's user and root; it is removed once "
               "used or void, and when the daemon stops.\n",
               path);
    printf("Create the first security administrator with: bulwark user setup --state %s NAME\n\n",
           state_dir);
    fflush(stdout);
    bw_log(BW_LOG_INFO, BW_LOGC_SECURITY, "no administrator exists: a one-time setup secret was %s",
           terminal ? "printed on standard output"
                    : "written to " SETUP_SECRET_FILE " in the state directory");
}

static int take_state(const char *dir, struct bw_cli_state_lock *lock)
{
    char why[512];
    pid_t holder;
    int rc = bw_cli_state_dir_prepare(dir, why, sizeof(why));
    if (!rc)
        rc = bw_cli_state_lock_take(dir, lock, &holder, why, sizeof(why));
    if (rc == BW_EBUSY) {
        if (holder > 0)
            bw_cli_errorf("state directory %s is in use by another bulwark (pid %ld)", dir,
                          (long)holder);
        else
            bw_cli_errorf("state directory %s is in use by another bulwark", dir);
    } else if (rc) {
        bw_cli_errorf("%s", why);
    }
    return rc;
}

/* Blocks the stop signals in every thread to come; returns a signalfd
 * that reports them, or -1. */
static int signals_take(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    /* A client that goes away must not kill the daemon: writes report
     * EPIPE instead. */
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void notify(const char *state)
{
    int rc = bw_cli_notify_send(state);
    if (rc)
        bw_log(BW_LOG_WARN, BW_LOGC_MAIN, "cannot tell the service manager %s: %s", state,
               bw_strerror(rc));
}

/* How often the clock's synchronisation is checked (SR 2.11). */
#define CLOCK_CHECK_US (10 * 1000000LL)
/* How often the security context does its housekeeping (idle sessions
 * locked, expired ones ended). */
#define SECURITY_TICK_US 1000000LL

/* Waits for a stop signal, logging status and ticking on the way. */
static void run_until_signal(int sfd, const struct bw_cli_plant *plant, uint64_t interval_s)
{
    int64_t next = bw_clock_monotonic_us() + (int64_t)interval_s * 1000000;
    int64_t next_clock = bw_clock_monotonic_us() + CLOCK_CHECK_US;
    int64_t next_tick = bw_clock_monotonic_us() + SECURITY_TICK_US;
    for (;;) {
        int64_t wake = next_clock;
        if (interval_s > 0 && next < wake)
            wake = next;
        if (plant->security && next_tick < wake)
            wake = next_tick;
        int64_t left = (wake - bw_clock_monotonic_us()) / 1000;
        int timeout = left < 0 ? 0 : (int)(left > 60000 ? 60000 : left);
        struct pollfd p = {.fd = sfd, .events = POLLIN};
        int rc = poll(&p, 1, timeout);
        if (rc < 0 && errno != EINTR) {
            bw_log(BW_LOG_ERROR, BW_LOGC_MAIN, "poll failed: %s; stopping", strerror(errno));
            return;
        }
        struct signalfd_siginfo si;
        if (rc > 0 && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
            if (si.ssi_signo != SIGHUP) {
                bw_log(BW_LOG_INFO, BW_LOGC_MAIN, "%s received from pid %u; stopping",
                       si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT", si.ssi_pid);
                return;
            }
            bw_log(BW_LOG_INFO, BW_LOGC_MAIN, "SIGHUP ignored: reloading is not supported");
        }
        if (interval_s > 0 && bw_clock_monotonic_us() >= next) {
            bw_cli_plant_log_status(plant);
            next += (int64_t)interval_s * 1000000;
        }
        if (bw_clock_monotonic_us() >= next_clock) {
            if (plant->audit)
                bw_audit_clock_check(plant->audit);
            next_clock += CLOCK_CHECK_US;
        }
        if (plant->security && bw_clock_monotonic_us() >= next_tick) {
            bw_security_tick(plant->security);
            /* After a stall, one tick catches up; no burst of them. */
            next_tick = bw_clock_monotonic_us() + SECURITY_TICK_US;
        }
    }
}

static int serve(const struct serve_config *cfg)
{
    struct bw_project *project = NULL;
    struct bw_cli_state_lock lock = {.fd = -1};
    struct bw_cli_plant *plant = NULL;
    struct bw_cli_history *history = NULL;
    struct bw_cli_control_server *control = NULL;
    struct bw_audit *audit = NULL;
    struct bw_security *security = NULL;
    int sfd = -1;
    umask(077); /* everything the daemon creates is private */
    bw_log(BW_LOG_INFO, BW_LOGC_MAIN, "bulwark %s starting (pid %ld)", BW_VERSION, (long)getpid());
    /* Signals are blocked before any thread starts (the audit writer is
     * the first), so that only the signalfd sees them; then the state,
     * so that a refused project is recorded in its trail. */
    int rc = BW_OK;
    if ((sfd = signals_take()) < 0) {
        bw_log(BW_LOG_ERROR, BW_LOGC_MAIN, "cannot take signals: %s", strerror(errno));
        rc = BW_EIO;
    }
    if (!rc)
        rc = take_state(cfg->state_dir, &lock);
    if (!rc)
        rc = load_project(cfg->project_dir, cfg->state_dir, &project);
    if (!rc)
        rc = open_audit(cfg, project, &audit);
    if (!rc) {
        bw_cli_audit_daemon_start(audit, project);
        bw_audit_clock_check(audit);
    }
    if (!rc)
        rc = open_security(cfg, project, audit, &security);
    if (!rc)
        rc = bw_cli_plant_new(project, &plant);
    if (!rc) {
        plant->audit = audit;
        plant->security = security;
        rc = bw_cli_plant_start(plant);
        if (!rc && audit)
            bw_audit_set_integrity_hook(audit, bw_cli_plant_integrity_violated, plant);
        if (!rc)
            rc = bw_cli_history_start(plant->core, project, cfg->state_dir, audit, &history);
    }
    if (!rc) {
        struct bw_cli_control_config ccfg = {.audit = audit};
        rc = bw_cli_control_server_new(cfg->state_dir, &ccfg, bw_cli_ops_handle, plant, &control);
        if (!rc)
            rc = bw_cli_control_server_start(control);
        if (rc)
            bw_log(BW_LOG_ERROR, BW_LOGC_CONTROL, "cannot open the control socket in %s: %s",
                   cfg->state_dir, rc == BW_EIO ? strerror(errno) : bw_strerror(rc));
    }
    if (!rc) {
        /* Parsing a large project.json builds a JSON tree many times the
         * size of what is kept; give those pages back to the system so a
         * 24/7 daemon's resident size reflects what it really holds. */
        malloc_trim(0);
        bw_log(BW_LOG_INFO, BW_LOGC_MAIN,
               "ready: project %s, %zu tag%s, %zu device%s; control socket %s/%s", project->name,
               project->tag_count, project->tag_count == 1 ? "" : "s", project->device_count,
               project->device_count == 1 ? "" : "s", cfg->state_dir, BW_CLI_CONTROL_SOCKET);
        offer_setup_secret(security, cfg->state_dir);
        notify("READY=1\nSTATUS=serving");
        run_until_signal(sfd, plant, cfg->status_interval_s);
        notify("STOPPING=1");
    }
    bw_cli_control_server_free(control);
    if (audit)
        bw_audit_set_integrity_hook(audit, NULL, NULL);
    /* The drivers stop first (their shutdown values are the last changes
     * the historian records), then the historian, then the engine. */
    if (plant)
        bw_cli_plant_stop_drivers(plant);
    bw_cli_history_stop(history);
    bw_cli_plant_free(plant);
    /* Its sessions end on record, before the trail closes. */
    bw_security_close(security);
    if (audit) {
        bw_cli_audit_daemon_stop(audit, rc ? "failure to start" : "signal");
        bw_audit_close(audit);
    }
    if (sfd >= 0)
        close(sfd);
    bw_cli_state_lock_release(&lock);
    bw_project_free(project);
    bw_log(rc ? BW_LOG_ERROR : BW_LOG_INFO, BW_LOGC_MAIN, "%s",
           rc ? "stopped after a failure to start" : "stopped");
    return rc ? BW_CLI_EXIT_FAIL : BW_CLI_EXIT_OK;
}

static int parse_level(const char *text, enum bw_log_level *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (size_t i = 0; i < BW_ARRAY_LEN(names); i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = (enum bw_log_level)i;
            return BW_OK;
        }
    }
    return BW_EINVAL;
}

static int serve_run(const struct bw_cli_args *args)
{
    const struct bw_cli_command *cmd = &bw_cli_serve_command;
    struct serve_config cfg = {.project_dir = args->values[OPT_PROJECT],
                               .state_dir = args->values[OPT_STATE],
                               .status_interval_s = 10};
    if (!cfg.project_dir)
        return bw_cli_usage_error(cmd, "--project DIR is required");
    if (!cfg.state_dir)
        return bw_cli_usage_error(cmd, "--state DIR is required");
    const char *level = args->values[OPT_LOG_LEVEL];
    enum bw_log_level lvl = BW_LOG_INFO;
    if (level && parse_level(level, &lvl) != BW_OK)
        return bw_cli_usage_error(cmd, "--log-level must be error, warn, info or debug");
    const char *every = args->values[OPT_STATUS_INTERVAL];
    if (every && bw_parse_u64(every, strlen(every), 86400, &cfg.status_interval_s) != BW_OK)
        return bw_cli_usage_error(cmd, "--status-interval must be a whole number of seconds "
                                       "from 0 to 86400");
    bw_log_set_level(lvl);
    return serve(&cfg);
}

const struct bw_cli_command bw_cli_serve_command = {
    .name = "serve",
    .synopsis = "--project DIR --state DIR [--log-level LEVEL] [--status-interval SECONDS]",
    .summary = "run the server (the daemon) in the foreground",
    .details = "Loads the project, takes the state directory (one daemon per state directory),\n"
               "opens the audit trail and the accounts, starts the tag engine and one driver\n"
               "per device, and listens on the control socket STATE/control.sock. When no\n"
               "account may manage accounts yet, it prints a one-time setup secret on\n"
               "standard output, or, when that is not a terminal, writes it to\n"
               "STATE/setup-secret (mode 0600) and prints the file's name (see `bulwark user\n"
               "setup`). Logs go to standard error. Under systemd\n"
               "(Type=notify) it reports READY=1 once serving. SIGTERM or SIGINT stop it\n"
               "cleanly with exit status 0.",
    .options = serve_options,
    .option_count = BW_ARRAY_LEN(serve_options),
    .min_args = 0,
    .max_args = 0,
    .run = serve_run,
};
