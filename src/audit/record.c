/* SPDX-License-Identifier: Apache-2.0
 *
 * One audit record's bytes: the redaction of secrets from its details,
 * the canonical encoding that its hash covers, its MAC, and the message a
 * checkpoint signature covers. The writer and the verifier both call
 * these, so what is written and what is checked can never drift apart.
 * Pure functions; any thread.
 *
 * Canonical encoding (all integers big-endian):
 *   "BWAR1\0\0\0" | seq u64 | ts_us i64 | category u8 | event_id u32 |
 *   result u8 | source_kind u8 | type, source_name, details: u32 length
 *   then bytes | source_address: u8 present (0/1), then u32 length and
 *   bytes when present | prev_hash (32 bytes)
 * hash = SHA-256(encoding); mac = HMAC-SHA256(mac key, hash).
 */
#include "audit/internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char record_magic[8] = {'B', 'W', 'A', 'R', '1', 0, 0, 0};
static const char checkpoint_magic[8] = {'B', 'W', 'A', 'C', '1', 0, 0, 0};

/* Which details keys name a secret. A key is cut into words at
 * anything but a letter or digit and where a lower-case letter meets an
 * upper-case one ("new_password", "apiKey", "Session-ID" give "new
 * password", "api key", "session id"). Short words count only as a whole
 * word, so "keyboard", "mapping" and "monkey" are left alone; long words
 * count anywhere in a word, so "newpassword" and "sessionid" are not. */
static const char *const secret_words_whole[] = {
    "key", "pin",  "otp",  "hotp", "totp", "pwd",  "pass", "sid",   "jwt",
    "mfa", "auth", "seed", "csrf", "xsrf", "salt", "hmac", "nonce", "pw",
};
static const char *const secret_words_within[] = {
    "password", "passwd",     "passphrase",    "passcode", "pincode", "secret",
    "token",    "credential", "cookie",        "session",  "bearer",  "apikey",
    "privkey",  "privatekey", "authorization", "recovery",
};

/* Whether word[0..len) (any case) is w or its plural, or holds w when
 * within. */
static bool word_matches(const char *word, size_t len, const char *w, bool within)
{
    size_t wl = strlen(w);
    if (!within && wl + 1 == len && tolower((unsigned char)word[wl]) == 's')
        len = wl;
    if (wl > len || (!within && wl != len))
        return false;
    for (size_t at = 0; at + wl <= len; at++) {
        size_t i = 0;
        while (i < wl && tolower((unsigned char)word[at + i]) == w[i])
            i++;
        if (i == wl)
            return true;
    }
    return false;
}

static bool word_is_secret(const char *word, size_t len)
{
    for (size_t i = 0; i < BW_ARRAY_LEN(secret_words_whole); i++)
        if (word_matches(word, len, secret_words_whole[i], false))
            return true;
    for (size_t i = 0; i < BW_ARRAY_LEN(secret_words_within); i++)
        if (word_matches(word, len, secret_words_within[i], true))
            return true;
    return false;
}

bool audit_key_is_secret(const char *key)
{
    size_t start = 0, i = 0;
    for (;; i++) {
        unsigned char c = (unsigned char)key[i];
        bool boundary =
            !c || !isalnum(c) || (i > start && isupper(c) && islower((unsigned char)key[i - 1]));
        if (boundary) {
            if (i > start && word_is_secret(key + start, i - start))
                return true;
            start = isalnum(c) ? i : i + 1;
        }
        if (!c)
            return false;
    }
}

int audit_text_copy(const char *text, size_t max, char **out)
{
    static const char cut_mark[] = "...";
    size_t len = strlen(text);
    char *copy = malloc(max + 1);
    if (!copy)
        return BW_ENOMEM;
    /* Replacing a byte by '?' keeps the length, so whether to cut is
     * known before copying. */
    size_t room = len <= max ? max : max - (sizeof(cut_mark) - 1);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = bw_utf8_char_len(text + i, len - i);
        bool control = n == 1 && ((unsigned char)text[i] < 0x20 || text[i] == 0x7f);
        bool keep = n > 0 && !control;
        size_t take = keep ? n : 1;
        if (o + take > room)
            break;
        if (keep)
            memcpy(copy + o, text + i, n);
        else
            copy[o] = '?';
        o += take;
        i += take;
    }
    if (len > max) {
        memcpy(copy + o, cut_mark, sizeof(cut_mark) - 1);
        o += sizeof(cut_mark) - 1;
    }
    copy[o] = '\0';
    *out = copy;
    return BW_OK;
}

/* A deep copy of v with every value under a secret key replaced. depth
 * bounds recursion (details come from our own code, but the bound keeps
 * a hostile JSON value built from a request from exhausting the stack). */
