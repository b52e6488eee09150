#!/usr/bin/env bash
# Runs every test of gridmap. Works on a fresh Debian machine: it installs what
# the tests need (Debian packages when run as root; npm and PyPI packages into
# the work tree) and starts the servers its end-to-end tests talk to.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

need_apt=()
command -v ogrinfo >/dev/null 2>&1 || need_apt+=(gdal-bin)
[ -f /usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py ] || need_apt+=(python3-gdal)
# --- publicity boards (print/): the CJK font boards are set in, and the PDF/QR checkers ---
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || need_apt+=(fonts-noto-cjk)
command -v pdftotext >/dev/null || need_apt+=(poppler-utils)
command -v zbarimg >/dev/null || need_apt+=(zbar-tools)
# --- end publicity boards ---
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || need_apt+=(fonts-noto-cjk)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
# --- PostGIS backend: PostgreSQL 15 with PostGIS for the throwaway test cluster ---
[ -f /usr/share/postgresql/15/extension/postgis.control ] || need_apt+=(postgresql-15-postgis-3)
# --- end PostGIS backend ---
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing Debian packages: ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "== not root: cannot install ${need_apt[*]}; the tests that need them will fail" >&2
  fi
fi

echo "== npm packages (web/, from package-lock.json)"
[ -d web/node_modules/maplibre-gl ] || npm ci --prefix web --no-audit --no-fund

echo "== Python test environment (target/test-venv)"
venv=target/test-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r tests/conformance/requirements.txt

# --- PostGIS backend: a throwaway cluster the store tests use (stopped in cleanup) ---
echo "== throwaway PostgreSQL cluster (scripts/pg-cluster.sh)"
pg_dir=$(mktemp -d)
chmod 755 "$pg_dir"
trap 'scripts/pg-cluster.sh stop "$pg_dir" || true; rm -rf "$pg_dir"' EXIT
GRIDMAP_TEST_PG=$(scripts/pg-cluster.sh start "$pg_dir")
export GRIDMAP_TEST_PG GRIDMAP_REQUIRE_PG=1
# --- end PostGIS backend ---
echo "== cargo test (workspace)"
# GDAL is installed above: its tests must run, not skip.
export GRIDMAP_REQUIRE_GDAL=1
cargo test --workspace --all-targets --locked
cargo test --workspace --doc --locked

echo "== end-to-end: release server on a demo city"
cargo build --release --locked -p gridmap
tmp=$(mktemp -d)
server_pid=""
zj_pid=""
fuzz_pid=""
cleanup() {
  scripts/pg-cluster.sh stop "$pg_dir" || true; rm -rf "$pg_dir" # PostGIS backend
  [ -n "$fuzz_pid" ] && kill "$fuzz_pid" 2>/dev/null
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  [ -n "$zj_pid" ] && kill "$zj_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
target/release/gridmap demo --out "$tmp/demo.gpkg"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
target/release/gridmap serve --db "$tmp/demo.gpkg" --listen "127.0.0.1:$port" >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 0.2
done

echo "== vector-tile conformance (z8–z16, reference decoder + GEOS)"
"$venv/bin/python" tests/conformance/check_tiles.py --base "http://127.0.0.1:$port" --zmin 8 --zmax 16

echo "== HTTP API fuzzing against its OpenAPI description (schemathesis)"
target/release/gridmap demo --out "$tmp/fuzz.gpkg" >/dev/null
fuzz_token=$(target/release/gridmap user add fuzz --role admin --db "$tmp/fuzz.gpkg" 2>/dev/null | tail -1)
fuzz_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
target/release/gridmap serve --db "$tmp/fuzz.gpkg" --listen "127.0.0.1:$fuzz_port" --rate-limit 0 >"$tmp/fuzz-server.log" 2>&1 &
fuzz_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$fuzz_port/health" >/dev/null && break
  sleep 0.2
done
(cd "$tmp" && "$root/$venv/bin/schemathesis" run "http://127.0.0.1:$fuzz_port/api/v1/openapi.json" \
  --checks not_a_server_error,response_schema_conformance,content_type_conformance \
  --max-examples 30 -H "Authorization: Bearer $fuzz_token")
kill "$fuzz_pid" 2>/dev/null || true
fuzz_pid=""

echo "== conformance checker's own tests (broken tiles must fail)"
"$venv/bin/python" -m unittest tests/conformance/test_check_tiles.py

echo "== vector-tile conformance on Zhejiang, every level drawn (z0–z12 + z13–z14 border sample)"
target/release/gridmap import grids data/fixtures/zhejiang-admin-gcj02.geojson \
  --system admin --levels province,city,district --db "$tmp/zj.gpkg"
zj_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
target/release/gridmap serve --db "$tmp/zj.gpkg" --listen "127.0.0.1:$zj_port" \
  --level-min-zoom province=0,city=0,district=0 >"$tmp/zj-server.log" 2>&1 &
zj_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$zj_port/health" >/dev/null && break
  sleep 0.2
done
"$venv/bin/python" tests/conformance/check_tiles.py --base "http://127.0.0.1:$zj_port" --system admin \
  --zmin 0 --zmax 12 --border-zooms 13,14 --border-tiles 1000
kill "$zj_pid" 2>/dev/null || true
zj_pid=""

echo "== crash loop (short): SIGKILL during imports and publishes, the store stays whole"
python3 scripts/crash_loop.py --gridmap target/release/gridmap --runs 8 --seed 1

echo "== abuse (short): slow headers, idle connections, stalled bodies, coverage and lookup floods"
python3 scripts/abuse.py --gridmap target/release/gridmap --seconds 5 --scale 0.2

if [ -d tests/browser ]; then
  echo "== browser test (headless chromium)"
  GRIDMAP_BIN="$root/target/release/gridmap" node --test tests/browser/
fi
echo "== all tests passed"
