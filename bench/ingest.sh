#!/usr/bin/env bash
# Ingest scenario, side by side in one run: bare Kestrel (baseline) vs Fabric's webhook endpoint (embedded mode),
# each measured RUNS times alternately, medians reported with their ratio. Usage: bench/ingest.sh [seconds] [concurrency] [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-8}; concurrency=${2:-128}; runs=${3:-3}
out=$(mktemp -d)

dotnet build -c Release bench/Fabric.Bench >/dev/null
dotnet build -c Release bench/Fabric.Bench.Baseline >/dev/null
dotnet build -c Release gateway/Fabric.Gateway >/dev/null
bench="dotnet bench/Fabric.Bench/bin/Release/net10.0/Fabric.Bench.dll"

wait_up() { for _ in $(seq 1 60); do curl -fs -o /dev/null -X "$2" "$1" -H 'Content-Type: application/json' -d '{}' && return 0; sleep 0.5; done; echo "not up: $1" >&2; return 1; }

run_one() { # name, start command, url, probe method
  local name=$1 cmd=$2 url=$3 method=$4
  $cmd >"$out/$name.log" 2>&1 &
  local pid=$!
  wait_up "$url" "$method"
  $bench ingest --url "$url" --seconds "$seconds" --concurrency "$concurrency" >>"$out/$name.jsonl"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

for i in $(seq 1 "$runs"); do
  run_one baseline "dotnet bench/Fabric.Bench.Baseline/bin/Release/net10.0/Fabric.Bench.Baseline.dll --urls http://127.0.0.1:5090" \
    http://127.0.0.1:5090/ingest POST
  run_one fabric "dotnet gateway/Fabric.Gateway/bin/Release/net10.0/Fabric.Gateway.dll --urls http://127.0.0.1:5091 --Fabric:Embedded:SiloPort=11191 --Fabric:Embedded:GatewayPort=30091" \
    http://127.0.0.1:5091/v1/webhooks/bench/load POST
done

python3 - "$out" "$seconds" "$concurrency" "$runs" <<'PY'
import json, statistics, sys, os
out, seconds, conc, runs = sys.argv[1:]
def load(n): return [json.loads(l) for l in open(os.path.join(out, n + ".jsonl"))]
b, f = load("baseline"), load("fabric")
med = lambda rows, k: statistics.median(r[k] for r in rows)
print(f"ingest: {runs} runs x {seconds}s, {conc} concurrent clients, 512-byte JSON, medians")
print("| endpoint | req/s | p50 ms | p99 ms | ratio to baseline (req/s) |")
print("|---|---|---|---|---|")
for name, rows in (("bare Kestrel POST (baseline)", b), ("Fabric webhook, embedded", f)):
    print(f"| {name} | {med(rows,'rps'):.0f} | {med(rows,'p50_ms'):.2f} | {med(rows,'p99_ms'):.2f} | {med(rows,'rps')/med(b,'rps'):.2f} |")
PY
