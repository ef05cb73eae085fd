#!/usr/bin/env bash
# The Debian package's check: install, upgrade, remove and purge in a fresh Debian root.
#
#   bash Tests/deb/run.sh [--deb PATH] [--release bookworm|trixie] [--arch amd64|arm64] [--keep]
#
# Builds the amd64 package with deploy/deb/build.sh (or takes --deb), makes a fresh root (bookworm:
# the fresh-machine check's cached tarball from /var/tmp/rlt-fresh when there is one, else
# `debootstrap --variant=minbase`, cached there as deb-RELEASE-minbase.tgz), points its apt at the
# Debian mirror this machine's apt uses, and inside it (chroot, /proc and /dev mounted, policy-rc.d
# refusing every service start) runs `apt-get install ./rlt-gateway_*.deb` and checks what the
# package promises: the binary runs, the example config passes check-config, the account and its
# gpio membership, file modes, the udev rule and the unit, upgrade, remove, purge keeping the
# ledger, and purge with RLT_PURGE_LEDGER=yes removing it.
#
# No systemd or udev runs in a chroot: /run/systemd/system and /run/udev are created and
# deb-systemd-invoke, deb-systemd-helper and udevadm are replaced by stubs that log their
# arguments, so the test sees what the maintainer scripts ask of them (never started on first
# install, try-restart on upgrade, stop on remove, udevadm trigger on install).
#
# A package built on Debian 12 needs libgpiod2, which Debian 13 does not have: --release trixie with
# such a package is expected to fail at the install step (deploy/deb/README.md).
# --arch arm64 (with --deb, the arm64 package `Tests/qemu/arm64.sh --deb` builds) runs the same checks in
# an arm64 root: every program in it, apt, dpkg, mosquitto and the gateway, runs under qemu-user
# (qemu-user-static registered with binfmt_misc, fix-binary flag, so it works inside the chroot).
# Needs root. Prints each check, then "N passed, N failed"; exits non-zero on any failure.
{
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
[ "$(id -u)" -eq 0 ] || exec sudo --preserve-env=RLT_FRESH_CACHE bash "$0" "$@"
export PATH="$PATH:/usr/sbin:/sbin"

deb="" release=bookworm arch=amd64 keep=0 built_out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --deb) deb="$(realpath "${2:?--deb needs a path}")"; shift ;;
        --release) release="${2:?--release needs bookworm or trixie}"; shift ;;
        --arch) arch="${2:?--arch needs amd64 or arm64}"; shift ;;
        --keep) keep=1 ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) echo "deb-test: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$release" in bookworm|trixie) ;; *) echo "deb-test: unknown release '$release'" >&2; exit 2 ;; esac
case "$arch" in amd64) ;; arm64) [ -n "$deb" ] || { echo "deb-test: --arch arm64 needs --deb (Tests/qemu/arm64.sh --deb builds it)" >&2; exit 2; } ;;
    *) echo "deb-test: unknown arch '$arch'" >&2; exit 2 ;; esac
log() { echo "deb-test: $*"; }
die() { echo "deb-test: $*" >&2; exit 1; }
t_start=$(date +%s)

# --- the package -----------------------------------------------------------------------------------
if [ -z "$deb" ]; then
    out=$(mktemp -d /var/tmp/rlt-deb-out.XXXXXX)
    built_out=$out
    t0=$(date +%s)
    bash "$repo/deploy/deb/build.sh" --arch amd64 --out "$out" || die "deploy/deb/build.sh failed"
    deb=$(ls "$out"/rlt-gateway_*_amd64.deb)
    log "package built in $(( $(date +%s) - t0 )) s: $deb"
fi
[ -f "$deb" ] || die "no package at $deb"
[ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ] || die "$deb is not an $arch package"
version=$(dpkg-deb -f "$deb" Version)

# --- the root --------------------------------------------------------------------------------------
. "$repo/Tests/lib/debian-root.sh"
mirror=$(debian_root_mirror)
cache=${RLT_FRESH_CACHE:-/var/tmp/rlt-fresh}
debian_root_foreign "$arch"
tarball=$(debian_root_tarball "$release" "$cache" "$mirror" "" "$arch")

