#!/usr/bin/env bash
# The benchmark suite, in one command: every scenario against Fabric, the bare-Kestrel baseline and the peers
# (SignalR, Node ws), scenario by scenario with every server in turn, RUNS times each, then a results file with medians,
# ratios and plots.
#
#   bench/run.sh                 full suite, 3 runs; writes bench/results/<date>.md, .jsonl and PNGs (~20 min)
#   bench/run.sh --runs 5        more runs
#   bench/run.sh --quick         tiny sizes, 1 run, into a temp dir: proves the harness works (CI); asserts no speed
#   bench/run.sh --only fanout   some scenarios (ingest, wasm, e2e, fanout, chat, outbound, idle; a comma list); e2e needs --rate N or ingest
#   bench/run.sh --tag after-x   results named <date>-after-x, so a second run the same day keeps the first one's files
#   bench/run.sh --before REF    also measures the build of commit REF in every scenario (servers "fabric-before",
#                                "fabric-signed-before", …), alternating with today's, and the report flags any figure
#                                more than 10 % worse: a change's before/after in one run
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0; runs=3; only=""; rate=""; tag=""; before=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; runs=1 ;;
    --runs) runs=$2; shift ;;
    --only) only=$2; shift ;;
    --rate) rate=$2; shift ;;
    --tag) tag=$2; shift ;;
    --before) before=$2; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

