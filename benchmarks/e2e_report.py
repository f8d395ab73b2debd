#!/usr/bin/env python3
"""Tables for the end-to-end tier, from the results directory benchmarks/e2e.sh writes.

    python3 benchmarks/e2e_report.py benchmarks/target/e2e

Reads runs.tsv (one line per server run) and each run's wrk output, and prints markdown:
- per variant: median throughput; the median over rounds of the throughput ratio to `none` in the
  same round (paired, so a slow round slows both sides) with a bootstrap 95% interval; server CPU
  per request and its paired ratio to `none`; median p99 latency; spans recorded;
- Tracelet's paired throughput ratio to each other tracer;
- every run, in the order it ran.
Standard library only. The interval resamples rounds with replacement (10,000 times, fixed seed) and
takes the 2.5th and 97.5th percentiles of the resampled medians; with fewer than 5 rounds it says
little, and the table says so.
"""

import csv
import os
import random
import re
import statistics
import sys

BASELINE = "none"
ORDER = ["none", "tracelet", "brave", "agent-none", "agent-batch"]
DESCRIPTION = {
    "none": "no filter",
    "tracelet": "Tracelet filter, everything on",
    "brave": "Brave servlet filter",
    "agent-none": "OpenTelemetry agent, exporter none",
    "agent-batch": "OpenTelemetry agent, batch processor",
}
TRACING_WITH_EXPORT = {"tracelet", "brave", "agent-batch"}
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


def fmt_ratio(values, rng):
    if not values:
        return "—"
    low, high = bootstrap_median_interval(values, rng)
    return f"{statistics.median(values):.3f} [{low:.3f}, {high:.3f}]"


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

    print(f"Throughput and cost per request ({rounds} rounds; ratios are medians of per-round ratios")
    print("to `none` in the same round, with a bootstrap 95% interval in brackets):\n")
    print("| variant | req/s (median) | throughput vs none | server CPU µs/request | CPU vs none "
          "| p99 (median) | server core busy | spans recorded (min) | errors |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for variant in present:
        mine = [r for r in runs if r["variant"] == variant]
        spans = [r["spans"] for r in mine if r["spans"] is not None]
        label = f"{variant} ({DESCRIPTION[variant]})" if variant in DESCRIPTION else variant
        throughput = "1" if variant == BASELINE else fmt_ratio(
            paired_ratios(by_round, variant, BASELINE, "rps"), rng)
        cpu = "1" if variant == BASELINE else fmt_ratio(
            paired_ratios(by_round, variant, BASELINE, "cpu_us"), rng)
        print(f"| {label} | {statistics.median(r['rps'] for r in mine):,.0f} | {throughput} "
              f"| {statistics.median(r['cpu_us'] for r in mine):.1f} | {cpu} "
              f"| {statistics.median(r['p99'] for r in mine) * 1e3:.2f} ms "
              f"| {statistics.median(r['busy'] for r in mine):.2f} "
              f"| {min(spans) if spans else '—'} | {sum(r['errors'] for r in mine)} |")

    others = [v for v in present if v not in (BASELINE, "tracelet")]
    if "tracelet" in present and others:
        print("\nTracelet's throughput against each alternative (median of per-round ratios "
              "tracelet / other; above 1 means Tracelet served more):\n")
        print("| against | tracelet / other |")
        print("| --- | --- |")
        for other in others:
            print(f"| {other} | {fmt_ratio(paired_ratios(by_round, 'tracelet', other, 'rps'), rng)} |")

    print("\nEvery run, in the order it ran:\n")
    print("| round | # | variant | req/s | server CPU µs/request | p99 | server core busy | spans |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for run in sorted(runs, key=lambda r: (r["round"], r["position"])):
        spans = "—" if run["spans"] is None else run["spans"]
        print(f"| {run['round']} | {run['position']} | {run['variant']} | {run['rps']:,.0f} "
              f"| {run['cpu_us']:.1f} | {run['p99'] * 1e3:.2f} ms | {run['busy']:.2f} | {spans} |")

    warnings = []
    if rounds < 5:
        warnings.append(f"only {rounds} round(s): the intervals are not meaningful; "
                        "use `benchmarks/e2e.sh full` for figures to publish")
    starved = [r for r in runs if r["busy"] < 0.9]
    if starved:
        warnings.append(f"in {len(starved)} of {len(runs)} runs the server used less than 90% of its "
                        "core: other load took it (or the server was not saturated), so those "
                        "throughputs measure the machine as much as the tracer")
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
