#!/bin/sh
# The in-process engine must find the deliberate stack overflow in
# handlers/c/thumb_name.c from the S3 seed, within a minute.
# Usage: finds_overflow.sh CLANG FUZZ_HANDLER SOURCE_DIR
set -u
CC=$1 HARNESS=$2 SRC=$3
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$CC" -shared -fPIC -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
  -I"$SRC/include" -o "$WORK/handler.so" "$SRC/handlers/c/thumb_name.c" ||
  exit 1
mkdir "$WORK/seeds" "$WORK/corpus"
cp "$SRC/corpora/fuzz_mutator/s3.json" "$WORK/seeds/"
cd "$WORK"
LAMBKIN_FUZZ_SO="$WORK/handler.so" LAMBKIN_FUZZ_SYMBOL=thumb_name_handler \
  "$HARNESS" -max_total_time=60 corpus seeds >log 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q "stack-buffer-overflow" log; then
  echo "found: $(grep -m1 'SUMMARY' log)"
  grep -m1 "stat::\|Done\|#[0-9]* *NEW" log >/dev/null
  exit 0
fi
echo "the overflow was not found (rc=$rc):"
tail -20 log
exit 1
