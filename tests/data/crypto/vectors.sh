#!/bin/sh
# vectors.sh: tokencard's key derivations computed with the openssl command
# line, independently of protocol/tc_crypto.c (docs/token-card.md, "Keys and
# cryptography").
#
#   vectors.sh check    [FILE]  recompute every vector of FILE, exit 1 on a mismatch
#   vectors.sh generate [FILE]  write FILE afresh from the inputs below
#
# FILE defaults to derive.txt beside this script. Needs openssl (3.x) and xxd.
# ALL KEYS HERE ARE TEST KEYS, generated for the tests, never used on a card.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-check}
file=${2:-$here/derive.txt}

# AES-128 CMAC of the hex message $2 under the hex key $1, upper-case hex.
cmac() {
	printf '%s' "$2" | xxd -r -p |
		openssl mac -cipher AES-128-CBC -macopt "hexkey:$1" CMAC
}

# SP 800-108 counter mode, one block: [1] || label || 0x00 || context || [128]_2.
# Labels: "TCCARDKEY" || purpose (card keys), "TCSESSION" (session keys).
label_card=$(printf 'TCCARDKEY' | xxd -p)
label_session=$(printf 'TCSESSION' | xxd -p)

card_key() { # master card_id purpose(2 hex)
	cmac "$1" "01${label_card}$3""00$2""0080"
}

session_key() { # card_key atc(8 hex)
	cmac "$1" "01${label_session}00$2""0080"
}

upper() { printf '%s' "$1" | tr 'a-f' 'A-F'; }

check() {
	bad=0 n=0
	while read -r kind a b c d; do
		case $kind in
		'#'* | '') continue ;;
		card) got=$(card_key "$a" "$b" "$c") want=$d ;;
		session) got=$(session_key "$a" "$b") want=$c ;;
		*) echo "vectors.sh: $file: unknown kind '$kind'" >&2; exit 2 ;;
		esac
		n=$((n + 1))
		if [ "$got" != "$(upper "$want")" ]; then
			echo "MISMATCH: $kind $a $b ${c:-}: openssl says $got, file says $want" >&2
			bad=$((bad + 1))
		fi
	done <"$file"
	echo "vectors.sh: $n vectors checked with openssl, $bad mismatches"
	[ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
}

# TEST KEY: generated once with `openssl rand -hex 16` for these vectors.
MASTER=F928756E56A37CA3170E04DC8563872F
# TEST KEY: all-zero and all-FF masters, for the edges.
ZERO=00000000000000000000000000000000
FF=FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF

generate() {
	{
		echo "# tokencard key derivation vectors (docs/token-card.md, Keys and cryptography)."
		echo "# Made by tests/data/crypto/vectors.sh generate with the openssl command line;"
		echo "# checked by tests/unit/test_crypto.c and by 'vectors.sh check'."
		echo "# EVERY KEY IN THIS FILE IS A TEST KEY."
		echo "#"
		echo "# card    MASTER CARD_ID PURPOSE(hex) -> CARD_KEY"
		for id in 01 544300000000000001 5443000000000000FF 0102030405060708090A0B0C0D0E0F10 \
			000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F; do
			for p in 01 02 03 04; do
				echo "card $MASTER $id $p $(card_key $MASTER $id $p)"
			done
		done
		echo "card $ZERO 00 01 $(card_key $ZERO 00 01)"
		echo "card $FF FF 04 $(card_key $FF FF 04)"
		echo "#"
		echo "# session CARD_KEY ATC(8 hex) -> SESSION_KEY"
		k=$(card_key $MASTER 544300000000000001 02)
		for atc in 00000000 00000001 00000002 000000FF 00010000 7FFFFFFF FFFFFFFE FFFFFFFF; do
			echo "session $k $atc $(session_key "$k" $atc)"
		done
		echo "session $ZERO 00000001 $(session_key $ZERO 00000001)"
	} >"$file"
	echo "vectors.sh: wrote $file"
}

case $mode in
check) check ;;
generate) generate && check ;;
*) echo "usage: vectors.sh check|generate [FILE]" >&2; exit 2 ;;
esac
