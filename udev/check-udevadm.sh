#!/bin/sh
# check-udevadm.sh RULES: let udevadm itself check a rules file, where this
# machine allows it. Exit 0 good, 1 bad, 77 skipped (no udevadm, or no way to
# run it without touching the system's rules).
#  - udevadm >= 254 has `udevadm verify FILE`: used when present.
#  - older ones only read the system rule directories: `udevadm test` is then
#    run in a private mount namespace where /run/udev/rules.d is a scratch
#    tmpfs holding a copy of RULES, on a virtual device; any complaint that
#    names the file fails the test. The system's rules are never touched.
#    Names are not resolved (-N never): whether the group exists is a matter
#    of the machine (Debian's pcscd runs as root and has no group of its
#    own); the script only notes it.
rules=$1
name=$(basename "$rules")
if ! command -v udevadm >/dev/null 2>&1; then
	echo "SKIP: udevadm is not installed here"
	exit 77
fi
if udevadm verify --help >/dev/null 2>&1; then
	exec udevadm verify --resolve-names=never "$rules"
fi
if ! command -v unshare >/dev/null 2>&1 || ! unshare -m true 2>/dev/null; then
	echo "SKIP: udevadm $(udevadm --version) has no verify, and no private mount namespace here"
	exit 77
fi
dev=/sys/devices/virtual/mem/null
[ -d "$dev" ] || { echo "SKIP: no $dev to run udevadm test on"; exit 77; }
out=$(unshare -m sh -c '
	mkdir -p /run/udev/rules.d &&
	mount -t tmpfs tokencard-udev-check /run/udev/rules.d &&
	cp "$1" /run/udev/rules.d/ &&
	udevadm test -N never --action=add "$2" 2>&1' sh "$rules" "$dev")
rc=$?
if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q "$name"; then
	printf '%s\n' "$out" | tail -n 20
	echo "SKIP: udevadm test could not run here (exit $rc)"
	exit 77
fi
if ! printf '%s\n' "$out" | grep -q "Reading rules file: /run/udev/rules.d/$name"; then
	printf '%s\n' "$out" | head -n 20
	echo "FAIL: udevadm test did not read $name"
	exit 1
fi
bad=$(printf '%s\n' "$out" | grep "$name" | grep -v -e "Reading rules file" \
	-e "Resolving group name is disabled")
if [ -n "$bad" ]; then
	printf '%s\n' "$bad"
	echo "FAIL: udevadm complains about $name"
	exit 1
fi
for g in $(sed -n 's/.*GROUP="\([^"]*\)".*/\1/p' "$rules" | sort -u); do
	getent group "$g" >/dev/null 2>&1 || echo "NOTE: group $g does not exist on this machine"
done
echo "udevadm $(udevadm --version) test: $name read without complaint"
