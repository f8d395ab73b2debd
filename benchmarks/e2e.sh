#!/usr/bin/env bash
# End-to-end tier: wrk over loopback against a hello-world servlet on Jetty 12, one fresh server JVM
# per run, variants in a new random order every round, then a paired analysis (benchmarks/e2e_report.py).
#   benchmarks/e2e.sh quick     2 short rounds (10 s warm-up, 5 s measured): a smoke run, not for publishing
#   benchmarks/e2e.sh full      10 rounds (20 s warm-up, 20 s measured): the published figures
# Variants (E2E_VARIANTS to choose; `none` is the baseline and always runs):
#   none         no filter
#   tracelet     Tracelet's TracingFilter, everything on, SDK batch processor + dropping exporter
#   brave        Brave's servlet TracingFilter, counting span handler
#   agent-none   the `none` server under the OpenTelemetry Java agent, otel.traces.exporter=none
#   agent-batch  the same with the agent's batch processor feeding the same dropping exporter as Tracelet
# Overrides: E2E_ROUNDS, E2E_WARMUP and E2E_DURATION (seconds), E2E_CONNECTIONS (16), E2E_WRK_CPU (0),
# E2E_SERVER_CPU (1), E2E_OUT (benchmarks/target/e2e). Needs 2 CPUs, Linux (/proc, taskset), python3.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-full}"
case "$mode" in
  quick) rounds=2 warmup=10 duration=5 ;;
  full) rounds=10 warmup=20 duration=20 ;;
  *)
    echo "usage: benchmarks/e2e.sh quick|full" >&2
    exit 2
    ;;
esac
rounds="${E2E_ROUNDS:-$rounds}"
warmup="${E2E_WARMUP:-$warmup}"
duration="${E2E_DURATION:-$duration}"
connections="${E2E_CONNECTIONS:-16}"
wrk_cpu="${E2E_WRK_CPU:-0}"
server_cpu="${E2E_SERVER_CPU:-1}"
out="${E2E_OUT:-benchmarks/target/e2e}"
read -r -a variants <<<"${E2E_VARIANTS:-none tracelet brave agent-none agent-batch}"
if [[ " ${variants[*]} " != *" none "* ]]; then
  variants=(none "${variants[@]}")
fi
for variant in "${variants[@]}"; do
  case "$variant" in
    none | tracelet | brave | agent-none | agent-batch) ;;
    *)
      echo "error: unknown variant '$variant': use none tracelet brave agent-none agent-batch" >&2
      exit 2
      ;;
  esac
done

# The same continued, sampled trace on every request, in both formats, as in ServerBenchmark: each
# tracer joins it in its own format (W3C for Tracelet and the agent, B3 for Brave).
trace_headers=(
  -H "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
  -H "b3: 4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"
)
# Identical for every variant: fixed heap (no resizing during the run), an explicit collector, and
# one processor as seen by the JVM, matching the one core taskset gives it (thread pools, GC threads).
# MDC correlation only where the tracelet mode installs it, not through the service provider for all.
jvm_flags=(-Xms512m -Xmx512m -XX:+UseParallelGC -XX:ActiveProcessorCount=1
  -Dio.opentelemetry.context.contextStorageProvider=default)

if [ "$(nproc)" -lt 2 ]; then
  echo "error: needs 2 CPUs (wrk on one, the server on the other); this machine has $(nproc)" >&2
  exit 1
fi

if ! command -v wrk >/dev/null; then
  echo "== installing wrk (Debian package)"
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }
  elif command -v sudo >/dev/null; then
    sudo apt-get install -y wrk || { sudo apt-get update && sudo apt-get install -y wrk; }
  else
    echo "error: wrk is not installed and neither root nor sudo is available to install it" >&2
    exit 1
  fi
fi

