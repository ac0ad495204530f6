#!/bin/sh
# The process-mode libFuzzer targets, as ClusterFuzzLite and a team run
# them: under plain -runs, a planted bug (python, node) is found, libFuzzer
# keeps the input as a crash file and the reproducer lambkin wrote
# replays; under -fork=2 the same, with two children; a clean twin runs
# its budget out with no finding; each target runs its own seeds.
# Usage: process_targets.sh FUZZ_BUILD_DIR LAMBKIN TEMPLATE_DIR
set -u
DIR=$1 LAMBKIN=$2 APP=$3
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "$*"; tail -20 "$WORK/log"; exit 1; }

# A target with a planted bug must stop on it, with both files.
finds() { # target function class flags...
  t=$1 fn=$2 cls=$3
  shift 3
  rm -rf "$WORK/run" && mkdir -p "$WORK/run/seeds" "$WORK/run/corpus"
  python3 -m zipfile -e "$DIR/${t}_seed_corpus.zip" "$WORK/run/seeds"
  (cd "$WORK/run" && "$DIR/$t" -seed=1 -max_len=262144 "$@" corpus seeds \
    >"$WORK/log" 2>&1)
  [ $? -ne 0 ] || fail "$t $*: no finding"
  grep -q "==lambkin== $cls finding on $fn" "$WORK/log" ||
    fail "$t $*: not a $cls finding"
  ls "$WORK/run"/crash-* >/dev/null 2>&1 || fail "$t $*: no crash file"
  rep=$(ls "$WORK/run/$cls-$fn"-*.json 2>/dev/null | head -1)
  [ -n "$rep" ] || fail "$t $*: no reproducer"
  "$LAMBKIN" replay "$rep" -t "$APP/template.yaml" --state "$WORK/replay" \
    >"$WORK/log" 2>&1
  grep -q "$cls finding on $fn: reproduced" "$WORK/log" ||
    fail "$t $*: the reproducer does not replay"
  echo "$t $*: $cls found, reproduced"
}

# A clean twin runs its budget out.
clean() { # target flags...
  t=$1
  shift
  rm -rf "$WORK/run" && mkdir -p "$WORK/run/seeds" "$WORK/run/corpus"
  python3 -m zipfile -e "$DIR/${t}_seed_corpus.zip" "$WORK/run/seeds"
  (cd "$WORK/run" && "$DIR/$t" -seed=1 "$@" corpus seeds >"$WORK/log" 2>&1) ||
    fail "$t $*: a finding in the clean twin"
  ls "$WORK/run"/*.json >/dev/null 2>&1 && fail "$t $*: a reproducer"
  # The core is not instrumented: every feature libFuzzer counts comes
  # from the function's coverage units, through the extra counters.
  ft=$(grep -o 'ft: [0-9]*' "$WORK/log" | tail -1 | cut -d' ' -f2)
  [ "${ft:-0}" -gt 0 ] || fail "$t: no coverage from the function"
  echo "$t $*: clean"
}

for t in process_orders_sqs process_orders_safe_sqs process_calc_sqs \
         process_calc_safe_sqs; do
  mkdir -p "$WORK/seeds_$t"
  python3 -m zipfile -e "$DIR/${t}_seed_corpus.zip" "$WORK/seeds_$t"
  (cd "$WORK" && "$DIR/$t" -runs=0 "$WORK/seeds_$t" >"$WORK/log" 2>&1) ||
    fail "$t: its own seeds make it fail"
done
finds process_orders_sqs orders sql-injection -runs=5000
finds process_calc_sqs calc code-injection -runs=5000
finds process_orders_sqs orders sql-injection -fork=2 -max_total_time=120
clean process_orders_safe_sqs -runs=1500
clean process_calc_safe_sqs -fork=2 -max_total_time=20
