#!/usr/bin/env bash
# pcsc_tools.sh: the tools the field uses, unmodified from Debian, against our
# driver through the real pcscd (the rig): pcsc_scan (pcsc-tools),
# opensc-tool (opensc) and pyscard (python3-pyscard). scripts/deps.sh
# installs them, so a missing tool fails the test.
set -u
HERE=$(dirname "$0")
. "$HERE/shell_rig.sh"
PY=${TC_PY:-/usr/bin/python3}
R0="tokencard loopback 0"
R1="tokencard loopback 1"
ATR_COLON=$(tr 'A-F ' 'a-f:' <<<"$RIG_ATR")

test_pcsc_scan() {
    local out rc
    out=$(timeout 30 pcsc_scan -r 2>&1)
    rc=$?
    expect_rc "pcsc_scan -r exits 0" $rc 0
    expect "pcsc_scan -r lists both readers" "$out" "$R0" "$R1"
    # -t: quit after 2 s; -n: no ATR analysis (the card is not in its list)
    out=$(timeout 30 pcsc_scan -n -t 2 2>&1)
    expect "pcsc_scan sees the cards and their ATR" "$out" "$R0" "Card inserted" \
        "ATR: $RIG_ATR"
}

# opensc_index NAME: the opensc-tool reader number of NAME.
opensc_index() {
    opensc-tool -l 2>/dev/null | awk -v n="$1" 'index($0, n) { print $1; exit }'
}

test_opensc() {
    local out rc n
    out=$(opensc-tool -l 2>&1)
    expect "opensc-tool -l lists both readers with a card" "$out" "Yes" "$R0" "$R1"
    n=$(opensc_index "$R0")
    [ -n "$n" ] || {
        fail "opensc-tool -l: no $R0"
        return
    }
    out=$(opensc-tool -r "$n" -a 2>&1)
    expect "opensc-tool -a gives the card's ATR" "$out" "$ATR_COLON"
    out=$(opensc-tool -r "$n" -s 80:30:00:00 -s 80:34:00:10:10 -s 80:32:00:00:02:AA:BB \
        -s 80:36:00:08:01:5A:00 -s 80:50:00:00 2>&1)
    rc=$?
    out=$(sed 's/ *$//' <<<"$out") # opensc-tool ends "Sending: ..." with a space
    expect_rc "opensc-tool -s exits 0" $rc 0
    expect "opensc-tool: case 1" "$out" "Sending: 80 30 00 00"$'\n'"Received (SW1=0x90, SW2=0x00)"
    expect "opensc-tool: case 2 data" "$out" \
        "Sending: 80 34 00 10 10"$'\n'"Received (SW1=0x90, SW2=0x00):"$'\n'"00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F"
    expect "opensc-tool: case 3" "$out" "Sending: 80 32 00 00 02 AA BB"$'\n'"Received (SW1=0x90, SW2=0x00)"
    expect "opensc-tool: case 4" "$out" \
        "Sending: 80 36 00 08 01 5A 00"$'\n'"Received (SW1=0x90, SW2=0x00):"$'\n'"00 01 02 03 04 05 06 07"
    expect "opensc-tool: unknown INS" "$out" "Sending: 80 50 00 00"$'\n'"Received (SW1=0x6D, SW2=0x00)"
}

test_pyscard() {
    local out rc
    if ! "$PY" -c 'import smartcard' 2>/dev/null; then
        fail "pyscard is missing under $PY: run scripts/deps.sh"
        return
    fi
    out=$("$PY" "$HERE/pyscard_cases.py" "$R1" "$RIG_ATR" 2>&1)
    rc=$?
    expect_rc "pyscard cases 1-4, every length" $rc 0
    expect "pyscard: ATR and all exchanges" "$out" "$R1" "ATR $RIG_ATR" "pyscard: 768 exchanges, 0 wrong"
    [ $rc = 0 ] || sed 's/^/    | /' <<<"$out" | head -20
}

need pcsc_scan opensc-tool timeout "$PY"
rig_start 2
test_pcsc_scan
test_opensc
test_pyscard
finish
