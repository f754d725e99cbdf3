/* SPDX-License-Identifier: Apache-2.0
 *
 * `audit export`: a range of the trail written as a new signed segment
 * file, for write-once media or an auditor. Reads audit.db read-only (the
 * daemon may be writing it) and needs the signing key, so it runs as the
 * daemon's user. The segment carries the public key that checks it.
 * Main thread of a tool.
 */
#include "audit/internal.h"

#include <string.h>

_Static_assert(sizeof(((struct bw_audit_export_info *)0)->file_sha256) == BW_SHA256_LEN,
               "the export names the file by its SHA-256");

int bw_audit_export(const char *state_dir, uint64_t first_seq, uint64_t last_seq,
                    const char *out_path, struct bw_audit_export_info *out)
{
    if (out)
        memset(out, 0, sizeof(*out));
    if (first_seq == 0 && last_seq == 0) {
        first_seq = 1;
        last_seq = INT64_MAX;
    }
    if (first_seq == 0 || last_seq < first_seq)
        return BW_EINVAL;
    struct audit_keys keys;
    int rc = audit_keys_load(state_dir, false, true, &keys);
    if (rc)
        return rc;
    sqlite3 *db = NULL;
    rc = audit_store_open_ro(state_dir, &db);
    struct audit_segment_info info = {0};
    if (rc == BW_OK)
        rc = audit_segment_write(db, &keys, first_seq, last_seq, out_path, &info);
    if (rc == BW_OK && out) {
        out->first_seq = info.first_seq;
        out->last_seq = info.last_seq;
        out->records = info.records;
        memcpy(out->file_sha256, info.file_sha256, sizeof(out->file_sha256));
    }
    sqlite3_close(db);
    audit_keys_clear(&keys);
    return rc;
}
