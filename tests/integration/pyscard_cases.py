"""pyscard_cases.py: the reader test application's cases 1-4 through pyscard
(Debian's python3-pyscard, under /usr/bin/python3), as any Python PC/SC
application would use our driver.

usage: pyscard_cases.py READER_PART ATR_HEX
Connects to the one reader whose name contains READER_PART with T=0, checks
the ATR, then runs case 1, case 2 for Ne 1..256, case 3 for Nc 1..255 and
case 4 for Ne 1..256. Prints one line per check, exits 1 on any mismatch."""
import sys

from smartcard.CardConnection import CardConnection
from smartcard.System import readers
from smartcard.util import toBytes, toHexString


def pattern(n):
    return [i & 0xFF for i in range(n)]


def p1p2(n):
    return [n >> 8, n & 0xFF]


def main():
    part, atr = sys.argv[1], toBytes(sys.argv[2])
    names = [r for r in readers() if part in str(r)]
    if len(names) != 1:
        print("FAIL: readers matching %r: %s" % (part, [str(r) for r in readers()]))
        return 1
    conn = names[0].createConnection()
    conn.connect(CardConnection.T0_protocol)
    bad = 0
    got = conn.getATR()
    print("%s: ATR %s" % (names[0], toHexString(got)))
    if got != atr:
        print("FAIL: ATR %s, expected %s" % (toHexString(got), toHexString(atr)))
        bad += 1
    checks = [("case 1", [0x80, 0x30, 0, 0], [])]
    for n in range(1, 257):
        checks.append(("case 2 Ne %d" % n, [0x80, 0x34] + p1p2(n) + [n & 0xFF], pattern(n)))
    for n in range(1, 256):
        checks.append(("case 3 Nc %d" % n, [0x80, 0x32, 0, 0, n] + pattern(n), []))
    for n in range(1, 257):
        checks.append(("case 4 Ne %d" % n, [0x80, 0x36] + p1p2(n) + [1, 0x5A, n & 0xFF],
                       pattern(n)))
    for name, apdu, want in checks:
        data, sw1, sw2 = conn.transmit(apdu, CardConnection.T0_protocol)
        if (sw1, sw2) != (0x90, 0x00) or data != want:
            print("FAIL: %s: %s -> %s SW %02X%02X" % (name, toHexString(apdu),
                                                     toHexString(data), sw1, sw2))
            bad += 1
    conn.disconnect()
    print("pyscard: %d exchanges, %d wrong" % (len(checks), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
