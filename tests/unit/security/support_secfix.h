/* SPDX-License-Identifier: Apache-2.0
 *
 * Test support for the security module: a fresh state directory with a
 * real audit trail and a security context under the default policy
 * (with Argon2id parameters lowered so that tests run fast; the project
 * loader would refuse them), helpers to add accounts, and a counter of
 * audit records read back from the trail. Single thread unless a test
 * says otherwise.
 */
#ifndef BW_TEST_SUPPORT_SECFIX_H
#define BW_TEST_SUPPORT_SECFIX_H

#include "security/internal.h"

struct secfix {
    char dir[256];
    struct bw_project_security policy;
    struct bw_audit *audit;
    struct bw_security *sec;
};

/* Opens a fixture; adjust (may be NULL) changes the policy before the
 * context opens. Returns BW_OK or the failing call's error. */
BW_MUST_CHECK int secfix_open(struct secfix *f, void (*adjust)(struct bw_project_security *p));
/* Closes the context and the trail; keeps the directory. */
void secfix_close_context(struct secfix *f);
/* Reopens the context and trail on the same directory and policy. */
BW_MUST_CHECK int secfix_reopen(struct secfix *f);
/* Closes everything and removes the directory. */
void secfix_close(struct secfix *f);

/* Adds an account from the terminal with roles given as "a,b" (may be
 * NULL) and the password; clears must-change so it can log in. */
BW_MUST_CHECK int secfix_add(struct secfix *f, const char *name, const char *roles,
                             const char *password);
/* Logs name in from address; returns the outcome, token into token
 * (BW_SECURITY_TOKEN_LEN + 1 bytes, may be NULL). */
enum bw_security_login_outcome secfix_login(struct secfix *f, const char *name,
                                            const char *password, const char *address, char *token);

/* Records with this event ID (and result when non-zero, source name when
 * non-NULL) now on the trail. */
size_t secfix_count(struct secfix *f, uint32_t event_id, enum bw_audit_result result,
                    const char *source);
/* The details text of the newest record with this event ID into out
 * ("" when none). */
void secfix_last_details(struct secfix *f, uint32_t event_id, char *out, size_t size);

/* cmocka setup/teardown with the default policy: *state is a struct secfix. */
int secfix_setup(void **state);
int secfix_teardown(void **state);

#endif
