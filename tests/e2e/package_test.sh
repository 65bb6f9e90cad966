#!/usr/bin/env bash
# The .deb as CPack makes it from this build (ops/package makes it from a
# production build the same way): unpacked into a scratch root with dpkg -x,
# its programs run from there, its unit starts what it installs, its systemd
# files make the user and state directory, and its dependencies were found.
# Usage: package_test.sh BUILD_DIR
set -euo pipefail
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$build" && cpack -G DEB -B "$work/out" >/dev/null)
deb=$(ls "$work"/out/signing-station_*.deb)
dpkg -x "$deb" "$work/root"
root=$work/root
fail() { echo "package_test: $*" >&2; exit 1; }

for program in station-server stationctl station-line; do
  [ -x "$root/usr/bin/$program" ] || fail "usr/bin/$program is missing"
  # No `| grep -q` under pipefail: grep leaving early would fail the writer with SIGPIPE.
  out=$("$root/usr/bin/$program" --version)
  [[ $out == "$program "* ]] || fail "$program --version: $out"
done
version=$("$root/usr/bin/station-server" --version)
[[ $version == *"0.1.0"* ]] || fail "unexpected version: $version"
unit=$root/usr/lib/systemd/system/station-server.service
[ -f "$unit" ] || fail "the unit is missing"
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
[ -x "$root$exec_start" ] || fail "the unit starts $exec_start, which the package does not install"
grep -q '^u station ' "$root/usr/lib/sysusers.d/signing-station.conf" || fail "no station user in sysusers.d"
grep -q '^d /var/lib/station 0700 station station' "$root/usr/lib/tmpfiles.d/signing-station.conf" ||
  fail "no /var/lib/station in tmpfiles.d"
for doc in README.md examples/station.conf.example examples/profiles/aws-iot-device.toml \
           examples/aws/jitr_activation.py docs/operations.md; do
  [ -f "$root/usr/share/doc/signing-station/$doc" ] || fail "doc $doc is missing"
done
[ ! -e "$root/usr/share/doc/signing-station/examples/aws/test_jitr_activation.py" ] || fail "tests were packaged"
for program in station-server stationctl station-line; do
  [ -f "$root/usr/share/bash-completion/completions/$program" ] || fail "no bash completion for $program"
  page=$root/usr/share/man/man1/$program.1.gz
  [ -f "$page" ] || fail "no man page for $program (help2man: ops/install-deps installs it)"
  man_text=$(zcat "$page")
  [[ $man_text == *"usage: ${program//-/\\-}"* ]] || fail "the man page of $program has no usage"
done
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libgrpc++ libssl3 libsqlite3 libpq5; do
  [[ $depends == *"$lib"* ]] || fail "Depends lacks $lib: $depends"
done
info=$(dpkg-deb -I "$deb")
[[ $info == *" postinst"* ]] || fail "no postinst script"
echo "package_test: $(basename "$deb") OK ($depends)"
