#!/usr/bin/env bash
# wire_efficiency.sh TOKENCARD TOKENCARD_SIM: the wire efficiency of the reader
# test application's cases at the default Fd/Dd and after PPS to the card's
# TA1, side by side. Prints figures; fails only when a run itself fails.
set -euo pipefail
tool=$1
sim=$2
echo "== default speed (no PPS)"
"$tool" exercise --no-pps --card "$sim --socket {}" | sed -n '/^Wire efficiency/,$p'
echo "== after PPS to the card's TA1"
"$tool" exercise --card "$sim --socket {}" | sed -n '/^Wire efficiency/,$p'
