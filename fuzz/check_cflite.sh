#!/bin/sh
# Runs .clusterfuzzlite/build.sh as OSS-Fuzz's base-builder would (CC,
# CFLAGS, LIB_FUZZING_ENGINE, SRC, WORK, OUT), then checks that $OUT holds
# each target with its .dict, .options and seed zip, and that each target
# runs over its own unzipped seeds without a finding.
# Usage: check_cflite.sh SOURCE_DIR CLANG
set -eu
SRC_DIR=$1 CC=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir "$TMP/out" "$TMP/work"
export CC CFLAGS="-O1 -g -fsanitize=address -fsanitize=fuzzer-no-link"
export LIB_FUZZING_ENGINE=-fsanitize=fuzzer SRC="$TMP" WORK="$TMP/work"
export OUT="$TMP/out" LAMBKIN_SRC="$SRC_DIR"
"$SRC_DIR/.clusterfuzzlite/build.sh" >"$TMP/build.log" 2>&1 || {
  tail -30 "$TMP/build.log"
  exit 1
}
n=0
for t in fuzz_filter fuzz_codec fuzz_app fuzz_http fuzz_mutator fuzz_oracle \
         handler_thumb_name_s3 handler_tag_sqs handler_tag_safe_sqs \
         handler_archive_s3 handler_archive_safe_s3 handler_shrink_s3 \
         handler_shrink_safe_s3 process_orders_sqs process_orders_safe_sqs \
         process_calc_sqs process_calc_safe_sqs; do
  for f in "$t" "$t.dict" "$t.options" "${t}_seed_corpus.zip"; do
    [ -s "$OUT/$f" ] || { echo "missing $OUT/$f"; exit 1; }
  done
  grep -q "^dict = $t.dict" "$OUT/$t.options"
  case $t in process_*)
    grep -q "^template=lambkin/apps/" "$OUT/$t.lambkin" ||
      { echo "$t.lambkin does not name the packaged app"; exit 1; } ;;
  esac
  mkdir "$TMP/seeds_$t"
  python3 -m zipfile -e "$OUT/${t}_seed_corpus.zip" "$TMP/seeds_$t"
  # from elsewhere, with only $OUT: a process target finds its app there
  (cd "$TMP" && "$OUT/$t" -runs=0 -dict="$OUT/$t.dict" "$TMP/seeds_$t" \
    >"$TMP/$t.log" 2>&1) || { tail -20 "$TMP/$t.log"; exit 1; }
  n=$((n + 1))
done
echo "$n targets built and packaged for ClusterFuzzLite"
