#!/usr/bin/env python3
"""Tables for the end-to-end tier, from the results directory benchmarks/e2e.sh writes.

    python3 benchmarks/e2e_report.py benchmarks/target/e2e

Reads runs.tsv (one line per server run) and each run's wrk output, and prints markdown:
- per variant: median throughput; the median over rounds of the throughput ratio to `none` in the
  same round (paired, so a slow round slows both sides) with a bootstrap 95% interval; server CPU
  per request and its paired ratio to `none`; median p99 latency; the median time to steady state
  and how many runs reached it; spans recorded;
- what each Tracelet feature costs: per round, server CPU per request of `tracelet` minus that of
  `tracelet-no-X`, and the throughput ratio `tracelet-no-X / tracelet`, medians over rounds;
- Tracelet's paired throughput ratio and CPU difference against each other tracer (the minimal
  OpenTelemetry filter, Brave, the agent);
- the warm-up curve of the first round: each warm-up window's requests per second, per variant;
- every run, in the order it ran.
Standard library only. The interval resamples rounds with replacement (10,000 times, fixed seed) and
takes the 2.5th and 97.5th percentiles of the resampled medians; with fewer than 5 rounds it is
little more than the range of the rounds, and the report says so.
"""

import csv
import os
import random
import re
import statistics
import sys

BASELINE = "none"
TRACELET = "tracelet"
DESCRIPTION = {
    "none": "no filter",
    "same-headers": "no tracing, the same two response headers (control)",
    "tracelet": "Tracelet filter, everything on",
    "otel-minimal": "minimal filter on the OpenTelemetry SDK",
    "brave": "Brave servlet filter",
    "tracelet-no-disconnect": "Tracelet, detect-disconnect=false",
    "tracelet-no-timeout": "Tracelet, no request timeout",
    "tracelet-no-mdc": "Tracelet, no MDC correlation",
    "tracelet-no-headers": "Tracelet, no X-Request-ID or traceresponse header",
    "tracelet-bare": "Tracelet, none of those four: trace context, request ID, server span",
    "agent-none": "OpenTelemetry agent, exporter none",
    "agent-batch": "OpenTelemetry agent, batch processor",
    "tracelet-baseline": "Tracelet from the baseline build (E2E_BASELINE_CP), everything on",
}
# The report's row order: the order of DESCRIPTION.
ORDER = list(DESCRIPTION)
# What each tracelet-no-X variant switches off, for the per-feature table.
FEATURE = {
    "tracelet-no-disconnect": "client-disconnect detection (the read probe)",
    "tracelet-no-timeout": "the 30 s request timeout (a timer per request)",
    "tracelet-no-mdc": "MDC correlation (TraceletMdc)",
    "tracelet-no-headers": "the X-Request-ID and traceresponse response headers",
    "tracelet-bare": "all four above at once",
}
BARE = "tracelet-bare"
CONTROL = "same-headers"
FLOOR = "otel-minimal"
# Every variant that records spans (and so must report spans recorded): all but the two without.
TRACING_WITH_EXPORT = set(DESCRIPTION) - {BASELINE, "agent-none", "same-headers"}
UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
BOOTSTRAP_SAMPLES = 10_000


