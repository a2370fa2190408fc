#!/usr/bin/env bash
# ifd_cost.sh SIM LIBIFD BENCH_IFD: what one APDU costs the driver and the card
# on the loopback reader, without pcscd.
#
# 1. Time: bench_ifd loads LIBIFD, opens a loopback reader on SIM and times
#    IFDHTransmitToICC (median, p99) for the 5-byte and the 256-byte case 2.
# 2. Instructions: the same exchanges under valgrind's callgrind, the driver's
#    process and the card's process each counted, at two run lengths so that
#    start-up cancels out: instructions per APDU = (I(n2) - I(n1)) / (n2 - n1).
#    Counts repeat exactly for the same binaries, whatever else the machine
#    does, so they show a change of the per-character path that the wall
#    clock of a shared machine hides. Also printed: the instructions each
#    further character costs, from the two APDUs (13 and 264 characters on
#    the wire).
# Prints figures; fails only when a run fails. Without valgrind, part 2 is
# skipped with a line that says so.
set -euo pipefail
sim=$1
lib=$2
bench=$3
n1=${TC_IFD_COST_N1:-200}
n2=${TC_IFD_COST_N2:-1200}

work=$(mktemp -d /tmp/tokencard-ifdcost.XXXXXX)
sim_pid=""
cleanup() {
    if [ -n "$sim_pid" ]; then
        kill "$sim_pid" 2>/dev/null || true
        wait "$sim_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# start_sim [WRAPPER...]: the card on a fresh socket, answering one reader.
start_sim() {
    rm -f "$work/card.sock" "$work/card.sock.ctl"
    "$@" "$sim" --socket "$work/card.sock" --once >"$work/sim.log" 2>&1 &
    sim_pid=$!
    for _ in $(seq 300); do
        [ -S "$work/card.sock.ctl" ] && return 0
        sleep 0.05
    done
    echo "ifd_cost.sh: the card did not start:" >&2
    cat "$work/sim.log" >&2
    return 1
}

stop_sim() {
    # --once: the card ends when the reader has gone; give callgrind its time.
    for _ in $(seq 200); do
        kill -0 "$sim_pid" 2>/dev/null || break
        sleep 0.05
    done
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
    sim_pid=""
}

# The total of a callgrind output file.
cg_total() {
    sed -n 's/^summary: *\([0-9]*\).*/\1/p; s/^totals: *\([0-9]*\).*/\1/p' "$1" | head -n 1
}

echo "== IFDHTransmitToICC without pcscd (bench_ifd, $(nproc) cores)"
start_sim
"$bench" --lib "$lib" --device "loopback:$work/card.sock"
stop_sim

if ! command -v valgrind >/dev/null 2>&1; then
    echo "(instruction counts skipped: valgrind is not installed)"
    exit 0
fi

# count APDU N: sets drv and card to the instructions of a run of N exchanges.
count() {
    local apdu=$1 n=$2
    start_sim valgrind --tool=callgrind --callgrind-out-file="$work/card.cg"
    valgrind --tool=callgrind --callgrind-out-file="$work/drv.cg" \
        "$bench" --lib "$lib" --device "loopback:$work/card.sock" --count "$n" \
        --apdu "$apdu" >"$work/bench.log" 2>&1 || {
        cat "$work/bench.log" >&2
        return 1
    }
    stop_sim
    drv=$(cg_total "$work/drv.cg")
    card=$(cg_total "$work/card.cg")
    if [ -z "$drv" ] || [ -z "$card" ]; then
        echo "ifd_cost.sh: no callgrind totals" >&2
        return 1
    fi
}

echo
echo "== instructions per APDU (callgrind, runs of $n1 and $n2 exchanges)"
printf '%-24s %12s %12s %12s\n' "APDU" "driver" "card" "both"
declare -A per
for apdu in 5 256; do
    count "$apdu" "$n1"
    d1=$drv c1=$card
    count "$apdu" "$n2"
    d=$(((drv - d1) / (n2 - n1)))
    c=$(((card - c1) / (n2 - n1)))
    per[$apdu.d]=$d per[$apdu.c]=$c
    label="80 34 00 05 05 (5 B)"
    [ "$apdu" = 256 ] && label="80 34 01 00 00 (256 B)"
    printf '%-24s %12d %12d %12d\n' "$label" "$d" "$c" $((d + c))
done
chars=$((264 - 13))
printf '%-24s %12d %12d %12d\n' "each further character" \
    $(((per[256.d] - per[5.d]) / chars)) $(((per[256.c] - per[5.c]) / chars)) \
    $(((per[256.d] + per[256.c] - per[5.d] - per[5.c]) / chars))
