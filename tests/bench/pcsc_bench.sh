#!/usr/bin/env bash
# pcsc_bench.sh TOKENCARD BENCH_BIN_DIR: the PC/SC benchmarks in one run.
#
# Starts one private pcscd (tokencard rig, in its own mount namespace) with
# three readers side by side: the tokencard driver on a loopback reader with
# tokencard-sim, vsmartcard's vpcd with vpcd_responder on a loopback TCP port,
# and null_ifd (pcscd's floor); then runs bench_transmit and bench_insert on
# it and stops it. BENCH_BIN_DIR holds bench_transmit, bench_insert,
# vpcd_responder and libnull_ifd.so. Prints figures; fails only when a run
# itself fails. TC_BENCH_QUICK=1: a short run; TC_BENCH_VPCD_PORT: vpcd's port
# (default 35999, taken on 127.0.0.1 by the responder; vpcd itself binds it
# on every interface, so the port must be free).
set -euo pipefail
tool=$1
bin=$2
port=${TC_BENCH_VPCD_PORT:-35999}
vpcd_lib=/usr/lib/pcsc/drivers/serial/libifdvpcd.so

work=$(mktemp -d /tmp/tokencard-bench.XXXXXX)
rig=$work/rig
responder=""
cleanup() {
    if [ -n "$responder" ]; then
        kill "$responder" 2>/dev/null || true
        wait "$responder" 2>/dev/null || true
    fi
    "$tool" rig stop --dir "$rig" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

extra=()
cat >"$work/null.conf" <<CONF
FRIENDLYNAME "null ifd bench"
DEVICENAME /dev/null
LIBPATH $bin/libnull_ifd.so
CHANNELID 1
CONF
extra+=(--reader-conf "$work/null.conf")
if [ -r "$vpcd_lib" ]; then
    if ss -ltn 2>/dev/null | grep -q ":$port\b"; then
        echo "pcsc_bench.sh: TCP port $port is taken; set TC_BENCH_VPCD_PORT" >&2
        exit 1
    fi
    printf 'FRIENDLYNAME "vpcd bench"\nDEVICENAME /dev/null:0x%X\nLIBPATH %s\nCHANNELID 0x%X\n' \
        "$port" "$vpcd_lib" "$port" >"$work/vpcd.conf"
    extra+=(--reader-conf "$work/vpcd.conf")
else
    echo "pcsc_bench.sh: $vpcd_lib missing (apt-get install vsmartcard-vpcd): no vpcd figures"
fi

if ! "$tool" rig start --readers 1 "${extra[@]}" --owner $$ --dir "$rig" >"$work/rig.out"; then
    tail -n 20 "$rig/pcscd.log" >&2 || true
    exit 1
fi
export PCSCLITE_CSOCK_NAME=$rig/pcscd.comm
if [ -r "$vpcd_lib" ]; then
    "$bin/vpcd_responder" --port "$port" &
    responder=$!
fi

status=0
"$bin/bench_transmit" || status=1
"$bin/bench_insert" --ctl "$rig/card0.sock.ctl" || status=1
if [ "$status" -ne 0 ]; then
    echo "== last lines of pcscd.log" >&2
    tail -n 20 "$rig/pcscd.log" >&2 || true
fi
exit "$status"
