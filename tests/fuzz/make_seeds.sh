#!/usr/bin/env bash
# Regenerates the checked-in seed corpus (tests/fuzz/corpus) from a real dev
# station: CSRs of each key type, SignRequest messages as a line sends them,
# the shipped profiles, the dev configs, and audit records, inclusion proofs
# and checkpoints from its log (with the audit key that signed them).
# Needs a build (ops/build); run from anywhere. Rarely needed: the corpus is
# a starting point, and fuzzing grows its own.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
bin="$root/build/bin"
work="${SEED_WORK:-$(mktemp -d)}"
trap 'kill "$server" 2>/dev/null || true; [ -n "${SEED_WORK:-}" ] || rm -rf "$work"' EXIT
corpus="$here/corpus"
rm -rf "$corpus"
mkdir -p "$corpus"/{csr,sign_request,profile,config,audit_record,audit_proof}
allow_root=(); [ "$(id -u)" -eq 0 ] && allow_root=(--allow-root)

"$bin/stationctl" dev-setup --dir "$work/station" >/dev/null
"$bin/station-server" --config "$work/station/station.conf" --listen 127.0.0.1:0 "${allow_root[@]}" 2>"$work/server.log" &
server=$!
for _ in $(seq 100); do grep -q "listening on" "$work/server.log" && break; sleep 0.1; done
target=$(sed -n 's/^listening on //p' "$work/server.log")

# CSRs: each accepted key type, a bare subject, a rich one, SANs.
n=0
csr() {  # key-args subject [extra req args]
  local key_args="$1" subject="$2"; shift 2
  n=$((n + 1))
  openssl req -new -newkey "$key_args" -nodes -keyout /dev/null -subj "$subject" "$@" -outform DER \
    -out "$corpus/csr/$n.der" 2>/dev/null
}
csr ec:<(openssl ecparam -name prime256v1) "/CN=device-0001"
csr ec:<(openssl ecparam -name secp384r1) "/CN=device-0002/O=Acme/C=DE/serialNumber=42"
csr rsa:2048 "/CN=device-0003"
csr ec:<(openssl ecparam -name prime256v1) "/" -addext "subjectAltName=DNS:a.example,URI:urn:dev:4"
csr ec:<(openssl ecparam -name prime256v1) "/CN=device-0005/OU=line 7/L=Zürich" -utf8 -sha384

# SignRequest messages (protobuf wire bytes), signed for real to fill the log.
i=0
for der in "$corpus"/csr/*.der; do
  i=$((i + 1))
  python3 - "$der" "$i" > "$work/req.txt" <<'PY'
import sys
der = open(sys.argv[1], "rb").read()
i = sys.argv[2]
esc = "".join("\\%03o" % b for b in der)
print(f'request_id: "seed-{i}"\ncsr_der: "{esc}"\ndevice_id: "device-000{i}"')
if i in ("2", "4"):
    print('attributes { key: "lot" value: "L-7" }\nthing_name: "thing-%s"\nthing_type: "sensor"' % i)
    print('thing_attributes { key: "model" value: "m1" }')
PY
  protoc --proto_path="$root/proto" --encode=station.v1.SignRequest station/v1/station.proto \
    < "$work/req.txt" > "$corpus/sign_request/$i.pb"
  "$bin/station-line" --config "$work/station/line.conf" --target "$target" sign "$der" --out "$work/certs/$i" \
    --device-id "device-000$i" >/dev/null
done

cp "$root"/ops/profiles/*.toml "$corpus/profile/"
cp "$work/station/station.conf" "$corpus/config/station.conf"
cp "$work/station/line.conf" "$corpus/config/line.conf"

# A clean stop signs the last checkpoint; then prove each certificate.
kill -TERM "$server"; wait "$server" || true
cp "$work/station/audit-key.pem" "$here/audit-key.pem"
sed -n 's/^origin = "\(.*\)"$/\1/p' "$work/station/station.conf" > "$here/audit-origin.txt"
j=0
for cert in "$work"/certs/*/[0-9].pem; do
  j=$((j + 1))
  serial=$(openssl x509 -in "$cert" -noout -serial | cut -d= -f2)
  "$bin/stationctl" audit prove --config "$work/station/station.conf" --serial "$serial" \
    --out "$corpus/audit_proof/proof-$j.txt" >/dev/null 2>&1
  sed -n 's/^record //p' "$corpus/audit_proof/proof-$j.txt" | base64 -d > "$corpus/audit_record/record-$j.bin"
done
sed -n '/^checkpoint$/,$p' "$corpus/audit_proof/proof-1.txt" | tail -n +2 > "$corpus/audit_proof/checkpoint.txt"
echo "seeds: $(find "$corpus" -type f | wc -l) files in $corpus"
