#!/usr/bin/python3
"""check_usb_readers.py CMAKE DRIVER_SRC BUILT_PLIST READERS_FILE

The USB bundle's reader list (driver/usb_readers.cmake, issue 4):
1. the Info.plist the build made is well-formed XML (plistlib; xmllint too when
   installed), its ifdVendorID, ifdProductID and ifdFriendlyName arrays have
   one length and hold exactly the readers of READERS_FILE (read here by its
   own small parser), the simulated reader 0x1209:0x7C01 included;
2. a list with awkward names (& ; [ ] \\ ' " : and UTF-8), lower-case hex,
   comments, CRLF and spaces, without the simulated reader, goes through
   `cmake -P usb_readers.cmake`: names come back exactly, & as &amp;, the
   simulated reader first;
3. bad lists are refused by `cmake -P` with their message and line number.
"""
import os
import plistlib
import re
import shutil
import subprocess
import sys
import tempfile

SIM = ("0x1209", "0x7C01", "tokencard simulated CCID reader")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def parse_list(path):
    """The reader list as (VID, PID, name) tuples, IDs as 0xHHHH."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            vid, pid, name = line.split(":", 2)
            out.append(("0x%04X" % int(vid.strip(), 16), "0x%04X" % int(pid.strip(), 16),
                        name.strip()))
    if not any(r[:2] == SIM[:2] for r in out):
        out.insert(0, SIM)
    return out


def arrays(plist_path):
    with open(plist_path, "rb") as f:
        p = plistlib.load(f)
    v, i, n = p["ifdVendorID"], p["ifdProductID"], p["ifdFriendlyName"]
    check(len(v) == len(i) == len(n), "%s: arrays of %d, %d, %d entries"
          % (plist_path, len(v), len(i), len(n)))
    return p, list(zip(v, i, n))


def well_formed(path):
    if shutil.which("xmllint"):
        r = subprocess.run(["xmllint", "--noout", path], capture_output=True, text=True)
        check(r.returncode == 0, "xmllint %s: %s" % (path, r.stderr.strip()))


def generate(cmake, src, text, tmp):
    lst = os.path.join(tmp, "readers.txt")
    out = os.path.join(tmp, "Info.plist")
    with open(lst, "wb") as f:
        f.write(text.encode("utf-8"))
    if os.path.exists(out):
        os.unlink(out)
    r = subprocess.run([cmake, "-DREADERS=" + lst, "-DTEMPLATE=" + os.path.join(src, "Info.plist.in"),
                        "-DOUT=" + out, "-DPROJECT_VERSION=9.9", "-P",
                        os.path.join(src, "usb_readers.cmake")], capture_output=True, text=True)
    return r, out


def main():
    cmake, src, built, readers = sys.argv[1:5]

    # 1. The build's Info.plist against its list.
    well_formed(built)
    p, entries = arrays(built)
    check(p.get("CFBundleExecutable") == "libifd-tokencard.so", "CFBundleExecutable")
    check(entries == parse_list(readers), "built Info.plist %s != list %s"
          % (entries, parse_list(readers)))
    check(SIM in entries, "the simulated reader is not in the built Info.plist")

    with tempfile.TemporaryDirectory() as tmp:
        # 2. Awkward names, without the simulated reader.
        names = ["Acme & Sons [v2]; \\x 'q' \"d\"", "Lecteur à puce: modèle 3", "x"]
        text = ("# a comment\r\n\r\n  0xabcd : 0x00ef :  %s  \r\n"
                "0x1234:0x5678:%s\n\t# indented comment\n0x1234:0x5679:%s" % tuple(names))
        r, out = generate(cmake, src, text, tmp)
        check(r.returncode == 0, "good list refused: " + r.stderr.strip())
        if r.returncode == 0:
            well_formed(out)
            _, got = arrays(out)
            want = [SIM, ("0xABCD", "0x00EF", names[0]), ("0x1234", "0x5678", names[1]),
                    ("0x1234", "0x5679", names[2])]
            check(got == want, "generated %s, want %s" % (got, want))
            raw = open(out, encoding="utf-8").read()
            check("Acme &amp; Sons [v2]; \\x 'q' \"d\"" in raw, "& not written as &amp;")
            check("<string>9.9</string>" in raw, "CFBundleVersion not substituted")
            check("@" not in raw, "an @VAR@ left in the generated Info.plist")

        # The simulated reader listed by the integrator: once, where listed.
        r, out = generate(cmake, src, "0x1234:0x0001:A\n0x1209:0x7c01:Sim here\n", tmp)
        check(r.returncode == 0, "list with the simulated reader refused: " + r.stderr)
        if r.returncode == 0:
            _, got = arrays(out)
            check(got == [("0x1234", "0x0001", "A"), ("0x1209", "0x7C01", "Sim here")],
                  "simulated reader listed: got %s" % got)

        # 3. Bad lists: (text, fragment of the message, line).
        bad = [
            ("0x12G4:0x0001:Bad\n", 'bad vid "0x12G4"', 1),
            ("#c\n0x1234:0x001:Short\n", 'bad pid "0x001"', 2),
            ("0x1234:1234:NoPrefix\n", 'bad pid "1234"', 1),
            ("0x1234:0x0001:\n", "empty friendly name", 1),
            ("0x1234:0x0001:   \n", "empty friendly name", 1),
            ("0x1234:0x0001:A\n\n0x1234:0X0001:B\n", "0x1234:0x0001 already on line 1", 3),
            ("0x1234 0x0001 A\n", "not three fields", 1),
            ("0x1234:0x0001\n", "not three fields", 1),
            ("0x0000:0x0001:A\n", "vendor ID 0x0000", 1),
            ("0x1234:0x0001:a<b\n", "< or > in the friendly name", 1),
            ("0x1234:0x0001:a\tb\n", "a tab in the friendly name", 1),
            ("0x1234:0x0001:%s\n" % ("n" * 101), "friendly name of 101 bytes", 1),
            ("0x1234:0x0001:a\x01b\n", "a control character", None),
        ]
        for text, frag, line in bad:
            r, out = generate(cmake, src, text, tmp)
            msg = re.sub(r"\s+", " ", r.stderr)
            check(r.returncode != 0, "accepted: %r" % text)
            check(frag in msg, "%r: message %r lacks %r" % (text, msg, frag))
            if line:
                check("readers.txt:%d:" % line in msg, "%r: no line %d in %r" % (text, line, msg))
            check(not os.path.exists(out), "%r: an Info.plist was written" % text)
        r, _ = generate(cmake, src, "", tmp)
        check(r.returncode == 0, "an empty list (the simulated reader only) refused")
        missing = os.path.join(tmp, "nope.txt")
        r = subprocess.run([cmake, "-DREADERS=" + missing, "-DTEMPLATE=x", "-DOUT=y", "-P",
                            os.path.join(src, "usb_readers.cmake")], capture_output=True, text=True)
        check(r.returncode != 0 and "does not exist" in r.stderr, "missing list: " + r.stderr)

    print("usb readers: %d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
