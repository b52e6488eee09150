#!/usr/bin/env bash
# Benchmark of publicity boards on the demo city: one board (文鼎社区, A1 PDF)
# drawn RUNS times, the whole atlas (`gridmap board --all`, every community)
# on all cores and on one, the file sizes; then QGIS Atlas printing the same
# communities on the same store (scripts/bench/boards_qgis.py, Debian's
# python3-qgis), and the ratio per page. Everything is kept under
# target/bench-boards/.
#
#   scripts/bench/boards.sh            # RUNS=10
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=${BENCH_DIR:-$ROOT/target/bench-boards}
RUNS=${RUNS:-10}
CODE=330106006003
mkdir -p "$WORK"
cargo build --release -p gridmap
BIN=$ROOT/target/release/gridmap
export RUST_LOG=warn
rm -f "$WORK/demo.gpkg"
"$BIN" demo --out "$WORK/demo.gpkg" >/dev/null

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.3f}')"; }

echo "== one board ($CODE, A1 PDF), $RUNS runs, whole process"
times=()
for _ in $(seq 1 "$RUNS"); do
  t0=$(now)
  "$BIN" board "$CODE" --db "$WORK/demo.gpkg" --format pdf --public-url https://grid.example.cn \
    --out "$WORK/board.pdf" 2>/dev/null
  t1=$(now)
  times+=("$(secs "$t0" "$t1")")
done
printf '%s\n' "${times[@]}" | sort -n | python3 -c '
import sys; t=[float(x) for x in sys.stdin]; print(f"min {t[0]:.3f} s, median {t[len(t)//2]:.3f} s, max {t[-1]:.3f} s")'
echo "A1 PDF: $(stat -c %s "$WORK/board.pdf") bytes"
"$BIN" board "$CODE" --db "$WORK/demo.gpkg" --format png --dpi 150 --public-url https://grid.example.cn \
  --out "$WORK/board.png" 2>/dev/null
echo "A1 PNG at 150 dpi: $(stat -c %s "$WORK/board.png") bytes"

for threads in "$(nproc)" 1; do
  echo "== atlas, every community, A1 PDF, --threads $threads"
  rm -rf "$WORK/atlas"
  t0=$(now)
  "$BIN" board --all --db "$WORK/demo.gpkg" --format pdf --threads "$threads" \
    --public-url https://grid.example.cn --out "$WORK/atlas" 2>"$WORK/atlas.log"
  t1=$(now)
  n=$(ls "$WORK/atlas" | wc -l)
  total=$(secs "$t0" "$t1")
  echo "$n boards in $total s ($(python3 -c "print(f'{$total / $n:.3f}')") s a board), $(du -sb "$WORK/atlas" | cut -f1) bytes"
  [ "$threads" = 1 ] && GRIDMAP_PER_PAGE=$(python3 -c "print($total / $n)")
done

echo "== QGIS Atlas, the same communities, A1 PDF, one process"
# Debian's python3-qgis lives in the system interpreter, not a virtualenv's.
QGIS_PYTHON=${QGIS_PYTHON:-/usr/bin/python3}
if "$QGIS_PYTHON" -c 'import qgis.core' 2>/dev/null; then
  rm -rf "$WORK/qgis"
  QT_QPA_PLATFORM=offscreen "$QGIS_PYTHON" scripts/bench/boards_qgis.py "$WORK/demo.gpkg" "$WORK/qgis" | tee "$WORK/qgis.json"
  python3 - "$WORK/qgis.json" "$GRIDMAP_PER_PAGE" <<'PY'
import json, sys
q = json.load(open(sys.argv[1])); g = float(sys.argv[2])
print(f"per page, one core each: QGIS {q['per_page_s']:.3f} s (export only), gridmap {g:.3f} s (whole process): {q['per_page_s'] / g:.1f}x")
PY
else
  echo "python3-qgis is not installed (Debian: apt-get install python3-qgis qgis-providers); skipped"
fi
