#!/usr/bin/env bash
# Runs the JMH benchmarks with the GC profiler (bytes allocated per operation).
#   benchmarks/run.sh                 full mode: JMH defaults of each class (5 forks)
#   benchmarks/run.sh quick           1 fork, short iterations: a smoke run, not for publishing
#   benchmarks/run.sh full <regex>    only the benchmarks matching the regex
#   benchmarks/run.sh breakdown       the filter's allocation per request and per step
#                                     (AllocationBreakdown), without and with MDC correlation
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-full}"
filter="${2:-.*}"
cp_file="$(mktemp)"
trap 'rm -f "$cp_file"' EXIT
# One reactor run, so the sibling modules resolve to the jars just built; the benchmarks module
# comes last and leaves its class path in the file.
mvn -B -ntp -q -pl benchmarks -am package dependency:build-classpath \
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
exec java -cp "$cp" org.openjdk.jmh.Main "${args[@]}" "$filter"
