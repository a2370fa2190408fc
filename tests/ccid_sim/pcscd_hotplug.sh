#!/bin/bash
# pcscd_hotplug.sh TEST_CCID_USB DRIVER_DIR CLIENT LEVEL [ROUNDS]: the USB
# reader plugged in and out while pcscd runs (issue 4, pcsc-lite's hot-plug).
#
# A private pcscd (USB drop directory = the build's DRIVER_DIR holding
# ifd-tokencard.bundle) starts on a umockdev testbed WITHOUT a reader
# (`test_ccid_usb --serve LEVEL unplugged`, in front of a tokencard-sim
# $TC_SIM). CLIENT (ccid_hotplug_client, libpcsclite) then, ROUNDS times
# (default 2): plugs the reader in (umockdev sends the uevents "add" to
# pcscd's libudev monitor, which loads our bundle), waits for it to be listed
# (and prints the delay), runs cases 1-3 through it, unplugs it (uevent
# "remove"; the emulator's URBs end with ENODEV) with the card still
# connected and waits for pcscd to drop it. Afterwards pcscd must still run,
# have added and removed the reader once a round, and logged no error.
#
# Everything runs in new mount and PID namespaces (unshare --kill-child, with
# the namespace's own /proc, which LeakSanitizer reads for its threads):
# pcscd gets its own /run (the system pcscd is never touched), the testbed
# (umockdev.*) and the sockets live in that /run, so a run that is killed,
# even with SIGKILL, leaves no process and no file behind.
# Skipped (77) without pcscd, umockdev-wrapper, unshare or the namespaces.
set -u
prog=$1 drivers=$2 client=$3 level=$4 rounds=${5:-2}
. "$(dirname "$0")/pcscd_ns.sh"

if [ -z "${TC_HOTPLUG_INSIDE:-}" ]; then
    ns_need pcscd umockdev-wrapper unshare pkg-config
    ns_unshare -p --kill-child --mount-proc
    TC_HOTPLUG_INSIDE=1 exec $ns bash "$0" "$@"
fi

# --- inside the namespaces (this shell is PID 1) ---------------------------
dropdir=$(pkg-config --variable=usbdropdir libpcsclite)
if ! { mount --make-rprivate / && mount -t tmpfs tmpfs /run &&
    mkdir -p /run/pcscd /run/tc-hotplug && mount --bind "$drivers" "$dropdir"; }; then
    echo "cannot set up the mount namespace"
    exit 1
fi
work=/run/tc-hotplug
serve_pid='' pcscd_pid=''
cleanup() {
    exec 4>&- 5<&-
    [ -n "$pcscd_pid" ] && kill "$pcscd_pid" 2>/dev/null && wait "$pcscd_pid" 2>/dev/null
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

asan=$(ns_asan_preload "$drivers")

coproc SERVE { ASAN_OPTIONS=$NS_ASAN_OPTIONS TMPDIR=$work \
    umockdev-wrapper "$prog" --serve "$level" unplugged 2>"$work/serve.log"; }
serve_pid=$SERVE_PID
exec 4>&"${SERVE[1]}" 5<&"${SERVE[0]}"
eval "exec ${SERVE[1]}>&- ${SERVE[0]}<&-" # only fds 4 and 5: closing 4 ends the reader
read -r -t 20 l1 <&5 && read -r -t 5 _ <&5 ||
    { echo "FAILED: the simulated reader did not start"; cat "$work/serve.log"; exit 1; }
root=${l1#UMOCKDEV_DIR=}
[ -d "$root/sys" ] && [ ! -e "$root/sys/devices/1-1" ] ||
    { echo "FAILED: testbed $root not empty at start"; exit 1; }

: > "$work/reader.conf"
UMOCKDEV_DIR=$root LD_PRELOAD="libumockdev-preload.so.0 $asan" \
    ASAN_OPTIONS=$NS_ASAN_OPTIONS TC_DRIVER_LOGLEVEL=3 \
    pcscd --foreground --debug -c "$work/reader.conf" > "$work/pcscd.log" 2>&1 &
pcscd_pid=$!
for _ in $(seq 100); do
    [ -S /run/pcscd/pcscd.comm ] && break
    sleep 0.05
done
grep -q "daemon ready" "$work/pcscd.log" ||
    { echo "FAILED: pcscd did not start"; cat "$work/pcscd.log"; exit 1; }

timeout 60 "$client" --rounds "$rounds" --bound-ms 10000 <&5 >&4 2>"$work/client.log"
rc=$?
cat "$work/client.log"

fail=0
[ $rc -eq 0 ] || { echo "FAILED: client exit $rc"; fail=1; }
kill -0 "$pcscd_pid" 2>/dev/null || { echo "FAILED: pcscd died"; fail=1; }
kill "$pcscd_pid" 2>/dev/null; wait "$pcscd_pid" 2>/dev/null; pcscd_pid='' # before the reader goes
added=$(grep -c 'HPAddDevice() Adding USB device: tokencard' "$work/pcscd.log")
removed=$(grep -c 'HPRemoveDevice() Removing USB device.*tokencard' "$work/pcscd.log")
errors=$(grep -E 'AddressSanitizer|runtime error|Failed adding USB device|CRITICAL' "$work/pcscd.log")
if [ "$added" -ne "$rounds" ] || [ "$removed" -ne "$rounds" ]; then
    echo "FAILED: pcscd added the reader $added times, removed it $removed times ($rounds rounds)"
    fail=1
fi
[ -z "$errors" ] || { echo "FAILED: pcscd logged:"; printf '%s\n' "$errors"; fail=1; }

# The simulated reader stops on end of input.
exec 4>&-
wait "$serve_pid"
src=$?
serve_pid=''
[ $src -eq 0 ] || { echo "FAILED: the simulated reader ended with $src"; cat "$work/serve.log"; fail=1; }
if [ $fail -ne 0 ]; then
    grep -E 'hotplug|tokencard|rror' "$work/pcscd.log" | tail -40
    echo "--- simulated reader:"
    tail -20 "$work/serve.log"
else
    echo "level $level: $rounds x plug / cases 1-3 / unplug through pcscd's hot-plug ok"
fi
exit $fail
