#!/bin/sh
# `make bench`: installs serverless-offline (npm) beside the benchmark and
# prints the comparison table, the sandbox's cost to a cold start, then
# the fuzzer's time-to-first-finding table (against plain libFuzzer and
# AFL++). Usage: bench/run.sh BUILD_DIR
set -eu
BUILD=$(cd "${1:-build}" && pwd)
cd "$(dirname "$0")"
../scripts/deps.sh afl++ # the second peer of the time-to-find table
if [ ! -x peer/node_modules/.bin/serverless ]; then
  (cd peer && npm install --no-audit --no-fund --loglevel=error)
fi
/usr/bin/python3 run.py "$BUILD"
echo
/usr/bin/python3 sandbox.py "$BUILD"
echo
exec /usr/bin/python3 time_to_find.py "$BUILD"
