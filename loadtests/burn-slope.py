#!/usr/bin/env python3
"""What a microsecond of CPU per request costs in p99 at the fixed rate, from runs with --floor-burn.

usage: loadtests/burn-slope.py RUN_DIR [RUN_DIR ...]
Each RUN_DIR holds a report.json of a run with --floor-burn US (the floor proxy, and the floor plus
US µs of CPU work per request, in the same interleaved rounds). Per run it prints each proxy's CPU
per GET 8 KB request at capacity (its own process, median over the rounds; and the whole bed's, all
processes, for the same scenario), each proxy's p99 added over plain YARP at the fixed rate (paired
median / pooled), the burned floor's p99 over the floor's, and the slope that gives: ms of p99 per
µs of the proxy's own CPU. With that slope it sets where the gateway's p99 added would be if the
gateway were a floor with its CPU (the floor's p99 plus the slope times the gateway's CPU above the
floor's) beside where it is, and its p99 over the burned floor's, the same rounds (with a burn near
the gateway's distance from the floor, that is the gateway against a proxy of its CPU). Last, over
all the runs: the mean of each, and one least-squares line through every floor's and burned
floor's point (CPU above plain YARP's against p99 added, paired and pooled), with the gateway's
points set against it.
"""
import json
import statistics as st
import sys

PROCESS = {"yarp": "plainproxy", "gateway": "gateway", "floor": "floorproxy", "floorburn": "floorburnproxy"}


def figures(path):
    report = json.load(open(f"{path}/report.json"))
    ratios = {r["Name"]: r["Value"] for r in report["Ratios"]}
    scenarios = {s["Name"]: s for s in report["Scenarios"]}

    def ratio(prefix):
        return next(v for k, v in ratios.items() if k.startswith(prefix))

    def own_cpu(target):
        return st.median(scenarios[f"{'gateway-l1' if target == 'gateway' else target}-get-8k"]["RoundCpuPerRequestUs"][PROCESS[target]])

    def bed_cpu(target):
        rounds = scenarios[f"{'gateway-l1' if target == 'gateway' else target}-get-8k"]["RoundCpuPerRequestUs"]
        return sum(st.median(v) for v in rounds.values() if v)

    cpu = {t: own_cpu(t) for t in PROCESS}
    bed = {t: bed_cpu(t) for t in PROCESS}
    p99 = {
        "gateway": (ratio("p99 added over plain YARP, same rate"), ratio("p99 added over plain YARP at")),
        "floor": (ratio("p99 added by the floor, same"), ratio("p99 added by the floor over")),
        "floorburn": (ratio("p99 added by the burned floor, same"), ratio("p99 added by the burned floor over plain YARP at")),
        "burn-over-floor": (ratio("p99 added by the burned floor over the floor, same"), ratio("p99 added by the burned floor over the floor at")),
    }
    # Reports before session 24 have no row for the gateway against the burned floor; both are in every
    # fixed-rate round, so it is computed here alike for every run.
    gateway, burned = scenarios["gateway-l1-get-8k-fixed"], scenarios["floorburn-get-8k-fixed"]
    p99["gateway-over-burn"] = (st.median(g - b for g, b in zip(gateway["RoundP99Ms"], burned["RoundP99Ms"])),
                                gateway["P99Ms"] - burned["P99Ms"])
    rate = gateway["OfferedRps"]
    return cpu, bed, p99, rate


def main():
    runs = sys.argv[1:]
    if not runs:
        sys.exit(__doc__)
    rows, floors, gateways = [], [], []
    print("| run | rate | CPU per GET, own µs: YARP / floor / burned / gateway | whole bed µs: YARP / floor / burned / gateway | p99 added paired / pooled, ms: floor; burned; gateway | burned over floor, ms | gateway over burned, ms | slope, ms per µs (paired / pooled) | gateway: measured / as a floor of its CPU (paired) |")
    print("| --- | ---: | --- | --- | --- | --- | --- | --- | --- |")
    for run in runs:
        cpu, bed, p99, rate = figures(run)
        dx = cpu["floorburn"] - cpu["floor"]
        slope = (p99["burn-over-floor"][0] / dx, p99["burn-over-floor"][1] / dx)
        predicted = p99["floor"][0] + slope[0] * (cpu["gateway"] - cpu["floor"])
        rows.append((slope, p99["gateway"][0], predicted, dx, cpu["gateway"] - cpu["floor"], p99["gateway-over-burn"], cpu["gateway"] - cpu["floorburn"]))
        for target in ("floor", "floorburn"):
            floors.append((cpu[target] - cpu["yarp"], *p99[target]))
        gateways.append((cpu["gateway"] - cpu["yarp"], *p99["gateway"]))
        print(f"| {run.rstrip('/').split('/')[-1]} | {rate:.0f} | {cpu['yarp']:.0f} / {cpu['floor']:.0f} / {cpu['floorburn']:.0f} / {cpu['gateway']:.0f} "
              f"| {bed['yarp']:.0f} / {bed['floor']:.0f} / {bed['floorburn']:.0f} / {bed['gateway']:.0f} "
              f"| {p99['floor'][0]:+.2f} / {p99['floor'][1]:+.2f}; {p99['floorburn'][0]:+.2f} / {p99['floorburn'][1]:+.2f}; {p99['gateway'][0]:+.2f} / {p99['gateway'][1]:+.2f} "
              f"| {p99['burn-over-floor'][0]:+.2f} / {p99['burn-over-floor'][1]:+.2f} "
              f"| {p99['gateway-over-burn'][0]:+.2f} / {p99['gateway-over-burn'][1]:+.2f} | {slope[0]:.3f} / {slope[1]:.3f} | {p99['gateway'][0]:+.2f} / {predicted:+.2f} |")
    if len(rows) > 1:
        print()
        print(f"mean over {len(rows)} runs: burn {st.mean(r[3] for r in rows):.1f} µs above the floor, the gateway {st.mean(r[4] for r in rows):.1f}; "
              f"slope {st.mean(r[0][0] for r in rows):.3f} paired, {st.mean(r[0][1] for r in rows):.3f} pooled ms per µs; "
              f"the gateway's paired p99 added {st.mean(r[1] for r in rows):+.2f} measured, {st.mean(r[2] for r in rows):+.2f} as a floor of its CPU")
        print(f"the gateway over the burned floor (CPU {st.mean(r[6] for r in rows):+.1f} µs apart): {st.mean(r[5][0] for r in rows):+.2f} paired, "
              f"{st.mean(r[5][1] for r in rows):+.2f} pooled ms (sd {st.stdev(r[5][0] for r in rows):.2f}, {st.stdev(r[5][1] for r in rows):.2f})")
        xs = [f[0] for f in floors]
        gx = st.mean(g[0] for g in gateways)
        for i, label in ((1, "paired"), (2, "pooled")):
            ys = [f[i] for f in floors]
            line = st.linear_regression(xs, ys)
            print(f"one line through the {len(floors)} floor points, {label}: {line.slope:.4f} ms per µs above plain YARP, offset {line.intercept:+.2f} ms, "
                  f"r {st.correlation(xs, ys):.2f}, 1 ms at {(1 - line.intercept) / line.slope:.1f} µs; the gateway at {gx:.1f} µs: "
                  f"{st.mean(g[i] for g in gateways):+.2f} measured, {line.intercept + line.slope * gx:+.2f} on the line")


if __name__ == "__main__":
    main()
