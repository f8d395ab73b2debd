#!/usr/bin/env bash
# Runs the JMH benchmarks with the GC profiler (bytes allocated per operation).
#   benchmarks/run.sh                 full mode: JMH defaults of each class (5 forks)
#   benchmarks/run.sh quick           1 fork, short iterations: a smoke run, not for publishing
#   benchmarks/run.sh full <regex>    only the benchmarks matching the regex
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-full}"
filter="${2:-.*}"
mvn -B -ntp -q -pl benchmarks -am package -DskipTests -Dspotless.check.skip=true
cp_file="$(mktemp)"
trap 'rm -f "$cp_file"' EXIT
mvn -B -ntp -q -pl benchmarks dependency:build-classpath -Dmdep.outputFile="$cp_file" >/dev/null
cp="benchmarks/target/classes:$(cat "$cp_file")"
args=(-prof gc -rf text)
if [ "$mode" = quick ]; then
  args+=(-f 1 -wi 2 -w 1s -i 3 -r 1s)
fi
exec java -cp "$cp" org.openjdk.jmh.Main "${args[@]}" "$filter"
