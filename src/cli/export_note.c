/* SPDX-License-Identifier: Apache-2.0
 *
 * Putting an export on record: after `bulwark audit export` has written
 * its segment file, audit.exported names the file, its SHA-256, the range
 * and who ran it. When a daemon runs on the state directory, the trail is
 * its to write: the note goes over the control socket and the daemon
 * records it with the caller's credentials. When none runs, the command
 * takes the state lock (so no daemon starts meanwhile) and records it
 * itself. Main thread.
 */
#include "audit/audit.h"
#include "cli/internal.h"
#include "crypto/crypto.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int record_offline(const char *state_dir, const struct bw_cli_export_note *note,
                          uint64_t *seq)
{
    struct bw_audit *audit = NULL;
    int rc = bw_cli_audit_open_offline(state_dir, &audit);
    if (rc)
        return rc;
    rc = bw_cli_audit_exported(audit, getuid(), getpid(), note, seq);
    bw_audit_close(audit);
    return rc;
}

static int record_by_daemon(const char *state_dir, const struct bw_cli_export_note *note,
                            uint64_t *seq)
{
    json_t *request =
        json_pack("{s:s, s:s, s:I, s:I, s:I, s:s}", "op", "audit_exported", "file", note->file,
                  "first_seq", (json_int_t)note->first_seq, "last_seq", (json_int_t)note->last_seq,
                  "records", (json_int_t)note->records, "sha256", note->sha256);
    json_t *reply = NULL;
    int rc = bw_cli_control_ask(state_dir, request, "the daemon did not record the export", &reply);
    if (rc == BW_OK)
        *seq = (uint64_t)json_integer_value(json_object_get(reply, "seq"));
    json_decref(reply);
    return rc;
}

int bw_cli_export_record(const char *state_dir, const char *file,
                         const struct bw_audit_export_info *info, uint64_t *seq)
{
    *seq = 0;
    struct bw_cli_export_note note;
    memset(&note, 0, sizeof(note));
    note.first_seq = info->first_seq;
    note.last_seq = info->last_seq;
    note.records = info->records;
    bw_crypto_hex(info->file_sha256, sizeof(info->file_sha256), note.sha256);
    char real[PATH_MAX];
    const char *name = realpath(file, real) ? real : file;
    if (strlen(name) > BW_CLI_EXPORT_FILE_MAX)
        return BW_ETOOLARGE;
    memcpy(note.file, name, strlen(name) + 1);

    struct bw_cli_state_lock lock;
    pid_t holder = 0;
    char why[512];
    int rc = bw_cli_state_lock_take(state_dir, &lock, &holder, why, sizeof(why));
    if (rc == BW_OK) {
        rc = record_offline(state_dir, &note, seq);
        bw_cli_state_lock_release(&lock);
        return rc;
    }
    if (rc == BW_EBUSY)
        return record_by_daemon(state_dir, &note, seq);
    bw_cli_errorf("%s", why);
    return rc;
}
