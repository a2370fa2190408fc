#!/bin/sh
# vectors.sh: the deposit-token cryptograms (docs/token-card.md, "Cryptograms")
# computed with the openssl command line, independently of protocol/.
#
#   vectors.sh check    [FILE]  recompute every vector of FILE, exit 1 on a mismatch
#   vectors.sh generate [FILE]  write FILE afresh from the inputs below
#
# FILE defaults to cryptograms.txt beside this script. Needs openssl 3 and xxd.
# ALL KEYS HERE ARE TEST KEYS, generated for the tests, never used on a card.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-check}
file=${2:-$here/cryptograms.txt}

upper() { tr 'a-f' 'A-F'; }
hex() { printf '%s' "$1" | xxd -p | tr -d '\n' | upper; } # ASCII -> hex
len1() { printf '%02X' $((${#1} / 2)); }                  # hex string -> length byte

# AES-128 CMAC of the hex message $2 under the hex key $1, upper-case hex.
cmac() {
	printf '%s' "$2" | xxd -r -p |
		openssl mac -cipher AES-128-CBC -macopt "hexkey:$1" CMAC
}

# SP 800-108 counter-mode KDF (docs/token-card.md, "The KDF").
card_key() { cmac "$1" "01$(hex TCCARDKEY)$3""00$2""0080"; } # master card_id purpose
session_key() { cmac "$1" "01$(hex TCSESSION)00$2""0080"; }   # card_key atc

# The cryptograms. master card_id(hex) ...
arqc() { # master id atc debit(30 bytes hex) token_id(ASCII)
	sk=$(session_key "$(card_key "$1" "$2" 02)" "$3")
	t=$(hex "$5")
	cmac "$sk" "$(hex TCDR)$(len1 "$2")$2$3$4$(len1 "$t")$t"
}
arpc() { # master id atc outcome(1 byte hex) arqc
	sk=$(session_key "$(card_key "$1" "$2" 02)" "$3")
	cmac "$sk" "$(hex TCDC)$3$4$5"
}
put() { # master id challenge(8 bytes) atc record
	cmac "$(card_key "$1" "$2" 03)" "$(hex TCPT)$(len1 "$2")$2$3$4$5"
}
auth() { # master id challenge
	cmac "$(card_key "$1" "$2" 01)" "$(hex TCIA)$(len1 "$2")$2$3"
}
issuer() { # token_key items(DF01..DF0B TLV bytes)
	cmac "$1" "$(hex TCTOKEN1)$2"
}

check() {
	bad=0 n=0
	while read -r kind a b c d e f g; do
		case $kind in
		'#'* | '') continue ;;
		arqc) got=$(arqc "$a" "$b" "$c" "$d" "$e") want=$f ;;
		arpc) got=$(arpc "$a" "$b" "$c" "$d" "$e") want=$f ;;
		put) got=$(put "$a" "$b" "$c" "$d" "$e") want=$f ;;
		auth) got=$(auth "$a" "$b" "$c") want=$d ;;
		issuer) got=$(issuer "$a" "$b") want=$c ;;
		*) echo "vectors.sh: $file: unknown kind '$kind'" >&2; exit 2 ;;
		esac
		: "${g:=}"
		n=$((n + 1))
		if [ "$got" != "$(printf '%s' "$want" | upper)" ]; then
			echo "MISMATCH: $kind $a $b: openssl says $got, file says $want" >&2
			bad=$((bad + 1))
		fi
	done <"$file"
	echo "vectors.sh: $n token cryptograms checked with openssl, $bad mismatches"
	[ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
}

tlv() { v=$(hex "$2"); printf '%s%s%s' "$1" "$(len1 "$v")" "$v"; } # tag ASCII-value
tlvh() { printf '%s%s%s' "$1" "$(len1 "$2")" "$2"; }              # tag hex-value

