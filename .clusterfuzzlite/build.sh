#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build. base-builder sets CC, CFLAGS (the
# sanitizer and -fsanitize=fuzzer-no-link), LIB_FUZZING_ENGINE, SRC and
# OUT. Builds every libFuzzer target (lambkin's own parsers, one per
# sample C handler and source, one per sample python or node function and
# source) and copies each with its .dict, .options and _seed_corpus.zip
# into $OUT.
LAMBKIN_SRC=${LAMBKIN_SRC:-$SRC/lambkin}
BUILD=${LAMBKIN_CFLITE_BUILD:-$WORK/lambkin-build}

cmake -S "$LAMBKIN_SRC" -B "$BUILD" -DCMAKE_C_COMPILER="$CC" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLK_FUZZ=ON \
  -DLK_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" >/dev/null
cmake --build "$BUILD" -j"$(nproc)"

for zip in "$BUILD"/fuzz/*_seed_corpus.zip; do
  target=$(basename "$zip" _seed_corpus.zip)
  cp "$BUILD/fuzz/$target" "$BUILD/fuzz/$target.dict" \
     "$BUILD/fuzz/$target.options" "$zip" "$OUT/"
done

# Process-mode targets (python, node and provided functions) run the app
# itself: its folder, lambkin's runtimes, the sink library and the
# sandbox go into $OUT/lambkin/, and each target's .lambkin names them
# relative to $OUT (the runner has $OUT, not the source tree). The
# runner needs the function's interpreter (python3, node) and what its
# code imports.
LK_PKG="$OUT/lambkin"
for conf in "$BUILD"/fuzz/*.lambkin; do
  [ -e "$conf" ] || continue
  target=$(basename "$conf" .lambkin)
  tpl=$(sed -n 's/^template=//p' "$conf")
  app=$(basename "$(dirname "$tpl")")
  mkdir -p "$LK_PKG/apps"
  [ -d "$LK_PKG/apps/$app" ] || cp -r "$(dirname "$tpl")" "$LK_PKG/apps/$app"
  { echo "template=lambkin/apps/$app/$(basename "$tpl")"
    grep -E '^(function|source)=' "$conf"
    echo "runtimes=lambkin/runtimes"
    echo "sink=lambkin/liblambkin_sink.so"
    echo "sandbox=lambkin/lambkin-sandbox"; } >"$OUT/$target.lambkin"
done
if [ -d "$LK_PKG" ]; then
  cp -r "$LAMBKIN_SRC/runtimes" "$LK_PKG/runtimes"
  cp "$BUILD/liblambkin_sink.so" "$BUILD/lambkin-sandbox" "$LK_PKG/"
fi
