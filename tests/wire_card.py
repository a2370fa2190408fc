#!/usr/bin/python3
"""wire_card.py: a T=0 smart card on the loopback wire, written from docs/wire.md alone.

    wire_card.py --socket PATH [--once] [--inverse] [--runs]   serve readers on PATH
    wire_card.py --self-test [--record FILE]          card + scripted reader

The card answers a cold or warm reset with the ATR 3B 12 95 54 43 (3F ... with
--inverse): T=0 only, TA1 = 95 (Fi 512, Di 16 offered), historical bytes "TC".
It echoes an acceptable PPS request (PPS1 with Di <= 16), leaves PPS1 out of
its answer for any other factors, and stays silent on a bad PCK or T != 0.
The reader test application (AID A0 00 00 00 18 FF) is selected at reset:

    80 30 00 00 00       case 1                       -> 90 00
    80 34 P1 P2 Le       case 2: P1P2 bytes 00 01 ..   (Le wrong -> 6C xx)
    80 32 P1 00 Lc data  case 3 (P1 = 01: one-byte ACKs, INS xor FF)
    80 36 P1 P2 Lc data  case 4 -> 61 xx, then GET RESPONSE (INS C0) gives P1P2 bytes
    80 38 P1 P2 00       P2 NULL bytes P1 x 100 etu apart (0: 12 etu), then 90 00
    00 A4 04 00 06 AID   SELECT

With --runs its HELLO accepts runs of characters (CHARS), which it takes as the
CHARs they stand for; it always sends plain CHARs.

Standard library only; /usr/bin/python3.
"""
import argparse
import os
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
from fractions import Fraction
from math import ceil

HELLO, POWER_ON, POWER_OFF, RST, CLOCK = 0x01, 0x10, 0x11, 0x12, 0x13
CHAR, ERROR, IDLE, CHARS, INSERT, REMOVE, BYE = 0x20, 0x21, 0x22, 0x23, 0x30, 0x31, 0x3F
NAMES = {HELLO: "HELLO", POWER_ON: "POWER_ON", POWER_OFF: "POWER_OFF", RST: "RST",
         CLOCK: "CLOCK", CHAR: "CHAR", ERROR: "ERROR", IDLE: "IDLE", CHARS: "CHARS",
         INSERT: "INSERT", REMOVE: "REMOVE", BYE: "BYE"}
LENGTHS = {HELLO: (4, 36), POWER_ON: (5, 5), POWER_OFF: (0, 0), RST: (1, 1), CLOCK: (4, 4),
           CHAR: (2, 2), ERROR: (4, 4), IDLE: (0, 0), CHARS: (6, 1028), INSERT: (0, 0),
           REMOVE: (0, 0), BYE: (0, 32)}
HELLO_RUNS = 0x01      # HELLO flags: "I accept CHARS" (section 2.2)
HEADER = struct.Struct(">BBHIIIQ")  # type flags len seq ack reserved time (section 2)
FI = {0: 372, 1: 372, 2: 558, 3: 744, 4: 1116, 5: 1488, 6: 1860,
      9: 512, 10: 768, 11: 1024, 12: 1536, 13: 2048}
DI = {1: 1, 2: 2, 3: 4, 4: 8, 5: 16, 6: 32, 7: 64, 8: 12, 9: 20}
AID = bytes.fromhex("A000000018FF")
ATR_BODY = bytes.fromhex("12 95 54 43")
ATR_DELAY = 10000      # cycles from RST high to TS (400..40 000)
TURNAROUND = 16        # etu from the reader's last leading edge to the card's first
MAX_REPEAT = 3         # repetitions of one character, then silence
WALL_TIMEOUT = 5       # --self-test: seconds the reader waits for any message
SELF_TEST_LIMIT = 30   # --self-test: seconds for the whole run


class Malformed(Exception):
    pass