def parse_wrk(text):
    """Requests, requests per second, p99 in seconds and error count from wrk --latency output."""
    requests = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),", text, re.M)
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    p99 = re.search(r"^\s+99(?:\.000)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M)
    if not (requests and rate and p99):
        raise ValueError("not a complete wrk --latency output")
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if non2xx:
        errors += int(non2xx.group(1))
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if sockets:
        errors += sum(int(g) for g in sockets.groups())
    return {
        "requests": int(requests.group(1)),
        "seconds": float(requests.group(2)) * UNITS[requests.group(3)],
        "rps": float(rate.group(1)),
        "p99": float(p99.group(1)) * UNITS[p99.group(2)],
        "errors": errors,
    }


def floats(cell):
    """A comma-separated list of numbers from runs.tsv; empty or absent (older results) is []."""
    return [float(v) for v in (cell or "").split(",") if v not in ("", "-")]


def load(results_dir):
    runs = []
    with open(os.path.join(results_dir, "runs.tsv"), newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            with open(os.path.join(results_dir, row["wrk"])) as w:
                run = parse_wrk(w.read())
            run["round"] = int(row["round"])
            run["position"] = int(row["position"])
            run["variant"] = row["variant"]
            cpu_seconds = int(row["cpu_ticks"]) / int(row["clk_tck"])
            run["cpu_us"] = cpu_seconds / run["requests"] * 1e6 if run["requests"] else float("nan")
            # The server has one core: about 1.0 means it was saturated and had the core to itself,
            # as the method assumes; well below means it was starved (by other load) or idle.
            run["busy"] = cpu_seconds / run["seconds"] if run["seconds"] else float("nan")
            run["spans"] = None if row["spans"] == "-" else int(row["spans"])
            # Results from before the steady-state warm-up have none of these columns.
            run["steady"] = row.get("steady") == "yes" if row.get("steady") else None
            run["steady_s"] = float(row["steady_s"]) if row.get("steady_s") else None
            run["warmup_rps"] = floats(row.get("warmup_rps"))
            run["warmup_start_s"] = floats(row.get("warmup_start_s"))
            profile = row.get("profile") or "-"
            run["profile"] = None if profile == "-" else profile
            runs.append(run)
    return runs


def bootstrap_median_interval(values, rng):
    if len(values) < 2:
        return (values[0], values[0]) if values else (float("nan"), float("nan"))
    medians = sorted(
        statistics.median(rng.choices(values, k=len(values))) for _ in range(BOOTSTRAP_SAMPLES)
    )
    return medians[int(0.025 * BOOTSTRAP_SAMPLES)], medians[int(0.975 * BOOTSTRAP_SAMPLES) - 1]


def paired_ratios(by_round, variant, reference, key):
    ratios = []
    for runs in by_round.values():
        if variant in runs and reference in runs and runs[reference][key] > 0:
            ratios.append(runs[variant][key] / runs[reference][key])
    return ratios


def paired_differences(by_round, variant, reference, key):
    return [
        runs[variant][key] - runs[reference][key]
        for runs in by_round.values()
        if variant in runs and reference in runs
    ]


def fmt_ratio(values, rng):
    if not values:
        return "—"
    low, high = bootstrap_median_interval(values, rng)
    return f"{statistics.median(values):.3f} [{low:.3f}, {high:.3f}]"


def fmt_difference(values, rng):
    if not values:
        return "—"
    low, high = bootstrap_median_interval(values, rng)
    return f"{statistics.median(values):+.1f} [{low:+.1f}, {high:+.1f}]"


def fmt_steady_time(runs):
    """Median time to steady state; a run that never got there counts as its cap, a lower bound."""
    times = [r["steady_s"] for r in runs if r["steady_s"] is not None]
    if not times:
        return "—"
    median = statistics.median(times)
    capped = any(r["steady"] is False for r in runs)
    return f"{'≥ ' if capped else ''}{median:.1f}"


def time_to_share(run, share=0.95):
    """Start of the first warm-up window serving at least `share` of the run's measured rate: a
    reading of the warm-up that does not wait for two windows to agree. None if no window did."""
    for rps, start in zip(run["warmup_rps"], run["warmup_start_s"]):
        if rps >= share * run["rps"]:
            return start
    return None


def print_pair(by_round, rng, variant, reference, title):
    """One variant against another, paired per round: throughput ratio and CPU difference."""
    print(f"\n{title}, paired per round as above:\n")
    print(f"| throughput {variant} / {reference} "
          f"| server CPU µs/request {variant} − {reference} | rounds |")
    print("| --- | --- | --- |")
    cpu = paired_differences(by_round, variant, reference, "cpu_us")
    print(f"| {fmt_ratio(paired_ratios(by_round, variant, reference, 'rps'), rng)} "
          f"| {fmt_difference(cpu, rng)} | {len(cpu)} |")


def label(variant):
    return f"{variant} ({DESCRIPTION[variant]})" if variant in DESCRIPTION else variant


def main(argv):
    results_dir = argv[1] if len(argv) > 1 else "benchmarks/target/e2e"
    runs = load(results_dir)
    if not runs:
        sys.exit(f"no runs in {results_dir}/runs.tsv")
    rng = random.Random(8)
    by_round = {}
    for run in runs:
        by_round.setdefault(run["round"], {})[run["variant"]] = run
    present = [v for v in ORDER if any(r["variant"] == v for r in runs)]
    present += sorted({r["variant"] for r in runs} - set(present))
    rounds = len(by_round)

    machine = os.path.join(results_dir, "machine.txt")
    if os.path.exists(machine):
        print("Machine and settings:\n\n```text")
        with open(machine) as f:
            print(f.read().rstrip())
        print("```\n")

    print(f"Throughput and cost per request ({rounds} round{'' if rounds == 1 else 's'}; ratios are "
          "medians of per-round ratios")
    print("to `none` in the same round, with a bootstrap 95% interval in brackets; every figure but")
    print("the time to steady state is from the measured window, which follows the warm-up):\n")
    print("| variant | req/s (median) | throughput vs none | server CPU µs/request | CPU vs none "
          "| p99 (median) | server core busy | time to steady state (median s) "
          "| steady (runs that reached it / runs) | spans recorded (min) | errors |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for variant in present:
        mine = [r for r in runs if r["variant"] == variant]
        spans = [r["spans"] for r in mine if r["spans"] is not None]
        known = [r for r in mine if r["steady"] is not None]
        steady = f"{sum(r['steady'] for r in known)} / {len(known)}" if known else "—"
        throughput = "1" if variant == BASELINE else fmt_ratio(
            paired_ratios(by_round, variant, BASELINE, "rps"), rng)
        cpu = "1" if variant == BASELINE else fmt_ratio(
            paired_ratios(by_round, variant, BASELINE, "cpu_us"), rng)
        print(f"| {label(variant)} | {statistics.median(r['rps'] for r in mine):,.0f} | {throughput} "
              f"| {statistics.median(r['cpu_us'] for r in mine):.1f} | {cpu} "
              f"| {statistics.median(r['p99'] for r in mine) * 1e3:.2f} ms "
              f"| {statistics.median(r['busy'] for r in mine):.2f} "
              f"| {fmt_steady_time(mine)} | {steady} "
              f"| {min(spans) if spans else '—'} | {sum(r['errors'] for r in mine)} |")

    features = [v for v in present if v in FEATURE]
    if TRACELET in present and features:
        print("\nWhat each Tracelet feature costs: `tracelet` (everything on) against the same filter "
              "with that one feature off, in the same round. CPU is the median over rounds of "
              "`tracelet − tracelet-no-X` in server CPU µs per request (positive: the feature costs "
              "that much); throughput is the median of `tracelet-no-X / tracelet` (above 1: the "
              "server serves that much more without it):\n")
        print("| variant | switches off | server CPU µs/request the feature costs "
              "| throughput without it / with it | rounds |")
        print("| --- | --- | --- | --- | --- |")
        for variant in features:
            cpu = paired_differences(by_round, TRACELET, variant, "cpu_us")
            print(f"| {variant} | {FEATURE[variant]} | {fmt_difference(cpu, rng)} "
                  f"| {fmt_ratio(paired_ratios(by_round, variant, TRACELET, 'rps'), rng)} "
                  f"| {len(cpu)} |")

    if BARE in present and FLOOR in present:
        print_pair(by_round, rng, BARE, FLOOR,
                   f"Tracelet's core against the floor: `{BARE}` (trace context, request ID and "
                   f"server span with Tracelet's attributes, every optional feature off) against "
                   f"`{FLOOR}` (a server span with three attributes on the same SDK set-up)")
    if CONTROL in present:
        print_pair(by_round, rng, CONTROL, BASELINE,
                   f"The response headers with no tracer: `{CONTROL}` (a filter writing the same "
                   "two headers, no tracing) against `none`; compare with `tracelet-no-headers` "
                   "above")

    others = [v for v in present
              if v not in (BASELINE, TRACELET, CONTROL) and v not in FEATURE]
    if TRACELET in present and others:
        print("\nTracelet against each alternative in the same rounds: throughput as the median of "
              "per-round `tracelet / other` (above 1: Tracelet served more), server CPU as the "
              "median of `tracelet − other` in µs per request (positive: Tracelet costs more). "
              "`otel-minimal` is the floor for a filter on the same OpenTelemetry SDK set-up:\n")
        print("| against | throughput tracelet / other | server CPU µs/request tracelet − other |")
        print("| --- | --- | --- |")
        for other in others:
            print(f"| {other} | {fmt_ratio(paired_ratios(by_round, TRACELET, other, 'rps'), rng)} "
                  f"| {fmt_difference(paired_differences(by_round, TRACELET, other, 'cpu_us'), rng)} |")

    warmed = [v for v in present if any(r["warmup_rps"] for r in runs if r["variant"] == v)]
    if warmed:
        print("\nWarm-up, a second reading: the start of the first warm-up window (5 s each, from a "
              "cold JVM) that served at least 95% of the rate the run then measured; median over "
              "rounds, then each round's (`—`: no warm-up window got there):\n")
        print("| variant | reached 95% (median s) | per round (s) |")
        print("| --- | --- | --- |")
        for variant in warmed:
            mine = sorted((r for r in runs if r["variant"] == variant), key=lambda r: r["round"])
            times = [time_to_share(r) for r in mine]
            known = [t for t in times if t is not None]
            median = f"{statistics.median(known):.1f}" if known else "—"
            if len(known) < len(times) and known:
                median = f"≥ {median}"
            each = ", ".join("—" if t is None else f"{t:.0f}" for t in times)
            print(f"| {variant} | {median} | {each} |")

    first = min(by_round)
    curves = [by_round[first][v] for v in present if v in by_round[first]]
    windows = max((len(r["warmup_rps"]) for r in curves), default=0)
    if windows:
        longest = max(curves, key=lambda r: len(r["warmup_rps"]))
        headers = [f"{s:.0f} s" for s in longest["warmup_start_s"]]
        headers += [f"#{i + 1}" for i in range(len(headers), windows)]
        print(f"\nThe warm-up of round {first}: requests per second of each consecutive warm-up "
              "window, headed by the window's start in seconds since wrk first hit the server; "
              "the bold pair agreed, ending the warm-up:\n")
        print("| variant | " + " | ".join(headers) + " | steady after |")
        print("| --- | " + " | ".join("---" for _ in headers) + " | --- |")
        for run in curves:
            cells = [f"{v:,.0f}" for v in run["warmup_rps"]]
            if run["steady"] and len(cells) >= 2:
                cells[-2:] = [f"**{c}**" for c in cells[-2:]]
            cells += [""] * (windows - len(cells))
            if run["steady"]:
                after = f"{run['steady_s']:.1f} s"
            else:
                after = f"not within {run['steady_s']:.0f} s" if run["steady_s"] is not None else "—"
            print(f"| {run['variant']} | " + " | ".join(cells) + f" | {after} |")

    print("\nEvery run, in the order it ran:\n")
    print("| round | # | variant | req/s | server CPU µs/request | p99 | server core busy | spans "
          "| warm-up windows | steady after | profiled |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for run in sorted(runs, key=lambda r: (r["round"], r["position"])):
        spans = "—" if run["spans"] is None else run["spans"]
        if run["steady"] is None:
            after = "—"
        elif run["steady"]:
            after = f"{run['steady_s']:.1f} s"
        else:
            after = f"not steady (cap {run['steady_s']:.0f} s)"
        print(f"| {run['round']} | {run['position']} | {run['variant']} | {run['rps']:,.0f} "
              f"| {run['cpu_us']:.1f} | {run['p99'] * 1e3:.2f} ms | {run['busy']:.2f} | {spans} "
              f"| {len(run['warmup_rps']) or '—'} | {after} | {run['profile'] or '—'} |")

    warnings = []
    if rounds < 3:
        warnings.append(f"only {rounds} round(s): the intervals are not meaningful; "
                        "use `benchmarks/e2e.sh full` for figures to publish")
    elif rounds < 5:
        warnings.append(f"{rounds} rounds: a bootstrap interval over so few rounds is about the "
                        "range of the per-round values, not a confidence interval")
    for run in sorted(runs, key=lambda r: (r["round"], r["position"])):
        if run["steady"] is False:
            last = ", ".join(f"{v:,.0f}" for v in run["warmup_rps"][-3:])
            warnings.append(f"round {run['round']} {run['variant']}: never reached steady state "
                            f"within its {run['steady_s']:.0f} s cap (last windows: {last} req/s); "
                            "its measured figures may still include warm-up")
    starved = [r for r in runs if r["busy"] < 0.9]
    if starved:
        warnings.append(f"in {len(starved)} of {len(runs)} runs the server used less than 90% of its "
                        "core: other load took it (or the server was not saturated), so those "
                        "throughputs measure the machine as much as the tracer")
    profiled = sorted({r["profile"] for r in runs if r["profile"]})
    if profiled:
        warnings.append(f"profiled run ({', '.join(profiled)}): the measured windows ran under "
                        "async-profiler, so their figures include its overhead; compare them only "
                        "with each other, and read the flame graphs in profiles/")
    for run in runs:
        if run["errors"]:
            warnings.append(f"round {run['round']} {run['variant']}: {run['errors']} wrk errors")
        if run["variant"] in TRACING_WITH_EXPORT and not run["spans"]:
            warnings.append(f"round {run['round']} {run['variant']}: no span recorded, "
                            "the tracer did not trace")
    if warnings:
        print()
        for warning in warnings:
            print(f"> **Warning:** {warning}")


if __name__ == "__main__":
    main(sys.argv)
