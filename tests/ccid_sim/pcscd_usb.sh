#!/bin/bash
# pcscd_usb.sh TEST_CCID_USB DRIVER_DIR LEVEL...: the USB path end to end.
# For each exchange level (0 character, 1 TPDU, 2 short APDU, 3 extended
# APDU): the simulated CCID reader (test_ccid_usb --serve, under
# umockdev-wrapper) in front of a tokencard-sim ($TC_SIM); a private pcscd
# in a private mount namespace (own /run, so the system pcscd is never
# touched) whose USB drop directory is the build's driver directory holding
# ifd-tokencard.bundle; pcscd's hot-plug finds the reader, loads our
# bundle, and a PC/SC client (opensc-tool, libpcsclite) runs the reader test
# application's cases 1-4 through it.
#
# TC_USB_CLIENT=PROG runs PROG (a libpcsclite client that checks its own
# answers; exit 0 = all right) instead of opensc-tool's cases; with
# CCID_SIM_MAX_MSG=N the simulated reader has dwMaxCCIDMessageLength N, which
# pcscd's log must then show (integration.ccid_usb_chain_pcscd: extended
# APDUs chained at 271 with ccid_chain_client).
set -u
prog=$1 drivers=$2
shift 2
dropdir=$(pkg-config --variable=usbdropdir libpcsclite)
work=$(mktemp -d "${TMPDIR:-/tmp}/tc-pcscd-usb.XXXXXX") || exit 1
serve_pid=
cleanup() {
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$(dirname "$0")/pcscd_ns.sh"
asan=$(ns_asan_preload "$drivers")
ns_need pcscd opensc-tool umockdev-wrapper unshare
ns_unshare

# Inside the namespace: pcscd, wait for the reader, the four cases.
inner=$NS_START_PCSCD'
for i in $(seq 100); do
    opensc-tool -l 2>/dev/null | grep -q "tokencard simulated CCID reader" && break
    sleep 0.1
done
if [ -n "$CLIENT" ]; then
    timeout 120 "$CLIENT"
else
    timeout 60 opensc-tool -r 0 -s 80:30:00:00 -s 80:34:00:10:10 \
        -s 80:32:00:00:03:01:02:03 -s 80:36:00:05:02:AA:BB:00 -s 80:34:01:00:00
fi
rc=$?
kill $p; wait $p
exit $rc'

what="cases 1-4"
[ -n "${TC_USB_CLIENT:-}" ] && what="$(basename "$TC_USB_CLIENT")'s cases"
fail=0
for level in "$@"; do
    coproc SERVE { ASAN_OPTIONS=$NS_ASAN_OPTIONS TMPDIR=$work \
        umockdev-wrapper "$prog" --serve "$level"; }
    serve_pid=$SERVE_PID
    exec 4>&"${SERVE[1]}"
    read -r l1 <&"${SERVE[0]}"
    read -r l2 <&"${SERVE[0]}"
    root=${l1#UMOCKDEV_DIR=}
    out=$(WORK=$work ROOT=$root DRIVERS=$drivers DROPDIR=$dropdir PRE=$asan \
        PCSCD_OPTS="--foreground --debug" LOG=$work/pcscd.log \
        CLIENT=${TC_USB_CLIENT:-} $ns bash -c "$inner" 2>&1)
    rc=$?
    exec 4>&-
    kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null; serve_pid=
    if [ -n "${TC_USB_CLIENT:-}" ]; then # the client checked its answers
        ok=5 data16=2 data5=1
        printf '%s\n' "$out"
        [ -z "${CCID_SIM_MAX_MSG:-}" ] ||
            grep -q "max message $CCID_SIM_MAX_MSG" "$work/pcscd.log" || rc=1
    else
        ok=$(printf '%s\n' "$out" | grep -c 'SW1=0x90, SW2=0x00')
        data16=$(printf '%s\n' "$out" | grep -c '^00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F')
        data5=$(printf '%s\n' "$out" | grep -c '^00 01 02 03 04 \.')
    fi
    if [ $rc -ne 0 ] || [ "$ok" -ne 5 ] || [ "$data16" -lt 2 ] || [ "$data5" -ne 1 ]; then
        echo "level $level ($l2): FAILED (rc $rc, $ok x 9000)"
        printf '%s\n' "$out"
        grep -E 'tokencard|rror' "$work/pcscd.log" | tail -20
        fail=1
    else
        echo "level $level ($l2): $what through pcscd ok"
    fi
done
exit $fail
