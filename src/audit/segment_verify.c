/* SPDX-License-Identifier: Apache-2.0
 *
 * Reading and checking a segment file (the format of segment.c and
 * docs/internals/audit.md). A segment may come from anywhere (write-once
 * media, a mail attachment), so this is a parser of hostile input: lines
 * are read into one fixed buffer and refused past SEG_LINE_MAX, each line
 * must have exactly the keys, order and spelling the writer produces,
 * every text field is decoded into a fixed buffer of its limit, and
 * numbers and hex have exact forms. It never allocates per line. The
 * checks, in file order: the header, each record's sequence number,
 * predecessor hash and (with the key) MAC, the record count, then the
 * trailer's digest and signature. Any thread; no shared state.
 */
#include "audit/internal.h"
#include "audit/segment_format.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_BUF (2 * SEG_LINE_MAX)
#define NAME_SHOWN 64

enum line_status { LINE_OK, LINE_EOF, LINE_TOO_LONG, LINE_UNTERMINATED, LINE_IO };

struct line_reader {
    int fd;
    size_t start, end;
    bool eof;
    char buf[READ_BUF];
};

struct seg_header {
    uint64_t first, last, records;
    uint8_t first_prev[BW_SHA256_LEN];
    uint8_t public_key[BW_ED25519_KEY_LEN];
};

struct seg_verify {
    struct line_reader reader;
    char name[NAME_SHOWN + 1]; /* the file's base name, printable, for messages */
    struct seg_header hdr;
    uint8_t signed_digest[BW_SHA256_LEN];
    uint8_t sig[BW_ED25519_SIG_LEN];
    /* The record being checked; its entry points into these. */
    struct bw_audit_entry e;
    uint8_t prev_field[BW_SHA256_LEN], mac_field[BW_SHA256_LEN];
    char type[SEG_TYPE_MAX + 1];
    char source_name[SEG_NAME_MAX + 1];
    char address[SEG_ADDRESS_MAX + 1];
    char details[SEG_DETAILS_MAX + 1];
};

/* The next line, its '\n' included, pointing into the reader's buffer
 * until the next call. */
static enum line_status next_line(struct line_reader *r, const char **line, size_t *len)
{
    for (;;) {
        size_t have = r->end - r->start;
        char *nl = have ? memchr(r->buf + r->start, '\n', have) : NULL;
        if (nl) {
            *line = r->buf + r->start;
            *len = (size_t)(nl - *line) + 1;
            r->start += *len;
            return LINE_OK;
        }
        if (have >= SEG_LINE_MAX)
            return LINE_TOO_LONG;
        if (r->eof)
            return have ? LINE_UNTERMINATED : LINE_EOF;
        memmove(r->buf, r->buf + r->start, have);
        r->start = 0;
        r->end = have;
        ssize_t n = read(r->fd, r->buf + r->end, READ_BUF - r->end);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return LINE_IO;
        if (n == 0)
            r->eof = true;
        r->end += (size_t)n;
    }
}

/* ---- the exact forms of one line ---------------------------------------- */

/* A position in a line; once ok is false every step does nothing. */
struct cur {
    const char *p, *end;
    bool ok;
};

