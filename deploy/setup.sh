#!/usr/bin/env bash
# Installs what building, the demo and deploy/install.sh need on Debian 12; with --tests also what
# the test command's stages need, with --bench what Benchmarks/run needs, with --fleet what the fleet
# tools' static release build needs (deploy/install.sh --fleet). Flags combine.
# Idempotent: apt only when something is missing. Works as root, or as a user with sudo (sudo is
# used only when not root). When it cannot install, it says exactly what is missing and stops.
# Tests/fresh-machine/run.sh checks on a pristine Debian 12 root that this list is complete.
set -euo pipefail

packages=(
    libmosquitto-dev mosquitto mosquitto-clients   # MQTT client library, the broker, CLI clients
    libgpiod-dev gpiod                             # libgpiod v1 and its tools
    libsqlite3-dev                                 # the ledger (GRDB)
    openssl                                        # TLS test certificates
    sqlite3                                        # ledger tests write foreign databases
    procps psmisc                                  # pgrep / fuser used by scripts
    libstdc++-12-dev                               # --static-swift-stdlib links libstdc++ (release, qemu selftest)
)
for arg in "$@"; do
    case "$arg" in
        --tests)
            # python3: Tests/fleet (JSON checks, dashboards); systemd: systemd-analyze in
            # Tests/reliability; prometheus, curl, tmux: Tests/fleet.
            packages+=(python3 systemd prometheus tmux curl) ;;
        --fleet)
            # rlt-fleet's exporter (FlyingFox) imports FoundationNetworking, which links libcurl: a
            # --static-swift-stdlib build needs the -dev package's libcurl.so (debug builds link the
            # libcurl.so.4 every Swift toolchain needs anyway). rlt-gateway links none of it.
            packages+=(libcurl4-openssl-dev) ;;
        --bench)
            # cc for the C floor and load generator; python3 + venv for the paho-mqtt peer.
            packages+=(gcc libc6-dev python3 python3-venv) ;;
        *) echo "setup: unknown argument '$arg' (expected --tests, --bench, --fleet)" >&2; exit 2 ;;
    esac
done

command -v dpkg-query >/dev/null && command -v apt-get >/dev/null ||
    { echo "setup: apt-get/dpkg not found: this project installs Debian 12 packages: ${packages[*]}" >&2; exit 1; }
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null; then
            SUDO=(sudo)
        else
            echo "setup: missing Debian packages: ${missing[*]}" >&2
            echo "setup: not root and no sudo: as root run 'apt-get install ${missing[*]}', then run this again" >&2
            exit 1
        fi
    fi
    # The Debian mosquitto package may try to start a system broker; the project never uses it.
    if ! { "${SUDO[@]}" apt-get update -qq &&
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
        echo "setup: could not install: ${missing[*]} (apt-get failed, see above); install them, then run this again" >&2
        exit 1
    fi
fi
command -v swift >/dev/null || { echo "setup: swift is not on PATH (expected Swift 6.2+, e.g. /opt/swift/usr/bin)" >&2; exit 1; }
