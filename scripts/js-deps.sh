#!/bin/sh
# Installs the JS SDK v3 clients the integration tests drive (from npm).
set -eu
cd "$(dirname "$0")/../tests/js"
if [ ! -d node_modules/@aws-sdk/client-sqs ]; then
  npm install --no-audit --no-fund --loglevel=error
fi
