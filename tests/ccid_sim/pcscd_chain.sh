#!/bin/bash
# pcscd_chain.sh TEST_CCID_USB DRIVER_DIR CLIENT: extended APDUs chained over
# USB, end to end. The simulated reader (test_ccid_usb --serve 3, extended-
# APDU level, CCID_SIM_MAX_MSG=271: 261 bytes of APDU a message) in front of
# a tokencard-sim ($TC_SIM); a private pcscd in a private mount namespace
# (own /run; the system pcscd is never touched) whose USB drop directory is
# the build's DRIVER_DIR holding ifd-tokencard.bundle; CLIENT
# (ccid_chain_client, libpcsclite) sends extended cases 2, 3 and 4 of up to
# 65 535 bytes and checks the answers. Skipped (77) without pcscd,
# umockdev-wrapper, unshare or a mount namespace.
set -u
prog=$1 drivers=$2 client=$3
for tool in pcscd umockdev-wrapper unshare pkg-config; do
    command -v $tool >/dev/null || { echo "skipped: no $tool"; exit 77; }
done
if [ "$(id -u)" = 0 ]; then ns="unshare -m"; else ns="unshare -rm"; fi
$ns true 2>/dev/null || { echo "skipped: no private mount namespace here"; exit 77; }
dropdir=$(pkg-config --variable=usbdropdir libpcsclite)
work=$(mktemp -d "${TMPDIR:-/tmp}/tc-pcscd-chain.XXXXXX") || exit 1
serve_pid=
cleanup() {
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

asan=""
if ldd "$drivers/ifd-tokencard.bundle/Contents/Linux/libifd-tokencard.so" | grep -q libasan; then
    asan="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
fi

inner='
mount --make-rprivate / && mount -t tmpfs tmpfs /run && mkdir -p /run/pcscd &&
mount --bind "$DRIVERS" "$DROPDIR" || exit 2
: > "$WORK/reader.conf"
env UMOCKDEV_DIR="$ROOT" LD_PRELOAD="libumockdev-preload.so.0 $ASAN" \
    ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 TC_DRIVER_LOGLEVEL=3 \
    pcscd --foreground --debug -c "$WORK/reader.conf" > "$WORK/pcscd.log" 2>&1 &
p=$!
for i in $(seq 100); do
    grep -q "IFDHCreateChannelByName" "$WORK/pcscd.log" && break
    sleep 0.1
done
sleep 0.5
timeout 120 "$CLIENT"
rc=$?
kill $p; wait $p
exit $rc'

coproc SERVE { CCID_SIM_MAX_MSG=271 ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 \
    TMPDIR=$work umockdev-wrapper "$prog" --serve 3; }
serve_pid=$SERVE_PID
exec 4>&"${SERVE[1]}" 5<&"${SERVE[0]}"
eval "exec ${SERVE[1]}>&- ${SERVE[0]}<&-" # only fds 4 and 5: closing 4 ends the reader
read -r -t 20 l1 <&5 && read -r -t 5 _ <&5 || { echo "the simulated reader did not start"; exit 1; }
out=$(WORK=$work ROOT=${l1#UMOCKDEV_DIR=} DRIVERS=$drivers DROPDIR=$dropdir ASAN=$asan \
    CLIENT=$client $ns bash -c "$inner" 4>&- 5<&- 2>&1)
rc=$?
exec 4>&- 5<&-
wait "$serve_pid" 2>/dev/null
serve_pid=
printf '%s\n' "$out"
if [ $rc -ne 0 ] || ! grep -q "max message 271" "$work/pcscd.log"; then
    echo "extended APDUs chained through pcscd: FAILED (rc $rc)"
    grep -E 'tokencard|rror' "$work/pcscd.log" | tail -20
    exit 1
fi
echo "extended APDUs chained through pcscd: ok"