date=$(date -u +%Y-%m-%d)
if [ "$quick" = 1 ]; then out=$(mktemp -d); else out=bench/results; mkdir -p "$out"; fi
# A single scenario gets its own file, so it never overwrites a full run's results.
name=$date${tag:+-$tag}${only:+-${only//,/+}}
results="$out/$name.jsonl"
: >"$results"
logs=$(mktemp -d)

# Sizes. Full: the ARCHITECTURE.md targets (10,000 sockets fan-out; 15,000 idle sockets for the per-socket figure, and
# the memory curve on to 19,000, about the most one process may hold under this machine's 20,000 open-file limit).
# Quick: just enough to run every code path.
if [ "$quick" = 1 ]; then
  ingest_args="--seconds 1 --warmup 1 --concurrency 8"; e2e_args="--seconds 1 --warmup 1"; default_rate=200
  fanout_sizes="50:20"; idle_sockets=200; idle_max=300; idle_step=100; settle=1
  chat_args="--sockets 10 --rate 2 --seconds 1 --warmup 1"
  outbound_args="--endpoints 2 --rate 20 --seconds 1 --warmup 1"
else
  ingest_args="--seconds 8 --warmup 15 --concurrency 128"; e2e_args="--seconds 10 --warmup 10"; default_rate=""
  fanout_sizes="1000:300 10000:60"; idle_sockets=15000; idle_max=19000; idle_step=2500; settle=5
  # Chat: 100 sockets each publishing 5 messages/s, so 500 messages/s and 50,000 deliveries/s offered.
  chat_args="--sockets 100 --rate 5 --seconds 10 --warmup 10"
  # Outbound: 10 endpoints of one customer, 1,000 events/s posted, so 10,000 signed deliveries/s offered.
  outbound_args="--endpoints 10 --rate 1000 --seconds 10 --warmup 5"
fi

# One process may hold up to the hard limit of open files; the client and each server need thousands.
ulimit -n "$(ulimit -Hn)"

echo "building (Release)…" >&2
for project in bench/Fabric.Bench bench/Fabric.Bench.Baseline bench/peers/signalr gateway/Fabric.Gateway.Embedded gateway/Fabric.Gateway silo/Fabric.Silo; do
  dotnet build -c Release "$project" -nologo -v q >/dev/null
done
if [ -n "$before" ]; then
  # The other commit's gateway, built in a worktree of its own; the same seed and options as today's (an option it does
  # not know is ignored).
  before_dir=$(mktemp -d)/fabric-before
  git worktree add -q --detach "$before_dir" "$before"
  # The one-process fabric is gateway/Fabric.Gateway.Embedded; before it existed, the gateway itself co-hosted the silo.
  before_embedded=gateway/Fabric.Gateway.Embedded
  [ -d "$before_dir/$before_embedded" ] || before_embedded=gateway/Fabric.Gateway
  for project in $before_embedded gateway/Fabric.Gateway silo/Fabric.Silo; do
    dotnet build -c Release "$before_dir/$project" -nologo -v q >/dev/null
  done
fi
embedded_dll=gateway/Fabric.Gateway.Embedded/bin/Release/net10.0/Fabric.Gateway.Embedded.dll
if [ ! -d bench/peers/node-ws/node_modules ]; then
  (cd bench/peers/node-ws && npm ci --no-audit --no-fund >/dev/null)
fi
client="dotnet bench/Fabric.Bench/bin/Release/net10.0/Fabric.Bench.dll"

# The bench customer, seeded in embedded mode: an unsigned source, a Standard Webhooks source, a publish key and the
# signing key its sockets' connection tokens are signed with (the secret is Target.SigningSecret). The
# per-customer rate limit stays on (its cost is measured) but far above what one machine can post.
bench_secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
bench_key='fab~bench~key_bench~bench-only-not-a-secret'
bench_admin=bench-admin-key-not-a-secret
fabric_seed="--Fabric:Seed:Customers:bench:Sources:load:Scheme=none --Fabric:Seed:Customers:bench:Sources:wasm:Scheme=none --Fabric:Seed:Customers:bench:Sources:signed:Scheme=standard
  --Fabric:Seed:Customers:bench:Sources:signed:Secrets:0=$bench_secret --Fabric:Seed:Customers:bench:Keys:0:Key=$bench_key
  --Fabric:Seed:Customers:bench:Keys:0:Scopes:0=publish --Fabric:RateLimit:PermitsPerSecond=100000000 --Fabric:RateLimit:Burst=100000000
  --Fabric:Seed:Customers:bench:SigningKeys:0:Id=sk_bench --Fabric:Seed:Customers:bench:SigningKeys:0:Secret=bench-signing-secret-not-a-secret-0123456789
  --Fabric:Sockets:NewConnectionsPerSecond=0 --Fabric:Sockets:MessagesPerSecond=1000000 --Fabric:Sockets:MessageBurst=1000000
  --Fabric:Admin:Keys:0=$bench_admin --Fabric:Outbound:AllowedHosts:0=127.0.0.1"
export Fabric__RateLimit__PermitsPerSecond=100000000 Fabric__RateLimit__Burst=100000000   # scripts/cluster's gateways

declare -A base=( [fabric]=http://127.0.0.1:5091 [kestrel]=http://127.0.0.1:5090 [signalr]=http://127.0.0.1:5092 [node-ws]=http://127.0.0.1:5093 [fabric-before]=http://127.0.0.1:5094 [fabric-quiet]=http://127.0.0.1:5095 )
declare -A kind=( [fabric]=fabric [kestrel]=raw [signalr]=signalr [node-ws]=raw [fabric-before]=fabric [fabric-quiet]=fabric )

server_pid=""
start() { # server name → starts it, waits until it answers HTTP
  local name=$1
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "${base[$name]}/" || true)" != "000" ]; then
    echo "something already listens on ${base[$name]}; stop it first" >&2; return 1
  fi
  case "$name" in
    fabric) exec dotnet "$embedded_dll" --urls "${base[fabric]}" \
              --Fabric:Embedded:SiloPort=11191 --Fabric:Embedded:GatewayPort=30091 --Logging:LogLevel:Default=Warning $fabric_seed ;;
    # Today's build with no metrics exporter and no tracing: what telemetry costs on the path of an event, same run.
    fabric-quiet) OTEL_METRICS_EXPORTER=none OTEL_TRACES_EXPORTER=none exec dotnet "$embedded_dll" --urls "${base[fabric-quiet]}" \
              --Fabric:Embedded:SiloPort=11193 --Fabric:Embedded:GatewayPort=30093 --Logging:LogLevel:Default=Warning $fabric_seed ;;
    fabric-before) exec dotnet "$before_dir/$before_embedded/bin/Release/net10.0/$(basename "$before_embedded").dll" --urls "${base[fabric-before]}" \
              --Fabric:Embedded:SiloPort=11192 --Fabric:Embedded:GatewayPort=30092 --Logging:LogLevel:Default=Warning $fabric_seed ;;
    kestrel) exec dotnet bench/Fabric.Bench.Baseline/bin/Release/net10.0/Fabric.Bench.Baseline.dll --urls "${base[kestrel]}" ;;
    signalr) exec dotnet bench/peers/signalr/bin/Release/net10.0/Fabric.Bench.SignalR.dll --urls "${base[signalr]}" ;;
    node-ws) exec node bench/peers/node-ws/server.js 5093 ;;
  esac >>"$logs/$name.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 120); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "${base[$name]}/" || true)
    [ "$code" != "000" ] && return 0
    sleep 0.5
  done
  echo "$name did not start; log:" >&2; tail -20 "$logs/$name.log" >&2; return 1
}
stop() { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=""; }
trap 'stop; [ -z "$before" ] || git worktree remove --force "$before_dir" 2>/dev/null || true' EXIT