root=$(mktemp -d "$cache/deb-root.XXXXXX")
chmod 0755 "$root"
mounted=()
# The doctor/run checks' broker runs in the host's process namespace: stopped by its own pid (never by
# name, which would reach every mosquitto on the machine), after those checks and on any exit.
stop_root_broker() {
    if [ -s "$root/tmp/deb-test-mosquitto.pid" ]; then kill "$(cat "$root/tmp/deb-test-mosquitto.pid")" 2>/dev/null || true; fi
}
cleanup() {
    local status=$?
    stop_root_broker
    for (( i=${#mounted[@]}-1; i>=0; i-- )); do
        umount -R "${mounted[$i]}" 2>/dev/null || umount -R -l "${mounted[$i]}" 2>/dev/null || true
    done
    if grep -q " $root" /proc/mounts; then
        echo "deb-test: mounts left under $root; not removing it" >&2
    elif [ "$keep" = 1 ]; then
        echo "deb-test: root kept at $root"
    else
        rm -rf --one-file-system "$root"
    fi
    [ -n "$built_out" ] && [ "$keep" = 0 ] && rm -rf "$built_out"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM
t0=$(date +%s)
tar -C "$root" -xzf "$tarball"
log "root $root from $(basename "$tarball") ($(( $(date +%s) - t0 )) s)"
mnt() { local target=$1; shift; mkdir -p "$target"; mount "$@" "$target"; mounted+=("$target"); }
mnt "$root/proc" -t proc proc
mnt "$root/dev" --rbind /dev
mount --make-rslave "$root/dev"

debian_root_apt "$root" "$release" "$mirror"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod +x "$root/usr/sbin/policy-rc.d"
# Stand-ins for a running systemd and udev: they log what the maintainer scripts ask.
# They replace the real programs (the root is thrown away); stubs in /usr/local/sbin were never called
# in a first attempt (not investigated). udev (the package recommends it) is installed first, or apt would install
# it with the package and overwrite the udevadm stub.
chroot "$root" env DEBIAN_FRONTEND=noninteractive sh -c 'apt-get update -qq && apt-get install -y -qq udev' >/dev/null 2>&1 ||
    die "could not install udev in the root"
mkdir -p "$root/run/systemd/system" "$root/run/udev"
for stub in deb-systemd-invoke deb-systemd-helper udevadm; do
    printf '#!/bin/sh\necho "%s $*" >>/var/log/rlt-stub.log\nexit 0\n' "$stub" >"$root/usr/bin/$stub"
    chmod +x "$root/usr/bin/$stub"
done
: >"$root/var/log/rlt-stub.log"
cp "$deb" "$root/tmp/"
pkg="/tmp/$(basename "$deb")"
log "machine: $(chroot "$root" sh -c '. /etc/os-release; echo "$PRETTY_NAME, $(dpkg --print-architecture) ($(uname -m) as the root sees it)"'), package $(basename "$deb")"

in_root() { # in_root COMMAND: a clean root environment inside the root
    chroot "$root" env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@" bash -c "$CMD"
}
passed=0 failed=0
check() { # check NAME COMMAND: COMMAND runs in the root; exit 0 = pass
    local name=$1 out rc
    CMD=$2
    set +e; out=$(in_root 2>&1); rc=$?; set -e
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1)); echo "  PASS  $name"
    else
        failed=$((failed + 1)); echo "  FAIL  $name (exit $rc)"; printf '%s\n' "$out" | tail -n 15 | sed 's/^/        /'
    fi
}
stub_log_has() { echo "grep -qx '$1' /var/log/rlt-stub.log"; }

# --- install -----------------------------------------------------------------------------------
t0=$(date +%s)
check "apt-get install ./$(basename "$deb")" "apt-get install -y -q $pkg >/tmp/install.log 2>&1 || { cat /tmp/install.log; exit 1; }"
log "install took $(( $(date +%s) - t0 )) s"
check "dependencies pulled in: libgpiod, libmosquitto1" \
    "dpkg-query -W -f='\${Status}\n' libmosquitto1 | grep -q 'install ok installed' &&
     dpkg-query -W -f='\${Package} \${Status}\n' 'libgpiod*' | grep -q 'install ok installed'"
check "rlt-gateway --version prints ${version%-*}" "rlt-gateway --version | tee /dev/stderr | grep -qF '${version%-*}'"
check "rlt-gateway check-config /etc/rlt-gateway/gateway.yaml exits 0" "rlt-gateway check-config /etc/rlt-gateway/gateway.yaml"
check "user rlt-gateway: system account, nologin, in gpio" \
    "uid=\$(id -u rlt-gateway) && [ \"\$uid\" -lt 1000 ] && getent passwd rlt-gateway | grep -q ':/usr/sbin/nologin\$' &&
     id -nG rlt-gateway | tr ' ' '\n' | grep -qx gpio && getent group rlt-gateway >/dev/null"
check "/etc/rlt-gateway/mqtt-password: 0600 root:root, empty" \
    "[ \"\$(stat -c '%a %U %G %s' /etc/rlt-gateway/mqtt-password)\" = '600 root root 0' ]"
check "/etc/rlt-gateway/command.key: 0600 root:root, empty (commands not signed)" \
    "[ \"\$(stat -c '%a %U %G %s' /etc/rlt-gateway/command.key)\" = '600 root root 0' ]"
check "/etc/rlt-gateway 0750 and gateway.yaml 0640, root:rlt-gateway" \
    "[ \"\$(stat -c '%a %U %G' /etc/rlt-gateway)\" = '750 root rlt-gateway' ] &&
     [ \"\$(stat -c '%a %U %G' /etc/rlt-gateway/gateway.yaml)\" = '640 root rlt-gateway' ]"
check "gateway.yaml is a conffile" "dpkg-query -W -f='\${Conffiles}' rlt-gateway | grep -q '/etc/rlt-gateway/gateway.yaml'"
check "/var/lib/rlt-gateway: 0750 rlt-gateway" "[ \"\$(stat -c '%a %U %G' /var/lib/rlt-gateway)\" = '750 rlt-gateway rlt-gateway' ]"
check "udev rule installed and applied (udevadm control --reload, trigger --subsystem-match=gpio)" \
    "grep -q 'SUBSYSTEM==\"gpio\".*GROUP=\"gpio\", MODE=\"0660\"' /lib/udev/rules.d/60-rlt-gateway-gpio.rules &&
     $(stub_log_has 'udevadm control --reload') && $(stub_log_has 'udevadm trigger --subsystem-match=gpio --action=add')"
check "unit installed, /usr/bin paths, outputs-off after exit, exit 2 not restarted" \
    "u=/lib/systemd/system/rlt-gateway.service && ! grep -q /usr/local \$u &&
     grep -qx 'ExecStart=/usr/bin/rlt-gateway run --config /etc/rlt-gateway/gateway.yaml' \$u &&
     grep -qx 'ExecStopPost=/usr/bin/rlt-gateway outputs-off --config /etc/rlt-gateway/gateway.yaml' \$u &&
     grep -qx 'RestartPreventExitStatus=2' \$u &&
     grep -qx 'LoadCredential=mqtt-password:/etc/rlt-gateway/mqtt-password' \$u &&
     grep -qx 'LoadCredential=command-key:/etc/rlt-gateway/command.key' \$u"
check "first install: the service is neither enabled nor started" "! grep -q 'deb-systemd-invoke' /var/log/rlt-stub.log"
check "man page and copyright installed" "[ -f /usr/share/man/man1/rlt-gateway.1.gz ] && [ -f /usr/share/doc/rlt-gateway/copyright ]"

# --- doctor and a start, as installed --------------------------------------------------------------
# No systemd runs in a chroot, so the daemon is started as the unit starts it: as rlt-gateway, with the
# installed config and password file, against a mosquitto in the root that knows the panel's account.
# A chroot has no GPIO chip, PWM or sensor: those are swapped for the simulated ones with --set. The
# password reaches the account as the unit's LoadCredential= hands it over (the file itself is root's);
# setpriv execs the program itself, so its exit status is the daemon's.
creds=/run/credentials/rlt-gateway.service
as_service="setpriv --reuid=rlt-gateway --regid=rlt-gateway --init-groups env CREDENTIALS_DIRECTORY=$creds"
port=$(bash "$repo/deploy/free-port.sh")
sim="--set mqtt.url=mqtt://127.0.0.1:$port --set gpio.backend=simulated --set gpio.sim_dir=/var/lib/rlt-gateway/sim-gpio"
sim="$sim --set gpio.outputs.red.pwm=null --set gpio.outputs.nir.pwm=null --set sensor.type=simulated"
check "a mosquitto in the root with the panel's account; its password in /etc/rlt-gateway/mqtt-password" "
    apt-get install -y -q mosquitto mosquitto-clients >/tmp/mosquitto.log 2>&1 || { cat /tmp/mosquitto.log; exit 1; }
    printf 'deb-test-secret\n' >/etc/rlt-gateway/mqtt-password
    mkdir -p $creds && cp /etc/rlt-gateway/mqtt-password $creds/mqtt-password
    chown -R rlt-gateway: $creds && chmod 0500 $creds && chmod 0400 $creds/mqtt-password
    mosquitto_passwd -c -b /etc/mosquitto/deb-test.passwd panel-1 deb-test-secret
    # mosquitto 2.0.21 (trixie) reads it and writes its pid after dropping to its own account.
    chown mosquitto: /etc/mosquitto/deb-test.passwd
    printf 'listener $port 127.0.0.1\nallow_anonymous false\npassword_file /etc/mosquitto/deb-test.passwd\npersistence false\nset_tcp_nodelay true\npid_file /tmp/deb-test-mosquitto.pid\nlog_dest file /tmp/deb-test-mosquitto.log\n' \
        >/etc/mosquitto/deb-test.conf
    mosquitto -c /etc/mosquitto/deb-test.conf -d
    for i in \$(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && exit 0; sleep 0.1; done
    echo 'the broker did not listen:'; cat /tmp/deb-test-mosquitto.log; exit 1"
check "rlt-gateway doctor (as rlt-gateway, installed config): every check ok or a warning, exit 0" \
    "$as_service rlt-gateway doctor $sim | tee /tmp/doctor.txt; st=\${PIPESTATUS[0]}; ! grep -q FAIL /tmp/doctor.txt && [ \$st -eq 0 ]"
check "rlt-gateway run as rlt-gateway comes online, and SIGTERM stops it: exit 0, status offline(shutdown)" "
    $as_service rlt-gateway run --config /etc/rlt-gateway/gateway.yaml $sim >/tmp/run.log 2>&1 &
    daemon=\$!
    online=''
    for i in \$(seq 100); do
        online=\$(mosquitto_sub -h 127.0.0.1 -p $port -u panel-1 -P deb-test-secret -t rlt/panel-1/status -C 1 -W 2 2>/dev/null || true)
        case \$online in *'\"online\"'*) break ;; esac; sleep 0.2
    done
    case \$online in *'\"online\"'*) ;; *) echo \"never online: \$online\"; cat /tmp/run.log; kill \$daemon; wait \$daemon; exit 1 ;; esac
    kill -TERM \$daemon; wait \$daemon; st=\$?
    after=\$(mosquitto_sub -h 127.0.0.1 -p $port -u panel-1 -P deb-test-secret -t rlt/panel-1/status -C 1 -W 2)
    echo \"exit \$st; status \$after\"
    [ \$st -eq 0 ] && case \$after in *shutdown*) true ;; *) false ;; esac"
