#!/usr/bin/env bash
# The soak: a distributed fabric (scripts/cluster: Redis, 2 silos, 2 gateways, Release) under steady ingest for ten
# minutes — signed webhooks and socket publishes, a witness socket that must see every seq in order, churning sockets
# that resume with since, one outbound endpoint that must get every event — sampling every process's RSS and GC heap
# every 10 s. Writes bench/results/<date>-soak.md with a plot; fails unless every event was delivered.
#
#   bench/soak.sh                 10 minutes; results in bench/results/<date>-soak.{md,png,json} and <date>-soak-samples.jsonl
#   bench/soak.sh --seconds 30    the CI version: the same path, briefly, into a temp dir (no memory verdict to read)
#   bench/soak.sh --rate 200      webhooks per second (default 100); --publish-rate (20), --sockets (50 churning)
#   bench/soak.sh --tag no-stream results named <date>-soak-no-stream (settings for the processes go in the environment,
#                                 e.g. Fabric__Customers__PublishToStream=false)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=600; tag=""; extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift ;;
    --tag) tag=$2; shift ;;
    --rate|--publish-rate|--sockets|--sample) extra+=("$1" "$2"); shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

date=$(date -u +%Y-%m-%d)
if [ "$seconds" -ge 300 ]; then out=bench/results; name="$date-soak${tag:+-$tag}"; else out=$(mktemp -d); name=soak; fi
mkdir -p "$out"

# A cluster of its own, on ports clear of a developer's (offset 800) and of the tests' (300+).
cluster_dir=$(mktemp -d)
export FABRIC_CLUSTER_OFFSET=800 FABRIC_CLUSTER_DIR=$cluster_dir FABRIC_CLUSTER_CONFIG=Release
# The endpoint is a receiver on loopback, which the egress policy refuses unless allowed.
export Fabric__Outbound__AllowedHosts__0=127.0.0.1
admin_key=${FABRIC_ADMIN_KEY:-fabric-cluster-admin-key}
finish() {
  local status=$?
  # A failed soak leaves what the processes said.
  [ "$status" = 0 ] || tail -n 30 "$cluster_dir"/logs/*.log >&2 2>/dev/null || true
  scripts/cluster down >/dev/null 2>&1 || true
  rm -rf "$cluster_dir"
}
trap finish EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

echo "soak: building (Release) and starting the cluster…" >&2
dotnet build -c Release bench/Fabric.Bench -nologo -v q >/dev/null
scripts/cluster up >&2

pid() { cat "$FABRIC_CLUSTER_DIR/$1.pid"; }
processes="gateway1=$(pid gateway1)=http://127.0.0.1:5801/metrics,gateway2=$(pid gateway2)=http://127.0.0.1:5802/metrics"
processes="$processes,silo1=$(pid silo1)=http://127.0.0.1:8881/metrics,silo2=$(pid silo2)=http://127.0.0.1:8882/metrics"

echo "soak: $seconds s…" >&2
dotnet bench/Fabric.Bench/bin/Release/net10.0/Fabric.Bench.dll soak \
  --gateways http://127.0.0.1:5801,http://127.0.0.1:5802 --processes "$processes" --admin-key "$admin_key" \
  --seconds "$seconds" --out "$out" --name "$name" ${extra[@]+"${extra[@]}"}
echo "soak: results in $out/$name.md" >&2
