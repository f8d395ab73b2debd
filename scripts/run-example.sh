#!/usr/bin/env bash
# Builds the project and runs the Tracelet example (order service on PORT, default 8080, and the
# "payments" service on PAYMENTS_PORT, default 8081, both on 127.0.0.1). With no configuration the
# spans go to the log; OTEL_TRACES_EXPORTER=otlp sends them to Jaeger (see docs/jaeger.md).
# Ctrl-C stops both services and flushes the spans.
#
# Needs only a JDK 17+: ./mvnw fetches Maven itself. Only the example's own dependencies are
# downloaded (no test runs, so no test-only artifact is fetched).
#
# Usage: scripts/run-example.sh            (extra arguments are passed on to java)
set -euo pipefail
cd "$(dirname "$0")/.."
# One reactor run up to process-classes, so the sibling modules resolve to the classes just
# compiled; the jetty-example profile run-example writes the runtime classpath.
./mvnw -B -ntp -q -P run-example -pl jetty-example -am process-classes \
  -Denforcer.skip=true -Dspotless.check.skip=true
cp="jetty-example/target/classes:$(cat jetty-example/target/example-classpath.txt)"
exec java "$@" -cp "$cp" io.tracelet.example.ExampleApp
