#!/usr/bin/env bash
# Runs every test of the project from a fresh clone: builds all modules and runs their tests
# (the end-to-end test installs Jaeger itself through scripts/jaeger.sh). Needs only a JDK 17+:
# ./mvnw fetches Maven itself.
set -euo pipefail
cd "$(dirname "$0")/.."
exec ./mvnw -B -ntp verify "$@"
