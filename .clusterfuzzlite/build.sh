#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build. base-builder sets CC, CFLAGS (the
# sanitizer and -fsanitize=fuzzer-no-link), LIB_FUZZING_ENGINE, SRC and
# OUT. Builds every libFuzzer target (lambkin's own parsers and one per
# sample C handler and source) and copies each with its .dict, .options
# and _seed_corpus.zip into $OUT.
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
