#!/usr/bin/env bash
# Installs rlt-gateway on a Debian 12 panel board: static release binary, config, systemd unit,
# a dedicated user in the gpio group. With --fleet, instead, the fleet tools for the machine that
# watches many panels: /usr/local/bin/rlt-fleet only (watch, exporter, stop; docs/FLEET.md); a panel
# does not need them. Run from a checkout as root, or as a user with sudo (the build runs as that
# user, only the installation steps use sudo). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin"   # groupadd, useradd: /usr/sbin is not on a non-root user's PATH
fleet=0
for arg in "$@"; do
    case "$arg" in
        --fleet) fleet=1 ;;
        *) echo "install: unknown argument '$arg' (expected nothing, or --fleet)" >&2; exit 2 ;;
    esac
done
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install: needs root: run it as root, or as a user with sudo" >&2; exit 1; }
    SUDO=(sudo)
fi
if [ "$fleet" = 1 ]; then
    bash deploy/setup.sh --fleet
    swift build -c release --product rlt-fleet --static-swift-stdlib
    "${SUDO[@]}" install -m 0755 "$(swift build -c release --show-bin-path)/rlt-fleet" /usr/local/bin/rlt-fleet
    "${SUDO[@]}" install -d /usr/share/doc/rlt-fleet && "${SUDO[@]}" install -m 0644 docs/FLEET.md /usr/share/doc/rlt-fleet/FLEET.md
    echo "installed rlt-fleet $(/usr/local/bin/rlt-fleet --version); try: rlt-fleet watch --url mqtt://BROKER:1883"
    exit 0
fi
bash deploy/setup.sh
swift build -c release --product rlt-gateway --static-swift-stdlib
bin="$(swift build -c release --show-bin-path)/rlt-gateway"
"${SUDO[@]}" install -m 0755 "$bin" /usr/local/bin/rlt-gateway
getent group gpio >/dev/null || "${SUDO[@]}" groupadd --system gpio
id rlt-gateway >/dev/null 2>&1 || "${SUDO[@]}" useradd --system --no-create-home --shell /usr/sbin/nologin --groups gpio rlt-gateway
"${SUDO[@]}" install -d -m 0750 -o root -g rlt-gateway /etc/rlt-gateway
[ -f /etc/rlt-gateway/gateway.yaml ] || "${SUDO[@]}" install -m 0640 -o root -g rlt-gateway config/gateway.example.yaml /etc/rlt-gateway/gateway.yaml
# The broker password, root's own (the unit hands the daemon a copy: LoadCredential=). Empty until
# the operator writes the panel's password into it.
[ -f /etc/rlt-gateway/mqtt-password ] || "${SUDO[@]}" install -m 0600 -o root -g root /dev/null /etc/rlt-gateway/mqtt-password
# The command-signing key, likewise (LoadCredential=command-key:); empty means commands are not signed.
[ -f /etc/rlt-gateway/command.key ] || "${SUDO[@]}" install -m 0600 -o root -g root /dev/null /etc/rlt-gateway/command.key
"${SUDO[@]}" install -d /usr/share/doc/rlt-gateway && "${SUDO[@]}" install -m 0644 README.md /usr/share/doc/rlt-gateway/README.md
"${SUDO[@]}" install -m 0644 deploy/rlt-gateway.service /etc/systemd/system/rlt-gateway.service
# A udev rule so the gpio group may open the GPIO character devices.
"${SUDO[@]}" install -d /etc/udev/rules.d
echo 'SUBSYSTEM=="gpio", KERNEL=="gpiochip*", GROUP="gpio", MODE="0660"' | "${SUDO[@]}" tee /etc/udev/rules.d/60-rlt-gateway-gpio.rules >/dev/null
"${SUDO[@]}" /usr/local/bin/rlt-gateway check-config /etc/rlt-gateway/gateway.yaml
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    "${SUDO[@]}" systemctl daemon-reload
    echo "installed; edit /etc/rlt-gateway/gateway.yaml, then: systemctl enable --now rlt-gateway"
else
    echo "installed (no running systemd here: enable the unit on the target board)"
fi
