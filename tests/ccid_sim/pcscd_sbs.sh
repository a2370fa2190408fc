#!/bin/bash
# pcscd_sbs.sh check|bench TEST_CCID_USB DRIVER_DIR CLIENT LEVEL[:STEP]...: our USB
# driver and Debian's libccid side by side, in one run, on the same simulated
# reader and the same simulated card.
#
# For each exchange level (0 character, 1 TPDU, 2 short APDU, 3 extended
# APDU) one `test_ccid_usb --serve LEVEL` (under umockdev-wrapper) keeps the
# reader and a tokencard-sim ($TC_SIM) up; then, one after the other, two
# private pcscd (each in its own mount namespace with its own /run, so the
# system pcscd is never touched) see that reader: the first with a drop
# directory holding only our bundle (a copy of DRIVER_DIR's
# ifd-tokencard.bundle), the second with one holding only libccid's (a copy
# of $TC_LIBCCID_BUNDLE, default /usr/lib/pcsc/drivers/ifd-ccid.bundle,
# whose Info.plist gets the simulated reader's 1209/7C01 as its first entry:
# that ID is in none of libccid's quirk lists). CLIENT is ccid_sbs_client.
#
# check: the client's transcript (cases 1-4 at every length; LEVEL:K or
#        TC_SBS_STEP=K: every Kth length) under each driver; fails if a case fails or the
#        transcripts differ. TC_SBS_KEEP=1 keeps the work directory (the
#        transcripts and both pcscd logs).
# bench: the client's timing mode under each driver, four pcscd in the order
#        ours, libccid, libccid, ours, each timing half of TC_BENCH_COUNT
#        (default 2000, 300 with TC_BENCH_QUICK) runs of each case; prints,
#        per case, SCardTransmit calls (tx), the mean of the two runs'
#        medians and p90s for each driver, and ours/libccid.
#
# Skipped (77) without pcscd, umockdev-wrapper, libccid or a mount namespace.
set -u
mode=$1 prog=$2 drivers=$3 client=$4
shift 4
libccid=${TC_LIBCCID_BUNDLE:-/usr/lib/pcsc/drivers/ifd-ccid.bundle}
dropdir=$(pkg-config --variable=usbdropdir libpcsclite 2>/dev/null || echo /usr/lib/pcsc/drivers)

. "$(dirname "$0")/pcscd_ns.sh"
ns_need pcscd umockdev-wrapper unshare
if [ ! -r "$libccid/Contents/Info.plist" ] || [ ! -r "$libccid/Contents/Linux/libccid.so" ]; then
    echo "skipped: no libccid bundle at $libccid"
    exit 77
fi
ns_unshare

