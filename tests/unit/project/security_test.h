/* SPDX-License-Identifier: Apache-2.0
 *
 * What the unit tests of the project's security section share: JSON
 * builders (written with ' for ", see project_test.h) and the reasons
 * the loader gives. Include after project_test.h.
 */
#ifndef BW_TEST_PROJECT_SECURITY_TEST_H
#define BW_TEST_PROJECT_SECURITY_TEST_H

#define P(perm) (1u << (perm))
#define SEC(s) "{'format':1,'name':'p','security':{" s "}}"
#define PW(s) SEC("'password':{" s "}")
#define ARGON(s) PW("'argon2':{" s "}")
#define LOCK(s) SEC("'lockout':{" s "}")
#define SESS(s) SEC("'sessions':{" s "}")
#define ROLES(s) SEC("'roles':[" s "]")
#define LDAP_OK                                                                                    \
    "'url':'ldaps://dir.example:636','ca_file':'ca.pem','user_base':'ou=people,dc=example',"       \
    "'user_filter':'(uid=%s)'"
#define LDAP(s) SEC("'ldap':{" s "}")
#define LDAP_WITH(s) LDAP(LDAP_OK "," s)
#define TAGW(w)                                                                                    \
    "{'format':1,'name':'p','tags':[{'name':'a','type':'int','access':{'write':{'level':1,"        \
    "'areas':[1]" w "}}}]}"
#define A16 "aaaaaaaaaaaaaaaa"
#define PERMS                                                                                      \
    "tag.read, tag.write, alarm.ack, alarm.shelve, user.manage, audit.read, config.change, "       \
    "backup.run, session.manage, override"
#define BAD_ROLE_NAME                                                                              \
    "is not a valid role name (letters, digits, _, . and - only, starting with a letter)"
#define NOT_URL "is not an LDAP URL (ldaps://host[:port] or ldap://host[:port])"

#endif
