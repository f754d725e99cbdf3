/* SPDX-License-Identifier: Apache-2.0
 *
 * One audit record as one RFC 5424 syslog message in the octet-counted
 * framing of RFC 5425 (TLS transport) and RFC 6587. A pure function of
 * the record, the facility, the host name and the process ID: the
 * forwarder thread calls it, the unit test checks its exact output. Every
 * field stays within the RFC's character set and length: printable ASCII
 * header fields, escaped structured-data values, valid UTF-8, and a
 * frame of at most BW_AUDIT_SYSLOG_FRAME_MAX bytes. Any thread.
 */
#include "audit/forward_internal.h"

#include <string.h>

/* Longest SYSLOG-MSG: its length then has at most 5 digits, so the frame
 * (LEN SP SYSLOG-MSG) stays within BW_AUDIT_SYSLOG_FRAME_MAX. */
#define SYSLOG_MSG_MAX (BW_AUDIT_SYSLOG_FRAME_MAX - 6)
_Static_assert(SYSLOG_MSG_MAX < 100000, "LEN has at most 5 digits");

/* RFC 5424 section 6: the lengths of the header fields. */
#define HOSTNAME_MAX 255
#define PROCID_MAX 128
#define MSGID_MAX 32

/* 9999-12-31T23:59:59.999999Z: the last instant with a 4-digit year. */
#define TS_US_MAX 253402300799999999LL

/* Appends s[0..len) as UTF-8 text, each byte that does not belong to a
 * well-formed character replaced by '?', with '"', '\' and ']' escaped
 * when sd_escape (RFC 5424 section 6.3.3). Takes whole characters only,
 * as long as at most limit input bytes are taken; *taken (may be NULL)
 * receives how many were. */
static int append_text(struct bw_buf *buf, const char *s, size_t len, bool sd_escape, size_t limit,
                       size_t *taken)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    int rc = BW_OK;
    while (i < len && rc == BW_OK) {
        size_t n = bw_utf8_char_len(s + i, len - i);
        size_t step = n ? n : 1;
        if (step > limit - i)
            break;
        if (!n)
            rc = bw_buf_append(buf, "?", 1);
        else if (sd_escape && n == 1 && (p[i] == '"' || p[i] == '\\' || p[i] == ']'))
            rc = bw_buf_printf(buf, "\\%c", p[i]);
        else
            rc = bw_buf_append(buf, p + i, n);
        i += step;
    }
    if (taken)
        *taken = i;
    return rc;
}

/* Appends a header field of PRINTUSASCII (33..126) characters, at most
 * max of them; other bytes become '_'; "-" (the NILVALUE) when empty. */
static int append_ascii_field(struct bw_buf *buf, const char *s, size_t max)
{
    size_t len = s ? strnlen(s, max) : 0;
    if (len == 0)
        return bw_buf_append(buf, "-", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char out = c >= 33 && c <= 126 ? (char)c : '_';
        int rc = bw_buf_append(buf, &out, 1);
        if (rc)
            return rc;
    }
    return BW_OK;
}

/* Appends ` name="value"`, the value escaped and cut to
 * BW_AUDIT_SYSLOG_VALUE_MAX bytes with "..." when longer. */
static int append_param(struct bw_buf *buf, const char *name, const char *value)
{
    int rc = bw_buf_printf(buf, " %s=\"", name);
    size_t len = strlen(value), taken = 0;
    if (!rc)
        rc = append_text(buf, value, len, true, BW_AUDIT_SYSLOG_VALUE_MAX, &taken);
    if (!rc && taken < len)
        rc = bw_buf_append(buf, "...", 3);
    if (!rc)
        rc = bw_buf_append(buf, "\"", 1);
    return rc;
}

/* A name from the catalogue, or the number when the value is unknown. */
static const char *name_or_number(const char *name, unsigned value, char *tmp, size_t tmplen)
{
    if (name)
        return name;
    if (bw_snprintf(tmp, tmplen, "%u", value) != BW_OK)
        return "?";
    return tmp;
}

static int severity_of(enum bw_audit_result result)
{
    switch (result) {
    case BW_AUDIT_SUCCESS:
        return 6; /* informational */
    case BW_AUDIT_ERROR:
        return 3; /* error */
    case BW_AUDIT_FAILURE:
    case BW_AUDIT_DENIED:
    default:
        return 4; /* warning */
    }
}