echo "== building the benchmarks (and fetching the OpenTelemetry Java agent for its variants)"
cp_file="$(mktemp)"
server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$server_pid" 2>/dev/null; then
      kill -KILL "$server_pid" 2>/dev/null || true
    fi
  fi
  if [ -n "$server_pid" ]; then
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
on_exit() {
  local status=$?
  stop_server
  rm -f "$cp_file"
  if [ "$status" != 0 ] && [ -s "$out/runs.tsv" ] && [ "$(wc -l <"$out/runs.tsv")" -gt 1 ]; then
    echo "stopped early; the runs that finished are in $out: python3 benchmarks/e2e_report.py $out" >&2
  fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM
./mvnw -B -ntp -q -pl benchmarks -am package dependency:build-classpath \
  -DskipTests -Dspotless.check.skip=true -Dmdep.outputFile="$cp_file"
cp="benchmarks/target/classes:$(cat "$cp_file")"
agent_jar=benchmarks/target/agent/opentelemetry-javaagent.jar
if [[ " ${variants[*]} " == *" agent-"* ]]; then
  ./mvnw -B -ntp -q -pl benchmarks dependency:copy@otel-javaagent
  # The agent loads the dropping exporter from an extension jar: the provider, the exporter and the
  # service file, nothing else from the benchmarks.
  ext_jar=benchmarks/target/agent/drop-exporter-extension.jar
  rm -f "$ext_jar"
  jar --create --file "$ext_jar" \
    -C benchmarks/target/classes io/tracelet/benchmarks/e2e/DropSpanExporterProvider.class \
    -C benchmarks/target/classes io/tracelet/benchmarks/e2e/CountingDropExporter.class \
    -C benchmarks/src/agent-extension META-INF
fi
# Only tracing is compared: the agent's metrics and logs exporters and its runtime metrics are off.
agent_common=("-javaagent:$agent_jar" -Dotel.service.name=tracelet-e2e
  -Dotel.metrics.exporter=none -Dotel.logs.exporter=none
  -Dotel.instrumentation.runtime-telemetry.enabled=false)

rm -rf "$out"
mkdir -p "$out/raw"
clk_tck="$(getconf CLK_TCK)"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "mode: $mode, rounds: $rounds, warm-up: ${warmup}s, measured: ${duration}s, connections: $connections"
  echo "variants: ${variants[*]}"
  echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "kernel: $(uname -srm)"
  echo "jdk: $(java -version 2>&1 | head -2 | tail -1)"
  echo "wrk: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
  if [[ " ${variants[*]} " == *" agent-"* ]]; then
    echo "agent: $(unzip -p "$agent_jar" META-INF/MANIFEST.MF | grep -m1 Implementation-Version | tr -d '\r')"
  fi
  echo "pinning: wrk on CPU $wrk_cpu, server on CPU $server_cpu (taskset)"
  echo "server JVM flags: ${jvm_flags[*]}"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$out/machine.txt"
cat "$out/machine.txt"
echo "about $((rounds * ${#variants[@]} * (warmup + duration + 5) / 60 + 1)) minutes; results in $out"
printf 'round\tposition\tvariant\tcpu_ticks\tclk_tck\tspans\twrk\n' >"$out/runs.tsv"

cpu_ticks() {
  # utime + stime of the whole process (all threads, GC and exporter included): fields 14 and 15
  # of /proc/PID/stat, counted after the ") " that ends the command name.
  sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

run_one() {
  local round="$1" position="$2" variant="$3"
  local name="r${round}-${variant}"
  local log="$out/raw/$name.server.log"
  local server_args=() main_mode=none
  case "$variant" in
    none) ;;
    tracelet | brave) main_mode="$variant" ;;
    agent-none) server_args=("${agent_common[@]}" -Dotel.traces.exporter=none) ;;
    agent-batch)
      server_args=("${agent_common[@]}" -Dotel.traces.exporter=drop
        "-Dotel.javaagent.extensions=$ext_jar")
      ;;
    *)
      echo "error: unknown variant $variant" >&2
      exit 2
      ;;
  esac
  # Created here, not by the background job's redirection, which may not have run yet when the
  # loop below first reads it.
  : >"$log"
  taskset -c "$server_cpu" java "${jvm_flags[@]}" "${server_args[@]}" -cp "$cp" \
    io.tracelet.benchmarks.e2e.E2eServer "$main_mode" 0 >"$log" 2>&1 &
  server_pid=$!
  local port=""
  for _ in $(seq 1 1200); do
    port="$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)/hello$|\1|p' "$log" || true)"
    [ -n "$port" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "error: the $variant server exited; its log:" >&2
      cat "$log" >&2
      exit 1
    fi
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "error: the $variant server did not start within 120 s; see $log" >&2
    exit 1
  fi
  local url="http://127.0.0.1:$port/hello"
  local body
  body="$(curl -sS --max-time 10 "${trace_headers[@]}" -D "$out/raw/$name.headers.txt" "$url")"
  if [ "$body" != hello ] || ! head -1 "$out/raw/$name.headers.txt" | grep -q ' 200'; then
    echo "error: the $variant server answered '$body'; headers in $out/raw/$name.headers.txt" >&2
    exit 1
  fi
  taskset -c "$wrk_cpu" wrk -t1 -c"$connections" -d"${warmup}s" "${trace_headers[@]}" "$url" \
    >"$out/raw/$name.warmup.txt"
  local before after
  before="$(cpu_ticks "$server_pid")"
  taskset -c "$wrk_cpu" wrk -t1 -c"$connections" -d"${duration}s" --latency "${trace_headers[@]}" \
    "$url" >"$out/raw/$name.wrk.txt"
  after="$(cpu_ticks "$server_pid")"
  stop_server
  local spans
  spans="$(sed -n 's/^spans recorded: \([0-9]*\)$/\1/p' "$log" | tail -1)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$position" "$variant" "$((after - before))" \
    "$clk_tck" "${spans:--}" "raw/$name.wrk.txt" >>"$out/runs.tsv"
  printf '   %-12s %s\n' "$variant" "$(grep 'Requests/sec' "$out/raw/$name.wrk.txt")"
}

for round in $(seq 1 "$rounds"); do
  read -r -a order <<<"$(shuf -e "${variants[@]}" | tr '\n' ' ')"
  echo "== round $round of $rounds: ${order[*]}"
  position=1
  for variant in "${order[@]}"; do
    run_one "$round" "$position" "$variant"
    position=$((position + 1))
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"

python3 benchmarks/e2e_report.py "$out" | tee "$out/report.md"
