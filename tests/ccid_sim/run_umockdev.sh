#!/bin/sh
# run_umockdev.sh WRAPPER PROGRAM [ARGS...]: run PROGRAM under umockdev's
# wrapper with a private TMPDIR, so the testbed directories (umockdev.*) it
# makes there are removed even when the program is killed or crashes
# (umockdev removes its own only on a clean exit).
wrapper=$1
shift
dir=$(mktemp -d "${TMPDIR:-/tmp}/tc-umockdev.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM
TMPDIR=$dir "$wrapper" "$@"
