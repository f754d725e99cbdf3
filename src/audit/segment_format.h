/* SPDX-License-Identifier: Apache-2.0
 *
 * audit/segment_format.h: the layout of a segment file that the writer
 * (segment.c) and the verifier (segment_verify.c) must agree on: the
 * fixed key order of each line, the limits of each field and of a line.
 * docs/internals/audit.md ("Segment files") describes the same thing for
 * people; change both together. Private to the segment files.
 */
#ifndef BW_AUDIT_SEGMENT_FORMAT_H
#define BW_AUDIT_SEGMENT_FORMAT_H

#define SEG_FORMAT_NAME "bulwark-audit-segment"
#define SEG_FORMAT_VERSION 1

/* Limits of the decoded text fields. The writer refuses a record that
 * exceeds them, so the reader can keep each field in a fixed buffer. */
#define SEG_TYPE_MAX 64
#define SEG_NAME_MAX BW_AUDIT_NAME_MAX
#define SEG_ADDRESS_MAX BW_AUDIT_ADDRESS_MAX
#define SEG_DETAILS_MAX BW_AUDIT_DETAILS_MAX

/* The longest line: every text byte escaped as \u00XX (6 bytes) plus the
 * keys, numbers and hashes, with room to spare. */
#define SEG_LINE_MAX (64u * 1024u)

/* Each line's opening bytes tell header, record and trailer apart. */
#define SEG_HEADER_START "{\"format\":"
#define SEG_RECORD_START "{\"seq\":"
#define SEG_TRAILER_START "{\"sha256\":"

#endif
