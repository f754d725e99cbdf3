/* SPDX-License-Identifier: Apache-2.0
 *
 * What the daemon records about itself and its control socket in the
 * audit trail: opening the trail with the project's settings, start
 * (version, project hash, settings digest) and stop, the project loaded
 * or refused, refused control peers and requests, and tag writes with
 * who asked, the old and the new value. A record that cannot be made
 * durable is logged, never fatal: control keeps running (SR 2.10).
 * Main thread, except the control-socket events (control thread).
 */
#include "audit/audit.h"
#include "cli/internal.h"
#include "crypto/crypto.h"
#include "project/project.h"

#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void record(struct bw_audit *audit, const struct bw_audit_event *ev)
{
    if (!audit)
        return;
    int rc = bw_audit_record(audit, ev, NULL);
    if (rc)
        bw_log(BW_LOG_WARN, BW_LOGC_AUDIT, "audit record %u not durable yet: %s", (unsigned)ev->id,
               bw_strerror(rc));
}

static const struct bw_audit_source daemon_source = {
    .kind = BW_AUDIT_SOURCE_PROCESS,
    .name = "bulwark",
    .address = "local",
};

/* Resolves a path of the project (relative to its directory). */
static char *project_path(const char *project_dir, const char *path)
{
    char *out = malloc(PATH_MAX);
    if (!out)
        return NULL;
    int n = path[0] == '/' ? snprintf(out, PATH_MAX, "%s", path)
                           : snprintf(out, PATH_MAX, "%s/%s", project_dir, path);
    if (n <= 0 || n >= PATH_MAX) {
        free(out);
        return NULL;
    }
    return out;
}

struct forward_paths {
    char *ca, *cert, *key;
};

static void forward_paths_clear(struct forward_paths *p)
{
    free(p->ca);
    free(p->cert);
    free(p->key);
}

int bw_cli_audit_open(const struct bw_project *project, const char *project_dir,
                      const char *state_dir, struct bw_audit **out)
{
    struct bw_audit_config cfg;
    bw_audit_config_defaults(&cfg, state_dir);
    struct bw_audit_forward_config fwd;
    struct forward_paths paths = {0};
    if (project) {
        const struct bw_project_audit *a = &project->audit;
        cfg.max_bytes = (uint64_t)a->max_size_mb * 1024 * 1024;
        cfg.max_age_days = a->max_age_days;
        cfg.threshold_count = a->warn_count;
        memcpy(cfg.thresholds, a->warn_percent, sizeof(cfg.thresholds));
        cfg.when_full = a->when_full == BW_PROJECT_AUDIT_FULL_REFUSE ? BW_AUDIT_FULL_REFUSE
                                                                     : BW_AUDIT_FULL_ARCHIVE;
        cfg.on_failure = a->on_failure == BW_PROJECT_AUDIT_FAIL_REFUSE ? BW_AUDIT_FAIL_REFUSE
                                                                       : BW_AUDIT_FAIL_CONTINUE;
        cfg.checkpoint_records = a->checkpoint_records;
        cfg.checkpoint_seconds = a->checkpoint_seconds;
        if (a->forward) {
            paths.ca = project_path(project_dir, a->forward->ca_file);
            if (a->forward->client_cert)
                paths.cert = project_path(project_dir, a->forward->client_cert);
            if (a->forward->client_key)
                paths.key = project_path(project_dir, a->forward->client_key);
            if (!paths.ca || (a->forward->client_cert && !paths.cert) ||
                (a->forward->client_key && !paths.key)) {
                forward_paths_clear(&paths);
                return BW_ENOMEM;
            }
            fwd = (struct bw_audit_forward_config){
                .host = a->forward->host,
                .port = a->forward->port,
                .ca_file = paths.ca,
                .server_name = a->forward->server_name,
                .client_cert = paths.cert,
                .client_key = paths.key,
                .facility = a->forward->facility,
            };
            cfg.forward = &fwd;
        }
    }
    int rc = bw_audit_open(&cfg, out);
    forward_paths_clear(&paths);
    return rc;
}

