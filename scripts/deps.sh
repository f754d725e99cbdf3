#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Installs exactly the Debian packages that building and testing Bulwark
# need and that are missing on this machine. Safe to run repeatedly: when
# everything is present it changes nothing. Runs as root without standard
# input (CI), or through sudo for a normal user.
set -eu

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
"

missing=""
for pkg in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
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
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update </dev/null
    # shellcheck disable=SC2086
    $SUDO apt-get install -y --no-install-recommends $missing </dev/null
fi

if [ -f web/package-lock.json ]; then
    echo "deps: npm ci in web/"
    (cd web && npm ci --no-audit --no-fund)
fi
