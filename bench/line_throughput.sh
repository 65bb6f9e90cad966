#!/usr/bin/env bash
# End-to-end throughput: a fresh development station on loopback, one
# `station-line simulate` run against it. Prints one JSON object:
#   {"devices":..,"streams":..,"cores":..,"ca_key":..,"result":{...simulate --json...}}
# Usage: bench/line_throughput.sh [DEVICES] [STREAMS]   (env: CA_KEY, DEVICE_KEY, WORKERS)
set -euo pipefail
cd "$(dirname "$0")/.."
devices="${1:-20000}"
streams="${2:-4}"
bin=build/bin
[ -x "$bin/station-server" ] || { echo "build first: ops/build" >&2; exit 1; }
dir=$(mktemp -d /tmp/station-bench-XXXXXX)
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT
"$bin/stationctl" dev-setup --dir "$dir" --listen 127.0.0.1:0 --ca-key "${CA_KEY:-ec-p256}" >/dev/null
[ -n "${WORKERS:-}" ] && sed -i "s/^\[issuance\]/[issuance]\nworkers = $WORKERS/" "$dir/station.conf"
"$bin/station-server" --config "$dir/station.conf" 2>"$dir/server.log" &
server=$!
for _ in $(seq 1 100); do
  addr=$(sed -n 's/^listening on //p' "$dir/server.log"); [ -n "$addr" ] && break; sleep 0.1
done
[ -n "${addr:-}" ] || { cat "$dir/server.log" >&2; exit 1; }
result=$("$bin/station-line" --config "$dir/line.conf" --target "$addr" simulate \
  --devices "$devices" --streams "$streams" --key "${DEVICE_KEY:-ec-p256}" --json)
kill -TERM $server; wait $server
printf '{"devices":%s,"streams":%s,"cores":%s,"ca_key":"%s","result":%s}\n' \
  "$devices" "$streams" "$(nproc)" "${CA_KEY:-ec-p256}" "$result"
