/* SPDX-License-Identifier: Apache-2.0
 *
 * The two ways `bulwark user` reaches the accounts of a state directory,
 * as `bulwark audit export` records its note (export_note.c). First the
 * lock is probed, creating nothing: when a daemon holds it, the action
 * goes over the control socket and the daemon does it with its own
 * project's policy, ends the sessions it must at once, and stays the
 * trail's one writer; the daemon's peer check (its own uid or root) is
 * the gate, so root may manage the accounts of a daemon that runs as
 * another user (systemd DynamicUser). When the lock is free no daemon
 * runs: the state directory must be ours (so root never leaves files of
 * its own in another user's state), the command takes the lock and works
 * itself, with the trail of the state directory and the policy of
 * --project or the defaults; an action the project's policy must judge
 * is refused under the defaults once users.db records that a project's
 * policy was applied to it. Either way bw_cli_user_apply does the
 * action; the actor is the operating-system user running the command,
 * with its audit login uid. Main thread.
 */
#include "audit/audit.h"
#include "cli/internal.h"
#include "project/project.h"
#include "security/security.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct bw_cli_user_session {
    const char *state_dir;
    bool online;
    pid_t holder; /* the daemon's pid, when online and known */
    struct bw_cli_state_lock lock;
    bool locked;
    struct bw_project *project;
    struct bw_project_security defaults;
    bool have_defaults;
    struct bw_audit *audit;
    struct bw_security *sec;
    /* Offline: the project whose policy users.db says was applied last;
     * "" when none was, or when --project was given. */
    char recorded_project[1024];
    bool noted; /* the note on the defaults was printed */
    char os_user[BW_CLI_OS_USER_MAX];
    char address[64];
};

bool bw_cli_login_uid(pid_t pid, uint32_t *out)
{
    char path[64], text[16];
    if (pid > 0 ? bw_snprintf(path, sizeof(path), "/proc/%ld/loginuid", (long)pid) != BW_OK
                : bw_strlcpy(path, "/proc/self/loginuid", sizeof(path)) >= sizeof(path))
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, text, sizeof(text) - 1);
    close(fd);
    uint64_t value;
    if (n <= 0 || bw_parse_u64(text, (size_t)n - (text[n - 1] == '\n'), UINT32_MAX, &value) ||
        value == UINT32_MAX) /* (uid_t)-1: no login, e.g. a service */
        return false;
    *out = (uint32_t)value;
    return true;
}

void bw_cli_os_user_describe(uid_t uid, char *out, size_t size)
{
    struct passwd pw, *found = NULL;
    char buf[1024];
    if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found && found->pw_name &&
        bw_snprintf(out, size, "uid %u (%s)", (unsigned)uid, found->pw_name) == BW_OK)
        return;
    if (bw_snprintf(out, size, "uid %u", (unsigned)uid) != BW_OK && size > 0)
        out[0] = '\0';
}

static void print_project_errors(const char *dir, const struct bw_project_errors *errors, int rc)
{
    for (size_t i = 0; i < errors->count; i++) {
        const struct bw_project_error *e = &errors->items[i];
        fprintf(stderr, "project.json: %s%s%s\n", e->path, e->path[0] ? ": " : "", e->reason);
    }
    if (errors->omitted)
        fprintf(stderr, "project.json: ... and %zu more errors\n", errors->omitted);
    bw_cli_errorf("project %s is not valid (%s); its policy cannot be applied", dir,
                  bw_strerror(rc));
}

/* The policy: the project's security section, or the defaults. */
static int policy_load(struct bw_cli_user_session *s, const char *project_dir)
{
    if (!project_dir) {
        int rc = bw_project_security_defaults(&s->defaults);
        s->have_defaults = rc == BW_OK;
        if (rc)
            bw_cli_errorf("out of memory");
        return rc;
    }
    struct bw_project_errors errors = {0};
    int rc = bw_project_load(project_dir, &s->project, &errors);
    if (rc)
        print_project_errors(project_dir, &errors, rc);
    bw_project_errors_clear(&errors);
    return rc;
}

