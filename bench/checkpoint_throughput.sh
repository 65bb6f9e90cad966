#!/usr/bin/env bash
# What signed audit checkpoints cost: one development station, two servers run
# one after the other on copies of its config that differ only in
# [audit] checkpoint_every: 1000 (the default) and 2^30 (in effect none during
# the run: only the one at shutdown, as the core station had). Each runs
# `station-line simulate`, ROUNDS times, alternating, on its own state_dir.
# Prints one JSON object per run:
#   {"checkpoint_every":..,"round":..,"devices":..,"streams":..,"cores":..,"checkpoints":..,"result":{...simulate --json...}}
# Usage: bench/checkpoint_throughput.sh [DEVICES] [STREAMS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
devices="${1:-20000}" streams="${2:-4}" rounds="${3:-2}"
bin=build/bin
[ -x "$bin/station-server" ] || { echo "build first: ops/build" >&2; exit 1; }
as_root=""; [ "$(id -u)" = 0 ] && as_root="--allow-root"  # the server refuses root unless told
dir=$(mktemp -d /tmp/station-bench-XXXXXX)
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$dir"' EXIT
"$bin/stationctl" dev-setup --dir "$dir" --listen 127.0.0.1:0 >/dev/null
for round in $(seq 1 "$rounds"); do
  for every in 1000 1073741824; do
    conf="$dir/every-$every-$round.conf"
    sed -e "s/^checkpoint_every = .*/checkpoint_every = $every/" \
        -e "s/^state_dir = .*/state_dir = \"state-$every-$round\"/" "$dir/station.conf" >"$conf"
    "$bin/station-server" ${as_root:-} --config "$conf" 2>"$dir/server.log" &
    server=$!
    addr=""
    for _ in $(seq 1 100); do
      addr=$(sed -n 's/^listening on //p' "$dir/server.log"); [ -n "$addr" ] && break; sleep 0.1
    done
    [ -n "$addr" ] || { cat "$dir/server.log" >&2; exit 1; }
    result=$("$bin/station-line" --config "$dir/line.conf" --target "$addr" simulate \
      --devices "$devices" --streams "$streams" --json)
    kill -TERM $server; wait $server; server=""
    checkpoints=$(sqlite3 "$dir/state-$every-$round/audit.db" "SELECT COUNT(*) FROM checkpoint")
    printf '{"checkpoint_every":%s,"round":%s,"devices":%s,"streams":%s,"cores":%s,"checkpoints":%s,"result":%s}\n' \
      "$every" "$round" "$devices" "$streams" "$(nproc)" "$checkpoints" "$result"
  done
done
