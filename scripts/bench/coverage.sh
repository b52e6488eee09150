#!/usr/bin/env bash
# Times `gridmap check` against the same polygon work in shapely 2 (GEOS) on
# the Zhejiang fixture (102 grids) and the demo city (BLOCKS blocks, default
# 100,000), and prints the ratio. Installs shapely into a venv itself.
#
# Usage: scripts/bench/coverage.sh [BLOCKS]    (VENV=/tmp/venv-bench, WORK=/tmp/gridmap-bench)
set -euo pipefail
cd "$(dirname "$0")/../.."
BLOCKS="${1:-100000}"
VENV="${VENV:-/tmp/venv-bench}"
WORK="${WORK:-/tmp/gridmap-bench}"
mkdir -p "$WORK"

if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/python" -c "import shapely" 2>/dev/null || "$VENV/bin/pip" install -q "shapely>=2" numpy

cargo build --release -q -p gridmap
GRIDMAP="$PWD/target/release/gridmap"

zj="$WORK/zhejiang.gpkg"
if [ ! -f "$zj" ]; then
  "$GRIDMAP" import grids data/fixtures/zhejiang-admin-gcj02.geojson --db "$zj" --system admin \
    --levels province,city,district >/dev/null 2>&1
fi
demo="$WORK/demo-$BLOCKS.gpkg"
if [ ! -f "$demo" ]; then
  echo "== generating the demo city with $BLOCKS blocks"
  "$GRIDMAP" demo --out "$demo" --blocks "$BLOCKS" >/dev/null 2>&1
fi

now() { date +%s.%N; }

bench() { # name store system
  local name="$1" db="$2" system="$3"
  local t0 t1 report
  t0=$(now)
  report=$(RUST_LOG=warn "$GRIDMAP" check --db "$db" --system "$system" --format json 2>/dev/null)
  t1=$(now)
  local ours
  ours=$("$VENV/bin/python" -c "print($t1 - $t0)")
  local py
  py=$("$VENV/bin/python" scripts/bench/coverage.py "$db" "$system")
  echo "$report" | "$VENV/bin/python" scripts/bench/coverage.py compare "$name" "$ours" "$py"
}

bench "Zhejiang fixture" "$zj" admin
bench "demo city ($BLOCKS blocks)" "$demo" default
