#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Installs exactly the Debian packages that building and testing Bulwark
# need and that are missing on this machine. Safe to run repeatedly: when
# everything is present it changes nothing. Runs as root without standard
# input (CI), or through sudo for a normal user. Once the tree has a web
# interface (web/package.json), it also installs Node.js and npm and runs
# `npm ci` there.
set -eu
cd "$(dirname "$0")/.."

PACKAGES="
build-essential
cmake
pkg-config
clang
libclang-rt-14-dev
clang-format
cppcheck
libjansson-dev
libcmocka-dev
libssl-dev
openssl
libsqlite3-dev
sqlite3
rsyslog
rsyslog-openssl
python3-jsonschema
python3
e2fsprogs
util-linux
libargon2-dev
libcrack2-dev
cracklib-runtime
libqrencode-dev
libldap-dev
slapd
ldap-utils
libmodbus-dev
"
if [ -f web/package.json ]; then
    PACKAGES="$PACKAGES nodejs npm"
fi

# A command counts as present too: Node.js from another source (such as
# NodeSource's nodejs, which bundles npm) must not be replaced.
present() {
    case "$1" in
    nodejs) command -v node >/dev/null 2>&1 && return 0 ;;
    npm) command -v npm >/dev/null 2>&1 && return 0 ;;
    esac
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=""
for pkg in $PACKAGES; do
    present "$pkg" || missing="$missing $pkg"
done

if [ -z "$missing" ]; then
    echo "deps: all build and test packages are installed"
else
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=""
    elif command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "deps: missing packages:$missing" >&2
        echo "deps: not root and no sudo; install them and run again" >&2
        exit 1
    fi
    echo "deps: installing:$missing"
    # Through env, not export: sudo resets the environment, and debconf
    # must not wait for answers that no one can give.
    echo "deps: ${SUDO:+$SUDO }apt-get update"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update </dev/null
    echo "deps: ${SUDO:+$SUDO }apt-get install -y --no-install-recommends$missing"
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends $missing </dev/null
fi

if [ -f web/package.json ]; then
    echo "deps: npm ci in web/"
    (cd web && npm ci --no-audit --no-fund </dev/null)
fi
