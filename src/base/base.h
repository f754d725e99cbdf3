/* SPDX-License-Identifier: Apache-2.0
 *
 * base: the public face of the foundation module. Error codes, bounded
 * allocation with failure injection for tests, the clock (real or fake),
 * logging to standard error, bounded buffers and strict number parsers.
 * Everything here is safe to call from any thread unless a comment says
 * otherwise.
 */
#ifndef BW_BASE_H
#define BW_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BW_MUST_CHECK __attribute__((warn_unused_result))
#define BW_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define BW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- errors ---------------------------------------------------------- */

enum bw_err {
    BW_OK = 0,
    BW_ENOMEM,     /* allocation failed */
    BW_EINVAL,     /* caller passed an invalid argument */
    BW_EMALFORMED, /* external input is malformed */
    BW_ETOOLARGE,  /* input exceeds a size limit */
    BW_EDENIED,    /* not permitted */
    BW_EIO,        /* operating-system I/O failed */
    BW_ETIMEOUT,   /* a deadline passed */
    BW_ENOTFOUND,  /* the named thing does not exist */
    BW_EEXIST,     /* the thing already exists */
    BW_EFULL,      /* a bounded queue or table is full */
    BW_EBUSY,      /* the resource is held by someone else */
    BW_ERANGE,     /* a value is outside its allowed range */
    BW_ETYPE,      /* a value has the wrong type */
    BW_ESTATE,     /* the object is in the wrong state for the call */
    BW_ERR_COUNT_
};

/* Returns a static, human-readable text for an error code. */
const char *bw_strerror(int err);

/* ---- allocation ------------------------------------------------------ */

/* Thin wrappers over malloc and friends that tests can make fail: after
 * bw_alloc_fail_after(n) the (n+1)-th following allocation returns NULL,
 * as do all after it until bw_alloc_fail_after(-1). Thread-safe. */
void *bw_malloc(size_t size);
void *bw_calloc(size_t count, size_t size);
void *bw_realloc(void *ptr, size_t size);
void bw_free(void *ptr);
/* Copies at most len bytes of s into a new NUL-terminated string. */
char *bw_strndup(const char *s, size_t len);
char *bw_strdup(const char *s);
void bw_alloc_fail_after(long count);

/* ---- clock ----------------------------------------------------------- */

/* Wall-clock time, UTC, in microseconds since the Unix epoch. */
int64_t bw_clock_realtime_us(void);
/* Monotonic time in microseconds; only differences are meaningful. */
int64_t bw_clock_monotonic_us(void);
/* Tests only: freeze both clocks at the given values, advance them, or
 * return to the system clocks. */
void bw_clock_fake_set(int64_t realtime_us, int64_t monotonic_us);
void bw_clock_fake_advance(int64_t delta_us);
void bw_clock_fake_disable(void);
/* Formats a UTC timestamp as 2026-12-03T19:09:56.123456Z into out, which
 * must hold BW_TIME_TEXT_MAX bytes. Returns out. */
#define BW_TIME_TEXT_MAX 32
char *bw_time_format_utc(int64_t realtime_us, char *out);

/* ---- logging --------------------------------------------------------- */

enum bw_log_level { BW_LOG_ERROR = 0, BW_LOG_WARN, BW_LOG_INFO, BW_LOG_DEBUG };

enum bw_log_category {
    BW_LOGC_MAIN = 0,
    BW_LOGC_ENGINE,
    BW_LOGC_DRIVER,
    BW_LOGC_PROJECT,
    BW_LOGC_CONTROL,
    BW_LOGC_SECURITY,
    BW_LOGC_NETWORK,
    BW_LOGC_AUDIT,
    BW_LOGC_STORE,
    BW_LOGC_COUNT_
};

void bw_log_set_level(enum bw_log_level level);
enum bw_log_level bw_log_get_level(void);
/* Writes one line to standard error: UTC time, level, category, message.
 * Use the bw_log() macro, which tests the level before formatting. Never
 * pass a secret. */
void bw_log_write(enum bw_log_level level, enum bw_log_category cat, const char *fmt, ...)
    BW_PRINTF(3, 4);
#define bw_log(level, cat, ...)                                                                    \
    do {                                                                                           \
        if ((level) <= bw_log_get_level())                                                         \
            bw_log_write((level), (cat), __VA_ARGS__);                                             \
    } while (0)