stop_root_broker

# --- upgrade (a reinstall runs postinst configure with the old version: the upgrade path) -------
CMD="printf 'secret\n' >/etc/rlt-gateway/mqtt-password && echo '# local edit' >>/etc/rlt-gateway/gateway.yaml &&
     echo ledger >/var/lib/rlt-gateway/ledger.sqlite && chown rlt-gateway: /var/lib/rlt-gateway/ledger.sqlite &&
     echo '{}' >/var/lib/rlt-gateway/started-config.json && : >/var/log/rlt-stub.log" in_root
check "upgrade: apt-get install --reinstall" "apt-get install -y -q --reinstall $pkg >/tmp/upgrade.log 2>&1 || { cat /tmp/upgrade.log; exit 1; }"
check "upgrade: the service is restarted if it runs (try-restart)" "$(stub_log_has 'deb-systemd-invoke try-restart rlt-gateway.service')"
check "upgrade: password, local config edit and ledger kept; modes kept" \
    "[ \"\$(cat /etc/rlt-gateway/mqtt-password)\" = secret ] && tail -n 1 /etc/rlt-gateway/gateway.yaml | grep -qx '# local edit' &&
     [ \"\$(stat -c '%a %U %G' /etc/rlt-gateway/mqtt-password)\" = '600 root root' ] &&
     [ \"\$(stat -c '%a %U %G' /etc/rlt-gateway/gateway.yaml)\" = '640 root rlt-gateway' ] &&
     [ -f /var/lib/rlt-gateway/ledger.sqlite ]"

# --- remove, purge ---------------------------------------------------------------------------------
check "remove: stops the service, keeps the configuration and ledger" \
    "apt-get remove -y -q rlt-gateway >/tmp/remove.log 2>&1 || { cat /tmp/remove.log; exit 1; }
     $(stub_log_has 'deb-systemd-invoke stop rlt-gateway.service') && [ ! -e /usr/bin/rlt-gateway ] &&
     [ -f /etc/rlt-gateway/gateway.yaml ] && [ -f /etc/rlt-gateway/mqtt-password ] && [ -f /var/lib/rlt-gateway/ledger.sqlite ]"
check "purge: /etc/rlt-gateway, the account and the statoverrides gone; gpio group stays" \
    "apt-get purge -y -q rlt-gateway >/tmp/purge.log 2>&1 || { cat /tmp/purge.log; exit 1; }
     [ ! -e /etc/rlt-gateway ] && ! getent passwd rlt-gateway && ! getent group rlt-gateway && getent group gpio >/dev/null &&
     ! dpkg-statoverride --list | grep -q rlt-gateway && $(stub_log_has 'deb-systemd-helper purge rlt-gateway.service')"
check "purge: the ledger is kept, owned by root; the last start's wiring record (outputs-off's) is not" \
    "[ \"\$(cat /var/lib/rlt-gateway/ledger.sqlite)\" = ledger ] && [ ! -e /var/lib/rlt-gateway/started-config.json ] &&
     [ \"\$(stat -c '%U' /var/lib/rlt-gateway /var/lib/rlt-gateway/ledger.sqlite | sort -u)\" = root ]"
check "install after purge: the kept ledger goes back to the new account; a fresh password file" \
    "apt-get install -y -q $pkg >/tmp/install2.log 2>&1 || { cat /tmp/install2.log; exit 1; }
     [ \"\$(stat -c '%U' /var/lib/rlt-gateway /var/lib/rlt-gateway/ledger.sqlite | sort -u)\" = rlt-gateway ] &&
     [ \"\$(stat -c '%a %U %s' /etc/rlt-gateway/mqtt-password)\" = '600 root 0' ]"
check "purge with RLT_PURGE_LEDGER=yes: the ledger is gone too" \
    "RLT_PURGE_LEDGER=yes apt-get purge -y -q rlt-gateway >/tmp/purge2.log 2>&1 || { cat /tmp/purge2.log; exit 1; }
     [ ! -e /var/lib/rlt-gateway ] && [ ! -e /etc/rlt-gateway ]"

echo "deb-test: $release $arch root, $(basename "$deb"), $(( $(date +%s) - t_start )) s in all"
echo "deb-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
exit
}
