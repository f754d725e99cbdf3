/* SPDX-License-Identifier: Apache-2.0
 *
 * The project's password rules (SR 1.5, 1.7): length in characters,
 * required character classes, not containing the user name, and
 * libcrack2's dictionary check. A refusal names the rule it broke and
 * never echoes the password. History and lifetime need the account and
 * are checked in admin.c. libcrack2 is asked about the account being
 * given the password (its name and full name), never about the process's
 * own passwd entry, which the daemon's user may not even have (systemd
 * DynamicUser). Any thread (libcrack2, which keeps static state, is
 * called under a lock).
 */
#include "security/internal.h"

#include <crack.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t crack_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned class_of(unsigned char c)
{
    if (c >= 'a' && c <= 'z')
        return BW_PWCLASS_LOWER;
    if (c >= 'A' && c <= 'Z')
        return BW_PWCLASS_UPPER;
    if (c >= '0' && c <= '9')
        return BW_PWCLASS_DIGIT;
    /* Punctuation, spaces and every non-ASCII character. */
    return BW_PWCLASS_SYMBOL;
}

static char fold(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive (ASCII) search for needle in hay. */
static bool contains_folded(const char *hay, size_t hay_len, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0 || n > hay_len)
        return false;
    for (size_t i = 0; i + n <= hay_len; i++) {
        size_t j = 0;
        while (j < n && fold(hay[i + j]) == fold(needle[j]))
            j++;
        if (j == n)
            return true;
    }
    return false;
}

static int refuse(char *why, size_t size, const char *text)
{
    bw_strlcpy(why, text, size);
    return BW_ERANGE;
}

static const char *class_names[] = {"a lower-case letter", "an upper-case letter", "a digit",
                                    "a symbol"};

/* libcrack2's checks against the dictionary and against the account:
 * FascistCheckUser with a user name given looks up no passwd entry
 * (FascistCheck would look up the calling process's, and refuse every
 * password when there is none). */
static int dictionary_check(const char *user, const char *full_name, const char *password,
                            size_t len, char *why, size_t size)
{
    char *copy = bw_strndup(password, len);
    if (!copy)
        return BW_ENOMEM;
    pthread_mutex_lock(&crack_lock);
    const char *msg = FascistCheckUser(copy, GetDefaultCracklibDict(), user ? user : "",
                                       full_name ? full_name : "");
    char reason[160] = "";
    if (msg)
        bw_strlcpy(reason, msg, sizeof(reason));
    pthread_mutex_unlock(&crack_lock);
    bw_crypto_wipe(copy, len);
    bw_free(copy);
    if (!msg)
        return BW_OK;
    char text[256];
    if (bw_snprintf(text, sizeof(text), "the password is refused by the dictionary check (%s)",
                    reason))
        bw_strlcpy(text, "the password is refused by the dictionary check", sizeof(text));
    return refuse(why, size, text);
}

int sec_password_rules_check(const struct bw_project_password_policy *policy, const char *user,
                             const char *full_name, const char *password, size_t len, char *why,
                             size_t why_size)
{
    if (!bw_utf8_valid(password, len) || memchr(password, '\0', len)) {
        bw_strlcpy(why, "the password is not valid UTF-8 text", why_size);
        return BW_EMALFORMED;
    }
    size_t chars = 0;
    unsigned classes = 0;
    for (size_t i = 0; i < len;) {
        size_t n = bw_utf8_char_len(password + i, len - i);
        classes |= class_of((unsigned char)password[i]);
        i += n ? n : 1;
        chars++;
    }
    char text[256];
    if (chars < policy->min_length) {
        if (bw_snprintf(text, sizeof(text), "the password is shorter than %u characters",
                        policy->min_length))
            text[0] = '\0';
        return refuse(why, why_size, text);
    }
    if (chars > policy->max_length) {
        if (bw_snprintf(text, sizeof(text), "the password is longer than %u characters",
                        policy->max_length))
            text[0] = '\0';
        return refuse(why, why_size, text);
    }
    for (unsigned i = 0; i < 4; i++) {
        unsigned bit = 1u << i;
        if ((policy->require_classes & bit) && !(classes & bit)) {
            if (bw_snprintf(text, sizeof(text), "the password must contain %s", class_names[i]))
                text[0] = '\0';
            return refuse(why, why_size, text);
        }
    }
    unsigned have = (unsigned)__builtin_popcount(classes);
    if (have < policy->min_classes) {
        if (bw_snprintf(text, sizeof(text),
                        "the password must mix at least %u of: lower-case letters, upper-case "
                        "letters, digits, symbols",
                        policy->min_classes))
            text[0] = '\0';
        return refuse(why, why_size, text);
    }
    if (policy->reject_user_name && user && strlen(user) >= 3 &&
        contains_folded(password, len, user))
        return refuse(why, why_size, "the password must not contain the user name");
    if (policy->dictionary_check)
        return dictionary_check(user, full_name, password, len, why, why_size);
    return BW_OK;
}
