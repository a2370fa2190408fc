#!/bin/sh
# check_install.sh BUILD_DIR DRIVER_DIR BUNDLE_DIR: `cmake --install BUILD_DIR`
# into a scratch DESTDIR must give pcsc-lite's two layouts: the library in
# DRIVER_DIR with a reader.conf.d entry naming it (loopback and serial
# readers), and the USB bundle BUNDLE_DIR/Contents/{Info.plist,
# Linux/libifd-tokencard.so} as pcscd's hot-plug reads it; the library
# exports the IFD handler's functions and nothing else.
set -u
build=$1 driver_dir=$2 bundle=$3
dest=$(mktemp -d "${TMPDIR:-/tmp}/tc-install.XXXXXX") || exit 1
trap 'rm -rf "$dest"' EXIT
fail() { echo "check_install: $*"; exit 1; }

DESTDIR=$dest cmake --install "$build" >"$dest.log" 2>&1 ||
    { cat "$dest.log"; rm -f "$dest.log"; fail "cmake --install failed"; }
rm -f "$dest.log"
lib=$dest$driver_dir/libifd-tokencard.so
conf=$dest/etc/reader.conf.d/tokencard-loopback
plist=$dest$bundle/Contents/Info.plist
blib=$dest$bundle/Contents/Linux/libifd-tokencard.so
for f in "$lib" "$conf" "$plist" "$blib"; do
    [ -s "$f" ] || fail "missing after install: ${f#"$dest"}"
done
grep -q "^LIBPATH[[:space:]]*$driver_dir/libifd-tokencard.so" "$conf" ||
    fail "reader.conf.d entry does not name $driver_dir/libifd-tokencard.so"
grep -q "<string>libifd-tokencard.so</string>" "$plist" ||
    fail "Info.plist does not name libifd-tokencard.so as CFBundleExecutable"
cmp -s "$plist" "$build/driver/ifd-tokencard.bundle/Contents/Info.plist" ||
    fail "installed Info.plist differs from the build's"
others=$(nm -D --defined-only "$blib" | awk '$2 ~ /^[TDBR]$/ {print $3}' |
    grep -v '^IFDH' | grep -v '^_' || true)
[ -z "$others" ] || fail "exported besides IFDH*: $others"
n=$(nm -D --defined-only "$blib" | grep -c ' T IFDH')
[ "$n" -ge 9 ] || fail "only $n IFDH functions exported"
echo "install layout ok: $driver_dir, /etc/reader.conf.d, $bundle ($n IFDH functions)"
