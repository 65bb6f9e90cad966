#!/usr/bin/env bash
# The crash-safety test (tests/faults/crash_test.cc) for as long as you ask:
# lines stream to a real station-server that is SIGKILLed at random and
# restarted, then every received certificate is checked against the audit log.
#
#   tests/stress/crash.sh [--minutes N] [--kills N] [--streams N]
#
# Defaults: 30 minutes, as many kills as fit, 3 streams. Needs a build with
# tests (ops/test, or ops/build -DSTATION_TESTS=ON). Prints the figures and
# exits non-zero on any lost record, double issuance or failed verification.
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=30 kills=1000000 streams=3
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --kills) kills="$2"; shift 2 ;;
    --streams) streams="$2"; shift 2 ;;
    *) echo "usage: $0 [--minutes N] [--kills N] [--streams N]" >&2; exit 2 ;;
  esac
done
test_bin=build/bin/crash_safety_test
if [ ! -x "$test_bin" ]; then
  echo "$test_bin is missing: build with tests first (ops/build -DSTATION_TESTS=ON)" >&2
  exit 2
fi
STATION_CRASH_KILLS="$kills" STATION_CRASH_SECONDS=$((minutes * 60)) STATION_CRASH_STREAMS="$streams" \
  "$test_bin" --gtest_brief=1
