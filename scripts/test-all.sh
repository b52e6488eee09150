#!/usr/bin/env bash
# Runs every test of gridmap. Works on a fresh machine: it installs what the
# tests need (Debian packages when run as root, npm/PyPI packages locally).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v ogrinfo >/dev/null 2>&1 || need_apt+=(gdal-bin)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing Debian packages: ${need_apt[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "== not root: skipping Debian packages ${need_apt[*]} (tests that need them say so)"
  fi
fi

echo "== cargo test (workspace)"
cargo test --workspace --all-targets --locked
cargo test --workspace --doc --locked
