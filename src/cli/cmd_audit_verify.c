/* SPDX-License-Identifier: Apache-2.0
 *
 * `bulwark audit verify`, `audit verify-segment` and `audit export`:
 * offline checks of the trail in a state directory (or of one segment
 * file) and export of a range as a signed segment, through
 * bw_audit_verify_with(), bw_audit_verify_segment() and bw_audit_export().
 * A trail that does not hold exits 1 naming the first bad record; so
 * does one that cannot be read, with what could not be, and a directory
 * with no trail at all. `audit verify` prints the fingerprint of the key
 * it checked signatures with, and takes what an auditor knows from
 * outside: the key to pin (--public-key) and the least record the trail
 * must reach (--min-seq). Main thread.
 */
#include "cli/internal.h"
#include "audit/audit.h"
#include "crypto/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OPT_STATE, OPT_OUT, OPT_FROM, OPT_TO };
enum { VERIFY_STATE, VERIFY_PUBLIC_KEY, VERIFY_MIN_SEQ };

static const struct bw_cli_option verify_options[] = {
    [VERIFY_STATE] = {"state", "DIR", "the state directory that holds the trail (required)"},
    [VERIFY_PUBLIC_KEY] = {"public-key", "FILE|HEX",
                           "pin the signing key: audit-sign.pub, its hex, or sha256:<fingerprint>"},
    [VERIFY_MIN_SEQ] = {"min-seq", "N",
                        "the trail must reach record N (the newest one a collector holds)"},
};

/* Prints the outcome of a check of where; returns the exit status.
 * anchor: also say where the trail's anchor stands (whole trails). */
static int print_report(const char *what, const char *where, int rc,
                        const struct bw_audit_verify_report *r, bool anchor)
{
    if (rc == BW_OK) {
        printf("%s: OK, %" PRIu64 " records, %" PRIu64 " checkpoints, %" PRIu64
               " segments, seq %" PRIu64 "..%" PRIu64,
               what, r->records, r->checkpoints, r->segments, r->first_seq, r->last_seq);
        if (anchor && r->anchor_seq)
            printf(", anchor at record %" PRIu64, r->anchor_seq);
        else if (anchor)
            printf(", no anchor (nothing signed yet)");
        printf("\n");
        return BW_CLI_EXIT_OK;
    }
    if (rc == BW_EMALFORMED && r->bad_seq) {
        printf("%s: FAILED at record %" PRIu64 ": ", what, r->bad_seq);
        bw_cli_print_safe(stdout, r->problem, strlen(r->problem));
        printf("\n");
    } else if (rc == BW_EMALFORMED) {
        printf("%s: FAILED: ", what);
        bw_cli_print_safe(stdout, r->problem, strlen(r->problem));
        printf("\n");
    } else {
        fprintf(stderr, "bulwark: %s: %s ", what,
                r->no_trail ? "nothing to verify in" : "cannot read");
        bw_cli_print_safe(stderr, where, strlen(where));
        fprintf(stderr, ": ");
        if (r->problem[0])
            bw_cli_print_safe(stderr, r->problem, strlen(r->problem));
        else
            fprintf(stderr, "%s", bw_strerror(rc));
        fprintf(stderr, "\n");
    }
    return BW_CLI_EXIT_FAIL;
}

/* A pin as text: "sha256:<64 hex>" (a fingerprint as printed here and
 * recorded in daemon.start) or 64 hex digits (the public key itself, as
 * a segment's header holds it). Into the key's SHA-256. */
static int pin_from_text(const char *text, size_t len, uint8_t out[BW_SHA256_LEN])
{
    static const char prefix[] = "sha256:";
    size_t plen = sizeof(prefix) - 1;
    if (len == plen + 2 * BW_SHA256_LEN && memcmp(text, prefix, plen) == 0)
        return bw_crypto_unhex(text + plen, 2 * BW_SHA256_LEN, out, BW_SHA256_LEN);
    uint8_t key[BW_AUDIT_PUBLIC_KEY_LEN];
    if (len != 2 * sizeof(key) || bw_crypto_unhex(text, len, key, sizeof(key)) != BW_OK)
        return BW_EMALFORMED;
    return bw_crypto_sha256(key, sizeof(key), out);
}

