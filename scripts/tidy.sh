#!/usr/bin/env bash
# tidy.sh: run clang-tidy (.clang-tidy at the top) over the project's C files,
# using the compile database of the test build (scripts/test.sh makes it).
#   scripts/tidy.sh [FILE...]   default: every .c file under protocol/ driver/ card/ tools/
set -euo pipefail
cd "$(dirname "$0")/.."
db=build/test
if [ ! -f "$db/compile_commands.json" ]; then
    cmake -S . -B "$db" -DCMAKE_BUILD_TYPE=Debug -DTC_WERROR=ON -DTC_SANITIZE=ON >/dev/null
fi
if [ $# -eq 0 ]; then
    mapfile -t files < <(git ls-files 'protocol/*.c' 'driver/*.c' 'card/*.c' 'tools/*.c')
else
    files=("$@")
fi
clang-tidy -p "$db" --quiet "${files[@]}"