static const struct bw_project_security *policy_of(const struct bw_cli_user_session *s)
{
    return s->project ? &s->project->security : &s->defaults;
}

static int open_offline(struct bw_cli_user_session *s, const char *project_dir)
{
    int rc = policy_load(s, project_dir);
    if (rc)
        return rc;
    rc = bw_cli_audit_open_offline(s->state_dir, &s->audit);
    if (rc) {
        bw_cli_errorf("cannot open the audit trail in %s: %s", s->state_dir, bw_strerror(rc));
        return rc;
    }
    struct bw_security_config cfg = {
        .state_dir = s->state_dir,
        .policy = policy_of(s),
        .project_dir = project_dir,
        .audit = s->audit,
    };
    rc = bw_security_open(&cfg, &s->sec);
    if (rc)
        bw_cli_errorf("cannot open the accounts in %s: %s%s", s->state_dir, bw_strerror(rc),
                      rc == BW_EDENIED ? " (users.db or keys/users.key is readable by others or "
                                         "is a link)"
                                       : "");
    if (rc == BW_OK &&
        bw_snprintf(s->address, sizeof(s->address), "command line, pid %d", (int)getpid()))
        bw_strlcpy(s->address, "command line", sizeof(s->address));
    if (rc == BW_OK && !project_dir) {
        int found =
            bw_security_policy_project(s->sec, s->recorded_project, sizeof(s->recorded_project));
        if (found == BW_ENOTFOUND)
            s->recorded_project[0] = '\0';
        else if (found)
            bw_strlcpy(s->recorded_project, "(a project)", sizeof(s->recorded_project));
    }
    return rc;
}

/* Online, the request may carry a password or the setup secret to
 * whoever serves control.sock: not when others could have put it there
 * (the client's peer check then asks the server's uid). */
static int online_dir_check(const char *state_dir)
{
    struct stat st;
    if (stat(state_dir, &st) != 0) {
        bw_cli_errorf("cannot use state directory %s: %s", state_dir, strerror(errno));
        return BW_EIO;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        bw_cli_errorf("state directory %s is writable by group or others (mode %04o): whoever "
                      "serves its control socket cannot be trusted with a password; make it "
                      "private with: chmod 700 %s",
                      state_dir, (unsigned)(st.st_mode & 07777), state_dir);
        return BW_EDENIED;
    }
    return BW_OK;
}

/* No daemon: the command works on the state itself, which must be ours.
 * The ownership check comes before the lock file is made. */
static int take_offline(struct bw_cli_user_session *s, char *why, size_t why_size)
{
    int rc = bw_cli_state_dir_prepare(s->state_dir, why, why_size);
    if (rc == BW_OK)
        rc = bw_cli_state_lock_take(s->state_dir, &s->lock, &s->holder, why, why_size);
    s->locked = rc == BW_OK;
    return rc;
}

int bw_cli_user_session_open(const char *state_dir, const char *project_dir, bool need_daemon,
                             struct bw_cli_user_session **out)
{
    *out = NULL;
    struct bw_cli_user_session *s = bw_calloc(1, sizeof(*s));
    if (!s) {
        bw_cli_errorf("out of memory");
        return BW_ENOMEM;
    }
    s->state_dir = state_dir;
    s->lock.fd = -1;
    bw_cli_os_user_describe(getuid(), s->os_user, sizeof(s->os_user));
    /* Whatever the command creates (users.db, keys/, the trail) is private. */
    umask(077);
    char why[512];
    int rc = bw_cli_state_lock_probe(state_dir, &s->holder, why, sizeof(why));
    if (rc == BW_OK && need_daemon) {
        bw_cli_errorf("no daemon runs on state directory %s: the setup secret comes from "
                      "`bulwark serve` when it starts without an administrator; without a "
                      "daemon, add one with `bulwark user add --state %s NAME --roles "
                      "security-admin`",
                      state_dir, state_dir);
        rc = BW_ENOTFOUND;
    } else if (rc != BW_EBUSY && need_daemon) {
        bw_cli_errorf("%s", why);
    } else if (rc != BW_EBUSY) {
        /* No daemon seen, or the probe could not look (e.g. another
         * user's directory): the offline checks say what is wrong. */
        rc = take_offline(s, why, sizeof(why));
        if (rc == BW_OK)
            rc = open_offline(s, project_dir);
        else if (rc != BW_EBUSY) /* EBUSY: a daemon started meanwhile */
            bw_cli_errorf("%s", why);
    }
    if (rc == BW_EBUSY) {
        s->online = true;
        rc = online_dir_check(state_dir);
        if (rc == BW_OK && project_dir)
            fprintf(stderr,
                    "bulwark: note: a daemon (pid %ld) runs on %s and applies its own "
                    "project's policy; --project is not used\n",
                    (long)s->holder, state_dir);
    }
    if (rc) {
        bw_cli_user_session_close(s);
        return rc;
    }
    *out = s;
    return BW_OK;
}

