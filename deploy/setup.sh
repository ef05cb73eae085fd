#!/usr/bin/env bash
# Installs what building and the demo need on Debian 12, and with --tests what the tests need too
# (idempotent; apt only when missing).
set -euo pipefail

packages=(
    libmosquitto-dev mosquitto mosquitto-clients   # MQTT client library, the broker, CLI clients
    libgpiod-dev gpiod                             # libgpiod v1 and its tools
    libsqlite3-dev                                 # the ledger (GRDB)
    openssl                                        # TLS test certificates
    sqlite3                                        # ledger tests write foreign databases
    procps psmisc                                  # pgrep / fuser used by scripts
)
# `--tests`: also what only the test suites use.
if [ "${1:-}" = "--tests" ]; then
    packages+=(prometheus tmux curl)               # fleet tests: a real Prometheus, watch in a terminal
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    # The Debian mosquitto package may try to start a system broker; the project never uses it.
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: swift is not on PATH (expected Swift 6.x, e.g. /opt/swift/usr/bin)"; exit 1; }
