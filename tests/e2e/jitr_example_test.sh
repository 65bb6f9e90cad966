#!/usr/bin/env bash
# The AWS examples (ops/aws/: JITR activation, allow-list loader,
# pre-provisioning hook) against real exports: a fresh development station
# issues AWS IoT things, the allow-lists and the records are exported, and the
# examples' own tests run on them.
# Usage: jitr_example_test.sh STATIONCTL STATION_SERVER STATION_LINE
set -euo pipefail
stationctl=$1 server=$2 line=$3
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
"$stationctl" dev-setup --dir "$work/dev" --listen 127.0.0.1:0 >/dev/null
as_root=()
[ "$(id -u)" = 0 ] && as_root=(--allow-root)
"$server" --config "$work/dev/station.conf" "${as_root[@]}" 2>"$work/server.log" &
pid=$!
for _ in $(seq 100); do grep -q "^listening on " "$work/server.log" && break; sleep 0.1; done
address=$(sed -n 's/^listening on //p' "$work/server.log")
[ -n "$address" ] || { cat "$work/server.log"; exit 1; }
"$line" --config "$work/dev/line.conf" --target "$address" simulate --devices 25 --streams 2 \
  --profile aws-iot-device --thing-type sensor --thing-attributes "model=x1,batch=7" >/dev/null
# One claim certificate per device (by claim): a code an officer minted, device_id = the serial.
"$stationctl" codes mint --config "$work/dev/officer.conf" --target "$address" --profile fleet-claim \
  --count 1 --ttl 5m --out "$work/codes.csv" >/dev/null
code=$(sed -n 2p "$work/codes.csv" | cut -d, -f1)
"$line" --config "$work/dev/line.conf" --target "$address" simulate --devices 1 --profile fleet-claim \
  --device-prefix serial- --attributes "registration_code=$code" >/dev/null
kill -TERM "$pid"; wait "$pid"
"$stationctl" audit export --config "$work/dev/station.conf" --format aws-jitr-allowlist --out "$work/allow.jsonl"
"$stationctl" audit export --config "$work/dev/station.conf" --format jsonl --out "$work/all.jsonl"
# The pre-provisioning hook's allow-lists: the devices the line made (trusted-user flow), and
# the claim profile's records (by claim, the default).
"$stationctl" audit export --config "$work/dev/station.conf" --format aws-provisioning-allowlist \
  --profile aws-iot-device --out "$work/provisioning.jsonl"
"$stationctl" audit export --config "$work/dev/station.conf" --format aws-provisioning-allowlist \
  --out "$work/claims.jsonl"
cd "$src/ops/aws"
ALLOWLIST="$work/allow.jsonl" RECORDS="$work/all.jsonl" OTHER_CERT="$work/dev/ca/ca.pem" \
  PROVISIONING="$work/provisioning.jsonl" CLAIMS="$work/claims.jsonl" \
  python3 -B -m unittest -v test_jitr_activation test_load_allowlist test_preprovision_hook
