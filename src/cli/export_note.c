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

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int file_sha256(const char *path, char hex[65])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return BW_EIO;
    struct bw_crypto_sha256_ctx *ctx = NULL;
    uint8_t digest[BW_SHA256_LEN];
    char buf[65536];
    ssize_t n = 0;
    int rc = bw_crypto_sha256_new(&ctx);
    while (rc == BW_OK && (n = read(fd, buf, sizeof(buf))) > 0)
        rc = bw_crypto_sha256_update(ctx, buf, (size_t)n);
    if (rc == BW_OK && n < 0)
        rc = BW_EIO;
    if (rc == BW_OK)
        rc = bw_crypto_sha256_final(ctx, digest);
    if (rc == BW_OK)
        bw_crypto_hex(digest, sizeof(digest), hex);
    bw_crypto_sha256_free(ctx);
    close(fd);
    return rc;
}

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
    int rc = request ? bw_cli_control_call(state_dir, request, &reply) : BW_ENOMEM;
    json_decref(request);
    if (rc)
        return rc;
    if (json_is_true(json_object_get(reply, "ok"))) {
        *seq = (uint64_t)json_integer_value(json_object_get(reply, "seq"));
    } else {
        bw_cli_control_print_error(reply, "the daemon did not record the export");
        rc = BW_EIO;
    }
    json_decref(reply);
    return rc;
}

int bw_cli_export_record(const char *state_dir, const char *file, uint64_t *seq)
{
    *seq = 0;
    struct bw_cli_export_note note;
    memset(&note, 0, sizeof(note));
    /* What the file holds, read back from it: it is what goes on record. */
    struct bw_audit_verify_report report;
    int rc = bw_audit_verify_segment(file, state_dir, &report);
    if (rc == BW_OK && report.bad_seq != 0)
        rc = BW_EMALFORMED;
    if (rc == BW_OK)
        rc = file_sha256(file, note.sha256);
    if (rc)
        return rc;
    note.first_seq = report.first_seq;
    note.last_seq = report.last_seq;
    note.records = report.records;
    char real[PATH_MAX];
    const char *name = realpath(file, real) ? real : file;
    if (strlen(name) > BW_CLI_EXPORT_FILE_MAX)
        return BW_ETOOLARGE;
    memcpy(note.file, name, strlen(name) + 1);

    struct bw_cli_state_lock lock;
    pid_t holder = 0;
    char why[512];
    rc = bw_cli_state_lock_take(state_dir, &lock, &holder, why, sizeof(why));
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