/* SHA-256 of DIR/project.json as hex; "" when it cannot be read. For a
 * refused project only: a loaded one carries the hash of what it parsed. */
static void project_hash(const char *project_dir, char out[2 * BW_SHA256_LEN + 1])
{
    out[0] = '\0';
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/project.json", project_dir) >= (int)sizeof(path))
        return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct bw_crypto_sha256_ctx *ctx = NULL;
    uint8_t digest[BW_SHA256_LEN];
    char buf[65536];
    ssize_t n;
    int rc = bw_crypto_sha256_new(&ctx);
    while (rc == BW_OK && (n = read(fd, buf, sizeof(buf))) > 0)
        rc = bw_crypto_sha256_update(ctx, buf, (size_t)n);
    if (rc == BW_OK && n == 0 && bw_crypto_sha256_final(ctx, digest) == BW_OK)
        bw_crypto_hex(digest, sizeof(digest), out);
    bw_crypto_sha256_free(ctx);
    close(fd);
}

/* The settings that decide what the daemon protects and records, as one
 * canonical JSON object; its SHA-256 is the start record's digest, so an
 * auditor sees when any of them changed between two starts. */
static json_t *settings_json(const struct bw_project *p)
{
    const struct bw_project_audit *a = &p->audit;
    json_t *warn = json_array();
    for (size_t i = 0; warn && i < a->warn_count; i++)
        json_array_append_new(warn, json_integer(a->warn_percent[i]));
    json_t *fwd = a->forward
                      ? json_pack("{s:s, s:i, s:s, s:s?, s:b, s:i}", "host", a->forward->host,
                                  "port", (int)a->forward->port, "ca_file", a->forward->ca_file,
                                  "server_name", a->forward->server_name, "client_cert",
                                  a->forward->client_cert != NULL, "facility", a->forward->facility)
                      : json_null();
    return json_pack(
        "{s:{s:I, s:I, s:o, s:s, s:s, s:I, s:I, s:o}, s:I, s:I}", "audit", "max_size_mb",
        (json_int_t)a->max_size_mb, "max_age_days", (json_int_t)a->max_age_days, "warn_percent",
        warn, "when_full", a->when_full == BW_PROJECT_AUDIT_FULL_REFUSE ? "refuse" : "archive",
        "on_failure", a->on_failure == BW_PROJECT_AUDIT_FAIL_REFUSE ? "refuse" : "continue",
        "checkpoint_records", (json_int_t)a->checkpoint_records, "checkpoint_seconds",
        (json_int_t)a->checkpoint_seconds, "forward", fwd, "tags", (json_int_t)p->tag_count,
        "devices", (json_int_t)p->device_count);
}

static void settings_digest(const struct bw_project *p, char out[2 * BW_SHA256_LEN + 1])
{
    out[0] = '\0';
    json_t *s = settings_json(p);
    char *text = s ? json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    uint8_t digest[BW_SHA256_LEN];
    if (text && bw_crypto_sha256(text, strlen(text), digest) == BW_OK)
        bw_crypto_hex(digest, sizeof(digest), out);
    free(text);
    json_decref(s);
}

void bw_cli_audit_daemon_start(struct bw_audit *audit, const struct bw_project *project)
{
    char hash[2 * BW_SHA256_LEN + 1], digest[2 * BW_SHA256_LEN + 1];
    char signer[BW_AUDIT_FINGERPRINT_LEN];
    bw_crypto_hex(project->sha256, sizeof(project->sha256), hash);
    settings_digest(project, digest);
    /* The trail's signing key, so that a key replaced between two starts
     * shows in the trail and at the collector. */
    bw_audit_signer_fingerprint(audit, signer);
    json_t *d = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}", "version", BW_VERSION, "pid",
                          (json_int_t)getpid(), "project", project->name, "project_sha256", hash,
                          "settings_sha256", digest, "audit_sign_fingerprint", signer);
    record(audit,
           &(struct bw_audit_event){BW_AUDIT_EV_DAEMON_START, BW_AUDIT_SUCCESS, daemon_source, d});
    json_decref(d);
    d = json_pack("{s:s, s:s, s:I, s:I}", "project", project->name, "project_sha256", hash, "tags",
                  (json_int_t)project->tag_count, "devices", (json_int_t)project->device_count);
    record(audit, &(struct bw_audit_event){BW_AUDIT_EV_PROJECT_LOADED, BW_AUDIT_SUCCESS,
                                           daemon_source, d});
    json_decref(d);
}

