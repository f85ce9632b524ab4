#!/usr/bin/env bash
# Makes sure a Chromium the browser test (adapters/web) can drive is
# installed: does nothing when chromium (or Chrome) is on the PATH or
# SAFESIGNAL_CHROMIUM names one; otherwise installs Debian's chromium
# (needs root, like ensure-postgres.sh). Without it the browser test skips.
set -euo pipefail

if [ -n "${SAFESIGNAL_CHROMIUM:-}" ]; then
  exit 0
fi
for name in chromium chromium-browser google-chrome google-chrome-stable headless-shell; do
  if command -v "$name" >/dev/null 2>&1; then
    exit 0
  fi
done

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else
    echo "ensure-chromium: need root to run: $*" >&2
    return 1
  fi
}

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: no apt-get; install Chromium yourself or set SAFESIGNAL_CHROMIUM (the browser test skips without it)" >&2
  exit 0
fi
echo "ensure-chromium: installing Debian's chromium" >&2
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
