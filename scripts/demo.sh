#!/usr/bin/env bash
# demo.sh: install what is missing, build, and run tokencard on its embedded
# defaults: tokencard-sim on the loopback wire answering a session from the
# driver's reader core, with the decoded wire trace.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}

scripts/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$JOBS" >/dev/null
exec build/release/tools/tokencard demo "$@"
