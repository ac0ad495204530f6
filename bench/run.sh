#!/bin/sh
# `make bench`: installs serverless-offline, dynalite and kinesalite (npm)
# beside the benchmark and prints the comparison tables (invokes,
# DynamoDB, then SNS, EventBridge and Kinesis), the sandbox's cost to a
# cold start, the cost per function (fork server against exec), then
# the fuzzer's time-to-first-finding table (against plain libFuzzer and
# AFL++). Usage: bench/run.sh BUILD_DIR
set -eu
BUILD=$(cd "${1:-build}" && pwd)
cd "$(dirname "$0")"
../scripts/deps.sh afl++ # the second peer of the time-to-find table
if [ ! -x peer/node_modules/.bin/serverless ] ||
   [ ! -x peer/node_modules/.bin/dynalite ] ||
   [ ! -x peer/node_modules/.bin/kinesalite ]; then
  (cd peer && npm install --no-audit --no-fund --loglevel=error)
fi
/usr/bin/python3 run.py "$BUILD"
echo
/usr/bin/python3 ddb.py "$BUILD"
echo
/usr/bin/python3 streams.py "$BUILD"
echo
/usr/bin/python3 sandbox.py "$BUILD"
echo
/usr/bin/python3 forks.py "$BUILD"
echo
exec /usr/bin/python3 time_to_find.py "$BUILD"
