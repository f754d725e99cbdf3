/* SPDX-License-Identifier: Apache-2.0
 *
 * `bulwark historian`: checking the process history. `historian verify`
 * holds STATE/history.db against the seals made under the historian's
 * key (bw_history_verify) and names the tag and time range of every
 * changed, deleted or inserted sample it finds. Read-only; the daemon
 * may be running. Main thread.
 */
#include "cli/internal.h"
#include "crypto/crypto.h"
#include "store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Problems printed (or put in the JSON) at most; the rest are counted. */
#define MAX_SHOWN 1000u

enum { OPT_STATE, OPT_JSON };

static const struct bw_cli_option verify_options[] = {
    [OPT_STATE] = {"state", "DIR", "the state directory that holds history.db (required)"},
    [OPT_JSON] = {"json", NULL, "print the result as JSON"},
};

static const struct bw_cli_command verify_command;

struct shown {
    json_t *list; /* --json: the problems; NULL: print them */
    uint64_t count;
    bool nomem;
};

static json_t *time_json(int64_t us, bool open)
{
    if (open)
        return json_null();
    char text[BW_TIME_TEXT_MAX];
    return json_string(bw_time_format_utc(us, text));
}

static void on_problem(void *ctx, const struct bw_history_problem *p)
{
    struct shown *s = ctx;
    if (s->count++ >= MAX_SHOWN)
        return;
    if (!s->list) {
        bw_cli_print_safe(stdout, p->what, strlen(p->what));
        printf("\n");
        return;
    }
    json_t *o = json_pack("{s:s, s:o, s:o}", "what", p->what, "from",
                          time_json(p->from_us, p->from_us == INT64_MIN), "to",
                          time_json(p->to_us, p->to_us == INT64_MAX));
    if (o && p->tag[0] && json_object_set_new(o, "tag", json_string(p->tag)) != 0) {
        json_decref(o);
        o = NULL;
    }
    if (!o || json_array_append_new(s->list, o) != 0)
        s->nomem = true;
}

static int print_json(const struct shown *s, const struct bw_history_verify_stats *st)
{
    json_t *o = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:O}", "ok", st->problems == 0, "chunks",
                          (json_int_t)st->chunks, "samples", (json_int_t)st->samples, "batches",
                          (json_int_t)st->batches, "partitions", (json_int_t)st->partitions,
                          "problem_count", (json_int_t)st->problems, "problems", s->list);
    if (!o || s->nomem) {
        json_decref(o);
        bw_cli_errorf("historian verify: out of memory");
        return BW_CLI_EXIT_FAIL;
    }
    int status = bw_cli_print_json(o);
    json_decref(o);
    return status;
}

static int verify_run(const struct bw_cli_args *args)
{
    const struct bw_cli_command *cmd = &verify_command;
    const char *state = args->values[OPT_STATE];
    bool json = args->values[OPT_JSON] != NULL;
    if (!state)
        return bw_cli_usage_error(cmd, "--state DIR is required");
    char path[4200];
    struct stat sb;
    if (bw_snprintf(path, sizeof(path), "%s/history.db", state) != BW_OK)
        return bw_cli_usage_error(cmd, "--state DIR is too long");
    if (stat(path, &sb) != 0) {
        bw_cli_errorf("historian verify: no history in %s (history.db: %s)", state,
                      strerror(errno));
        return BW_CLI_EXIT_FAIL;
    }
    uint8_t key[BW_STORE_KEY_LEN];
    int rc = bw_store_key_load(state, false, key);
    if (rc) {
        bw_cli_errorf(
            "historian verify: cannot load the history key %s/keys/history-mac.key: %s", state,
            rc == BW_EDENIED ? "the keys directory is open to other users" : bw_strerror(rc));
        return BW_CLI_EXIT_FAIL;
    }
    struct shown s = {.list = json ? json_array() : NULL};
    struct bw_history_verify_stats st;
    rc = json && !s.list ? BW_ENOMEM
                         : bw_history_verify(path, key, sizeof(key), on_problem, &s, &st);
    bw_crypto_wipe(key, sizeof(key));
    if (rc) {
        json_decref(s.list);
        bw_cli_errorf("historian verify: cannot read %s: %s", path, bw_strerror(rc));
        return BW_CLI_EXIT_FAIL;
    }
    int status = st.problems ? BW_CLI_EXIT_FAIL : BW_CLI_EXIT_OK;
    if (json) {
        int printed = print_json(&s, &st);
        json_decref(s.list);
        return printed ? printed : status;
    }
    if (st.problems > MAX_SHOWN)
        printf("... and %" PRIu64 " more\n", st.problems - MAX_SHOWN);
    if (st.problems)
        printf("historian verify: FAILED, %" PRIu64 " problem%s\n", st.problems,
               st.problems == 1 ? "" : "s");
    else
        printf("historian verify: OK, %" PRIu64 " chunks, %" PRIu64 " samples, %" PRIu64
               " batches, %" PRIu64 " partitions\n",
               st.chunks, st.samples, st.batches, st.partitions);
    return status;
}

static const struct bw_cli_command verify_command = {
    .name = "historian verify",
    .synopsis = "--state DIR [--json]",
    .summary = "check the process history against its seals",
    .details = "Read-only; the daemon may be running (the check reads one snapshot). Holds\n"
               "every chunk, minute aggregate, recent batch and partition of STATE/history.db\n"
               "against the HMACs made under STATE/keys/history-mac.key, and the chains between\n"
               "them, and prints each changed, deleted or inserted sample found with its tag and\n"
               "time range, then\n"
               "  historian verify: OK, N chunks, M samples, K batches, P partitions\n"
               "and exits 0, or\n"
               "  historian verify: FAILED, X problems\n"
               "and exits 1 (at most 1000 problems are listed). A history or key that cannot be\n"
               "read also exits 1. Anyone who holds the key can forge a history: keep it, and\n"
               "copies of the history, apart.",
    .options = verify_options,
    .option_count = BW_ARRAY_LEN(verify_options),
    .run = verify_run,
};

static const struct bw_cli_command *const historian_subs[] = {
    &verify_command,
};

const struct bw_cli_command bw_cli_historian_command = {
    .name = "historian",
    .synopsis = "COMMAND ...",
    .summary = "check the process history",
    .subs = historian_subs,
    .sub_count = BW_ARRAY_LEN(historian_subs),
};
