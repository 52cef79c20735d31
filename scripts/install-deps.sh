#!/usr/bin/env bash
# Installs what TradeWire needs on a fresh Debian machine: the C libraries and
# a Python venv with the `websockets` interop peer. Idempotent and quiet when done.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in liburing-dev libssl-dev pkg-config openssl; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then need+=(python3-venv); fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import websockets' >/dev/null 2>&1; then
  echo "creating .venv with websockets (interop peer)"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check 'websockets>=13'
fi
