#!/usr/bin/env bash
# End-to-end tier: wrk over loopback against a hello-world servlet on Jetty 12, one fresh server JVM
# per run, variants in a new random order every round, then a paired analysis (benchmarks/e2e_report.py).
# The method, the variants and how to read the report: benchmarks/README.md.
#   benchmarks/e2e.sh quick     1 round, warm-up capped at 60 s, 5 s measured: a smoke run, not for publishing
#   benchmarks/e2e.sh full      3 rounds, warm-up capped at 120 s, 15 s measured: the published figures
# Each run warms up in consecutive wrk windows (5 s, the measurement's wrk options) until two in a row
# agree within 3% in requests per second, or until the cap; only then is the measured window run.
# Variants (E2E_VARIANTS to choose, default all; `none` is the baseline and always runs):
#   none                    no filter
#   same-headers            no tracing: a filter writing the two response headers Tracelet writes
#                           (a control for tracelet-no-headers); not in the default set
#   tracelet                Tracelet's TracingFilter, everything on, SDK batch processor + dropping exporter
#   brave                   Brave's servlet TracingFilter, counting span handler
#   otel-minimal            a minimal filter on the OpenTelemetry SDK, the same SDK set-up as tracelet
#   tracelet-no-disconnect  tracelet with detect-disconnect=false
#   tracelet-no-timeout     tracelet without the request timeout
#   tracelet-no-mdc         tracelet without MDC correlation
#   tracelet-no-headers     tracelet with response-request-id=false, response-traceresponse=false
#   tracelet-bare           tracelet with all four of the above off: trace context, request ID, span
#   agent-none              the `none` server under the OpenTelemetry Java agent, otel.traces.exporter=none
#   agent-batch             the same with the agent's batch processor feeding the same dropping exporter
#   tracelet-baseline       tracelet from another build, for an A/B of two commits in the same rounds:
#                           E2E_BASELINE_CP is that build's class path (its benchmarks/target/classes,
#                           then what `dependency:build-classpath` printed there); not in the default
#                           set; E2E_BASELINE_FLAGS: extra JVM flags for this variant alone
# Overrides: E2E_ROUNDS, E2E_WARMUP_CAP, E2E_WINDOW and E2E_DURATION (seconds), E2E_STEADY_TOLERANCE
# (0.03), E2E_CONNECTIONS (16), E2E_WRK_CPU (0), E2E_SERVER_CPU (1), E2E_OUT (benchmarks/target/e2e),
# E2E_BROWSER_HEADERS (0; 1 adds twelve headers a browser sends), E2E_SERVER_FLAGS (extra JVM flags for
# every server, split on spaces; their output lands in $E2E_OUT/raw/*.server.log).
# E2E_PROFILE=cpu|alloc|lock|wall or a comma list: async-profiler flame graphs of the steady server,
# one measured-length window per event (the first is the measured window), in $E2E_OUT/profiles/
# (a flame graph and the same samples as collapsed stacks); E2E_PROFILE_INTERVAL sets the interval (ns).
# Needs 2 CPUs, Linux (/proc, taskset), python3; jcmd (a JDK) when profiling.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-full}"
case "$mode" in
  quick) rounds=1 warmup_cap=60 duration=5 ;;
  full) rounds=3 warmup_cap=120 duration=15 ;;
  *)
    echo "usage: benchmarks/e2e.sh quick|full" >&2
    exit 2
    ;;
esac
if [ -n "${E2E_WARMUP:-}" ]; then
  # A fixed warm-up measured the JIT rather than the tracer; refuse the old knob instead of ignoring it.
  echo "error: E2E_WARMUP is gone: each run now warms up until steady; E2E_WARMUP_CAP caps it" >&2
  exit 2