void bw_cli_audit_daemon_stop(struct bw_audit *audit, const char *reason)
{
    json_t *d = json_pack("{s:s}", "reason", reason);
    record(audit,
           &(struct bw_audit_event){BW_AUDIT_EV_DAEMON_STOP, BW_AUDIT_SUCCESS, daemon_source, d});
    json_decref(d);
}

int bw_cli_audit_open_offline(const char *state_dir, struct bw_audit **out)
{
    struct bw_audit_config cfg;
    bw_audit_config_defaults(&cfg, state_dir);
    /* Without the project, its limits are unknown: this short opening
     * must not archive or refuse by the defaults' measure. */
    cfg.max_bytes = 0;
    cfg.max_age_days = 0;
    cfg.threshold_count = 0;
    return bw_audit_open(&cfg, out);
}

void bw_cli_audit_project_refused(const char *state_dir, const char *project_dir,
                                  size_t error_count, const char *first_error)
{
    struct bw_audit *audit = NULL;
    int rc = bw_cli_audit_open_offline(state_dir, &audit);
    if (rc) {
        bw_log(BW_LOG_ERROR, BW_LOGC_AUDIT, "cannot open the audit trail to record the refusal: %s",
               bw_strerror(rc));
        return;
    }
    char hash[2 * BW_SHA256_LEN + 1];
    project_hash(project_dir, hash);
    json_t *d = json_pack("{s:s, s:I, s:s}", "project_sha256", hash, "errors",
                          (json_int_t)error_count, "first_error", first_error);
    record(audit, &(struct bw_audit_event){BW_AUDIT_EV_PROJECT_REFUSED, BW_AUDIT_FAILURE,
                                           daemon_source, d});
    json_decref(d);
    bw_audit_close(audit);
}

/* The operating-system user of a control-socket peer, as the source of
 * its events: the account name when it has one, else "uid N". */
static void peer_source(uid_t uid, pid_t pid, char *name, size_t name_size, char *addr,
                        size_t addr_size, struct bw_audit_source *out)
{
    struct passwd pw, *found = NULL;
    char buf[1024];
    if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found && found->pw_name &&
        strlen(found->pw_name) < name_size)
        snprintf(name, name_size, "%s", found->pw_name);
    else
        snprintf(name, name_size, "uid %u", (unsigned)uid);
    snprintf(addr, addr_size, "control socket, pid %d", (int)pid);
    *out = (struct bw_audit_source){.kind = BW_AUDIT_SOURCE_USER, .name = name, .address = addr};
}

void bw_cli_audit_peer_refused(struct bw_audit *audit, uid_t uid, pid_t pid, const char *why)
{
    char name[64], addr[64];
    struct bw_audit_source src;
    peer_source(uid, pid, name, sizeof(name), addr, sizeof(addr), &src);
    json_t *d = json_pack("{s:I, s:s}", "uid", (json_int_t)uid, "reason", why);
    record(audit,
           &(struct bw_audit_event){BW_AUDIT_EV_CONTROL_PEER_REFUSED, BW_AUDIT_DENIED, src, d});
    json_decref(d);
}

void bw_cli_audit_request_malformed(struct bw_audit *audit, uid_t uid, pid_t pid,
                                    const struct bw_cli_proto_error *err)
{
    char name[64], addr[64];
    struct bw_audit_source src;
    peer_source(uid, pid, name, sizeof(name), addr, sizeof(addr), &src);
    json_t *d = json_pack("{s:s, s:s}", "code", err->code, "message", err->message);
    record(audit, &(struct bw_audit_event){BW_AUDIT_EV_CONTROL_REQUEST_MALFORMED, BW_AUDIT_FAILURE,
                                           src, d});
    json_decref(d);
}

