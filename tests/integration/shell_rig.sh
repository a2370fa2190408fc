# shellcheck shell=bash
# shell_rig.sh: sourced by the shell integration tests. A private pcscd with
# the tokencard driver and tokencard-sim readers through 'tokencard rig',
# stopped when the test exits (and by the rig's --owner watchdog when the
# test is killed), plus small check helpers that count passes and failures.
#
# Needs TC_TOOL (the tokencard tool) and TC_SIM (tokencard-sim).

: "${TC_TOOL:?set TC_TOOL to the tokencard tool}"
: "${TC_SIM:?set TC_SIM to tokencard-sim}"

# The ATR every simulated card of these tests sends, set verbatim (not the
# sim's default): 3B, T0 = 06 (T=0 alone, no interface bytes), six historical
# bytes "TC-SIM".
RIG_ATR="3B 06 54 43 2D 53 49 4D"

RIG_DIR=$(mktemp -d /tmp/tc-shrig.XXXXXX)
RIG_UP=0
passes=0
failures=0

rig_stop() {
    if [ "$RIG_UP" = 1 ]; then
        "$TC_TOOL" rig stop --dir "$RIG_DIR" >/dev/null 2>&1 || true
        RIG_UP=0
    fi
}

rig_cleanup() {
    rig_stop
    rm -rf "$RIG_DIR"
}
trap rig_cleanup EXIT

# rig_start N: N readers, each with tokencard-sim; exports PCSCLITE_CSOCK_NAME.
rig_start() {
    local out
    # To a file, not a pipe: the rig's --owner watchdog keeps its stdout open.
    if ! "$TC_TOOL" rig start --dir "$RIG_DIR" --readers "$1" --owner $$ \
        --card "$TC_SIM --socket {} --set atr=${RIG_ATR// /}" >"$RIG_DIR/start.out"; then
        echo "FATAL: tokencard rig start failed; logs:" >&2
        tail -n 20 "$RIG_DIR"/*.log >&2 || true
        exit 1
    fi
    RIG_UP=1
    out=$(cat "$RIG_DIR/start.out")
    export TC_RIG_DIR="$RIG_DIR"
    export PCSCLITE_CSOCK_NAME="$RIG_DIR/pcscd.comm"
    case "$out" in
    *"PCSCLITE_CSOCK_NAME=$PCSCLITE_CSOCK_NAME"*) ;;
    *)
        echo "FATAL: rig start printed no PCSCLITE_CSOCK_NAME line: $out" >&2
        exit 1
        ;;
    esac
}

pass() {
    passes=$((passes + 1))
    echo "ok: $1"
}

fail() {
    failures=$((failures + 1))
    echo "FAIL: $1"
}

# expect NAME TEXT PATTERN...: TEXT contains every PATTERN, a fixed string
# that may span lines.
expect() {
    local name=$1 text=$2 p
    shift 2
    for p in "$@"; do
        if [[ "$text" != *"$p"* ]]; then
            fail "$name: no '$p' in:"
            sed 's/^/    | /' <<<"$text"
            return 1
        fi
    done
    pass "$name"
}

# expect_rc NAME GOT WANT: an exit status.
expect_rc() {
    if [ "$2" = "$3" ]; then
        pass "$1"
    else
        fail "$1: exit status $2, expected $3"
    fi
}

# expect_not NAME TEXT PATTERN: TEXT does not contain PATTERN.
expect_not() {
    if [[ "$2" == *"$3"* ]]; then
        fail "$1: unexpected '$3' in:"
        sed 's/^/    | /' <<<"$2"
        return 1
    fi
    pass "$1"
}

# need TOOL...: every tool must be there (scripts/deps.sh installs them);
# a missing one is a failure, not a skip.
need() {
    local t
    for t in "$@"; do
        if ! command -v "$t" >/dev/null 2>&1 && [ ! -x "$t" ]; then
            echo "FATAL: $t is missing: run scripts/deps.sh" >&2
            exit 1
        fi
    done
}

# finish: the closing line and the exit status.
finish() {
    echo "$passes passed, $failures failed"
    [ "$failures" -eq 0 ]
}
