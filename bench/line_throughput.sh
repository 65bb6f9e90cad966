#!/usr/bin/env bash
# End-to-end throughput: a fresh development station on loopback, then one
# `station-line simulate` run per profile against the same server. Prints one
# JSON object per profile:
#   {"profile":..,"devices":..,"streams":..,"cores":..,"ca_key":..,"result":{...simulate --json...}}
# Usage: bench/line_throughput.sh [DEVICES] [STREAMS] [PROFILE...]
#   PROFILE: "default" (dev-setup's lab profile) or "matter-dac" (an officer imports a lot of
#   DEVICES ids first, so every request is lot-authorized); default: "default".
#   env: CA_KEY, DEVICE_KEY, WORKERS
set -euo pipefail
cd "$(dirname "$0")/.."
devices="${1:-20000}"
streams="${2:-4}"
shift $(( $# < 2 ? $# : 2 ))
profiles=("${@:-default}")
bin=build/bin
[ -x "$bin/station-server" ] || { echo "build first: ops/build" >&2; exit 1; }
as_root=""; [ "$(id -u)" = 0 ] && as_root="--allow-root"  # the server refuses root unless told
dir=$(mktemp -d /tmp/station-bench-XXXXXX)
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT
"$bin/stationctl" dev-setup --dir "$dir" --listen 127.0.0.1:0 --ca-key "${CA_KEY:-ec-p256}" >/dev/null
[ -n "${WORKERS:-}" ] && sed -i "s/^\[issuance\]/[issuance]\nworkers = $WORKERS/" "$dir/station.conf"
"$bin/station-server" ${as_root:-} --config "$dir/station.conf" 2>"$dir/server.log" &
server=$!
for _ in $(seq 1 100); do
  addr=$(sed -n 's/^listening on //p' "$dir/server.log"); [ -n "$addr" ] && break; sleep 0.1
done
[ -n "${addr:-}" ] || { cat "$dir/server.log" >&2; exit 1; }
if printf '%s\n' "${profiles[@]}" | grep -qx matter-dac; then
  { echo device_id; for i in $(seq 0 $((devices - 1))); do printf 'lot-bench-%06d\n' "$i"; done; } >"$dir/lot.csv"
  "$bin/stationctl" lot import --config "$dir/officer.conf" --target "$addr" --profile matter-dac --lot bench \
    "$dir/lot.csv" >/dev/null
fi
for profile in "${profiles[@]}"; do
  extra=()
  [ "$profile" = matter-dac ] && extra=(--profile matter-dac --device-prefix lot-bench \
                                        --attributes vendor_id=FFF1,product_id=8000)
  result=$("$bin/station-line" --config "$dir/line.conf" --target "$addr" simulate \
    --devices "$devices" --streams "$streams" --key "${DEVICE_KEY:-ec-p256}" "${extra[@]}" --json)
  printf '{"profile":"%s","devices":%s,"streams":%s,"cores":%s,"ca_key":"%s","result":%s}\n' \
    "$profile" "$devices" "$streams" "$(nproc)" "${CA_KEY:-ec-p256}" "$result"
done
kill -TERM $server; wait $server