fi
rounds="${E2E_ROUNDS:-$rounds}"
warmup_cap="${E2E_WARMUP_CAP:-$warmup_cap}"
window="${E2E_WINDOW:-5}"
tolerance="${E2E_STEADY_TOLERANCE:-0.03}"
duration="${E2E_DURATION:-$duration}"
connections="${E2E_CONNECTIONS:-16}"
wrk_cpu="${E2E_WRK_CPU:-0}"
server_cpu="${E2E_SERVER_CPU:-1}"
out="${E2E_OUT:-benchmarks/target/e2e}"
for setting in "E2E_ROUNDS=$rounds" "E2E_WARMUP_CAP=$warmup_cap" "E2E_WINDOW=$window" \
  "E2E_DURATION=$duration" "E2E_CONNECTIONS=$connections"; do
  if ! [[ "${setting#*=}" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: $setting: expected a whole number above 0" >&2
    exit 2
  fi
done
if ! [[ "$tolerance" =~ ^0?\.[0-9]+$ ]]; then
  echo "error: E2E_STEADY_TOLERANCE=$tolerance: expected a fraction such as 0.03 (3%)" >&2
  exit 2
fi
if [ "$warmup_cap" -lt $((2 * window)) ]; then
  echo "error: E2E_WARMUP_CAP=$warmup_cap is below two windows of E2E_WINDOW=$window s" >&2
  exit 2
fi
# Windows, not seconds, are counted: the last one may end past the cap by less than a window.
max_windows=$(((warmup_cap + window - 1) / window))

all_variants=(none tracelet brave otel-minimal tracelet-no-disconnect tracelet-no-timeout
  tracelet-no-mdc tracelet-no-headers tracelet-bare agent-none agent-batch)
read -r -a variants <<<"${E2E_VARIANTS:-${all_variants[*]}}"
all_variants+=(same-headers tracelet-baseline)
if [[ " ${variants[*]} " != *" none "* ]]; then
  variants=(none "${variants[@]}")
fi
for variant in "${variants[@]}"; do
  if [[ " ${all_variants[*]} " != *" $variant "* ]]; then
    echo "error: unknown variant '$variant': use ${all_variants[*]}" >&2
    exit 2
  fi
  if [ "$variant" = tracelet-baseline ] && [ -z "${E2E_BASELINE_CP:-}" ]; then
    echo "error: tracelet-baseline needs E2E_BASELINE_CP, the class path of the build to compare" >&2
    exit 2
  fi
done

profile="${E2E_PROFILE:-}"
# E2E_PROFILE_INTERVAL: the cpu and wall sampling interval in nanoseconds (async-profiler's default is
# 10 ms for cpu, which gives only ~100 samples a second: 1000000 gives ten times as many). Not passed
# to alloc or lock, whose interval async-profiler reads in bytes and nanoseconds of contention.
if [ -n "${E2E_PROFILE_INTERVAL:-}" ] && ! [[ "$E2E_PROFILE_INTERVAL" =~ ^[1-9][0-9]*$ ]]; then
  echo "error: E2E_PROFILE_INTERVAL=$E2E_PROFILE_INTERVAL: expected a whole number of nanoseconds" >&2
  exit 2
fi
profile_interval="${E2E_PROFILE_INTERVAL:+,interval=$E2E_PROFILE_INTERVAL}"
IFS=, read -r -a profile_events <<<"${profile// /}"
for event in "${profile_events[@]}"; do
  case "$event" in
    cpu | alloc | lock | wall) ;;
    *)
      echo "error: E2E_PROFILE: unknown event '$event': use cpu, alloc, lock or wall (or a comma list)" >&2
      exit 2
      ;;
  esac
done
# CPU samples come from perf events where the kernel allows them to this user; otherwise from
# setitimer, which needs no permission but sees no kernel frames. (async-profiler also falls back to
# a timer by itself when perf_event_open fails anyway, as under a container's seccomp filter.)
cpu_engine=cpu
if [ "$(id -u)" != 0 ] && [ "$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo 3)" -gt 1 ]; then
  cpu_engine=itimer
fi

# The same continued, sampled trace on every request, in both formats, as in ServerBenchmark: each
# tracer joins it in its own format (W3C for Tracelet and the agent, B3 for Brave).
trace_headers=(
  -H "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
  -H "b3: 4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"
)
# E2E_BROWSER_HEADERS=1: also the headers a browser sends with a page request (wrk sends only Host),
# for what per-header work costs on a request as it usually arrives.
if [ "${E2E_BROWSER_HEADERS:-0}" = 1 ]; then
  trace_headers+=(
    -H "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
    -H "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
    -H "Accept-Language: en-GB,en;q=0.9,de;q=0.8"
    -H "Accept-Encoding: gzip, deflate, br, zstd"
    -H "Referer: http://127.0.0.1/index.html"
    -H "Cookie: session=5f2b9c0e8d7a4b1c; theme=dark; consent=yes"
    -H "Cache-Control: max-age=0"
    -H "Upgrade-Insecure-Requests: 1"
    -H "Sec-Fetch-Site: same-origin"
    -H "Sec-Fetch-Mode: navigate"
    -H "Sec-Fetch-Dest: document"
    -H "Sec-Ch-Ua-Platform: \"Linux\""
  )
