#!/bin/sh
# The power-loss check's guest command (run by the qemu guest's /init, see Tests/qemu/README.md; copied
# in as /rlt/bin/guest-powerloss.sh). The ledger lives on /dev/vda, an ext4 disk served by the host's
# logging NBD server; the line watcher reports the LED lines on /dev/ttyS1, stamped by the same host
# process. Then the real daemon runs three sessions over a real mosquitto: one to its planned end, one
# stopped after 1 s, and one still running when the guest ends (the host replays every disk a cut could
# have left afterwards, so where the guest stops matters only for which light is left on the log). Every
# step prints `ok - …` / `not ok - …`; the exit status is non-zero at the first failure.
set -u
bin=/rlt/bin
topic=rlt/panel-1
fail() { echo "not ok - $*"; echo "guest: gateway log tail:"; tail -n 20 /tmp/gateway.log 2>/dev/null; exit 1; }

# wait_doc TOPIC GLOB SECS: waits for a message on TOPIC (retained first) matching the shell glob.
wait_doc() {
    fifo=/tmp/doc.fifo
    rm -f "$fifo"
    mkfifo "$fifo"
    mosquitto_sub -h 127.0.0.1 -t "$1" -W "$3" > "$fifo" 2>/dev/null < /dev/null &
    sub=$!
    found=1
    while read -r doc; do
        # shellcheck disable=SC2254
        case "$doc" in $2) found=0; break ;; esac
    done < "$fifo"
    kill "$sub" 2>/dev/null
    wait "$sub" 2>/dev/null
    rm -f "$fifo"
    return $found
}

# Kernel modules for the virtio disk and ext4 (Debian builds them as modules), in dependency order.
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk \
    crc16 mbcache jbd2 crc32c_generic ext4; do
    insmod "$bin/$m.ko" || fail "insmod $m.ko"
done
i=0
while ! [ -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ -b /dev/vda ] || fail "/dev/vda did not appear"
mkdir -p /data
# powerloss-mount-options (run.sh --break-barrier): barrier=0 drops ext4's flushes, which the
# check must catch.
options="$(cat "$bin/powerloss-mount-options" 2>/dev/null || true)"
mount -t ext4 ${options:+-o "$options"} /dev/vda /data || fail "mount /dev/vda (ext4${options:+, $options})"
echo "ok - the ledger disk is ext4 on virtio /dev/vda ($(grep ' /data ' /proc/mounts | cut -d' ' -f4))"

# Background processes never hold /init's output pipe: it would wait for them after this script ends.
linewatch "$RLT_GPIOSIM_DIR" /dev/ttyS1 17 27 22 > /tmp/linewatch.log 2>&1 &
echo 25000 > /tmp/temperature
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
cat > /tmp/mosquitto.conf <<'EOF'
user root
listener 1883 127.0.0.1
allow_anonymous true
persistence false
log_dest none
set_tcp_nodelay true
EOF
mosquitto -c /tmp/mosquitto.conf -d > /dev/null 2>&1 < /dev/null || fail "mosquitto did not start"
sed "s/gpiochip0/$RLT_GPIO_CHIP/" "$bin/powerloss-gateway.yaml" > /tmp/gateway.yaml
rlt-gateway run --config /tmp/gateway.yaml > /tmp/gateway.log 2>&1 < /dev/null &
wait_doc "$topic/status" '*"online"*' 90 || fail "the gateway did not come online within 90 s"
echo "ok - rlt-gateway is online (ledger /data/ledger/ledger.sqlite)"

rlt-gateway session start --config /tmp/gateway.yaml --duration 3s --timeout 30 > /tmp/start1.out 2>&1 ||
    fail "session 1 (3 s) refused: $(cat /tmp/start1.out)"
echo "ok - session 1 (3 s) started"
wait_doc "$topic/state" '*"state":"idle"*' 60 || fail "session 1 did not end within 60 s"
echo "ok - session 1 ran to its end"

wait_doc "$topic/state" '*"state":"idle"*' 60 || fail "the panel did not come back to idle within 60 s"
rlt-gateway session start --config /tmp/gateway.yaml --duration 8s --timeout 30 > /tmp/start2.out 2>&1 ||
    fail "session 2 (8 s) refused: $(cat /tmp/start2.out)"
wait_doc "$topic/tele" '*"elapsed_s":[1-9]*' 60 || fail "session 2 did not reach 1 s within 60 s"
rlt-gateway session stop --config /tmp/gateway.yaml --timeout 30 > /tmp/stop2.out 2>&1 ||
    fail "session 2: stop refused: $(cat /tmp/stop2.out)"
echo "ok - session 2 (8 s) stopped after 1 s"
wait_doc "$topic/state" '*"state":"idle"*' 60 || fail "session 2 did not end within 60 s"

rlt-gateway session start --config /tmp/gateway.yaml --duration 12s --timeout 30 > /tmp/start3.out 2>&1 ||
    fail "session 3 (12 s) refused: $(cat /tmp/start3.out)"
echo "ok - session 3 (12 s) started"
# Past the first checkpoint (every 5 s), so the cut finds a session with a checkpoint and light after it.
wait_doc "$topic/tele" '*"elapsed_s":[6-9]*' 60 || fail "session 3 did not reach 6 s within 60 s"
echo "ok - session 3 is past 6 s; the guest ends here with its light on"
echo "guest: last tele: $doc"
grep -iE 'error|critical' /tmp/gateway.log | head -n 5
exit 0
