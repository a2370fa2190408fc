#!/usr/bin/env bash
# deps.sh: install what tokencard needs to build and test, from Debian's
# packages. Idempotent: installs only what is missing. Runs apt-get as root,
# or through sudo for a user.
set -euo pipefail

PACKAGES=(
    build-essential cmake pkg-config clang clang-format
    libcmocka-dev libpcsclite-dev pcscd pcsc-tools libusb-1.0-0-dev
    libssl-dev libncurses-dev python3
    opensc python3-pyscard openssl xxd udev
    umockdev libumockdev-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "deps.sh: missing packages (${missing[*]}) and neither root nor sudo" >&2
        exit 1
    fi
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