measure() { # server, run, client args… → one results line
  local name=$1 run=$2; shift 2
  start "$name"
  if ! $client "$@" --label "$name" --run "$run" >>"$results"; then
    echo "client failed for $name ($*)" >&2; stop; return 1
  fi
  echo "  $(tail -1 "$results" | cut -c1-160)" >&2
  stop
}

want() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }

for run in $(seq 1 "$runs"); do
  echo "run $run/$runs" >&2
  if want ingest; then
    # Bare Kestrel just before Fabric's embedded surfaces on odd runs and just after them on even runs, so a drift over
    # the scenario favours neither; distributed mode after both.
    kestrel_ingest() {
      measure kestrel "$run" ingest --url "${base[kestrel]}/ingest" $ingest_args
      # The same client signing every request, which bare Kestrel ignores: the baseline for signed ingest, so both sides
      # of that ratio pay the client's HMAC on these shared cores.
      measure kestrel "$run" ingest --label kestrel-signed --url "${base[kestrel]}/ingest" --sign-secret "$bench_secret" $ingest_args
    }
    [ $((run % 2)) = 0 ] || kestrel_ingest
    # Today's build, then (with --before) the other one, each surface labelled with the build's suffix.
    for build in "" ${before:+-before}; do
      server=fabric$build
      measure "$server" "$run" ingest --label "fabric$build" --url "${base[$server]}/v1/webhooks/bench/load" $ingest_args
      # The same, each POST a Standard Webhooks delivery the gateway verifies (fresh id and timestamp per request).
      measure "$server" "$run" ingest --label "fabric-signed$build" --url "${base[$server]}/v1/webhooks/bench/signed" --sign-secret "$bench_secret" $ingest_args
      # The publish API with an API key: one event per request, then batches of 100.
      measure "$server" "$run" ingest --label "fabric-publish$build" --url "${base[$server]}/v1/customers/bench/events" --publish --bearer "$bench_key" $ingest_args
      measure "$server" "$run" ingest --label "fabric-batch$build" --url "${base[$server]}/v1/customers/bench/events/batch" --batch 100 --bearer "$bench_key" $ingest_args
    done
    [ $((run % 2)) = 1 ] || kestrel_ingest
    for build in "" ${before:+-before}; do
      # Acknowledged durably: distributed mode (scripts/cluster: Redis with AOF everysec, 2 silos, 2 gateways), all on
      # this machine, load through one gateway; the other build's cluster is its own scripts/cluster and binaries.
      tree=.; [ -z "$build" ] || tree=$before_dir
      cluster="env FABRIC_CLUSTER_DIR=$logs/cluster FABRIC_CLUSTER_OFFSET=700 FABRIC_CLUSTER_BUILD=0 FABRIC_CLUSTER_CONFIG=Release bash $tree/scripts/cluster"
      $cluster up >&2
      admin=(-fsS -o /dev/null -H "Authorization: Bearer fabric-cluster-admin-key")
      curl "${admin[@]}" -X PUT http://127.0.0.1:5701/v1/admin/customers/bench
      curl "${admin[@]}" -X PUT -H 'Content-Type: application/json' -d '{"scheme":"none"}' http://127.0.0.1:5701/v1/admin/customers/bench/sources/load
      $client ingest --url "http://127.0.0.1:5701/v1/webhooks/bench/load" $ingest_args --label "fabric-distributed$build" --run "$run" >>"$results"
      echo "  $(tail -1 "$results" | cut -c1-160)" >&2
      $cluster down >&2
    done
  fi
  if want wasm; then
    # A customer's Wasm transform on ingest: the AssemblyScript normaliser of examples/wasm on one source, the same load
    # on a source without it, in the same gateway process.
    [ -f examples/wasm/out/normalise.wasm ] || bash examples/wasm/build.sh >&2
    start fabric
    plain() { $client ingest --url "${base[fabric]}/v1/webhooks/bench/load" $ingest_args --label fabric-stripe --run "$run" >>"$results"; }
    wasm() { $client ingest --url "${base[fabric]}/v1/webhooks/bench/wasm" $ingest_args --attach examples/wasm/out/normalise.wasm \
      --admin-key "$bench_admin" --label fabric-wasm --run "$run" >>"$results"; }
    # Alternating which goes first, so the process's own warming does not favour one side.
    if [ $((run % 2)) = 1 ]; then plain; wasm; else wasm; plain; fi
    echo "  $(tail -2 "$results" | cut -c1-200)" >&2
    stop
  fi
