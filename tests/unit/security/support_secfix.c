/* SPDX-License-Identifier: Apache-2.0
 *
 * The security tests' fixture (support_secfix.h). Single thread.
 */
#include "support_secfix.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Fast parameters for tests only: the loader refuses anything below
 * m=19 MiB, t=2; the code paths are the same. */
#define TEST_MEMORY_KIB 256
#define TEST_ITERATIONS 1

static int open_parts(struct secfix *f)
{
    struct bw_audit_config cfg;
    bw_audit_config_defaults(&cfg, f->dir);
    int rc = bw_audit_open(&cfg, &f->audit);
    if (rc)
        return rc;
    struct bw_security_config sc = {
        .state_dir = f->dir, .policy = &f->policy, .project_dir = f->dir, .audit = f->audit};
    return bw_security_open(&sc, &f->sec);
}

int secfix_open(struct secfix *f, void (*adjust)(struct bw_project_security *p))
{
    memset(f, 0, sizeof(*f));
    bw_strlcpy(f->dir, "/tmp/bw-sec-XXXXXX", sizeof(f->dir));
    if (!mkdtemp(f->dir))
        return BW_EIO;
    int rc = bw_project_security_defaults(&f->policy);
    if (rc)
        return rc;
    f->policy.password.argon2_memory_kib = TEST_MEMORY_KIB;
    f->policy.password.argon2_iterations = TEST_ITERATIONS;
    if (adjust)
        adjust(&f->policy);
    return open_parts(f);
}

void secfix_close_context(struct secfix *f)
{
    bw_security_close(f->sec);
    f->sec = NULL;
    bw_audit_close(f->audit);
    f->audit = NULL;
}

int secfix_reopen(struct secfix *f)
{
    secfix_close_context(f);
    return open_parts(f);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void secfix_close(struct secfix *f)
{
    secfix_close_context(f);
    bw_project_security_clear(&f->policy);
    if (f->dir[0])
        nftw(f->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    f->dir[0] = '\0';
}

int secfix_add(struct secfix *f, const char *name, const char *roles, const char *password)
{
    const char *list[16];
    size_t count = 0;
    char copy[512] = "";
    if (roles) {
        bw_strlcpy(copy, roles, sizeof(copy));
        char *p = copy;
        while (*p && count < 16) {
            list[count++] = p;
            char *comma = strchr(p, ',');
            if (!comma)
                break;
            *comma = '\0';
            p = comma + 1;
        }
    }
    struct bw_security_user_change change = {
        .set_roles = roles != NULL, .roles = list, .role_count = count};
    struct bw_security_actor actor = {.os_user = "test"};
    char why[256];
    int rc = bw_security_user_add(f->sec, &actor, name, &change, password,
                                  password ? strlen(password) : 0, why, sizeof(why));
    if (rc) {
        fprintf(stderr, "secfix_add %s: %s (%s)\n", name, bw_strerror(rc), why);
        return rc;
    }
    struct sec_user u;
    rc = sec_store_user_load(f->sec, name, &u);
    if (rc == BW_OK) {
        u.info.must_change_password = false;
        rc = sec_store_user_update(f->sec, &u);
    }
    return rc;
}

enum bw_security_login_outcome secfix_login(struct secfix *f, const char *name,
                                            const char *password, const char *address, char *token)
{
    struct bw_security_login_request req = {.user = name,
                                            .password = password,
                                            .password_len = password ? strlen(password) : 0,
                                            .address = address};
    struct bw_security_login_result res;
    if (bw_security_login(f->sec, &req, &res) != BW_OK)
        return BW_SECURITY_LOGIN_FAILED;
    if (token)
        bw_strlcpy(token, res.token, BW_SECURITY_TOKEN_LEN + 1);
    return res.outcome;
}

struct count_ctx {
    enum bw_audit_result result;
    const char *source;
    size_t count;
    char *details;
    size_t size;
};

static int count_one(const struct bw_audit_entry *e, void *ctx)
{
    struct count_ctx *c = ctx;
    if (c->result && e->result != c->result)
        return 0;
    if (c->source && strcmp(e->source_name, c->source) != 0)
        return 0;
    c->count++;
    if (c->details)
        bw_strlcpy(c->details, e->details ? e->details : "", c->size);
    return 0;
}

static void scan(struct secfix *f, uint32_t event_id, struct count_ctx *c)
{
    struct bw_audit_reader *reader = NULL;
    if (bw_audit_reader_open(f->dir, &reader) != BW_OK)
        return;
    struct bw_audit_filter filter;
    bw_audit_filter_init(&filter);
    filter.events[0] = event_id;
    filter.event_count = 1;
    filter.limit = BW_AUDIT_QUERY_MAX_LIMIT;
    uint64_t next = 0;
    do {
        if (bw_audit_query(reader, &filter, count_one, c, &next) != BW_OK)
            break;
        filter.cursor = next;
    } while (next != 0);
    bw_audit_reader_free(reader);
}

size_t secfix_count(struct secfix *f, uint32_t event_id, enum bw_audit_result result,
                    const char *source)
{
    struct count_ctx c = {.result = result, .source = source};
    scan(f, event_id, &c);
    return c.count;
}

void secfix_last_details(struct secfix *f, uint32_t event_id, char *out, size_t size)
{
    out[0] = '\0';
    struct count_ctx c = {.details = out, .size = size};
    scan(f, event_id, &c);
}

int secfix_setup(void **state)
{
    struct secfix *f = calloc(1, sizeof(*f));
    if (!f || secfix_open(f, NULL) != BW_OK) {
        if (f)
            secfix_close(f);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

int secfix_teardown(void **state)
{
    struct secfix *f = *state;
    secfix_close(f);
    free(f);
    return 0;
}