class Msg:
    def __init__(self, mtype, flags, seq, ack, t, body):
        self.type, self.flags, self.seq, self.ack, self.time, self.body = \
            mtype, flags, seq, ack, t, body

    def u32(self):
        return struct.unpack(">I", self.body[:4])[0]


def printable(b):
    return all(0x20 <= c <= 0x7E for c in b)


def check(m):
    """Reason why m is malformed (section 2), or None."""
    b = m.body
    if m.seq == 0:
        return "seq 0"
    if m.type == POWER_ON and b[0] not in (1, 2, 3):
        return "class %d" % b[0]
    if m.type == RST and b[0] > 1:
        return "RST level %d" % b[0]
    if m.type == CHAR and b[1] > 1:
        return "parity bit %d" % b[1]
    if m.type == CHARS:
        n = (len(b) - 4) // 2
        if len(b) % 2:
            return "odd payload"
        if m.u32() == 0:
            return "spacing 0"
        if any(p > 1 for p in b[5::2]):
            return "parity bit above 1"
        if m.seq + n - 1 > 0xFFFFFFFF:
            return "seq past 2^32-1"
    if (m.type == HELLO and not printable(b[4:])) or (m.type == BYE and not printable(b)):
        return "text not printable"
    return None


class Link:
    """One connection; optionally records every message (section 7)."""

    def __init__(self, sock, me, record=None, runs=False):
        self.sock, self.me, self.peer = sock, me, b"C" if me == b"R" else b"R"
        self.record = record
        self.runs = runs    # we said HELLO_RUNS: the peer may send CHARS
        self.queue = []     # the CHARs of a CHARS not yet handed out

    def _read(self, n):
        data = b""
        while len(data) < n:
            part = self.sock.recv(n - len(data))
            if not part:
                return None
            data += part
        return data

    def recv(self):
        if self.queue:
            return self.queue.pop(0)
        head = self._read(HEADER.size)
        if head is None:
            return None
        mtype, flags, n, seq, ack, _, t = HEADER.unpack(head)
        if mtype not in LENGTHS or (mtype == CHARS and not self.runs):
            raise Malformed("unknown type 0x%02X" % mtype)
        if not LENGTHS[mtype][0] <= n <= LENGTHS[mtype][1]:
            raise Malformed("%s len %d" % (NAMES[mtype], n))
        body = self._read(n) if n else b""
        if body is None:
            return None
        if self.record:
            self.record.write(self.peer + head + body)
        m = Msg(mtype, flags, seq, ack, t, body)
        why = check(m)
        if why:
            raise Malformed("%s %s" % (NAMES[mtype], why))
        if mtype == CHARS:      # section 2.2: the CHARs it stands for
            gap = m.u32()
            self.queue = [Msg(CHAR, flags, seq + i, ack, t + i * gap, body[4 + 2 * i:6 + 2 * i])
                          for i in range((n - 4) // 2)]
            return self.queue.pop(0)
        return m

    def send(self, mtype, seq, ack, t, body=b"", flags=0):
        data = HEADER.pack(mtype, flags, len(body), seq, ack, 0, t) + body
        if self.record:
            self.record.write(self.me + data)
        self.sock.sendall(data)


def rev(b):
    return int("{:08b}".format(b)[::-1], 2)


def even(b):
    return bin(b).count("1") & 1


def to_line(byte, inverse):
    """raw, parity of a logical byte (section 2.1)."""
    if inverse:
        return rev(~byte & 0xFF), even(byte) ^ 1
    return byte, even(byte)


def from_line(raw, par, inverse):
    """logical byte, parity ok."""
    byte = ~rev(raw) & 0xFF if inverse else raw
    return byte, even(byte) == (par ^ 1 if inverse else par)


class Side:
    """What both ends do: seq/ack, "now", bursts of characters, repetition."""

    def __init__(self, link):
        self.link, self.seq, self.ack = link, 0, 0
        self.last_action = self.last_hard = 0
        self.F, self.D, self.inverse = 372, 1, False
        self.peer_now = self.sent_end = 0
        self.sent, self.reps = [], {}   # my latest burst: [seq, byte, time, gap]
        self.realtime, self.hz, self.wall = False, 0, None

    def etu(self, n):
        return ceil(Fraction(n) * self.F / self.D)

    def now(self):
        return max(self.peer_now, self.sent_end)

    def send(self, mtype, t, body=b"", flags=0):
        if self.realtime and self.hz and self.wall:    # section 3, realtime pacing
            wall, base = self.wall
            delay = wall + (t - base) / self.hz - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        self.seq += 1
        self.link.send(mtype, self.seq, self.ack, t, body, flags)
        if mtype in (CHAR, ERROR, POWER_ON, POWER_OFF, RST, CLOCK):
            self.last_action = self.seq
        if mtype in (ERROR, POWER_ON, POWER_OFF, RST, CLOCK):
            self.last_hard = self.seq
        return self.seq

    def heard(self, m):
        """Book-keeping for every message received, current or not."""
        self.ack = m.seq
        end = m.time + (self.etu(10) if m.type == CHAR else 0)
        self.peer_now = max(self.peer_now, end)

    def current(self, m):
        if m.type == ERROR:
            return m.ack >= self.last_hard and any(
                e[0] == m.u32() and e[0] > self.last_hard for e in self.sent)
        return m.ack >= self.last_action

    def emit(self, items, t, bad=-1):
        """Send [(byte, gap_etu)] from t; gap is from the previous leading edge.
        The character at index bad gets a wrong parity bit."""
        for k, (byte, gap) in enumerate(items):
            if k:
                t += self.etu(gap)
            raw, par = to_line(byte, self.inverse)
            seq = self.send(CHAR, t, bytes([raw, par ^ (k == bad)]))
            self.sent.append([seq, byte, t, gap])
            self.sent_end = max(self.sent_end, t + self.etu(10))

    def burst(self, items, start, bad=-1):
        self.sent, self.reps = [], {}
        self.emit(items, max(start, self.now()), bad)
        self.send(IDLE, self.now())

    def withdraw(self, t):
        """My characters stamped after t never happened (section 4)."""
        self.sent = [e for e in self.sent if e[2] <= t]
        self.sent_end = min(self.sent_end, t)
        for e in self.sent:
            self.sent_end = max(self.sent_end, e[2] + self.etu(10))

    def repeat(self, err):
        """A current ERROR: send that character again and the rest (4.1)."""
        i = next(k for k, e in enumerate(self.sent) if e[0] == err.u32())
        if self.reps.get(i, 0) >= MAX_REPEAT:
            return False
        self.reps[i] = self.reps.get(i, 0) + 1
        tail, first = self.sent[i:], self.sent[i][2]
        self.withdraw(err.time)
        del self.sent[i:]
        t = max(first + self.etu(13), err.time + self.etu(2), self.now())
        self.emit([(e[1], e[3]) for e in tail], t)
        self.send(IDLE, self.now())
        return True


def sw(word):
    return [(word >> 8, 12), (word & 0xFF, 12)]


class Card(Side):
    def __init__(self, link, inverse):
        super().__init__(link)
        self.want_inverse = inverse
        self.powered, self.rst_low, self.state = False, None, "off"
        self.peer_time, self.pending, self.line_free = 0, None, 0

    def serve(self):
        """Answer one reader until BYE or close."""
        try:
            while True:
                m = self.link.recv()
                if m is None or m.type == BYE:
                    return
                if m.type not in (CHAR, IDLE, ERROR) or self.current(m):
                    # Stale messages may be stamped after their replacements
                    # (a repetition goes back to the error signal): compare
                    # the times of current messages only.
                    if m.time < self.peer_time:
                        raise Malformed("time goes backwards")
                    self.peer_time = m.time
                if m.type == CHAR and self.pending and self.current(m):
                    (self.F, self.D), self.pending = self.pending, None  # PPS done
                self.heard(m)
                if not self.handle(m):
                    return
        except Malformed as e:
            self.send(BYE, self.now(), str(e)[:32].encode())

    def handle(self, m):
        if m.type == HELLO:
            if m.body[0] != 1:
                self.send(BYE, 0, b"version")
                return False
            self.realtime = m.body[3] == 1
            self.send(HELLO, 0, bytes([1, 2, 1, 0]) + b"wire_card.py",
                      HELLO_RUNS if self.link.runs else 0)
        elif m.type in (INSERT, REMOVE):
            raise Malformed("%s from a reader" % NAMES[m.type])
        elif m.type in (POWER_ON, POWER_OFF, RST, CLOCK):
            self.hard(m)
        elif m.type == ERROR and self.current(m) and self.powered:
            if not self.repeat(m):
                self.state = "silent"
                self.send(IDLE, self.now())
        elif m.type == CHAR and self.current(m) and self.powered:
            self.char(m)
        return True

    def hard(self, m):
        """POWER_ON, POWER_OFF, RST, CLOCK: they cut my burst at their time."""
        cut = [(e[1], e[3]) for e in self.sent if e[2] > m.time]
        self.withdraw(m.time)
        if m.type == CLOCK:
            self.hz, self.wall = m.u32(), (time.monotonic(), m.time)
            if cut and self.powered:        # what never happened is sent now
                self.emit(cut, self.now())
        elif m.type == RST and m.body[0] == 1:
            if self.powered and self.rst_low is not None and m.time - self.rst_low >= 400:
                return self.answer_to_reset(m.time)
            self.rst_low = None             # RST low too short: no ATR
        else:                               # POWER_ON, POWER_OFF, RST 0
            if m.type == POWER_ON:
                self.hz = struct.unpack(">I", m.body[1:5])[0]
                self.wall = (time.monotonic(), m.time)
            if m.type != RST:
                self.powered = m.type == POWER_ON
            self.rst_low = m.time if self.powered else None
            self.state, self.F, self.D, self.pending = "off", 372, 1, None
        self.send(IDLE, self.now())

    def answer_to_reset(self, t):
        self.state, self.rst_low, self.F, self.D = "atr", None, 372, 1
        self.inverse, self.pending, self.response = self.want_inverse, None, b""
        ts = 0x3F if self.inverse else 0x3B
        self.burst([(b, 12) for b in bytes([ts]) + ATR_BODY], t + ATR_DELAY)

    def char(self, m):
        if self.state in ("off", "silent"):
            self.send(IDLE, self.now())
            return
        byte, ok = from_line(m.body[0], m.body[1], self.inverse)
        if m.time < max(self.line_free, self.sent_end):
            ok = False                      # two characters on I/O at once: garbled
        self.line_free = m.time + self.etu(10)
        if not ok:
            self.send(ERROR, m.time + self.etu(10.5), struct.pack(">I", m.seq))
            self.send(IDLE, self.now())
            return
        items = self.feed(byte)
        if items:
            self.burst(items, m.time + self.etu(TURNAROUND))
        else:
            self.send(IDLE, self.now())

    def feed(self, b):
        """T=0, one reader character at a time; returns a burst or None."""
        if self.state == "atr":
            self.state, self.buf = ("pps", []) if b == 0xFF else ("header", [])
        self.buf.append(b)
        if self.state == "pps" and len(self.buf) >= 2:
            if len(self.buf) == 3 + bin(self.buf[1] >> 4 & 7).count("1"):
                return self.pps(bytes(self.buf))
        elif self.state == "header" and len(self.buf) == 5:
            return self.header(*self.buf)
        elif self.state == "data":
            if len(self.buf) == self.lc:
                data, self.state, self.buf = bytes(self.buf), "header", []
                return self.done(data)
            if self.onebyte:
                return [(self.ins ^ 0xFF, 12)]
        return None

    def pps(self, req):
        self.state, self.buf = "header", []
        x = 0
        for b in req:
            x ^= b
        if x or req[1] & 0x0F:
            self.state = "silent"           # bad PCK or not T=0: no answer
            return None
        if req[1] & 0x10:
            fi, di = req[2] >> 4, req[2] & 0x0F
            if fi in FI and DI.get(di, 99) <= 16:
                self.pending = FI[fi], DI[di]
                return [(b, 12) for b in req]
        ans = bytes([0xFF, req[1] & 0x0F])    # PPS1 left out: Fd, Dd stay
        return [(b, 12) for b in ans + bytes([ans[0] ^ ans[1]])]

    def header(self, cla, ins, p1, p2, p3):
        self.buf, self.ins = [], ins
        response, self.response = self.response, b""
        n = p1 << 8 | p2
        if ins >> 4 in (6, 9):
            return sw(0x6D00)
        if ins == 0xC0:
            return self.get_response(response, p3 or 256)
        if cla == 0x00 and ins == 0xA4 and p3:
            return self.expect(p3, False, lambda d: sw(0x9000 if d == AID else 0x6A82))
        if cla != 0x80:
            return sw(0x6E00)
        if ins == 0x30:
            return sw(0x9000 if p3 == 0 else 0x6700)
        if ins == 0x34:
            if not 1 <= n <= 256:
                return sw(0x6A86)
            if (p3 or 256) != n:
                return sw(0x6C00 | n & 0xFF)
            return [(ins, 12)] + [(i & 0xFF, 12) for i in range(n)] + sw(0x9000)
        if ins == 0x32 and p3:
            return self.expect(p3, p1 == 1, lambda d: sw(0x9000))
        if ins == 0x36 and p3 and 1 <= n <= 256:
            data = bytes(i & 0xFF for i in range(n))
            return self.expect(p3, False, lambda d: self.keep(data))
        if ins == 0x38:
            gap = p1 * 100 or 12
            return [(0x60, gap)] * p2 + [(0x90, gap), (0x00, 12)]
        return sw(0x6D00)

    def expect(self, lc, onebyte, done):
        self.state, self.lc, self.onebyte, self.done = "data", lc, onebyte, done
        return [(self.ins ^ 0xFF if onebyte else self.ins, 12)]

    def keep(self, data):
        self.response = data
        return sw(0x6100 | len(data) & 0xFF)

    def get_response(self, data, le):
        if not data:
            return sw(0x6985)
        if le > len(data):
            self.response = data
            return sw(0x6C00 | len(data) & 0xFF)
        self.response = data[le:]
        rest = len(self.response)
        return [(0xC0, 12)] + [(b, 12) for b in data[:le]] + \
            sw(0x6100 | rest & 0xFF if rest else 0x9000)


def serve(path, once, inverse, runs=False):
    if os.path.exists(path):
        os.unlink(path)
    # The socket appears at its path only once it listens: bind elsewhere, then rename.
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path + ".new")
    srv.listen(1)
    os.rename(path + ".new", path)
    try:
        while True:
            conn, _ = srv.accept()
            with conn:
                Card(Link(conn, b"C", runs=runs), inverse).serve()
            if once:
                return
    finally:
        srv.close()
        os.unlink(path)


# ---- --self-test: a scripted reader ------------------------------------------

class Failed(Exception):
    pass


class Reader(Side):
    def __init__(self, link):
        super().__init__(link)
        self.card_last, self.want_ts = 0, False

    def hard(self, mtype, body=b"", after=0):
        t = self.now() + after
        self.send(mtype, t, body)
        self.sent_end, self.sent = t, []
        return t

    def write(self, data, bad=-1):
        self.burst([(b, 12) for b in data], self.card_last + self.etu(TURNAROUND), bad)

    def read(self, errors=()):
        """The card's current characters up to its current IDLE. The reader
        rejects the character at each position listed in errors, once each."""
        got, errors, rejected = [], list(errors), None
        while True:
            m = self.link.recv()
            if m is None or m.type == BYE:
                raise Failed("card left: %r" % (m and m.body))
            self.heard(m)
            if not self.current(m):
                continue
            if m.type == IDLE:
                return got
            if m.type == ERROR and not self.repeat(m):
                raise Failed("my character rejected too often")
            if m.type != CHAR:
                continue
            if self.want_ts:
                self.inverse, self.want_ts = m.body[0] == 0x03, False
            byte, ok = from_line(m.body[0], m.body[1], self.inverse)
            if not ok:
                raise Failed("parity error from the card")
            if got and m.time - got[-1][1] < self.etu(12):
                raise Failed("card characters closer than 12 etu")
            if rejected is not None and m.time - rejected < self.etu(13):
                raise Failed("repetition within 13 etu")
            rejected, self.card_last = None, m.time
            if errors and errors[0] == len(got):
                errors.pop(0)
                rejected = m.time
                self.send(ERROR, m.time + self.etu(10.5), struct.pack(">I", m.seq))
                continue
            got.append((byte, m.time))

    def reset(self, level_low_first):
        if level_low_first:
            self.hard(RST, b"\x00")
        rst = self.hard(RST, b"\x01", after=500)
        self.F, self.D, self.want_ts = 372, 1, True
        atr = self.read()
        if not atr or not 400 <= atr[0][1] - rst <= 40000:
            raise Failed("no ATR 400..40000 cycles after RST")
        return bytes(b for b, _ in atr)

    def tpdu(self, header, data=b"", errors=(), bad=-1):
        """One T=0 command; returns (response data, SW1SW2)."""
        ins, done, out = header[1], 0, bytearray()
        want = 0 if data else (header[4] or 256)
        self.write(header, bad)
        ans = [b for b, _ in self.read(errors)]
        while ans:
            pb = ans.pop(0)
            if pb == 0x60:
                continue
            if pb >> 4 in (6, 9):
                return bytes(out), pb << 8 | ans.pop(0)
            if pb not in (ins, ins ^ 0xFF):
                raise Failed("procedure byte %02X" % pb)
            n = 1 if pb != ins else (len(data) - done if data else want - len(out))
            if data:
                self.write(data[done:done + n])
                done += n
                ans = [b for b, _ in self.read()]
            else:
                out += bytes(ans[:n])
                del ans[:n]
        raise Failed("no SW1 SW2 for %s" % header.hex())


def connect(path, record=None):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(WALL_TIMEOUT)
    sock.connect(path)
    r = Reader(Link(sock, b"R", record))
    r.send(HELLO, 0, bytes([1, 1, 0, 0]) + b"self-test")
    return r, r.link.recv()


def script(r, hello, inverse, expect):
    expect(hello.type == HELLO and hello.body[1:3] == b"\x02\x01", "card HELLO, present")
    r.hard(POWER_ON, b"\x02" + struct.pack(">I", 3571200))
    ts = b"\x3f" if inverse else b"\x3b"
    expect(r.reset(False) == ts + ATR_BODY, "cold reset: ATR")
    r.write(bytes.fromhex("FF10957A"))
    expect(bytes(b for b, _ in r.read()).hex() == "ff10957a", "PPS echoed")
    r.F, r.D = 512, 16
    expect(r.tpdu(bytes.fromhex("8030000000")) == (b"", 0x9000), "case 1")
    for n in (1, 5, 255, 256):
        hdr = bytes([0x80, 0x34, n >> 8, n & 0xFF, n & 0xFF])
        expect(r.tpdu(hdr) == (bytes(i & 0xFF for i in range(n)), 0x9000), "case 2, %d" % n)
    expect(r.tpdu(bytes.fromhex("8034001005")) == (b"", 0x6C10), "case 2, wrong Le")
    for n, p1 in ((1, 0), (3, 0), (255, 0), (3, 1)):
        hdr = bytes([0x80, 0x32, p1, 0, n])
        expect(r.tpdu(hdr, bytes(range(n))) == (b"", 0x9000), "case 3, %d, P1 %d" % (n, p1))
    for n in (8, 256):
        hdr = bytes([0x80, 0x36, n >> 8, n & 0xFF, 2])
        expect(r.tpdu(hdr, b"\x01\x02") == (b"", 0x6100 | n & 0xFF), "case 4, %d: 61xx" % n)
        got = r.tpdu(bytes([0, 0xC0, 0, 0, n & 0xFF]))
        expect(got == (bytes(i & 0xFF for i in range(n)), 0x9000), "GET RESPONSE %d" % n)
    expect(r.tpdu(bytes.fromhex("8038000300")) == (b"", 0x9000), "NULL bytes")
    expect(r.tpdu(bytes.fromhex("8034000404"), errors=[2]) == (bytes(range(4)), 0x9000),
           "reader signals a parity error, card repeats")
    expect(r.tpdu(bytes.fromhex("8034000303"), bad=3) == (bytes(range(3)), 0x9000),
           "card signals a parity error, reader repeats")
    expect(r.tpdu(bytes.fromhex("00A4040006"), AID) == (b"", 0x9000), "SELECT")
    expect(r.reset(True) == ts + ATR_BODY, "warm reset: ATR")
    r.write(bytes.fromhex("8034000202"))
    got = [b for b, _ in r.read(errors=[1, 1, 1, 1])]
    expect(got == [0x34], "four errors on one character: the card falls silent")
    r.hard(POWER_OFF)
    expect(r.read() == [], "POWER_OFF answered by IDLE")
    r.send(BYE, r.now(), b"done")


def self_test(record_path, inverse):
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "card")
    threading.Thread(target=serve, args=(path, False, inverse), daemon=True).start()
    for _ in range(200):
        if os.path.exists(path):
            break
        time.sleep(0.01)
    checks = []

    def expect(ok, what):
        if not ok:
            raise Failed(what)
        checks.append(what)

    def overdue(signum, frame):
        raise Failed("no end after %d s" % SELF_TEST_LIMIT)

    signal.signal(signal.SIGALRM, overdue)
    signal.alarm(SELF_TEST_LIMIT)
    record = open(record_path, "wb") if record_path else None
    try:
        if record:
            record.write(b"TCWIRE1\n")
        script(*connect(path, record), inverse, expect)
        r, _ = connect(path)
        r.link.sock.sendall(HEADER.pack(CHAR, 0, 2, 2, 1, 0, 0) + b"\x3b\x02")
        bye = r.link.recv()
        expect(bye is not None and bye.type == BYE and bye.body,
               "malformed CHAR gets BYE (%s)" % (bye and bye.body.decode()))
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(WALL_TIMEOUT)
        sock.connect(path)
        link = Link(sock, b"R")
        link.send(HELLO, 1, 0, 0, bytes([2, 1, 0, 0]))
        bye = link.recv()
        expect(bye is not None and bye.body == b"version", "HELLO version 2 gets BYE version")
    except (Failed, OSError, Malformed) as e:
        print("self-test FAILED after %d checks: %s" % (len(checks), e), file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
        if record:
            record.close()
    print("self-test: %d checks passed" % len(checks))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", help="listen on this Unix socket path")
    ap.add_argument("--once", action="store_true", help="serve one reader, then exit")
    ap.add_argument("--inverse", action="store_true", help="inverse convention (TS 3F)")
    ap.add_argument("--runs", action="store_true",
                    help="accept runs of characters (CHARS, section 2.2); sends CHARs only")
    ap.add_argument("--self-test", action="store_true", help="run a scripted reader")
    ap.add_argument("--record", help="with --self-test: write a record file")
    args = ap.parse_args()
    if args.self_test:
        return self_test(args.record, args.inverse)
    if not args.socket:
        ap.error("--socket PATH or --self-test")
    serve(args.socket, args.once, args.inverse, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