elif [ "${E2E_BROWSER_HEADERS:-0}" != 0 ]; then
  echo "error: E2E_BROWSER_HEADERS=${E2E_BROWSER_HEADERS}: use 1 or 0" >&2
  exit 2
fi
# Identical for every variant: fixed heap (no resizing during the run), an explicit collector, and
# one processor as seen by the JVM, matching the one core taskset gives it (thread pools, GC threads).
# MDC correlation only where the tracelet mode installs it, not through the service provider for all.
jvm_flags=(-Xms512m -Xmx512m -XX:+UseParallelGC -XX:ActiveProcessorCount=1
  -Dio.opentelemetry.context.contextStorageProvider=default)
if [ "${#profile_events[@]}" -gt 0 ]; then
  # Without it, samples land on the nearest safepoint and inlined frames go missing (async-profiler's
  # own advice); every variant of a profiled run gets it, so they stay comparable with each other.
  jvm_flags+=(-XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints)
fi
if [ -n "${E2E_SERVER_FLAGS:-}" ]; then
  # Extra flags for every variant's server, e.g. the JIT's logs: -XX:+PrintCompilation.
  read -r -a extra_flags <<<"$E2E_SERVER_FLAGS"
  jvm_flags+=("${extra_flags[@]}")
fi

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

if [ "${#profile_events[@]}" -gt 0 ] && ! command -v jcmd >/dev/null; then
  echo "error: E2E_PROFILE needs jcmd (a JDK, not a JRE) to load async-profiler into the server" >&2
  exit 1
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

profiler_so=""
if [ "${#profile_events[@]}" -gt 0 ]; then
  case "$(uname -m)" in
    x86_64) profiler_platform=linux-x64 ;;
    aarch64) profiler_platform=linux-arm64 ;;
    *)
      echo "error: E2E_PROFILE: async-profiler's jar has no library for $(uname -m)" >&2
      exit 1
      ;;
  esac
  echo "== fetching async-profiler for E2E_PROFILE=$profile"
  ./mvnw -B -ntp -q -pl benchmarks dependency:copy@async-profiler
  # The Maven artifact carries the native agent for each platform and no launcher (no asprof): the
  # server loads the agent through the JVM's own attach (jcmd JVMTI.agent_load), once per command.
  unzip -o -q benchmarks/target/profiler/async-profiler.jar "$profiler_platform/libasyncProfiler.so" \
    -d benchmarks/target/profiler
  profiler_so="$PWD/benchmarks/target/profiler/$profiler_platform/libasyncProfiler.so"
fi

rm -rf "$out"
mkdir -p "$out/raw"
out_abs="$(cd "$out" && pwd)"
if [ "${#profile_events[@]}" -gt 0 ]; then
  mkdir -p "$out/profiles"
fi
clk_tck="$(getconf CLK_TCK)"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "mode: $mode, rounds: $rounds, measured: ${duration}s, connections: $connections, browser headers: ${E2E_BROWSER_HEADERS:-0}"
  echo "warm-up: ${window}s windows until two in a row agree within $tolerance, capped at ${warmup_cap}s ($max_windows windows)"
  echo "variants: ${variants[*]}"
  echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "kernel: $(uname -srm)"
  echo "jdk: $(java -version 2>&1 | head -2 | tail -1)"
  echo "wrk: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
  if [[ " ${variants[*]} " == *" agent-"* ]]; then
    echo "agent: $(unzip -p "$agent_jar" META-INF/MANIFEST.MF | grep -m1 Implementation-Version | tr -d '\r')"
  fi
  if [ "${#profile_events[@]}" -gt 0 ]; then
    echo "profiling: ${profile_events[*]} (cpu as async-profiler event=$cpu_engine; perf_event_paranoid" \
      "$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo '?')), async-profiler" \
      "$(unzip -p benchmarks/target/profiler/async-profiler.jar \
        META-INF/maven/tools.profiler/async-profiler/pom.properties | sed -n 's/^version=//p')"
  fi
  echo "pinning: wrk on CPU $wrk_cpu, server on CPU $server_cpu (taskset)"
  echo "server JVM flags: ${jvm_flags[*]}"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$out/machine.txt"
