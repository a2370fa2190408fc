# pcscd_ns.sh: what the scripts that run a private pcscd on the simulated USB
# reader share (sourced by pcscd_usb.sh, pcscd_sbs.sh, pcscd_hotplug.sh).

# The simulated reader's and pcscd's sanitizer settings: the runtimes come
# preloaded, so their link order is not checked; leaks are the tests' business.
NS_ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0

# ns_need TOOL...: skip (77) unless every TOOL is on the PATH.
ns_need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "skipped: no $tool"; exit 77; }
    done
}

# ns_asan_preload DRIVER_DIR: the sanitizer runtimes pcscd must preload when
# DRIVER_DIR's bundle was built with them; nothing otherwise.
ns_asan_preload() {
    if ldd "$1/ifd-tokencard.bundle/Contents/Linux/libifd-tokencard.so" | grep -q libasan; then
        echo "$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
    fi
}

# ns_unshare [OPTION...]: sets ns to the unshare command for a private mount
# namespace (a user namespace too when not root), with OPTIONs added; skips
# (77) when this machine gives none.
ns_unshare() {
    if [ "$(id -u)" = 0 ]; then ns="unshare -m"; else ns="unshare -rm"; fi
    [ $# -gt 0 ] && ns="$ns $*"
    $ns true 2>/dev/null || { echo "skipped: no private namespace here ($ns)"; exit 77; }
}

# The start of a `$ns bash -c` script: pcscd's own /run, the drop directory
# DRIVERS mounted over DROPDIR, an empty reader.conf in WORK, then pcscd with
# PCSCD_OPTS on the testbed ROOT (preloading PRE), its log in LOG; p is its pid.
NS_START_PCSCD='
mount --make-rprivate / && mount -t tmpfs tmpfs /run && mkdir -p /run/pcscd &&
mount --bind "$DRIVERS" "$DROPDIR" || exit 2
: > "$WORK/reader.conf"
env UMOCKDEV_DIR="$ROOT" LD_PRELOAD="libumockdev-preload.so.0 $PRE" \
    ASAN_OPTIONS='$NS_ASAN_OPTIONS' TC_DRIVER_LOGLEVEL=3 \
    pcscd $PCSCD_OPTS -c "$WORK/reader.conf" > "$LOG" 2>&1 &
p=$!
'
