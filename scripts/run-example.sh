#!/usr/bin/env bash
# Builds the project and runs the Tracelet example (order service on PORT, default 8080, and the
# "payments" service on PAYMENTS_PORT, default 8081, both on 127.0.0.1). With no configuration the
# spans go to the log; OTEL_TRACES_EXPORTER=otlp sends them to Jaeger (see docs/jaeger.md).
# Ctrl-C stops both services and flushes the spans.
#
# Usage: scripts/run-example.sh            (extra arguments are passed on to java)
set -euo pipefail
cd "$(dirname "$0")/.."
cp_file="$(mktemp)"
trap 'rm -f "$cp_file"' EXIT
# One reactor run, so the sibling modules resolve to the jars just built.
mvn -B -ntp -q -pl jetty-example -am package dependency:build-classpath \
  -DskipTests -Dspotless.check.skip=true -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=runtime
cp="jetty-example/target/classes:$(cat "$cp_file")"
rm -f "$cp_file"
trap - EXIT
exec java "$@" -cp "$cp" io.tracelet.example.ExampleApp