static json_t *redacted_copy(const json_t *v, int depth)
{
    if (depth > 32)
        return json_string("[too deep]");
    if (json_is_object(v)) {
        json_t *out = json_object();
        const char *k;
        json_t *child;
        if (!out)
            return NULL;
        json_object_foreach((json_t *)v, k, child)
        {
            json_t *c = audit_key_is_secret(k) ? json_string("[redacted]")
                                               : redacted_copy(child, depth + 1);
            if (!c || json_object_set_new(out, k, c) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *child;
        if (!out)
            return NULL;
        json_array_foreach(v, i, child)
        {
            json_t *c = redacted_copy(child, depth + 1);
            if (!c || json_array_append_new(out, c) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    return json_deep_copy(v);
}

/* Whether v holds a secret key or is nested deeper than redacted_copy
 * keeps, i.e. whether it must be copied before it is stored. */
static bool needs_redaction(const json_t *v, int depth)
{
    if (depth > 32)
        return true;
    const char *k;
    json_t *child;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, child)
        {
            if (audit_key_is_secret(k) || needs_redaction(child, depth + 1))
                return true;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, child)
        {
            if (needs_redaction(child, depth + 1))
                return true;
        }
    }
    return false;
}

int audit_details_encode(const json_t *details, char **out)
{
    *out = NULL;
    if (!details) {
        *out = strdup("{}");
        return *out ? BW_OK : BW_ENOMEM;
    }
    if (!json_is_object(details))
        return BW_EINVAL;
    /* Most details hold no secret: they are written as they are. */
    bool redact = needs_redaction(details, 0);
    json_t *clean = redact ? redacted_copy(details, 0) : NULL;
    if (redact && !clean)
        return BW_ENOMEM;
    char *text =
        json_dumps(clean ? clean : details, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    json_decref(clean);
    if (!text)
        return BW_ENOMEM;
    if (strlen(text) > BW_AUDIT_DETAILS_MAX) {
        free(text);
        return BW_ETOOLARGE;
    }
    *out = text;
    return BW_OK;
}

/* The longest canonical encoding a stored record can have: fixed fields,
 * four length prefixes, the presence byte, the bounded texts and the
 * predecessor's hash. */
#define TYPE_MAX 64
#define ENCODING_MAX                                                                               \
    (8 + 8 + 8 + 1 + 4 + 1 + 1 + 4 * 4 + 1 + TYPE_MAX + BW_AUDIT_NAME_MAX + BW_AUDIT_ADDRESS_MAX + \
     BW_AUDIT_DETAILS_MAX + BW_SHA256_LEN)

struct encoder {
    uint8_t *p;
    size_t len, cap;
    bool overflow;
};

static void put_bytes(struct encoder *enc, const void *data, size_t len)
{
    if (enc->overflow || len > enc->cap - enc->len) {
        enc->overflow = true;
        return;
    }
    memcpy(enc->p + enc->len, data, len);
    enc->len += len;
}

static void put_u64(struct encoder *enc, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    put_bytes(enc, b, sizeof(b));
}

static void put_u32(struct encoder *enc, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put_bytes(enc, b, sizeof(b));
}

static void put_u8(struct encoder *enc, uint8_t v)
{
    put_bytes(enc, &v, 1);
}

static void put_text(struct encoder *enc, const char *s)
{
    size_t len = strlen(s);
    if (len > UINT32_MAX) {
        enc->overflow = true;
        return;
    }
    put_u32(enc, (uint32_t)len);
    put_bytes(enc, s, len);
}

int audit_row_hash(const struct bw_audit_entry *e, const uint8_t prev_hash[BW_SHA256_LEN],
                   uint8_t out[BW_SHA256_LEN])
{
    /* On the stack: the writer and the verifier hash hundreds of
     * thousands of records a second, and the bound is a few KiB. */
    uint8_t buf[ENCODING_MAX];
    struct encoder enc = {.p = buf, .cap = sizeof(buf)};
    put_bytes(&enc, record_magic, sizeof(record_magic));
    put_u64(&enc, e->seq);
    put_u64(&enc, (uint64_t)e->ts_us);
    put_u8(&enc, (uint8_t)e->category);
    put_u32(&enc, e->event_id);
    put_u8(&enc, (uint8_t)e->result);
    put_u8(&enc, (uint8_t)e->source_kind);
    put_text(&enc, e->type ? e->type : "");
    put_text(&enc, e->source_name ? e->source_name : "");
    put_text(&enc, e->details ? e->details : "{}");
    put_u8(&enc, e->source_address ? 1 : 0);
    if (e->source_address)
        put_text(&enc, e->source_address);
    put_bytes(&enc, prev_hash, BW_SHA256_LEN);
    /* Longer than any record the writer makes: only a changed database
     * holds such a thing. */
    if (enc.overflow)
        return BW_ETOOLARGE;
    return bw_crypto_sha256(buf, enc.len, out);
}

int audit_row_mac(struct bw_crypto_mac *mac, const uint8_t hash[BW_SHA256_LEN],
                  uint8_t out[BW_SHA256_LEN])
{
    return bw_crypto_mac_compute(mac, hash, BW_SHA256_LEN, out);
}

void audit_checkpoint_message(uint64_t seq, int64_t ts_us, const uint8_t hash[BW_SHA256_LEN],
                              uint8_t out[AUDIT_CHECKPOINT_MSG_LEN])
{
    memcpy(out, checkpoint_magic, 8);
    for (int i = 0; i < 8; i++) {
        out[8 + i] = (uint8_t)(seq >> (56 - 8 * i));
        out[16 + i] = (uint8_t)((uint64_t)ts_us >> (56 - 8 * i));
    }
    memcpy(out + 24, hash, BW_SHA256_LEN);
}

void audit_row_clear(struct audit_row *row)
{
    free(row->source_name);
    free(row->source_address);
    free(row->details);
    memset(row, 0, sizeof(*row));
}

void audit_row_entry(const struct audit_row *row, struct bw_audit_entry *out)
{
    *out = (struct bw_audit_entry){
        .seq = row->seq,
        .ts_us = row->ts_us,
        .category = (enum bw_audit_category)row->category,
        .event_id = row->event_id,
        .type = row->type,
        .result = (enum bw_audit_result)row->result,
        .source_kind = (enum bw_audit_source_kind)row->source_kind,
        .source_name = row->source_name,
        .source_address = row->source_address,
        .details = row->details,
    };
}
