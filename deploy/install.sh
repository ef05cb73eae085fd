#!/usr/bin/env bash
# Installs rlt-gateway on a Debian 12 panel board: static release binary, config, systemd unit,
# a dedicated user in the gpio group. Run from a checkout as root. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh
swift build -c release --product rlt-gateway --static-swift-stdlib
bin="$(swift build -c release --show-bin-path)/rlt-gateway"
install -m 0755 "$bin" /usr/local/bin/rlt-gateway
getent group gpio >/dev/null || groupadd --system gpio
id rlt-gateway >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin --groups gpio rlt-gateway
install -d -m 0750 -o root -g rlt-gateway /etc/rlt-gateway
[ -f /etc/rlt-gateway/gateway.yaml ] || install -m 0640 -o root -g rlt-gateway config/gateway.example.yaml /etc/rlt-gateway/gateway.yaml
install -d /usr/share/doc/rlt-gateway && install -m 0644 README.md /usr/share/doc/rlt-gateway/README.md
install -m 0644 deploy/rlt-gateway.service /etc/systemd/system/rlt-gateway.service
# A udev rule so the gpio group may open the GPIO character devices.
echo 'SUBSYSTEM=="gpio", KERNEL=="gpiochip*", GROUP="gpio", MODE="0660"' >/etc/udev/rules.d/60-rlt-gateway-gpio.rules
/usr/local/bin/rlt-gateway check-config /etc/rlt-gateway/gateway.yaml
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    echo "installed; edit /etc/rlt-gateway/gateway.yaml, then: systemctl enable --now rlt-gateway"
else
    echo "installed (no running systemd here: enable the unit on the target board)"
fi
