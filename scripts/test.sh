#!/usr/bin/env bash
# test.sh: install what is missing, build with AddressSanitizer and
# UndefinedBehaviorSanitizer (warnings are errors), check formatting, and run
# the whole test suite: unit, fuzz corpus replay, integration, then a short
# libFuzzer run of every fuzz target (clang).
#   TC_FUZZ_SECONDS  seconds per fuzz target in the libFuzzer run (default 10; 0 skips it)
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
FUZZ_SECONDS=${TC_FUZZ_SECONDS:-10}

scripts/deps.sh

echo "== build (ASan + UBSan, -Werror)"
cmake -S . -B build/test -DCMAKE_BUILD_TYPE=Debug -DTC_WERROR=ON -DTC_SANITIZE=ON >/dev/null
cmake --build build/test -j"$JOBS"

echo "== format"
scripts/check-format.sh

echo "== tests"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir build/test -j"$JOBS" --output-on-failure --timeout 300 -LE bench

if [ "$FUZZ_SECONDS" != 0 ]; then
    echo "== fuzz (libFuzzer, ${FUZZ_SECONDS}s per target)"
    CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DTC_FUZZ=ON -DTC_SANITIZE=ON \
        -DTC_FUZZ_SECONDS="$FUZZ_SECONDS" >/dev/null
    cmake --build build/fuzz -j"$JOBS" --target fuzz_all
    ctest --test-dir build/fuzz -j"$JOBS" --output-on-failure -L fuzz
fi
