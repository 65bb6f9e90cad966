#!/usr/bin/env bash
# The bash completion (ops/completion/station.bash) against the built programs.
# Usage: completion_test.sh BIN_DIR
set -euo pipefail
export PATH="$1:$PATH"
source "$(dirname "$0")/../../ops/completion/station.bash"
fail() { echo "completion_test: $*" >&2; exit 1; }
# Completes the words given, the last one being the word under the cursor.
complete_words() {
  COMP_WORDS=("$@")
  COMP_CWORD=$(($# - 1))
  COMPREPLY=()
  case $1 in
    stationctl) _stationctl ;;
    *) _station_program ;;
  esac
  printf '%s\n' "${COMPREPLY[@]}"
}
expect() {  # expect WORD words...: WORD is among the completions
  local want=$1; shift
  complete_words "$@" | grep -qx -- "$want" || fail "'$*' does not offer $want: $(complete_words "$@" | tr '\n' ' ')"
}
expect audit stationctl au
expect reasons stationctl re
expect export stationctl audit ex
expect claim-setup stationctl aws cl
expect approve-reissue stationctl device ''
expect --policy-name stationctl audit export --po
expect --format stationctl lot list --fo
expect --registration-code stationctl aws claim-setup --reg
expect --allow-root station-server --al
expect simulate station-line --config line.conf si
expect --devices station-line --config line.conf simulate --dev
complete_words stationctl audit export --po | grep -qx -- --pin-file && fail "export offers ca flags"
echo "completion_test: OK"
