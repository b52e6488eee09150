#!/usr/bin/env bash
# HTTP throughput of tiles (cached and uncached) and lookups, with wrk.
# Usage: scripts/bench/http.sh [SECONDS]   (default 10 s per run)
# Server and load generator share this machine's cores: compare the figures
# with each other (cached vs uncached), not with other machines.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}
command -v wrk >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p gridmap
dir=target/bench-http
mkdir -p "$dir"
[ -f "$dir/demo.gpkg" ] || target/release/gridmap demo --out "$dir/demo.gpkg" 2>/dev/null
target/release/gridmap serve --db "$dir/demo.gpkg" --listen 127.0.0.1:18181 2>"$dir/cached.log" &
p1=$!
target/release/gridmap serve --db "$dir/demo.gpkg" --listen 127.0.0.1:18182 --tile-cache-mb 0 2>"$dir/uncached.log" &
p2=$!
trap 'kill $p1 $p2 2>/dev/null' EXIT
for port in 18181 18182; do
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done
done
# Every tile z12–z16 over the city, and lookup points spread over it.
python3 - "$dir" <<'PY'
import json, math, sys, urllib.request
d = sys.argv[1]
tj = json.load(urllib.request.urlopen("http://127.0.0.1:18181/tiles/default.json"))
b = tj["bounds"]
def xy(lon, lat, z):
    n = 2 ** z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
paths = []
for z in range(12, 17):
    x0, y0 = xy(b[0], b[3], z); x1, y1 = xy(b[2], b[1], z)
    paths += [f"/tiles/default/{z}/{x}/{y}.mvt" for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
open(f"{d}/tiles.txt", "w").write("\n".join(paths) + "\n")
pts = [f"/api/v1/lookup?lon={b[0] + (b[2]-b[0]) * ((i * 0.618034) % 1):.6f}&lat={b[1] + (b[3]-b[1]) * ((i * 0.414214) % 1):.6f}" for i in range(5000)]
open(f"{d}/lookups.txt", "w").write("\n".join(pts) + "\n")
print(f"{len(paths)} tiles z12-z16, {len(pts)} lookup points")
PY
cat > "$dir/paths.lua" <<'LUA'
local paths = {}
local i = 0
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  -- Each wrk thread starts at a different place in the list.
  i = math.random(#paths)
end
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], { ["Accept-Encoding"] = "gzip" })
end
LUA
# Warm the cache of the first server with one pass over every tile.
while read -r p; do curl -s -o /dev/null -H 'Accept-Encoding: gzip' "http://127.0.0.1:18181$p"; done < "$dir/tiles.txt"
run() { # label port list
  local out
  out=$(wrk -t2 -c32 -d"${secs}s" -s "$dir/paths.lua" "http://127.0.0.1:$2" -- "$dir/$3" 2>&1)
  printf '%-22s %s req/s, latency avg %s\n' "$1" "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '/Latency/ {print $2; exit}' <<<"$out")"
}
run "tiles cached" 18181 tiles.txt
run "tiles uncached" 18182 tiles.txt
run "lookup" 18181 lookups.txt