# TEST KEYS: the master of tests/data/crypto/vectors.sh (openssl rand -hex 16),
# the master of tests/data/token/keys.txt, the NIST SP 800-38B example key.
MASTER=F928756E56A37CA3170E04DC8563872F
MASTER2=00112233445566778899AABBCCDDEEFF
TOKKEY=2B7E151628AED2A6ABF7158809CF4F3C
ID1=$(hex TC00000001)
ID2=01
ID3=000102030405060708090A0B0C0D0E0F

generate() {
	# the drawing's token: 400.00 USD (40000 = 9C40), 2002-09-10 .. 2002-11-15
	items=$(tlv DF01 1234567890)$(tlv DF02 "TARO YAMADA")$(tlv DF03 100000123)
	items=$items$(tlvh DF04 0000000000009C40)$(tlvh DF05 0348)$(tlvh DF06 07D2090A)
	items=$items$(tlvh DF07 07D20B0F)$(tlv DF08 0001)$(tlv DF09 999123456)
	items=$items$(tlv DF0A 1111)$(tlv DF0B 1111222233334444)
	imac=$(issuer $TOKKEY "$items")
	body=$items"DF0F10"$imac
	blen=$((${#body} / 2)) # BER length: one byte below 128, else 81 xx
	if [ $blen -lt 128 ]; then record="E1$(len1 "$body")$body"; else record="E181$(len1 "$body")$body"; fi
	# 12.50 USD on 2002-10-01 at terminal "TERM0001" with a fixed nonce
	debit=00000000000004E2"0348"07D20A01$(hex TERM0001)0102030405060708
	debit2=00000000000F4240"0188"270F0C1F0000000000000000FFFFFFFFFFFFFFFF
	{
		echo "# tokencard deposit-token cryptograms (docs/token-card.md, Cryptograms)."
		echo "# Made by tests/data/token/vectors.sh generate with the openssl command line;"
		echo "# checked by tests/unit/test_token_proto.c and by 'vectors.sh check'."
		echo "# EVERY KEY IN THIS FILE IS A TEST KEY; the token is the drawing's test data."
		echo "#"
		echo "# issuer TOKEN_KEY ITEMS(DF01..DF0B) -> ISSUER_MAC"
		echo "issuer $TOKKEY $items $imac"
		echo "# arqc MASTER CARD_ID ATC DEBIT(30) TOKEN_ID(ASCII) -> ARQC"
		for v in "$MASTER $ID1 00000001 $debit 1234567890" \
			"$MASTER2 $ID1 00000001 $debit 1234567890" \
			"$MASTER2 $ID2 FFFFFFFE $debit2 1" \
			"$MASTER $ID3 7FFFFFFF $debit2 12345678901234567890"; do
			set -- $v
			a=$(arqc "$@")
			echo "arqc $* $a"
			for o in 00 01; do
				echo "arpc $1 $2 $3 $o $a $(arpc "$1" "$2" "$3" $o "$a")"
			done
		done
		echo "# put MASTER CARD_ID CHALLENGE ATC RECORD -> MAC"
		echo "put $MASTER2 $ID1 A1A2A3A4A5A6A7A8 00000000 $record $(put $MASTER2 $ID1 A1A2A3A4A5A6A7A8 00000000 "$record")"
		echo "put $MASTER $ID3 0000000000000000 00010000 $record $(put $MASTER $ID3 0000000000000000 00010000 "$record")"
		echo "# auth MASTER CARD_ID CHALLENGE(8..32) -> MAC"
		echo "auth $MASTER2 $ID1 0102030405060708 $(auth $MASTER2 $ID1 0102030405060708)"
		c32=000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F
		echo "auth $MASTER $ID2 $c32 $(auth $MASTER $ID2 $c32)"
	} >"$file"
	echo "vectors.sh: wrote $file"
}

case $mode in
check) check ;;
generate) generate ;;
*) echo "usage: vectors.sh check|generate [FILE]" >&2; exit 2 ;;
esac
