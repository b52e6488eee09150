#!/usr/bin/env bash
# Fuzzes every input gridmap takes from outside (tests/tests/fuzz.rs: grid,
# worker and site files, tile paths and query strings) for SECONDS per target
# (default 60) in a release build, and prints per target the executions, what
# was accepted or refused, and the findings, each with its replay seed and its
# input saved under target/tmp/fuzz-findings/. The workspace test run does the
# same for 2 s per target.
#
#   scripts/fuzz.sh [SECONDS]
#   GRIDMAP_FUZZ_SEED=<hex> GRIDMAP_FUZZ_TARGETS=sites,http_queries scripts/fuzz.sh 300
#   GRIDMAP_FUZZ_REPLAY=<target>:<seed> scripts/fuzz.sh    # one case, as printed
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
case "$seconds" in
  '' | *[!0-9.]*) echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 2 ;;
esac
GRIDMAP_FUZZ_SECONDS="$seconds" exec cargo test --release -p gridmap-tests --test fuzz -- --nocapture
