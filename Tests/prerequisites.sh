#!/usr/bin/env bash
# What the test command needs before it installs or builds anything, checked up front so a missing
# prerequisite is said in one place instead of discovered half an hour in.
#
# Checks: Debian's apt/dpkg; root, or sudo without a password (apt installs, the reliability suite's
# tmpfs mounts, the Home Assistant test's private network namespace); Swift 6.1 or newer on PATH;
# a Python 3.13 for the Home Assistant stage (unless RLT_SKIP_HA=1). Prints every problem with how to
# fix it and exits 1 when there is any; prints one line per check otherwise.
set -uo pipefail
problems=()
ok() { echo "prerequisites: $1"; }

if command -v apt-get >/dev/null && command -v dpkg-query >/dev/null; then
    ok "Debian packaging tools found ($(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"))"
else
    problems+=("apt-get/dpkg not found: the test command installs Debian packages (Debian 12 is the reference)")
fi

if [ "$(id -u)" -eq 0 ]; then
    ok "running as root"
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    ok "sudo without a password is available"
else
    problems+=("needs root (apt installs, tmpfs mounts, network namespaces): run as root, or give this user
    passwordless sudo, e.g. 'echo \"$(id -un) ALL=(ALL) NOPASSWD:ALL\" | sudo tee /etc/sudoers.d/rlt-tests'")
fi

if command -v swift >/dev/null; then
    version=$(swift --version 2>/dev/null | sed -n 's/.*Swift version \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' | head -n 1)
    major=${version%%.*}; minor=${version#*.}
    if [ -n "$version" ] && { [ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 2 ]; }; }; then
        ok "Swift $version"
    else
        problems+=("Swift ${version:-of unknown version} found; the package's dependencies need Swift 6.2 or newer")
    fi
else
    problems+=("swift is not on PATH: install a Swift 6.2+ toolchain from swift.org and add its usr/bin to PATH
    (this machine type keeps it in /opt/swift/usr/bin)")
fi

if [ "${RLT_SKIP_HA:-0}" != "1" ]; then
    python=""
    if [ -n "${RLT_HA_PYTHON:-}" ]; then
        candidates=("$RLT_HA_PYTHON")   # said explicitly: that one or nothing
    else
        candidates=(/root/.pyenv/versions/3.13.*/bin/python3.13 "${HOME:-/root}"/.pyenv/versions/3.13.*/bin/python3.13
            "$(command -v python3.13 || true)")
    fi
    for candidate in "${candidates[@]}"; do
        if [ -x "$candidate" ]; then python=$candidate; break; fi
    done
    if [ -n "$python" ] && [ -x "$python" ]; then
        ok "Python 3.13 for Home Assistant: $python"
    else
        problems+=("no Python 3.13 for the Home Assistant stage (Debian 12 ships 3.11): install one with pyenv
    ('pyenv install 3.13'), or point RLT_HA_PYTHON at a python3.13, or skip that stage with RLT_SKIP_HA=1")
    fi
fi

if [ ${#problems[@]} -gt 0 ]; then
    echo "prerequisites: ${#problems[@]} missing:" >&2
    for problem in "${problems[@]}"; do echo "  - $problem" >&2; done
    exit 1
fi