work=$(mktemp -d "${TMPDIR:-/tmp}/tc-pcscd-sbs.XXXXXX") || exit 1
serve_pid="" inner_pid=""
cleanup() {
    [ -n "$inner_pid" ] && kill "$inner_pid" 2>/dev/null && wait "$inner_pid" 2>/dev/null
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    if [ -n "${TC_SBS_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Killed by SIGKILL the traps do not run: the serving reader stops at the end
# of its stdin, each pcscd has a watchdog (below), and this removes the rest.
[ -z "${TC_SBS_KEEP:-}" ] &&
    (while kill -0 $$ 2>/dev/null; do sleep 1; done; rm -rf "$work") </dev/null >/dev/null 2>&1 &

# The two drop directories, one bundle each.
mkdir -p "$work/ours" "$work/libccid"
cp -rL "$drivers/ifd-tokencard.bundle" "$work/ours/" || exit 1
cp -rL "$libccid" "$work/libccid/" || exit 1
plist=$work/libccid/$(basename "$libccid")/Contents/Info.plist
awk '
/<key>ifdVendorID<\/key>/     { add = "0x1209" }
/<key>ifdProductID<\/key>/    { add = "0x7C01" }
/<key>ifdFriendlyName<\/key>/ { add = "tokencard simulated CCID reader (libccid)" }
{ print }
/<array>/ && add != "" { print "\t\t<string>" add "</string>"; add = "" }
' "$libccid/Contents/Info.plist" > "$plist" || exit 1
first=$(awk '/<key>ifd(VendorID|ProductID|FriendlyName)<\/key>/ { k = 1; next }
    k && /<string>/ { gsub(/^[ \t]*<string>|<\/string>.*$/, ""); printf "%s|", $0; k = 0 }' "$plist")
[ "$first" = "0x1209|0x7C01|tokencard simulated CCID reader (libccid)|" ] ||
    { echo "could not add 1209/7C01 to libccid's Info.plist copy"; exit 1; }

asan=$(ns_asan_preload "$drivers")
if [ "$mode" = bench ]; then
    count=${TC_BENCH_COUNT:-2000}
    [ -n "${TC_BENCH_QUICK:-}" ] && [ "${TC_BENCH_QUICK}" != 0 ] && count=${TC_BENCH_COUNT:-300}
    args="time --count $(((count + 1) / 2)) --warmup $((count / 20 + 20))"
    pcscd_opts="--foreground"
else
    args="transcript ${TC_SBS_ARGS:-}"
    pcscd_opts="--foreground --debug"
fi

# Inside the namespace: pcscd on one drop directory, the client, pcscd stops.
# A watchdog stops pcscd if this script dies without its traps (SIGKILL).
inner=$NS_START_PCSCD'
trap "kill $p 2>/dev/null" EXIT
( while kill -0 $OUTER 2>/dev/null && kill -0 $p 2>/dev/null; do sleep 1; done
  kill $p 2>/dev/null ) &
timeout "$TMO" "$CLIENT" $ARGS > "$OUT"
rc=$?
kill $p; wait $p
exit $rc'

# run_driver NAME LEVEL STEP [SUFFIX]: the client under pcscd with drop
# directory NAME; its output in NAME-LEVEL.outSUFFIX.
run_driver() {
    local pre="" a=$args t0
    t0=$(date +%s%N)
    [ "$1" = ours ] && pre=$asan
    # libccid passes a command to a character- or TPDU-level reader as it is
    # (a 4-byte case 1, a case 4 with Le): the ISO forms at APDU levels only.
    [ "$mode" = check ] && [ "$2" -ge 2 ] && a="$a --apdu-forms"
    [ "$mode" = check ] && [ "$3" -gt 1 ] && a="$a --step $3"
    WORK=$work ROOT=$root DRIVERS=$work/$1 DROPDIR=$dropdir PRE=$pre CLIENT=$client \
        ARGS=$a OUT=$work/$1-$2.out${4:-} LOG=$work/$1-$2.log OUTER=$$ \
        PCSCD_OPTS=$pcscd_opts TMO=${TC_SBS_TIMEOUT:-120} $ns bash -c "$inner" 2>"$work/$1-$2.err" &
    inner_pid=$!
    wait "$inner_pid"
    local rc=$?
    inner_pid=
    echo $((($(date +%s%N) - t0) / 1000000)) > "$work/$1-$2.ms"
    if grep -q -E 'Sanitizer|runtime error' "$work/$1-$2.log"; then
        echo "level $2, $1: sanitizer report in pcscd's log"
        grep -A5 -E 'Sanitizer|runtime error' "$work/$1-$2.log" | head -20
        rc=1
    fi
    if [ $rc -ne 0 ]; then
        echo "level $2, $1: client failed (rc $rc)"
        cat "$work/$1-$2.err"
        grep FAILED "$work/$1-$2.out" | head -5
        grep -E 'tokencard|ccid|rror' "$work/$1-$2.log" | tail -15
    fi
    return $rc
}

# report LEVEL: compare (check) or print side by side (bench).
report() {
    local a=$work/ours-$1.out b=$work/libccid-$1.out
    if [ "$mode" = bench ]; then
        printf '%-12s %6s %6s %10s %10s %9s %9s %7s\n' "level $1" "tx ours" "tx ccid" \
            "ours med" "ccid med" "ours p90" "ccid p90" "ratio"
        # Each figure: the mean of its two runs' (ours, libccid, libccid, ours).
        awk '$1 != "time" { next }
            w == "o" { k = $2; if (!(k in om)) order[++no] = k
                       om[k] += $6 / 2; op[k] += $8 / 2; on[k] = $4; next }
            { lm[$2] += $6 / 2; lp[$2] += $8 / 2; ln[$2] = $4 }
            END { for (i = 1; i <= no; i++) { k = order[i]
                printf "%-12s %6s %6s %10.1f %10.1f %9.1f %9.1f %7.2f\n", k, on[k], ln[k],
                       om[k], lm[k], op[k], lp[k], lm[k] ? om[k] / lm[k] : 0 } }' \
            w=o "$a" "$a"2 w=l "$b" "$b"2
        return 0
    fi
    if ! cmp -s "$a" "$b"; then
        echo "level $1: transcripts differ (< ours, > libccid):"
        diff "$a" "$b" | head -20 | cut -c1-200
        return 1
    fi
    local which="every length"
    [ "$2" -gt 1 ] && which="lengths 1, 255, 256 and every multiple of $2"
    echo "level $1: same transcript under both drivers ($(grep -c ' ok$' "$a") cases ok; $which;" \
        "ours $(cat "$work/ours-$1.ms") ms, libccid $(cat "$work/libccid-$1.ms") ms)"
}

[ "$mode" = bench ] && echo "median and p90 per case in us; ratio = ours/libccid median"
# stop_serve: end of stdin stops the reader cleanly (its testbed removed).
stop_serve() {
    [ -n "${SERVE[1]:-}" ] && eval "exec ${SERVE[1]}>&-"
    for _ in $(seq 50); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
    kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null; serve_pid=
}

fail=0
for arg in "$@"; do
    level=${arg%%:*} step=${TC_SBS_STEP:-1}
    [ "$arg" != "$level" ] && step=${TC_SBS_STEP:-${arg#*:}}
    coproc SERVE { ASAN_OPTIONS=$NS_ASAN_OPTIONS TMPDIR=$work \
        umockdev-wrapper "$prog" --serve "$level" 2>"$work/serve-$level.err"; }
    serve_pid=$SERVE_PID
    l1="" l2=""
    if [ -n "${SERVE[0]:-}" ]; then
        read -r l1 <&"${SERVE[0]}"
        read -r l2 <&"${SERVE[0]}"
    fi
    root=${l1#UMOCKDEV_DIR=}
    if [ "$root" = "${l1:-}" ]; then
        echo "level $level: the simulated reader did not start"
        grep -v ': info:' "$work/serve-$level.err"
        fail=1
        stop_serve
        continue
    fi
    ok=1
    run_driver ours "$level" "$step" || ok=0
    run_driver libccid "$level" "$step" || ok=0
    if [ "$mode" = bench ]; then # ABBA: drift of the machine falls on both alike
        run_driver libccid "$level" "$step" 2 || ok=0
        run_driver ours "$level" "$step" 2 || ok=0
    fi
    stop_serve
    if [ $ok = 1 ]; then
        report "$level" "$step" || fail=1
    else
        echo "level $level ($l2): FAILED"
        grep -v ': info:' "$work/serve-$level.err"
        fail=1
    fi
done
exit $fail