cat "$out/machine.txt"
# Per run: about 5 s to start and check the server, the warm-up (two windows at best, the cap at
# worst) and one measured-length window per profiled event (at least the measured one).
windows_measured=$((${#profile_events[@]} > 1 ? ${#profile_events[@]} : 1))
least=$((rounds * ${#variants[@]} * (2 * window + windows_measured * duration + 5)))
most=$((rounds * ${#variants[@]} * (max_windows * window + windows_measured * duration + 5)))
least=$((least / 60 + 1)) most=$((most / 60 + 1))
if [ "$least" = "$most" ]; then
  echo "about $most minute(s); results in $out"
else
  echo "about $least to $most minutes (from every warm-up steady after two windows to every one at" \
    "its ${warmup_cap}s cap); results in $out"
fi
printf 'round\tposition\tvariant\tcpu_ticks\tclk_tck\tspans\twrk\tsteady\tsteady_s\twarmup_rps\twarmup_start_s\tprofile\n' \
  >"$out/runs.tsv"

cpu_ticks() {
  # utime + stime of the whole process (all threads, GC and exporter included): fields 14 and 15
  # of /proc/PID/stat, counted after the ") " that ends the command name.
  sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

wrk_window() {
  # Warm-up windows, the measured window and profiled windows alike: the same connections, headers
  # and --latency, so the warm-up exercises exactly the code the measurement runs.
  local seconds="$1" url="$2" file="$3"
  taskset -c "$wrk_cpu" wrk -t1 -c"$connections" -d"${seconds}s" --latency "${trace_headers[@]}" \
    "$url" >"$file"
}

join_commas() {
  local IFS=,
  echo "$*"
}

requests_per_second() {
  local rps
  rps="$(sed -n 's|^Requests/sec:[[:space:]]*\([0-9.]*\).*|\1|p' "$1")"
  echo "${rps:-0}"
}

# Warms the server up until it is steady: consecutive windows until two in a row agree within the
# tolerance, or max_windows. Sets warm_rps and warm_start_s (per window: req/s and start in seconds
# since the first window, i.e. since wrk first hit the server), steady (yes/no) and steady_s (the
# start of the first window of the agreeing pair; the cap if none agreed).
warm_up() {
  local name="$1" url="$2"
  local first_ns="" start_ns tenths rps file prev="" prev_start="" i
  warm_rps=() warm_start_s=() steady=no steady_s="$warmup_cap"
  for i in $(seq 1 "$max_windows"); do
    start_ns="$(date +%s%N)"
    first_ns="${first_ns:-$start_ns}"
    tenths=$(((start_ns - first_ns) / 100000000))
    file="$out/raw/$name.warmup-$(printf '%02d' "$i").txt"
    wrk_window "$window" "$url" "$file"
    rps="$(requests_per_second "$file")"
    warm_rps+=("$rps")
    warm_start_s+=("$((tenths / 10)).$((tenths % 10))")
    if [ -n "$prev" ] && awk -v a="$prev" -v b="$rps" -v t="$tolerance" \
      'BEGIN { m = a > b ? a : b; d = a > b ? a - b : b - a; exit !(m > 0 && d / m <= t) }'; then
      steady=yes
      steady_s="$prev_start"
      return
    fi
    prev="$rps"
    prev_start="${warm_start_s[-1]}"
  done
}

# async-profiler through the JVM's attach mechanism; jcmd runs on wrk's CPU so that its own JVM does
# not take the server's core. Each command is a fresh agent_load of the same library, which the JVM
# hands to the agent already loaded. The option string is quoted for jcmd, which would otherwise
# read "start,event=cpu" as an option named "start,event".
profiler() {
  local command="$1" log="$2" answer
  answer="$(taskset -c "$wrk_cpu" jcmd "$server_pid" JVMTI.agent_load "$profiler_so" "\"$command\"" 2>&1 || true)"
  printf '%s: %s\n' "$command" "$answer" >>"$log"
  if [[ "$answer" != *"return code: 0"* ]]; then
    echo "error: async-profiler '$command' failed ($answer); see $log and the server log" >&2
    exit 1
  fi
}

# The event option of a profiler start, with the sampling interval where it is in nanoseconds.
profiler_event() {
  case "$1" in
    cpu) echo "${cpu_engine}${profile_interval}" ;;
    wall) echo "wall${profile_interval}" ;;
    *) echo "$1" ;;
  esac
}

run_one() {
  local round="$1" position="$2" variant="$3"
  local name="r${round}-${variant}"
  local log="$out/raw/$name.server.log"
  local server_args=() main_mode="$variant" run_cp="$cp"
  case "$variant" in
    tracelet-baseline)
      main_mode=tracelet
      run_cp="$E2E_BASELINE_CP"
      # E2E_BASELINE_FLAGS: JVM flags for this variant only, for an A/B of the same build under two
      # JIT settings (E2E_BASELINE_CP then names this very build).
      if [ -n "${E2E_BASELINE_FLAGS:-}" ]; then
        read -r -a server_args <<<"$E2E_BASELINE_FLAGS"
      fi
      ;;
    agent-none)
      main_mode=none
      server_args=("${agent_common[@]}" -Dotel.traces.exporter=none)
      ;;
    agent-batch)
      main_mode=none
      server_args=("${agent_common[@]}" -Dotel.traces.exporter=drop
        "-Dotel.javaagent.extensions=$ext_jar")
      ;;
  esac
  # Created here, not by the background job's redirection, which may not have run yet when the
  # loop below first reads it.
  : >"$log"
  taskset -c "$server_cpu" java "${jvm_flags[@]}" "${server_args[@]}" -cp "$run_cp" \
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
  local body headers="$out/raw/$name.headers.txt"
  body="$(curl -sS --max-time 10 "${trace_headers[@]}" -D "$headers" "$url")"
  if [ "$body" != hello ] || ! head -1 "$headers" | grep -q ' 200'; then
    echo "error: the $variant server answered '$body'; headers in $headers" >&2
    exit 1
  fi
  # Proof that the variant is the set-up it claims: Tracelet writes traceresponse unless its
  # headers are switched off.
  case "$variant" in
    same-headers)
      if ! grep -qi '^traceresponse:' "$headers" || ! grep -qi '^x-request-id:' "$headers"; then
        echo "error: $variant wrote not both response headers; headers in $headers" >&2
        exit 1
      fi
      ;;
    tracelet-no-headers | tracelet-bare)
      if grep -qi '^\(traceresponse\|x-request-id\):' "$headers"; then
        echo "error: $variant wrote a response header; headers in $headers" >&2
        exit 1
      fi
      ;;
    tracelet*)
      if ! grep -qi '^traceresponse:' "$headers"; then
        echo "error: $variant wrote no traceresponse: its filter did not run; see $headers" >&2
        exit 1
      fi
      ;;
  esac

  warm_up "$name" "$url"

  local before after events=("${profile_events[@]}") profile_log="$out/raw/$name.profiler.txt"
  if [ "${#events[@]}" -gt 0 ]; then
    profiler "start,event=$(profiler_event "${events[0]}")" "$profile_log"
  fi
  before="$(cpu_ticks "$server_pid")"
  wrk_window "$duration" "$url" "$out/raw/$name.wrk.txt"
  after="$(cpu_ticks "$server_pid")"
  # Stopped outside the CPU bracket: writing the flame graph is the profiler's cost, not the tracer's.
  local i
  for i in "${!events[@]}"; do
    if [ "$i" -gt 0 ]; then
      profiler "start,event=$(profiler_event "${events[$i]}")" "$profile_log"
      wrk_window "$duration" "$url" "$out/raw/$name.profile-${events[$i]}.txt"
    fi
    local html="$out_abs/profiles/${round}-${variant}-${events[$i]}.html"
    # The same samples as text too (one line per stack, then its count), for reading the top frames
    # without a browser: sort -t' ' -k2 -nr, or sum the lines that contain a frame.
    profiler "dump,collapsed,file=${html%.html}.collapsed" "$profile_log"
    profiler "stop,file=$html" "$profile_log"
    if [ ! -s "$html" ]; then
      echo "error: async-profiler wrote no $html; see $profile_log and $log" >&2
      exit 1
    fi
  done
  stop_server
  local spans
  spans="$(sed -n 's/^spans recorded: \([0-9]*\)$/\1/p' "$log" | tail -1)"
  local profiled
  profiled="$(join_commas "${events[@]}")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$position" "$variant" \
    "$((after - before))" "$clk_tck" "${spans:--}" "raw/$name.wrk.txt" "$steady" "$steady_s" \
    "$(join_commas "${warm_rps[@]}")" "$(join_commas "${warm_start_s[@]}")" "${profiled:--}" \
    >>"$out/runs.tsv"
  local warm="steady after ${steady_s} s"
  if [ "$steady" != yes ]; then
    warm="NOT steady within ${warmup_cap} s"
  fi
  printf '   %-23s %s  (%s, %d warm-up windows)\n' "$variant" \
    "$(grep 'Requests/sec' "$out/raw/$name.wrk.txt")" "$warm" "${#warm_rps[@]}"
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