bool bw_cli_user_session_online(const struct bw_cli_user_session *s)
{
    return s->online;
}

static json_t *call_daemon(struct bw_cli_user_session *s, enum bw_cli_user_action action,
                           const json_t *args)
{
    json_t *request = json_pack("{s:s, s:s, s:O}", "op", "user", "action",
                                bw_cli_user_action_name(action), "args", (json_t *)args);
    if (!request) {
        bw_cli_errorf("out of memory");
        return NULL;
    }
    json_t *reply = NULL;
    int rc = bw_cli_control_call(s->state_dir, request, &reply);
    json_decref(request);
    if (rc == BW_ENOTFOUND)
        bw_cli_errorf("the state directory %s is locked by pid %ld, which does not answer on "
                      "its control socket (another bulwark command may be using it; try again)",
                      s->state_dir, (long)s->holder);
    return rc ? NULL : reply;
}

/* What the policy must judge: a password (its rules), a role list (the
 * roles and the separation of duties). */
static bool needs_policy(enum bw_cli_user_action action, const json_t *args)
{
    switch (action) {
    case BW_CLI_USER_ADD:
        return json_object_get(args, "password") || json_object_get(args, "roles");
    case BW_CLI_USER_MODIFY:
        return json_object_get(args, "roles") != NULL;
    case BW_CLI_USER_PASSWD:
    case BW_CLI_USER_SETUP:
        return true;
    default:
        return false;
    }
}

/* Offline without --project on accounts kept under a project's policy:
 * refuses what the defaults must not judge, notes the rest. */
static bool defaults_may(struct bw_cli_user_session *s, enum bw_cli_user_action action,
                         const json_t *args)
{
    if (s->project || !s->recorded_project[0])
        return true;
    if (needs_policy(action, args)) {
        bw_cli_errorf("no daemon runs on %s and no --project was given, but its accounts are "
                      "kept under the policy of the project %s: give --project with that "
                      "project's directory, so that its password rules and roles apply, not the "
                      "built-in defaults",
                      s->state_dir, s->recorded_project);
        return false;
    }
    if (!s->noted)
        fprintf(stderr,
                "bulwark: note: no --project given: roles are named by the built-in defaults; "
                "roles only the project %s defines are kept but not shown\n",
                s->recorded_project);
    s->noted = true;
    return true;
}

json_t *bw_cli_user_session_call(struct bw_cli_user_session *s, enum bw_cli_user_action action,
                                 const json_t *args)
{
    if (s->online)
        return call_daemon(s, action, args);
    if (!defaults_may(s, action, args))
        return NULL;
    struct bw_cli_user_actor actor = {.os_user = s->os_user, .address = s->address};
    actor.login_uid_known = bw_cli_login_uid(0, &actor.login_uid);
    json_t *reply = bw_cli_user_apply(s->sec, policy_of(s), &actor, action, args);
    if (!reply)
        bw_cli_errorf("out of memory");
    return reply;
}

void bw_cli_user_session_close(struct bw_cli_user_session *s)
{
    if (!s)
        return;
    bw_security_close(s->sec);
    bw_audit_close(s->audit);
    bw_project_free(s->project);
    if (s->have_defaults)
        bw_project_security_clear(&s->defaults);
    if (s->locked)
        bw_cli_state_lock_release(&s->lock);
    bw_free(s);
}
