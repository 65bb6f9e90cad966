#!/usr/bin/env bash
# Go stubs from the wire contract, as docs/clients.md tells a Go integrator to make them: Debian's
# protoc-gen-go and protoc-gen-go-grpc accept the proto's go_package, and --go_opt=M places the
# package in the integrator's module. (No Go compiler is needed to check that.)
# Usage: go_stubs_test.sh SOURCE_DIR
set -euo pipefail
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "go_stubs_test: $*" >&2; exit 1; }
protoc --proto_path="$src/proto" --go_out="$work" --go-grpc_out="$work" "$src/proto/station/v1/station.proto"
out="$work/signing-station/gen/go/station/v1"
grep -qx 'package stationv1' "$out/station.pb.go" || fail "station.pb.go is not package stationv1"
grep -q 'type LineSignerClient interface' "$out/station_grpc.pb.go" || fail "no LineSignerClient"
grep -q 'type OfficerClient interface' "$out/station_grpc.pb.go" || fail "no OfficerClient"
mkdir "$work/mine"
map=Mstation/v1/station.proto=example.com/factory/stationv1
protoc --proto_path="$src/proto" --go_out="$work/mine" --go_opt="$map,module=example.com/factory" \
  --go-grpc_out="$work/mine" --go-grpc_opt="$map,module=example.com/factory" "$src/proto/station/v1/station.proto"
[ -f "$work/mine/stationv1/station_grpc.pb.go" ] || fail "--go_opt=M did not place the package in the module"
echo "go_stubs_test: OK"
