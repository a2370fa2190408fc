#!/usr/bin/env bash
# bench.sh: build a Release tree (build/bench) and run the benchmarks side by
# side in one run: SCardTransmit round trip on three readers of one private
# pcscd (tokencard, vpcd, a null IFD handler), card insert/remove to
# SCardGetStatusChange, the driver alone (time and instructions per APDU), the
# wire efficiency with and without PPS, and (with
# umockdev and libccid) our USB driver against libccid on the same simulated
# CCID reader.
# Prints figures; asserts no target (docs/benchmarks.md says how to read them).
#
#   ./scripts/bench.sh                  full run (20,000 exchanges per figure)
#   TC_BENCH_QUICK=1 ./scripts/bench.sh short run (about 2,000)
#
# Installs only what scripts/deps.sh installs, and vsmartcard-vpcd when missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build/bench

"$root/scripts/deps.sh"
if ! dpkg-query -W -f='${Status}' vsmartcard-vpcd 2>/dev/null | grep -q 'install ok installed'; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            SUDO="sudo"
        else
            echo "bench.sh: vsmartcard-vpcd is missing and neither root nor sudo" >&2
            exit 1
        fi
    fi
    echo "bench.sh: installing vsmartcard-vpcd"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends vsmartcard-vpcd
fi

# Release, never sanitizers: an ASan driver would put its runtime into pcscd.
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTC_SANITIZE=OFF -DTC_FUZZ=OFF \
    -DTC_WERROR=OFF >/dev/null
bench_targets=(tokencard tokencard-sim ifd-tokencard)
# One listing, matched afterwards: `grep -q` in a pipe under pipefail can
# stop cmake with SIGPIPE and fail the test.
targets=$(cmake --build "$build" --target help)
if grep -q bench_transmit <<<"$targets"; then
    bench_targets+=(bench_transmit bench_insert vpcd_responder null_ifd bench_ifd)
fi
if grep -q ccid_sbs_client <<<"$targets"; then
    bench_targets+=(test_ccid_usb ccid_sbs_client)
fi
cmake --build "$build" -j"$(nproc)" --target "${bench_targets[@]}"

# The bench programs, by hand when tests/bench/CMakeLists.txt does not list them.
bin=$build/tests/bench
if [ ! -x "$bin/bench_transmit" ]; then
    bin=$build/bench-by-hand
    mkdir -p "$bin"
    src=$root/tests/bench
    cflags=(-std=c11 -O2 -D_POSIX_C_SOURCE=200809L -Wall -Wextra $(pkg-config --cflags libpcsclite))
    libs=$(pkg-config --libs libpcsclite)
    cc "${cflags[@]}" -o "$bin/bench_transmit" "$src/bench_transmit.c" "$src/bench_stats.c" $libs
    cc "${cflags[@]}" -pthread -o "$bin/bench_insert" "$src/bench_insert.c" "$src/bench_stats.c" $libs
    cc "${cflags[@]}" -o "$bin/vpcd_responder" "$src/vpcd_responder.c" "$src/bench_card.c" \
        "$src/bench_stats.c"
    cc "${cflags[@]}" -fPIC -shared -o "$bin/libnull_ifd.so" "$src/null_ifd.c" "$src/bench_card.c"
fi

echo "== tokencard benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(uname -r)," \
    "$(pcscd --version 2>/dev/null | head -n 1 | sed 's/\.$//'))"
[ -n "${TC_BENCH_QUICK:-}" ] && [ "${TC_BENCH_QUICK}" != 0 ] && echo "(quick run)"
status=0
bash "$root/tests/bench/pcsc_bench.sh" "$build/tools/tokencard" "$bin" || status=1
echo
echo "== the driver alone, without pcscd (tests/bench/ifd_cost.sh)"
if [ -x "$bin/bench_ifd" ]; then
    bash "$root/tests/bench/ifd_cost.sh" "$build/card/tokencard-sim" \
        "$build/driver/libifd-tokencard.so" "$bin/bench_ifd" 2>/dev/null || status=1
else
    echo "skipped: bench_ifd not built"
fi
echo
echo "== wire efficiency (tests/bench/wire_efficiency.sh)"
bash "$root/tests/bench/wire_efficiency.sh" "$build/tools/tokencard" "$build/card/tokencard-sim" ||
    status=1
echo
echo "== USB CCID: ours against libccid, same simulated reader (tests/ccid_sim/pcscd_sbs.sh)"
if [ -x "$build/tests/ccid_sim/ccid_sbs_client" ]; then
    rc=0
    TC_SIM=$build/card/tokencard-sim bash "$root/tests/ccid_sim/pcscd_sbs.sh" bench \
        "$build/tests/ccid_sim/test_ccid_usb" "$build/driver" \
        "$build/tests/ccid_sim/ccid_sbs_client" 0 1 2 3 || rc=$?
    [ "$rc" -eq 77 ] || [ "$rc" -eq 0 ] || status=1
else
    echo "skipped: no umockdev (tests/ccid_sim not built)"
fi
exit "$status"
