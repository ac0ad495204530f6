#!/bin/sh
# Installs the JS SDK v3 clients the integration tests drive, and AWS's
# Node.js Runtime Interface Client (built from source by its install
# script, with autotools: see deps.sh), from npm.
set -eu
cd "$(dirname "$0")/../tests/js"
if [ ! -d node_modules/@aws-sdk/client-sqs ] ||
  [ ! -f node_modules/aws-lambda-ric/dist/rapid-client.node ]; then
  npm install --no-audit --no-fund --loglevel=error
fi
