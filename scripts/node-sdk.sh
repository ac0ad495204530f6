#!/bin/sh
# Installs the AWS SDK that Lambda's Node.js runtimes provide, from npm,
# into runtimes/node/sdk/: the v3 clients (nodejs18.x and later) and
# aws-sdk v2 (nodejs16.x and older). lambkin puts the one a function's
# runtime would have after the function's own node_modules, so a bundled
# copy still wins, as in Lambda. And esbuild, into runtimes/node/build/,
# for functions that sam build would bundle with it. Safe to run again:
# it installs again only when a package.json changed.
set -eu
cd "$(dirname "$0")/../runtimes/node"
for v in sdk/v3 sdk/v2 build; do
  stamp=$(cksum < "$v/package.json")
  if [ "$(cat "$v/node_modules/.installed" 2>/dev/null)" != "$stamp" ]; then
    (cd "$v" && npm install --no-audit --no-fund --loglevel=error &&
      echo "$stamp" > node_modules/.installed)
  fi
done
