#!/usr/bin/env bash
# tokencard_pcsc.sh: 'tokencard readers', 'tokencard apdu' and 'tokencard
# watch' through the real pcscd, the tokencard driver and tokencard-sim (the
# rig), checked against what the card really answers.
set -u
. "$(dirname "$0")/shell_rig.sh"
T=$TC_TOOL
R0="tokencard loopback 0"
R1="tokencard loopback 1"

# wait_for FILE TEXT: until FILE holds TEXT (bounded: 30 s), 0 when it does.
wait_for() {
    for _ in $(seq 300); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

test_readers() {
    local out rc
    out=$("$T" readers 2>&1)
    rc=$?
    expect_rc "readers exits 0" $rc 0
    expect "readers lists both readers, cards and ATRs" "$out" "$R0" "$R1" "card: present"
    expect_rc "readers shows the ATR of both cards" "$(grep -cF "ATR:  $RIG_ATR" <<<"$out")" 2
}

test_apdu_cases() {
    local out rc
    out=$("$T" apdu -r "$R0" 80300000 '80 34 00 10 10' '80 32 00 00 03 AA BB CC' \
        '80 36 00 04 02 AA BB 00' '80:34:01:00:00' 2>&1)
    rc=$?
    expect_rc "apdu cases 1-4 exit 0" $rc 0
    expect "apdu connects with T=0" "$out" "reader: $R0 (T=0)"
    expect "apdu case 1" "$out" "> 80 30 00 00" "(case 1, Nc 0, Ne 0)" \
        "SW 9000: normal processing, no further qualification (0 data bytes)"
    expect "apdu case 2: the card's 00 01 02 ... data" "$out" "> 80 34 00 10 10" \
        "< 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F" \
        "SW 9000: normal processing, no further qualification (16 data bytes)"
    expect "apdu case 3" "$out" "> 80 32 00 00 03 AA BB CC"$'\n'"  (case 3S, Nc 3, Ne 0)"$'\n'"  SW 9000"
    expect "apdu case 4 through GET RESPONSE" "$out" "> 80 36 00 04 02 AA BB 00" \
        "< 00 01 02 03"$'\n'"  SW 9000: normal processing, no further qualification (4 data bytes)"
    expect "apdu case 2 of 256 bytes" "$out" "  F0 F1 F2 F3 F4 F5 F6 F7 F8 F9 FA FB FC FD FE FF" \
        "(256 data bytes)"
}

test_apdu_status_words() {
    local out
    out=$("$T" apdu -r "$R0" 00C0000010 80500000 '00 A4 05 00 02 A0 00' \
        '00 A4 04 00 03 A0 00 01' '84 30 00 00' \
        '80 36 00 10 02 AA BB' 00C0000020 '80 34 00 10 08' 2>&1)
    expect "apdu: 6985 explained" "$out" "SW 6985: conditions of use not satisfied"
    expect "apdu: 6D00 explained" "$out" "SW 6D00: instruction code not supported or invalid"
    expect "apdu: 6A86 explained" "$out" "SW 6A86: incorrect parameters P1-P2"
    expect "apdu: 6A82 explained" "$out" "SW 6A82: file or application not found"
    expect "apdu: 6E00 explained" "$out" "SW 6E00: class not supported"
    expect "apdu: 61xx explained" "$out" \
        "SW 6110: normal processing: 16 data bytes still available (0 data bytes)"
    # GET RESPONSE with Le 20 for 16 kept bytes: the card says 6C10; the T=0
    # transport layer re-issues with Le 10, so the application gets the data.
    expect "apdu: wrong Le re-issued after 6C10" "$out" "> 00 C0 00 00 20" \
        "> 80 34 00 10 08"$'\n'"  (case 2S, Nc 0, Ne 8)"$'\n'"< 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F"
    expect_rc "apdu: 9000 twice (GET RESPONSE, wrong Le)" "$(grep -c "SW 9000" <<<"$out")" 2
}

test_apdu_errors() {
    local out rc
    out=$("$T" apdu 80GG 2>&1)
    rc=$?
    expect_rc "apdu: bad hex exits 2" $rc 2
    expect "apdu: bad hex message" "$out" "APDU 1 is not hex" "character 3 of '80GG'"
    out=$("$T" apdu 8030 2>&1)
    rc=$?
    expect_rc "apdu: short APDU exits 2" $rc 2
    expect "apdu: short APDU refused" "$out" "is not a command APDU"
    out=$("$T" apdu -r 7 80300000 2>&1)
    rc=$?
    expect_rc "apdu: unknown reader exits 1" $rc 1
    expect "apdu: unknown reader" "$out" "no reader 7 (there are 2)"
    out=$(PCSCLITE_CSOCK_NAME="$RIG_DIR/nowhere" "$T" apdu 80300000 2>&1)
    rc=$?
    expect_rc "apdu: no pcscd exits 1" $rc 1
    expect "apdu: no pcscd" "$out" "SCardEstablishContext" "not reachable"
}

test_watch_card() {
    local log="$RIG_DIR/watch.out" pid rc out
    "$T" watch -r "$R1" --count 2 --timeout 60 >"$log" 2>&1 &
    pid=$!
    wait_for "$log" "$R1: present, ATR $RIG_ATR" || fail "watch: no initial state"
    "$T" rig remove 1 --dir "$RIG_DIR" >/dev/null
    wait_for "$log" "card removed" || fail "watch: removal not seen"
    out=$("$T" readers 2>&1)
    expect "readers: the removed card" "$out" "$R1"$'\n'"   card: empty"
    "$T" rig insert 1 --dir "$RIG_DIR" >/dev/null
    wait $pid
    rc=$?
    out=$(cat "$log")
    expect_rc "watch --count 2 exits 0" $rc 0
    expect "watch: removal then insertion" "$out" "] $R1: card removed" \
        "] $R1: card inserted, ATR $RIG_ATR"
    expect_not "watch -r: one reader only" "$out" "$R0"
    out=$("$T" apdu -r "$R1" 80300000 2>&1)
    expect "apdu after reinsertion" "$out" "SW 9000"
}

test_watch_removed_card_apdu() {
    local out rc
    "$T" rig remove 0 --dir "$RIG_DIR" >/dev/null
    for _ in $(seq 100); do
        "$T" readers 2>/dev/null | grep -A1 -F "$R0" | grep -q "card: empty" && break
        sleep 0.1
    done
    out=$("$T" apdu -r "$R0" 80300000 2>&1)
    rc=$?
    expect_rc "apdu: no card exits 1" $rc 1
    expect "apdu: no card is a PC/SC error" "$out" "SCardConnect"
    "$T" rig insert 0 --dir "$RIG_DIR" >/dev/null
}

test_watch_timeout() {
    local out rc
    out=$("$T" watch --count 1 --timeout 0.5 2>&1)
    rc=$?
    expect_rc "watch: count not reached exits 1" $rc 1
    expect "watch: count not reached in time" "$out" "0 of 1 events"
}

test_watch_pcscd_restart() {
    local log="$RIG_DIR/watch2.out" pid rc out
    "$T" watch --count 6 --timeout 60 >"$log" 2>&1 &
    pid=$!
    wait_for "$log" "$R0: present" || fail "watch: no initial state"
    "$T" rig restart-pcscd --dir "$RIG_DIR" >/dev/null
    wait $pid
    rc=$?
    out=$(cat "$log")
    expect_rc "watch across a pcscd restart exits 0" $rc 0
    expect "watch: readers removed and added with pcscd" "$out" "pcscd: service stopped" \
        "$R0: reader removed" "$R1: reader removed" "pcscd: service back" \
        "$R0: reader added" "$R1: reader added"
}

# full_name PART: the PC/SC name of the reader whose name holds PART
# (pcscd adds " 00 00", " 01 00"... to the FRIENDLYNAME).
full_name() {
    "$T" readers | sed -n "s/^[0-9]*: \(.*$1 .*\)/\1/p"
}

need "$T" "$TC_SIM"
rig_start 2
R0=$(full_name "$R0")
R1=$(full_name "$R1")
expect "readers: names '$R0', '$R1'" "$R0|$R1" "tokencard loopback 0 " "tokencard loopback 1 "
test_readers
test_apdu_cases
test_apdu_status_words
test_apdu_errors
test_watch_card
test_watch_removed_card_apdu
test_watch_timeout
test_watch_pcscd_restart
finish