/* A pin from a file: the 32 raw bytes of an audit-sign.pub, or one of the
 * text forms on a line. */
static int pin_from_file(const char *path, uint8_t out[BW_SHA256_LEN])
{
    /* O_NONBLOCK: a FIFO given by mistake must not hang the command. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? BW_ENOTFOUND : BW_EIO;
    char buf[160];
    struct stat st;
    ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, buf, sizeof(buf)) : -1;
    close(fd);
    if (n < 0)
        return BW_EIO;
    size_t len = (size_t)n;
    if (len == BW_AUDIT_PUBLIC_KEY_LEN)
        return bw_crypto_sha256(buf, len, out);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
        len--;
    return pin_from_text(buf, len, out);
}

static int verify_run(const struct bw_cli_args *args)
{
    const struct bw_cli_command *cmd = &bw_cli_audit_verify_command;
    const char *state = args->values[VERIFY_STATE], *pin = args->values[VERIFY_PUBLIC_KEY];
    const char *min = args->values[VERIFY_MIN_SEQ];
    if (!state)
        return bw_cli_usage_error(cmd, "--state DIR is required");
    uint8_t key_sha256[BW_SHA256_LEN];
    struct bw_audit_verify_options options = {0};
    if (pin) {
        if (pin_from_text(pin, strlen(pin), key_sha256) != BW_OK &&
            pin_from_file(pin, key_sha256) != BW_OK)
            return bw_cli_usage_error(cmd, "--public-key needs a public key file (32 bytes), 64"
                                           " hex digits or sha256:<64 hex digits>");
        options.key_sha256 = key_sha256;
    }
    if (min && (bw_parse_u64(min, strlen(min), INT64_MAX, &options.min_seq) != BW_OK ||
                options.min_seq == 0))
        return bw_cli_usage_error(cmd, "--min-seq needs a record number of at least 1");
    struct bw_audit_verify_report r;
    int rc = bw_audit_verify_with(state, &options, &r);
    if (r.have_public_key) {
        char fp[BW_AUDIT_FINGERPRINT_LEN];
        bw_audit_key_fingerprint(r.public_key, fp);
        printf("audit verify: signing key %s%s\n", fp,
               r.key_pinned ? " (the pinned key)"
               : pin        ? ""
                            : " (not pinned)");
    }
    return print_report("audit verify", state, rc, &r, true);
}

const struct bw_cli_command bw_cli_audit_verify_command = {
    .name = "audit verify",
    .synopsis = "--state DIR [--public-key FILE|HEX] [--min-seq N]",
    .summary = "check the whole audit trail: archive segments, chain, MACs, checkpoints, anchor",
    .details =
        "Read-only; the daemon may be running. Prints the fingerprint of the key that\n"
        "signed the trail, then\n"
        "  audit verify: OK, N records, C checkpoints, S segments, seq A..B, anchor at record K\n"
        "and exits 0, or names the first record found bad and what is wrong there\n"
        "  audit verify: FAILED at record N: <problem>\n"
        "and exits 1. A trail or keys that cannot be read, or a directory without any\n"
        "trail, also exit 1. Anyone who can write the state directory can replace the\n"
        "keys and re-sign a trail: pin the key with --public-key (keep its fingerprint\n"
        "apart from the server), and pass --min-seq with the newest record known from\n"
        "outside (collector, exported segment) to notice a trail removed entirely.",
    .options = verify_options,
    .option_count = BW_ARRAY_LEN(verify_options),
    .run = verify_run,
};

static const struct bw_cli_option segment_options[] = {
    [OPT_STATE] = {"state", "DIR", "also check MACs and the signer with this trail's keys"},
};

static int segment_run(const struct bw_cli_args *args)
{
    struct bw_audit_verify_report r;
    int rc = bw_audit_verify_segment(args->args[0], args->values[OPT_STATE], &r);
    int status = print_report("audit verify-segment", args->args[0], rc, &r, false);
    if (rc == BW_OK && !args->values[OPT_STATE])
        printf("signature checked against the key the file carries; compare its public_key\n"
               "with the trail's keys/audit-sign.pub, or pass --state DIR\n");
    return status;
}

const struct bw_cli_command bw_cli_audit_verify_segment_command = {
    .name = "audit verify-segment",
    .synopsis = "FILE [--state DIR]",
    .summary = "check one segment file (archived or exported) on its own",
    .details = "Checks the file's signature and the chain of records inside it. With --state,\n"
               "the signature must be by that trail's key and each record's MAC must hold\n"
               "under its MAC key. Output and exit status as for `audit verify`.",
    .options = segment_options,
    .option_count = BW_ARRAY_LEN(segment_options),
    .min_args = 1,
    .max_args = 1,
    .run = segment_run,
};

static const struct bw_cli_option export_options[] = {
    [OPT_STATE] = {"state", "DIR", "the state directory that holds the trail (required)"},
    [OPT_OUT] = {"out", "FILE", "the segment file to create; must not exist (required)"},
    [OPT_FROM] = {"from-seq", "N", "first record to export (default: the oldest in audit.db)"},
    [OPT_TO] = {"to-seq", "M", "last record to export (default: the newest)"},
};

static int parse_seq(const char *text, const char *option, uint64_t *out)
{
    if (bw_parse_u64(text, strlen(text), INT64_MAX, out) == BW_OK && *out > 0)
        return BW_CLI_EXIT_OK;
    return bw_cli_usage_error(&bw_cli_audit_export_command,
                              "--%s needs a record number of at least 1", option);
}

static int export_run(const struct bw_cli_args *args)
{
    const struct bw_cli_command *cmd = &bw_cli_audit_export_command;
    const char *state = args->values[OPT_STATE], *out = args->values[OPT_OUT];
    if (!state || !out)
        return bw_cli_usage_error(cmd, "--state DIR and --out FILE are required");
    uint64_t first = 1, last = INT64_MAX;
    if (args->values[OPT_FROM] && parse_seq(args->values[OPT_FROM], "from-seq", &first))
        return BW_CLI_EXIT_USAGE;
    if (args->values[OPT_TO] && parse_seq(args->values[OPT_TO], "to-seq", &last))
        return BW_CLI_EXIT_USAGE;
    if (last < first)
        return bw_cli_usage_error(cmd, "--to-seq is before --from-seq");
    struct bw_audit_export_info info;
    int rc = bw_audit_export(state, first, last, out, &info);
    switch (rc) {
    case BW_OK: {
        printf("audit export: %" PRIu64 " records written to %s\n", info.records, out);
        uint64_t seq = 0;
        rc = bw_cli_export_record(state, out, &info, &seq);
        if (rc == BW_OK) {
            printf("audit export: recorded in the trail as audit.exported, record %" PRIu64 "\n",
                   seq);
            return BW_CLI_EXIT_OK;
        }
        bw_cli_errorf("audit export: %s was written but the export could not be recorded in the "
                      "trail (%s)",
                      out, bw_strerror(rc));
        return BW_CLI_EXIT_FAIL;
    }
    case BW_EEXIST:
        bw_cli_errorf("audit export: %s exists; it is never overwritten", out);
        break;
    case BW_ENOTFOUND:
        bw_cli_errorf("audit export: no records in that range (or no trail or keys in %s)", state);
        break;
    case BW_EMALFORMED:
        bw_cli_errorf("audit export: the records do not verify; run `bulwark audit verify`");
        break;
    case BW_EDENIED:
        bw_cli_errorf("audit export: the signing key in %s/keys is refused (a link, or open to"
                      " other users)",
                      state);
        break;
    default:
        bw_cli_errorf("audit export: %s", bw_strerror(rc));
        break;
    }
    return BW_CLI_EXIT_FAIL;
}

const struct bw_cli_command bw_cli_audit_export_command = {
    .name = "audit export",
    .synopsis = "--state DIR --out FILE [--from-seq N] [--to-seq M]",
    .summary = "write a range of the trail as a new signed segment file",
    .details = "For write-once media or an auditor. Needs the signing key, so run it as the\n"
               "daemon's user. The records are checked before they are signed; a range that\n"
               "does not verify is refused. The file carries the public key that checks it\n"
               "(`bulwark audit verify-segment FILE`).",
    .options = export_options,
    .option_count = BW_ARRAY_LEN(export_options),
    .run = export_run,
};
