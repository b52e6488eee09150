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
  ours=$(echo "$t1 - $t0" | bc -l)
  local py
  py=$("$VENV/bin/python" scripts/bench/coverage.py "$db" "$system")
  echo "$report" | "$VENV/bin/python" -c '
import json, sys
name, ours, py = sys.argv[1], float(sys.argv[2]), json.loads(sys.argv[3])
r = json.load(sys.stdin)
c = r["summary"]["counts"]
total_py = py["load_s"] + py["ops_s"]
print(f"{name}: {py[\"grids\"]} grids")
print(f"  gridmap check (everything: load, index, all checks): {ours:8.2f} s  gaps {c[\"gap\"]}, overlaps {c[\"overlap\"]}, overhangs {c[\"overhang\"]}")
print(f"  shapely (load {py[\"load_s\"]:.2f} s + polygon ops {py[\"ops_s\"]:.2f} s):      {total_py:8.2f} s  parts>0: gaps {py[\"gaps\"]}, overlaps {py[\"overlaps\"]}, overhangs {py[\"overhangs\"]}")
print(f"  ratio gridmap / shapely: {ours / total_py:.2f} (vs polygon ops only: {ours / py[\"ops_s\"]:.2f})")
' "$name" "$ours" "$py"
}

bench "Zhejiang fixture" "$zj" admin
bench "demo city ($BLOCKS blocks)" "$demo" default