int bw_cli_audit_exported(struct bw_audit *audit, uid_t uid, pid_t pid,
                          const struct bw_cli_export_note *note, uint64_t *seq)
{
    char name[64], addr[64];
    struct bw_audit_source src;
    peer_source(uid, pid, name, sizeof(name), addr, sizeof(addr), &src);
    json_t *d = json_pack("{s:s, s:I, s:I, s:I, s:s}", "file", note->file, "first_seq",
                          (json_int_t)note->first_seq, "last_seq", (json_int_t)note->last_seq,
                          "records", (json_int_t)note->records, "file_sha256", note->sha256);
    if (!d)
        return BW_ENOMEM;
    int rc = bw_audit_record(
        audit, &(struct bw_audit_event){BW_AUDIT_EV_AUDIT_EXPORTED, BW_AUDIT_SUCCESS, src, d}, seq);
    json_decref(d);
    return rc;
}

void bw_cli_audit_archive_requested(struct bw_audit *audit, uid_t uid, pid_t pid, int rc,
                                    uint64_t first, uint64_t last)
{
    char name[64], addr[64];
    struct bw_audit_source src;
    peer_source(uid, pid, name, sizeof(name), addr, sizeof(addr), &src);
    json_t *d =
        rc ? json_pack("{s:s}", "reason", bw_strerror(rc))
           : json_pack("{s:I, s:I}", "first_seq", (json_int_t)first, "last_seq", (json_int_t)last);
    record(audit, &(struct bw_audit_event){BW_AUDIT_EV_AUDIT_ARCHIVE_REQUESTED,
                                           rc ? BW_AUDIT_ERROR : BW_AUDIT_SUCCESS, src, d});
    json_decref(d);
}

int bw_cli_audit_tag_write_request(struct bw_audit *audit, uid_t uid, pid_t pid, const char *tag,
                                   json_t *new_take)
{
    if (!audit) {
        json_decref(new_take);
        return BW_OK; /* no trail configured (tests of the socket alone) */
    }
    char name[64], addr[64];
    struct bw_audit_source src;
    peer_source(uid, pid, name, sizeof(name), addr, sizeof(addr), &src);
    json_t *d = json_pack("{s:s, s:o}", "tag", tag, "new", new_take ? new_take : json_null());
    int rc = bw_audit_record_request(
        audit, &(struct bw_audit_event){BW_AUDIT_EV_TAG_WRITE_REQUESTED, BW_AUDIT_SUCCESS, src, d});
    json_decref(d);
    if (rc && rc != BW_EDENIED) {
        /* A request the trail cannot take is a command that must not run. */
        bw_log(BW_LOG_ERROR, BW_LOGC_AUDIT, "a tag write request could not be recorded: %s",
               bw_strerror(rc));
        rc = BW_EDENIED;
    }
    return rc;
}

void bw_cli_audit_tag_write(struct bw_audit *audit, uid_t uid, pid_t pid, const char *tag,
                            json_t *old_take, json_t *new_take, int rc, const char *why)
{
    char name[64], addr[64];
    struct bw_audit_source src;
    peer_source(uid, pid, name, sizeof(name), addr, sizeof(addr), &src);
    json_t *d = json_pack("{s:s, s:o, s:o}", "tag", tag, "old", old_take ? old_take : json_null(),
                          "new", new_take ? new_take : json_null());
    if (d && rc)
        json_object_set_new(d, "reason", json_string(why));
    record(audit,
           &(struct bw_audit_event){rc ? BW_AUDIT_EV_TAG_WRITE_REFUSED : BW_AUDIT_EV_TAG_WRITE,
                                    rc == BW_EDENIED ? BW_AUDIT_DENIED
                                    : rc             ? BW_AUDIT_FAILURE
                                                     : BW_AUDIT_SUCCESS,
                                    src, d});
    json_decref(d);
}
