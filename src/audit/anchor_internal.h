/* SPDX-License-Identifier: Apache-2.0
 *
 * audit/anchor_internal.h: the trail's anchor (anchor.c), a copy outside
 * audit.db of the newest signed checkpoint, in STATE/keys/audit-anchor.
 * audit.db alone cannot show that its newest records were cut off
 * together with the checkpoints that signed them: what is left is a
 * shorter trail that holds. The anchor remembers how far the trail had
 * been signed; the verifier (verify.c) and the daemon at start (audit.c)
 * compare the trail with it. The writer (writer.c) signs it with each
 * checkpoint it commits; the syncer (sync.c) writes it once that commit
 * is on disk, so that it is never ahead of the trail, even after a power
 * loss.
 *
 * File (128 bytes, mode 0600): "BWAN1\0\0\0" | the checkpoint message
 * (audit_checkpoint_message: "BWAC1\0\0\0" | seq u64 | ts_us i64 | hash)
 * | its Ed25519 signature (64 bytes). It is the checkpoint itself, so the
 * trail's public key checks it.
 */
#ifndef BW_AUDIT_ANCHOR_INTERNAL_H
#define BW_AUDIT_ANCHOR_INTERNAL_H

#include "audit/internal.h"

#define BW_AUDIT_ANCHOR_NAME "audit-anchor" /* in BW_AUDIT_KEYS_DIR */
#define AUDIT_ANCHOR_FILE_LEN (8 + AUDIT_CHECKPOINT_MSG_LEN + BW_ED25519_SIG_LEN)

/* struct audit_anchor is in internal.h (the trail object holds one). */

/* Signs the checkpoint (seq, ts_us, hash) with signer into *out, as the
 * writer signs it into audit.db (Ed25519 is deterministic: the same
 * signature). BW_EIO. Any thread that owns signer. */
BW_MUST_CHECK int audit_anchor_sign(struct bw_crypto_signer *signer, uint64_t seq, int64_t ts_us,
                                    const uint8_t hash[BW_SHA256_LEN], struct audit_anchor *out);

/* Replaces STATE/keys/audit-anchor with anchor atomically: a temporary
 * file of mode 0600 is written and synced, renamed over the old one, and
 * the directory synced, so a crash leaves the old anchor or the new one.
 * BW_EIO (keys/ missing included), BW_ETOOLARGE for an over-long path.
 * One writer per state directory (the writer thread, or a tool's). */
BW_MUST_CHECK int audit_anchor_write(const char *state_dir, const struct audit_anchor *anchor);

/* Reads STATE/keys/audit-anchor. BW_ENOTFOUND when there is none,
 * BW_EDENIED when it is a link or others may write it (anyone could have
 * put it there), BW_EMALFORMED when it is not an anchor, BW_EIO. Does
 * not check the signature. Any thread. */
BW_MUST_CHECK int audit_anchor_read(const char *state_dir, struct audit_anchor *out);

/* BW_OK when anchor's signature holds under public_key, BW_EDENIED when
 * it does not, BW_EIO when the check itself fails. */
BW_MUST_CHECK int audit_anchor_verify(const struct audit_anchor *anchor,
                                      const uint8_t public_key[BW_ED25519_KEY_LEN]);

/* The problems both the verifier and the start check report, in the
 * same words, into r (first problem only, as audit_report_problem). */
/* The trail ends at last_seq (0: empty), before record need, which what
 * names ("its anchored checkpoint", "its required end"). */
void audit_report_ends_before(struct bw_audit_verify_report *r, uint64_t last_seq, uint64_t need,
                              const char *what);
/* The trail's newest record is last_seq (0: empty), before the anchor. */
void audit_anchor_report_short(const struct audit_anchor *anchor, uint64_t last_seq,
                               struct bw_audit_verify_report *r);
/* Record anchor->seq of the trail does not have the anchored hash. */
void audit_anchor_report_other(const struct audit_anchor *anchor, struct bw_audit_verify_report *r);
/* There is no anchor, but the trail is signed up to signed_seq. */
void audit_anchor_report_missing(uint64_t signed_seq, struct bw_audit_verify_report *r);

/* audit_anchor_prepare (the writer's), audit_anchor_store (the syncer's)
 * and audit_anchor_check_open (at start) are declared in internal.h,
 * where writer.c, sync.c and audit.c see them. */

#endif
