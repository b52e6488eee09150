#!/usr/bin/env bash
# Benchmark of bulk assignment: `gridmap assign` against shapely 2 (GEOS) STRtree
# on 1,000,000 random points over (a) the Zhejiang districts and (b) a demo city
# of 100,000 blocks. Prints both rates, their ratio and the agreement of the two
# on the finest level. Needs python3 (with venv) and network access to PyPI the
# first time; everything is kept under target/bench-assign/ for reruns.
#
#   scripts/bench/assign.sh            # POINTS=1000000 BLOCKS=100000 by default
#   POINTS=200000 BLOCKS=20000 scripts/bench/assign.sh   # a quicker run
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=${BENCH_DIR:-$ROOT/target/bench-assign}
POINTS=${POINTS:-1000000}
BLOCKS=${BLOCKS:-100000}
mkdir -p "$WORK"

if [ ! -x "$WORK/venv/bin/python" ]; then
  python3 -m venv "$WORK/venv"
fi
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check 'shapely>=2,<3' numpy
PY="$WORK/venv/bin/python"
PEER="$ROOT/scripts/bench/assign_peer.py"

cargo build --release -p gridmap
BIN=$ROOT/target/release/gridmap

echo "== (a) Zhejiang districts"
ZJ_SRC=$ROOT/data/fixtures/zhejiang-admin-gcj02.geojson
rm -f "$WORK/zj.gpkg"
RUST_LOG=warn "$BIN" import grids "$ZJ_SRC" --db "$WORK/zj.gpkg" --system admin --levels province,city,district >/dev/null
BBOX=$("$PY" "$PEER" bbox "$ZJ_SRC" --level district)
"$PY" "$PEER" gen "$WORK/zj-points.csv" --bbox "$BBOX" --n "$POINTS" --seed 1
"$PY" "$PEER" compare "$ZJ_SRC" "$WORK/zj-points.csv" --level district --name "Zhejiang districts" \
  --gridmap "$BIN" --db "$WORK/zj.gpkg" --system admin --out "$WORK/zj-assigned.csv"

echo "== (b) demo city, $BLOCKS blocks"
DEMO=$WORK/demo-$BLOCKS.gpkg
if [ ! -f "$DEMO" ]; then
  RUST_LOG=warn "$BIN" demo --out "$DEMO" --blocks "$BLOCKS" >/dev/null
fi
BBOX=$("$PY" "$PEER" bbox "$DEMO")
"$PY" "$PEER" gen "$WORK/demo-points.csv" --bbox "$BBOX" --n "$POINTS" --seed 2
"$PY" "$PEER" compare "$DEMO" "$WORK/demo-points.csv" --name "demo city ($BLOCKS blocks)" \
  --gridmap "$BIN" --db "$DEMO" --out "$WORK/demo-assigned.csv"
