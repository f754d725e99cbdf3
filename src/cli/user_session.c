/* SPDX-License-Identifier: Apache-2.0
 *
 * The two ways `bulwark user` reaches the accounts of a state directory,
 * as `bulwark audit export` records its note (export_note.c): when the
 * state lock is free no daemon runs, so the command holds the lock and
 * works itself (offline: the trail of the state directory, the policy
 * of --project or the defaults); when a daemon holds it, the action goes
 * over the control socket and the daemon does it with its own project's
 * policy, ends the sessions it must at once, and stays the trail's one
 * writer. Either way bw_cli_user_apply does the action; the actor is the
 * operating-system user running the command. Main thread.
 */
#include "audit/audit.h"
#include "cli/internal.h"
#include "project/project.h"
#include "security/security.h"

#include <pwd.h>
#include <stdio.h>
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
    char os_user[BW_CLI_OS_USER_MAX];
    char address[64];
};

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
    struct stat st;
    int rc = need_daemon ? BW_OK : bw_cli_state_dir_prepare(state_dir, why, sizeof(why));
    if (rc == BW_OK && need_daemon && stat(state_dir, &st) != 0)
        rc = BW_ENOTFOUND; /* no state, so no daemon */
    if (rc == BW_OK)
        rc = bw_cli_state_lock_take(state_dir, &s->lock, &s->holder, why, sizeof(why));
    if (rc == BW_EBUSY) {
        s->online = true;
        rc = BW_OK;
        if (project_dir)
            fprintf(stderr,
                    "bulwark: note: a daemon (pid %ld) runs on %s and applies its own "
                    "project's policy; --project is not used\n",
                    (long)s->holder, state_dir);
    } else if (rc == BW_OK || rc == BW_ENOTFOUND) {
        s->locked = rc == BW_OK;
        if (need_daemon) {
            bw_cli_errorf("no daemon runs on state directory %s: the setup secret comes from "
                          "`bulwark serve` when it starts without an administrator; without a "
                          "daemon, add one with `bulwark user add --state %s NAME --roles "
                          "security-admin`",
                          state_dir, state_dir);
            rc = BW_ENOTFOUND;
        } else {
            rc = open_offline(s, project_dir);
        }
    } else {
        bw_cli_errorf("%s", why);
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

json_t *bw_cli_user_session_call(struct bw_cli_user_session *s, enum bw_cli_user_action action,
                                 const json_t *args)
{
    if (s->online)
        return call_daemon(s, action, args);
    const struct bw_cli_user_actor actor = {.os_user = s->os_user, .address = s->address};
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