static int append_header(struct bw_buf *msg, const struct bw_audit_entry *e, int facility,
                         const char *hostname, int pid)
{
    char ts[BW_TIME_TEXT_MAX];
    const char *ts_text = "-";
    if (e->ts_us >= 0 && e->ts_us <= TS_US_MAX)
        ts_text = bw_time_format_utc(e->ts_us, ts);
    int rc = bw_buf_printf(msg, "<%d>1 %s ", facility * 8 + severity_of(e->result), ts_text);
    if (!rc)
        rc = append_ascii_field(msg, hostname, HOSTNAME_MAX);
    if (!rc)
        rc = bw_buf_printf(msg, " %s %d ", BW_AUDIT_SYSLOG_APP_NAME, pid);
    if (!rc)
        rc = append_ascii_field(msg, e->type, MSGID_MAX);
    return rc;
}

static int append_sd(struct bw_buf *msg, const struct bw_audit_entry *e)
{
    char seq[24], event[16], cat[16], res[16], kind[16];
    if (bw_snprintf(seq, sizeof(seq), "%llu", (unsigned long long)e->seq) ||
        bw_snprintf(event, sizeof(event), "%u", (unsigned)e->event_id))
        return BW_EINVAL;
    int rc = bw_buf_append_str(msg, " [" BW_AUDIT_SYSLOG_SD_ID);
    if (!rc)
        rc = append_param(msg, "seq", seq);
    if (!rc)
        rc = append_param(msg, "category",
                          name_or_number(bw_audit_category_name(e->category), (unsigned)e->category,
                                         cat, sizeof(cat)));
    if (!rc)
        rc = append_param(msg, "event", event);
    if (!rc)
        rc = append_param(
            msg, "result",
            name_or_number(bw_audit_result_name(e->result), (unsigned)e->result, res, sizeof(res)));
    if (!rc)
        rc = append_param(msg, "source_kind",
                          name_or_number(bw_audit_source_kind_name(e->source_kind),
                                         (unsigned)e->source_kind, kind, sizeof(kind)));
    if (!rc)
        rc = append_param(msg, "source", e->source_name ? e->source_name : "");
    if (!rc && e->source_address)
        rc = append_param(msg, "address", e->source_address);
    if (!rc)
        rc = bw_buf_append(msg, "]", 1);
    return rc;
}

/* Appends SP MSG: the details, cut with a marker naming their full length
 * when they do not fit in what is left of SYSLOG_MSG_MAX. */
static int append_msg(struct bw_buf *msg, const char *details)
{
    size_t len = details ? strlen(details) : 0;
    if (len == 0)
        return BW_OK;
    int rc = bw_buf_append(msg, " ", 1);
    if (rc)
        return rc;
    size_t room = msg->max - msg->len;
    if (len <= room)
        return append_text(msg, details, len, false, len, NULL);
    char marker[64];
    rc = bw_snprintf(marker, sizeof(marker), "...[cut: %zu bytes in the trail]", len);
    if (rc)
        return rc;
    size_t marker_len = strlen(marker);
    if (room < marker_len)
        return BW_ETOOLARGE; /* the header alone cannot be this long */
    rc = append_text(msg, details, len, false, room - marker_len, NULL);
    if (!rc)
        rc = bw_buf_append(msg, marker, marker_len);
    return rc;
}

int bw_audit_syslog_format(const struct bw_audit_entry *e, int facility, const char *hostname,
                           int pid, struct bw_buf *out)
{
    if (!e || !out || facility < 0 || facility > 23)
        return BW_EINVAL;
    struct bw_buf msg;
    bw_buf_init(&msg, SYSLOG_MSG_MAX);
    int rc = append_header(&msg, e, facility, hostname, pid);
    if (!rc)
        rc = append_sd(&msg, e);
    if (!rc)
        rc = append_msg(&msg, e->details);
    if (!rc) {
        size_t before = out->len;
        rc = bw_buf_printf(out, "%zu ", msg.len);
        if (!rc)
            rc = bw_buf_append(out, msg.data, msg.len);
        if (rc && out->data) {
            out->len = before;
            out->data[before] = '\0';
        }
    }
    bw_buf_clear(&msg);
    return rc;
}
