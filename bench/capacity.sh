#!/usr/bin/env bash
# CPU cost per event of each part of distributed Fabric, for docs/capacity.md: starts scripts/cluster (Release: Redis
# with AOF everysec, 2 silos, 2 gateways), posts closed-loop through one gateway with the bench client, and reads each
# process's CPU time (/proc/PID/stat) before and after and the customer's last seq from Redis. Prints one JSON line:
# events accepted, wall seconds, and CPU milliseconds per 1,000 events for redis, the silos and the gateway used.
#   bench/capacity.sh [seconds]      (default 20; builds nothing: run bench/run.sh or scripts/cluster up once first)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
ulimit -n "$(ulimit -Hn)"
export Fabric__RateLimit__PermitsPerSecond=100000000 Fabric__RateLimit__Burst=100000000
dir=$(mktemp -d)
cluster="env FABRIC_CLUSTER_DIR=$dir FABRIC_CLUSTER_OFFSET=800 FABRIC_CLUSTER_BUILD=0 FABRIC_CLUSTER_CONFIG=Release bash scripts/cluster"
trap '$cluster down >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
$cluster up >&2
admin=(-fsS -o /dev/null -H "Authorization: Bearer fabric-cluster-admin-key")
curl "${admin[@]}" -X PUT http://127.0.0.1:5801/v1/admin/customers/bench
curl "${admin[@]}" -X PUT -H 'Content-Type: application/json' -d '{"scheme":"none"}' http://127.0.0.1:5801/v1/admin/customers/bench/sources/load

cpu() { awk '{ print $14 + $15 }' "/proc/$(cat "$dir/$1.pid")/stat"; }   # user + system, in clock ticks
seq_now() { REDISCLI_AUTH=${FABRIC_REDIS_PASSWORD:-fabric-cluster-redis-password} redis-cli -p 7180 GET 'fabric:{bench}:seq' | sed 's/^$/0/'; }
parts="redis silo1 silo2 gateway1"
# Warm up (JIT, tiering) outside the measured window.
dotnet bench/Fabric.Bench/bin/Release/net10.0/Fabric.Bench.dll ingest --url http://127.0.0.1:5801/v1/webhooks/bench/load --seconds 1 --warmup 10 --concurrency 128 >/dev/null
declare -A before
for p in $parts; do before[$p]=$(cpu "$p"); done
seq0=$(seq_now); start=$(date +%s.%N)
dotnet bench/Fabric.Bench/bin/Release/net10.0/Fabric.Bench.dll ingest --url http://127.0.0.1:5801/v1/webhooks/bench/load --seconds "$seconds" --warmup 0 --concurrency 128 >/dev/null
end=$(date +%s.%N); seq1=$(seq_now)
tick=$(getconf CLK_TCK)
used=""
for p in $parts; do used="$used $p=$(( $(cpu "$p") - ${before[$p]} ))"; done
python3 - "$seq0" "$seq1" "$start" "$end" "$tick" $used <<'PY'
import json, sys
seq0, seq1, start, end, tick = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
events = seq1 - seq0
line = {"scenario": "capacity", "events": events, "seconds": round(end - start, 2), "events_per_s": round(events / (end - start))}
for part in sys.argv[6:]:
    name, ticks = part.split("=")
    line[f"{name}_cpu_ms_per_1000_events"] = round(int(ticks) * 1000 / tick * 1000 / events, 1)
print(json.dumps(line))
PY
