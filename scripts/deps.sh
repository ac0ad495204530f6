#!/bin/sh
# Installs the Debian packages lambkin builds and tests with, only the ones
# missing, and npm. Safe to run again. Arguments name more packages (the
# benchmark's peers).
set -eu
pkgs="build-essential cmake pkg-config libuv1-dev libcjson-dev libcmocka-dev
libyaml-dev libssl-dev zlib1g-dev libnghttp2-dev clang libclang-rt-14-dev node-llhttp
awscli python3-boto3
nodejs curl wrk autoconf automake libtool python3-debugpy tzdata $*"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
    missing="$missing $p"
done
if [ -n "$missing" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "deps: installing$missing"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
fi
# Debian's nodejs comes without npm; a nodejs from elsewhere may ship it.
if ! command -v npm >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq npm
fi