static void lit(struct cur *c, const char *s)
{
    size_t n = strlen(s);
    if (!c->ok || (size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0) {
        c->ok = false;
        return;
    }
    c->p += n;
}

/* Decimal digits, no sign, no leading zero, at most max. */
static uint64_t get_u64(struct cur *c, uint64_t max)
{
    uint64_t v = 0;
    if (!c->ok)
        return 0;
    const char *s = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
        c->p++;
    size_t n = (size_t)(c->p - s);
    if (n == 0 || (n > 1 && s[0] == '0') || bw_parse_u64(s, n, max, &v) != BW_OK)
        c->ok = false;
    return c->ok ? v : 0;
}

static int64_t get_i64(struct cur *c)
{
    bool neg = c->ok && c->p < c->end && *c->p == '-';
    if (neg)
        c->p++;
    uint64_t mag = get_u64(c, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX);
    if (!c->ok || (neg && mag == 0)) {
        c->ok = false; /* "-0" is not how the writer spells zero */
        return 0;
    }
    if (!neg)
        return (int64_t)mag;
    return mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
}

static bool lower_hex(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

/* "..." holding exactly 2 * n lower-case hex digits. */
static void get_hex(struct cur *c, uint8_t *out, size_t n)
{
    lit(c, "\"");
    if (!c->ok || (size_t)(c->end - c->p) < 2 * n) {
        c->ok = false;
        return;
    }
    for (size_t i = 0; i < 2 * n; i++)
        if (!lower_hex(c->p[i])) {
            c->ok = false;
            return;
        }
    if (bw_crypto_unhex(c->p, 2 * n, out, n) != BW_OK)
        c->ok = false;
    c->p += 2 * n;
    lit(c, "\"");
}

/* One \u00XX escape (after the "\u"): only what the writer escapes. */
static int get_escape(struct cur *c)
{
    if (c->end - c->p < 4 || c->p[0] != '0' || c->p[1] != '0' || !lower_hex(c->p[2]) ||
        !lower_hex(c->p[3]))
        return -1;
    uint8_t v;
    if (bw_crypto_unhex(c->p + 2, 2, &v, 1) != BW_OK)
        return -1;
    c->p += 4;
    return (v > 0 && v < 0x20) || v == 0x7f ? v : -1;
}

/* A JSON string as the writer spells it, decoded into out (room for max
 * bytes and a NUL), which must be valid UTF-8. */
static void get_text(struct cur *c, char *out, size_t max)
{
    size_t len = 0;
    out[0] = '\0';
    lit(c, "\"");
    while (c->ok) {
        if (c->p >= c->end) {
            c->ok = false;
            break;
        }
        int ch = (unsigned char)*c->p++;
        if (ch == '"')
            break;
        if (ch < 0x20 || ch == 0x7f) {
            c->ok = false; /* must have been escaped */
            break;
        }
        if (ch == '\\') {
            int esc = c->p < c->end ? (unsigned char)*c->p++ : -1;
            ch = esc == '"' || esc == '\\' ? esc : esc == 'u' ? get_escape(c) : -1;
            if (ch < 0) {
                c->ok = false;
                break;
            }
        }
        if (len >= max) {
            c->ok = false;
            break;
        }
        out[len++] = (char)ch;
    }
    out[len] = '\0';
    if (c->ok && !bw_utf8_valid(out, len))
        c->ok = false;
}

static bool starts_with(const char *line, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(line, prefix, n) == 0;
}

static bool parse_header(const char *line, size_t len, struct seg_header *h, uint64_t *version)
{
    struct cur c = {line, line + len, true};
    lit(&c, "{\"format\":\"" SEG_FORMAT_NAME "\",\"version\":");
    *version = get_u64(&c, UINT32_MAX);
    if (c.ok && *version != SEG_FORMAT_VERSION)
        return false;
    lit(&c, ",\"first_seq\":");
    h->first = get_u64(&c, INT64_MAX);
    lit(&c, ",\"last_seq\":");
    h->last = get_u64(&c, INT64_MAX);
    lit(&c, ",\"records\":");
    h->records = get_u64(&c, INT64_MAX);
    lit(&c, ",\"first_prev_hash\":");
    get_hex(&c, h->first_prev, BW_SHA256_LEN);
    lit(&c, ",\"public_key\":");
    get_hex(&c, h->public_key, BW_ED25519_KEY_LEN);
    lit(&c, ",\"created_us\":");
    (void)get_i64(&c);
    lit(&c, "}\n");
    return c.ok && c.p == c.end && h->first >= 1 && h->last >= h->first &&
           h->records == h->last - h->first + 1;
}

static bool parse_record(struct seg_verify *v, const char *line, size_t len)
{
    struct cur c = {line, line + len, true};
    struct bw_audit_entry *e = &v->e;
    lit(&c, SEG_RECORD_START);
    e->seq = get_u64(&c, INT64_MAX);
    lit(&c, ",\"ts_us\":");
    e->ts_us = get_i64(&c);
    lit(&c, ",\"category\":");
    e->category = (enum bw_audit_category)get_u64(&c, UINT8_MAX);
    lit(&c, ",\"event_id\":");
    e->event_id = (uint32_t)get_u64(&c, UINT32_MAX);
    lit(&c, ",\"type\":");
    get_text(&c, v->type, SEG_TYPE_MAX);
    lit(&c, ",\"result\":");
    e->result = (enum bw_audit_result)get_u64(&c, UINT8_MAX);
    lit(&c, ",\"source_kind\":");
    e->source_kind = (enum bw_audit_source_kind)get_u64(&c, UINT8_MAX);
    lit(&c, ",\"source_name\":");
    get_text(&c, v->source_name, SEG_NAME_MAX);
    lit(&c, ",\"source_address\":");
    bool null_address = c.ok && c.end - c.p >= 4 && memcmp(c.p, "null", 4) == 0;
    if (null_address)
        c.p += 4;
    else
        get_text(&c, v->address, SEG_ADDRESS_MAX);
    lit(&c, ",\"details\":");
    get_text(&c, v->details, SEG_DETAILS_MAX);
    lit(&c, ",\"prev_hash\":");
    get_hex(&c, v->prev_field, BW_SHA256_LEN);
    lit(&c, ",\"mac\":");
    get_hex(&c, v->mac_field, BW_SHA256_LEN);
    lit(&c, "}\n");
    e->type = v->type;
    e->source_name = v->source_name;
    e->source_address = null_address ? NULL : v->address;
    e->details = v->details;
    return c.ok && c.p == c.end && e->seq >= 1;
}

static bool parse_trailer(struct seg_verify *v, const char *line, size_t len)
{
    struct cur c = {line, line + len, true};
    lit(&c, SEG_TRAILER_START);
    get_hex(&c, v->signed_digest, BW_SHA256_LEN);
    lit(&c, ",\"signature\":");
    get_hex(&c, v->sig, BW_ED25519_SIG_LEN);
    lit(&c, "}\n");
    return c.ok && c.p == c.end;
}

/* ---- the checks --------------------------------------------------------- */

/* What one pass over the file has found so far. */
struct seg_state {
    struct bw_audit_verify_report found; /* problem and bad_seq only */
    uint64_t line_no, count, next_seq;
    uint8_t prev[BW_SHA256_LEN];
    bool have_header, have_trailer, stop;
    struct bw_crypto_mac *mac;
    const uint8_t *expect_prev;
    struct audit_segment_probe *probe; /* NULL: none */
};

#define PROBLEM(st, v, seq, fmt, ...)                                                              \
    audit_report_problem(&(st)->found, (seq), "segment %s: " fmt, (v)->name, __VA_ARGS__)

static void check_header(struct seg_verify *v, struct seg_state *st, const char *line, size_t len)
{
    uint64_t version = 0;
    st->stop = true; /* without a header there is nothing to go on */
    if (!starts_with(line, len, "{\"format\":\"" SEG_FORMAT_NAME "\",")) {
        PROBLEM(st, v, 0, "line %d: %s", 1, "not a Bulwark audit segment");
        return;
    }
    if (!parse_header(line, len, &v->hdr, &version)) {
        if (version != SEG_FORMAT_VERSION)
            PROBLEM(st, v, 0, "format version %" PRIu64 " is not supported", version);
        else
            PROBLEM(st, v, 0, "line %d: %s", 1, "malformed header");
        return;
    }
    st->stop = false;
    st->have_header = true;
    st->next_seq = v->hdr.first;
    memcpy(st->prev, v->hdr.first_prev, BW_SHA256_LEN);
    if (st->expect_prev && !bw_crypto_equal(st->expect_prev, v->hdr.first_prev, BW_SHA256_LEN))
        PROBLEM(st, v, v->hdr.first, "record %" PRIu64 ": predecessor hash does not match %s",
                v->hdr.first, v->hdr.first == 1 ? "the trail's start" : "the preceding record");
}

/* A record line: every check of one record; hashes it into st->prev. */
static int check_record(struct seg_verify *v, struct seg_state *st, const char *line, size_t len)
{
    uint64_t want = st->next_seq;
    if (!parse_record(v, line, len)) {
        PROBLEM(st, v, want, "line %" PRIu64 ": malformed record (record %" PRIu64 " expected)",
                st->line_no, want);
        return BW_OK;
    }
    uint64_t seq = v->e.seq;
    if (seq != want || st->count >= v->hdr.records) {
        if (seq > want && st->count < v->hdr.records)
            PROBLEM(st, v, want,
                    "record %" PRIu64 " missing: sequence jumps from %" PRIu64 " to %" PRIu64, want,
                    want - 1, seq);
        else
            PROBLEM(st, v, want, "record %" PRIu64 " out of place (record %" PRIu64 " expected)",
                    seq, want);
        return BW_OK;
    }
    if (!bw_crypto_equal(v->prev_field, st->prev, BW_SHA256_LEN)) {
        if (seq == v->hdr.first)
            PROBLEM(st, v, seq, "record %" PRIu64 ": predecessor hash does not match the header",
                    seq);
        else
            PROBLEM(st, v, seq,
                    "record %" PRIu64 ": predecessor hash does not match record %" PRIu64, seq,
                    seq - 1);
        return BW_OK;
    }
    int rc = audit_row_hash(&v->e, v->prev_field, st->prev);
    if (rc)
        return rc;
    if (st->mac) {
        uint8_t mac[BW_SHA256_LEN];
        rc = audit_row_mac(st->mac, st->prev, mac);
        if (rc)
            return rc;
        if (!bw_crypto_equal(mac, v->mac_field, BW_SHA256_LEN)) {
            PROBLEM(st, v, seq, "record %" PRIu64 ": %s", seq,
                    "MAC does not match (record changed or key replaced)");
            return BW_OK;
        }
    }
    if (st->probe && seq == st->probe->seq) {
        memcpy(st->probe->hash, st->prev, BW_SHA256_LEN);
        st->probe->found = true;
    }
    st->count++;
    st->next_seq++;
    return BW_OK;
}

/* One line of the file, in order. The lines after a problem are still
 * read, for the digest, so the report can say whether the signature
 * holds as well. */
static int check_line(struct seg_verify *v, struct seg_state *st, struct bw_crypto_sha256_ctx *body,
                      const char *line, size_t len)
{
    if (st->have_trailer) {
        PROBLEM(st, v, 0, "line %" PRIu64 ": %s", st->line_no, "data after the trailer");
        st->stop = true;
        return BW_OK;
    }
    if (st->line_no > 1 && starts_with(line, len, SEG_TRAILER_START)) {
        st->have_trailer = true;
        if (!parse_trailer(v, line, len)) {
            PROBLEM(st, v, 0, "line %" PRIu64 ": %s", st->line_no, "malformed trailer");
            st->stop = true;
        }
        return BW_OK;
    }
    int rc = bw_crypto_sha256_update(body, line, len);
    if (rc)
        return rc;
    if (st->line_no == 1) {
        check_header(v, st, line, len);
        return BW_OK;
    }
    return st->found.problem[0] ? BW_OK : check_record(v, st, line, len);
}

/* After the last line: the count, then the trailer's digest and
 * signature. */
static int check_end(struct seg_verify *v, struct seg_state *st, struct bw_crypto_sha256_ctx *body,
                     const uint8_t *public_key)
{
    const struct seg_header *h = &v->hdr;
    if (st->count < h->records && !st->found.problem[0])
        PROBLEM(st, v, st->next_seq,
                "records %" PRIu64 "..%" PRIu64 " missing: the segment ends after record %" PRIu64,
                st->next_seq, h->last, st->next_seq - 1);
    if (!st->have_trailer) {
        PROBLEM(st, v, h->last, "%s", "no trailer (the file is truncated)");
        return BW_OK;
    }
    uint8_t digest[BW_SHA256_LEN];
    int rc = bw_crypto_sha256_final(body, digest);
    if (rc)
        return rc;
    const uint8_t *key = public_key ? public_key : h->public_key;
    const char *why = NULL;
    if (!bw_crypto_equal(digest, v->signed_digest, BW_SHA256_LEN)) {
        why = "the file changed after it was signed";
    } else {
        rc = bw_crypto_verify(key, digest, sizeof(digest), v->sig);
        if (rc == BW_EIO)
            return rc;
        if (rc)
            why = public_key && !bw_crypto_equal(public_key, h->public_key, BW_ED25519_KEY_LEN)
                      ? "signed by another key than the trail's"
                      : "signature does not hold (signature changed or key replaced)";
    }
    if (!why)
        return BW_OK;
    if (!st->found.problem[0]) {
        PROBLEM(st, v, h->first, "%s", why);
    } else {
        size_t used = strlen(st->found.problem);
        /* Cut short when it does not fit: the first problem matters most. */
        int cut = bw_snprintf(st->found.problem + used, sizeof(st->found.problem) - used,
                              "; also %s", why);
        (void)cut;
    }
    return BW_OK;
}

static int run(struct seg_verify *v, struct seg_state *st, const uint8_t *public_key,
               struct audit_segment_info *info)
{
    struct bw_crypto_sha256_ctx *body = NULL, *file = NULL;
    int rc = bw_crypto_sha256_new(&body);
    if (rc == BW_OK)
        rc = bw_crypto_sha256_new(&file);
    while (rc == BW_OK && !st->stop) {
        const char *line;
        size_t len;
        enum line_status ls = next_line(&v->reader, &line, &len);
        if (ls == LINE_EOF)
            break;
        if (ls == LINE_IO) {
            rc = BW_EIO;
            break;
        }
        st->line_no++;
        if (ls != LINE_OK) {
            PROBLEM(st, v, 0, "line %" PRIu64 ": %s", st->line_no,
                    ls == LINE_TOO_LONG ? "too long" : "not terminated (the file is truncated)");
            break;
        }
        rc = bw_crypto_sha256_update(file, line, len);
        if (rc == BW_OK)
            rc = check_line(v, st, body, line, len);
    }
    if (rc == BW_OK && st->line_no == 0)
        PROBLEM(st, v, 0, "%s", "the file is empty");
    if (rc == BW_OK && st->have_header && !st->stop)
        rc = check_end(v, st, body, public_key);
    if (rc == BW_OK && !st->found.problem[0])
        rc = bw_crypto_sha256_final(file, info->file_sha256);
    bw_crypto_sha256_free(body);
    bw_crypto_sha256_free(file);
    return rc;
}

/* The base name of path, with anything unprintable shown as '?'. */
static void shown_name(const char *path, char out[NAME_SHOWN + 1])
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t i = 0;
    for (; i < NAME_SHOWN && base[i]; i++)
        out[i] = base[i] > 0x20 && base[i] < 0x7f ? base[i] : '?';
    out[i] = '\0';
}

static int open_segment(const char *path, int *fd)
{
    /* O_NONBLOCK: a FIFO put in the file's place must not hang us. */
    *fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (*fd < 0)
        return errno == ENOENT ? BW_ENOTFOUND : errno == EACCES ? BW_EDENIED : BW_EIO;
    struct stat sb;
    if (fstat(*fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(*fd);
        *fd = -1;
        return BW_EIO;
    }
    return BW_OK;
}

int audit_segment_verify(const char *path, const uint8_t *public_key, struct bw_crypto_mac *mac,
                         const uint8_t *expect_prev, struct audit_segment_info *info,
                         struct bw_audit_verify_report *report)
{
    return audit_segment_verify_probe(path, public_key, mac, expect_prev, NULL, info, report);
}

/* The check behind audit_segment_verify_probe. With keep, a segment that
 * checks is not closed: *keep receives it, for the reader below. */
static int verify_file(const char *path, const uint8_t *public_key, struct bw_crypto_mac *mac,
                       const uint8_t *expect_prev, struct audit_segment_probe *probe,
                       struct audit_segment_info *info, struct bw_audit_verify_report *report,
                       struct seg_verify **keep)
{
    memset(info, 0, sizeof(*info));
    if (probe)
        probe->found = false;
    struct seg_verify *v = bw_malloc(sizeof(*v));
    if (!v)
        return BW_ENOMEM;
    memset(&v->hdr, 0, sizeof(v->hdr));
    memset(&v->e, 0, sizeof(v->e));
    v->reader.start = v->reader.end = 0;
    v->reader.eof = false;
    shown_name(path, v->name);
    int rc = open_segment(path, &v->reader.fd);
    if (rc) {
        bw_free(v);
        return rc;
    }
    struct seg_state st = {.mac = mac, .expect_prev = expect_prev, .probe = probe};
    rc = run(v, &st, public_key, info);
    info->first_seq = v->hdr.first;
    info->last_seq = v->hdr.last;
    info->records = st.count;
    memcpy(info->first_prev_hash, v->hdr.first_prev, BW_SHA256_LEN);
    memcpy(info->last_hash, st.prev, BW_SHA256_LEN);
    report->records += st.count;
    if (keep && !rc && !st.found.problem[0]) {
        *keep = v;
        return BW_OK;
    }
    close(v->reader.fd);
    bw_free(v);
    if (rc)
        return rc;
    if (!st.found.problem[0])
        return BW_OK;
    audit_report_problem(report, st.found.bad_seq, "%s", st.found.problem);
    return BW_EMALFORMED;
}

int audit_segment_verify_probe(const char *path, const uint8_t *public_key,
                               struct bw_crypto_mac *mac, const uint8_t *expect_prev,
                               struct audit_segment_probe *probe, struct audit_segment_info *info,
                               struct bw_audit_verify_report *report)
{
    return verify_file(path, public_key, mac, expect_prev, probe, info, report, NULL);
}

/* ---- reading the records of a segment that checks ------------------------ */

struct audit_segment_reader {
    struct seg_verify *v;
    struct seg_state st;
    uint8_t last_hash[BW_SHA256_LEN]; /* the last record's hash, as the check found it */
};

void audit_segment_reader_free(struct audit_segment_reader *r)
{
    if (!r)
        return;
    if (r->v) {
        close(r->v->reader.fd);
        bw_free(r->v);
    }
    bw_free(r);
}

/* The second pass found what the first did not: the file was changed in
 * between. */
static int changed(struct audit_segment_reader *r, struct bw_audit_verify_report *report,
                   uint64_t seq, const char *what)
{
    audit_report_problem(report, seq, "segment %s: %s (the file changed after it was checked)",
                         r->v->name, what);
    return BW_EMALFORMED;
}

/* Back to the start of the verified file, through the same descriptor
 * (a file renamed over it since does not count), past its header, which
 * must be the one checked. */
static int rewind_segment(struct audit_segment_reader *r, struct bw_audit_verify_report *report)
{
    struct seg_verify *v = r->v;
    struct seg_header checked = v->hdr;
    v->reader.start = v->reader.end = 0;
    v->reader.eof = false;
    if (lseek(v->reader.fd, 0, SEEK_SET) != 0)
        return BW_EIO;
    const char *line;
    size_t len;
    uint64_t version = 0;
    enum line_status ls = next_line(&v->reader, &line, &len);
    if (ls == LINE_IO)
        return BW_EIO;
    if (ls != LINE_OK || !parse_header(line, len, &v->hdr, &version) ||
        v->hdr.first != checked.first || v->hdr.last != checked.last ||
        v->hdr.records != checked.records ||
        !bw_crypto_equal(v->hdr.first_prev, checked.first_prev, BW_SHA256_LEN))
        return changed(r, report, checked.first, "header");
    r->st = (struct seg_state){.line_no = 1, .next_seq = v->hdr.first, .have_header = true};
    memcpy(r->st.prev, v->hdr.first_prev, BW_SHA256_LEN);
    return BW_OK;
}

int audit_segment_reader_open(const char *path, const uint8_t *public_key,
                              struct bw_crypto_mac *mac, const uint8_t *expect_prev,
                              struct audit_segment_info *info,
                              struct bw_audit_verify_report *report,
                              struct audit_segment_reader **out)
{
    *out = NULL;
    struct audit_segment_reader *r = bw_calloc(1, sizeof(*r));
    if (!r)
        return BW_ENOMEM;
    int rc = verify_file(path, public_key, mac, expect_prev, NULL, info, report, &r->v);
    if (rc == BW_OK) {
        memcpy(r->last_hash, info->last_hash, BW_SHA256_LEN);
        rc = rewind_segment(r, report);
    }
    if (rc) {
        audit_segment_reader_free(r);
        return rc;
    }
    r->st.mac = mac;
    *out = r;
    return BW_OK;
}

int audit_segment_reader_next(struct audit_segment_reader *r, const struct bw_audit_entry **entry,
                              struct bw_audit_verify_report *report)
{
    *entry = NULL;
    struct seg_verify *v = r->v;
    struct seg_state *st = &r->st;
    if (st->count == v->hdr.records) {
        if (!bw_crypto_equal(st->prev, r->last_hash, BW_SHA256_LEN))
            return changed(r, report, v->hdr.last, "last record");
        return BW_ENOTFOUND;
    }
    const char *line;
    size_t len;
    enum line_status ls = next_line(&v->reader, &line, &len);
    if (ls == LINE_IO)
        return BW_EIO;
    st->line_no++;
    if (ls != LINE_OK)
        return changed(r, report, st->next_seq, "records end early");
    /* Every check of the first pass again: a record handed out is one the
     * MAC key vouches for, whatever happened to the file meanwhile. */
    int rc = check_record(v, st, line, len);
    if (rc)
        return rc;
    if (st->found.problem[0]) {
        audit_report_problem(report, st->found.bad_seq,
                             "%s (the file changed after it was checked)", st->found.problem);
        return BW_EMALFORMED;
    }
    *entry = &v->e;
    return BW_OK;
}
