#!/usr/bin/env bash
# Install Debian packages without their recommends: tools/install-packages.sh PKG...
# As root this runs apt-get; otherwise sudo if it exists; otherwise it prints the
# command to run and fails.
set -euo pipefail

cmd=(apt-get install -y --no-install-recommends "$@")
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null; then
    sudo=(sudo)
else
    echo "install: not root and no sudo; run as root:" >&2
    echo "  apt-get update && ${cmd[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" "${cmd[@]}"; then
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" "${cmd[@]}"
fi