/* ---- bounded buffers ------------------------------------------------- */

/* A growable byte buffer with a maximum fixed at birth; data is always
 * NUL-terminated. Appends past the maximum fail with BW_ETOOLARGE and
 * leave the buffer unchanged. */
struct bw_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
};

void bw_buf_init(struct bw_buf *buf, size_t max);
void bw_buf_clear(struct bw_buf *buf); /* frees the memory */
void bw_buf_reset(struct bw_buf *buf); /* keeps the memory, len = 0 */
BW_MUST_CHECK int bw_buf_append(struct bw_buf *buf, const void *data, size_t len);
BW_MUST_CHECK int bw_buf_append_str(struct bw_buf *buf, const char *s);
BW_MUST_CHECK int bw_buf_printf(struct bw_buf *buf, const char *fmt, ...) BW_PRINTF(2, 3);
BW_MUST_CHECK int bw_buf_vprintf(struct bw_buf *buf, const char *fmt, va_list ap) BW_PRINTF(2, 0);

/* Copies src into dst (size dstsize), always NUL-terminating; returns
 * strlen(src) so truncation is detectable (>= dstsize). */
size_t bw_strlcpy(char *dst, const char *src, size_t dstsize);
/* snprintf that never fails silently: returns BW_ETOOLARGE on truncation. */
BW_MUST_CHECK int bw_snprintf(char *dst, size_t size, const char *fmt, ...) BW_PRINTF(3, 4);

/* ---- strict number parsers ------------------------------------------- */

/* Parse exactly len bytes of s (no sign for unsigned, no whitespace, no
 * trailing bytes) as a decimal number within [min, max].
 * BW_EMALFORMED when it is not a number, BW_ERANGE when out of bounds. */
BW_MUST_CHECK int bw_parse_i64(const char *s, size_t len, int64_t min, int64_t max, int64_t *out);
BW_MUST_CHECK int bw_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out);
/* A finite double in plain or exponent notation. */
BW_MUST_CHECK int bw_parse_double(const char *s, size_t len, double *out);
/* Exactly len bytes of an RFC 3339 time in UTC, YYYY-MM-DDTHH:MM:SS with
 * up to six fraction digits and Z or +00:00, years 0000..9999, into
 * microseconds since 1970-01-01T00:00:00Z (negative before). BW_OK;
 * BW_EMALFORMED for text of another form, BW_ERANGE for a date or time
 * that does not exist (leap seconds included); *why (may be NULL) then
 * says why in words fit for an error message. */
/* Writes "<key>: <why>" into err (errlen bytes), and ": '<echo>'" when
 * echo is not NULL: at most 32 bytes of it, anything but printable ASCII
 * (and ' and \\) as '?', "..." when cut. key is the caller's own text.
 * Returns rc, for `return bw_param_error(...)`. */
int bw_param_error(char *err, size_t errlen, int rc, const char *key, const char *why,
                   const char *echo, size_t echo_len);
BW_MUST_CHECK int bw_parse_utc_time(const char *s, size_t len, int64_t *out, const char **why);

/* True when s[0..len) is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
bool bw_utf8_valid(const char *s, size_t len);
/* The length in bytes (1-4) of the well-formed character that starts
 * s[0..len), or 0 when none does (or len is 0). */
size_t bw_utf8_char_len(const char *s, size_t len);

/* Overflow-checked size arithmetic: returns false on overflow. */
static inline bool bw_size_mul(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool bw_size_add(size_t a, size_t b, size_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

/* ---- typed values ---------------------------------------------------- */

/* The types a tag value can have; shared vocabulary of every module. */
enum bw_type { BW_TYPE_BOOL = 0, BW_TYPE_INT, BW_TYPE_FLOAT, BW_TYPE_STRING };

/* "bool", "int", "float", "string"; "?" for an out-of-range value. */
const char *bw_type_name(enum bw_type type);

/* A typed value. For strings, v.s points to len bytes (not necessarily
 * NUL-terminated); who owns them is said where the value is passed. */
struct bw_value {
    enum bw_type type;
    union {
        bool b;
        int64_t i;
        double f;
        const char *s;
    } v;
    size_t len;
};

#endif