done

# End-to-end latency is measured at half of Fabric's maximum ingest, as measured above (median over runs).
if want e2e; then
  if [ -z "$rate" ]; then
    rate=${default_rate:-$(python3 -c "
import json,statistics,sys
r=[json.loads(l)['rps'] for l in open(sys.argv[1]) if '\"ingest\"' in l and '\"fabric\"' in l]
print(int(statistics.median(r)/2) if r else '')" "$results")}
  fi
  [ -n "$rate" ] || { echo "e2e needs --rate or an ingest run" >&2; exit 2; }
fi

# Scenario by scenario, every server in turn: a ratio between two servers is measured a minute or two apart, not
# the length of a whole server's pass (the machine's speed drifts by more than that over a quarter of an hour). Odd
# runs take the servers in the listed order, even runs in reverse, so a drift within a scenario favours none of them.
socket_servers=(fabric ${before:+fabric-before} fabric-quiet kestrel signalr node-ws)
for run in $(seq 1 "$runs"); do
  echo "run $run/$runs (sockets)" >&2
  servers=("${socket_servers[@]}")
  if [ $((run % 2)) = 0 ]; then
    for ((i = ${#socket_servers[@]} - 1, j = 0; i >= 0; i--, j++)); do servers[j]=${socket_servers[i]}; done
  fi
  if want e2e; then
    for server in "${servers[@]}"; do
      measure "$server" "$run" e2e --kind "${kind[$server]}" --base "${base[$server]}" --rate "$rate" $e2e_args
    done
  fi
  if want fanout; then
    for size in $fanout_sizes; do
      for server in "${servers[@]}"; do
        measure "$server" "$run" fanout --kind "${kind[$server]}" --base "${base[$server]}" --sockets "${size%%:*}" --events "${size##*:}"
      done
    done
  fi
  # fabric-quiet answers one question (what telemetry costs), in the two scenarios where it runs per delivery.
  for server in "${servers[@]}"; do
    if want chat && [ "${kind[$server]}" != raw ] && [ "$server" != fabric-quiet ]; then
      # A room of sockets publishing through their own sockets: Fabric's publish op beside a SignalR hub method.
      measure "$server" "$run" chat --kind "${kind[$server]}" --base "${base[$server]}" $chat_args
    fi
  done
  for server in "${servers[@]}"; do
    if want outbound && [[ "$server" == fabric || "$server" == fabric-before ]]; then
      # Outbound webhooks: events posted at a fixed rate, each signed and delivered to every endpoint of the customer.
      measure "$server" "$run" outbound --base "${base[$server]}" --admin-key "$bench_admin" $outbound_args
    fi
  done
  for server in "${servers[@]}"; do
    if want idle && [ "$server" != fabric-quiet ]; then
      start "$server"
      $client idle --kind "${kind[$server]}" --base "${base[$server]}" --pid "$server_pid" --sockets "$idle_sockets" \
        --max "$idle_max" --step "$idle_step" --settle "$settle" --label "$server" --run "$run" >>"$results"
      echo "  $(tail -1 "$results")" >&2
      stop
    fi
  done
done

# Notes written by hand for this run's name (notes-<name>.md) are appended to its report.
notes=bench/results/notes-$name.md
$client report --in "$results" --out "$out" --date "$name" --notes "$notes"
echo "results: $out/$name.md" >&2
