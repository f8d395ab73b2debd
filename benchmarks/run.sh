#!/usr/bin/env bash
# Runs the benchmarks. JMH tiers (microbenchmarks, in-process server) with the GC profiler (bytes
# allocated per operation):
#   benchmarks/run.sh                 full mode: JMH defaults of each class (5 forks)
#   benchmarks/run.sh quick           1 fork, short iterations: a smoke run, not for publishing
#   benchmarks/run.sh full <regex>    only the benchmarks matching the regex
# The end-to-end tier (wrk over loopback, benchmarks/e2e.sh), alone or after every JMH benchmark:
#   benchmarks/run.sh e2e quick|full
#   benchmarks/run.sh all quick|full  every tier, one after the other, each printing its tables
#   benchmarks/run.sh breakdown       the filter's allocation per request and per step
#                                     (AllocationBreakdown), without and with MDC correlation
set -euo pipefail
cd "$(dirname "$0")/.."
tier="jmh"
case "${1:-}" in
  all | e2e)
    tier="$1"
    shift
    ;;
esac
mode="${1:-full}"
case "$tier:$mode" in
  *:quick | *:full | jmh:breakdown) ;;
  *)
    echo "usage: benchmarks/run.sh [all|e2e] [quick|full] [regex] | benchmarks/run.sh breakdown" >&2
    exit 2
    ;;
esac
if [ "$tier" = e2e ]; then
  exec benchmarks/e2e.sh "$mode"
fi
filter="${2:-.*}"
cp_file="$(mktemp)"
trap 'rm -f "$cp_file"' EXIT
# One reactor run, so the sibling modules resolve to the jars just built; the benchmarks module
# comes last and leaves its class path in the file.
./mvnw -B -ntp -q -pl benchmarks -am package dependency:build-classpath \
  -DskipTests -Dspotless.check.skip=true -Dmdep.outputFile="$cp_file"
cp="benchmarks/target/classes:$(cat "$cp_file")"
if [ "$mode" = breakdown ]; then
  # Allocation counts are exact; the JVM flags match ServerBenchmark's fork.
  for mdc in nomdc mdc; do
    java -Dio.opentelemetry.context.contextStorageProvider=default -cp "$cp" \
      io.tracelet.benchmarks.AllocationBreakdown "$mdc" 2>/dev/null
    echo
  done
  exit 0
fi
args=(-prof gc -rf text)
if [ "$mode" = quick ]; then
  args+=(-f 1 -wi 2 -w 1s -i 3 -r 1s)
fi
if [ "$tier" = all ]; then
  echo "== JMH: microbenchmarks and the in-process server ($mode)"
  java -cp "$cp" org.openjdk.jmh.Main "${args[@]}" "$filter"
  echo "== end to end over loopback ($mode)"
  exec benchmarks/e2e.sh "$mode"
fi
exec java -cp "$cp" org.openjdk.jmh.Main "${args[@]}" "$filter"
