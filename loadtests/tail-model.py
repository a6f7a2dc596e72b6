#!/usr/bin/env python3
"""How much p99 a proxy adds at the fixed rate, predicted from two things the run measured apart:
plain YARP's own p99 at that rate and the proxy's capacity against plain YARP's.

usage: loadtests/tail-model.py RUN_DIR [RUN_DIR ...]

The model (a queue that drains after a stall). At the fixed rate R (half the gateway's capacity)
every proxy shares the same stalls of the machine (a gen0 pause, the load generator or SampleApi
holding both cores). Requests pile up at R during a stall and drain at the spare capacity C - R
afterwards, so the delay they carry scales with 1 / (C - R). The tail of plain YARP (capacity C_y)
is made of such delays; a proxy of capacity C_x at the same rate drains the same piles
(C_y - R) / (C_x - R) times more slowly, so it adds

    p99_yarp * (C_y - C_x) / (C_x - R)

over plain YARP. For the gateway (C_g = 2 R) that is p99_yarp * (2 C_y / C_g - 2): at a throughput
ratio of 0.89 a quarter of plain YARP's own p99. The capacities are the GET 8 KB closed-model
scenarios of the same run; the p99s are the fixed-rate ones (pooled: over all rounds; paired: the
median of the per-round figures, set against the median of the per-round differences).

Per run it prints, for each proxy in the run (gateway, floor, burned floor), the throughput ratio,
the factor, and the p99 added measured / predicted (pooled and paired); then, over all runs and
proxies, the mean of measured and predicted, their correlation, and the one factor k that best turns
the model into the measurements (k = 1: the model as it stands; below 1, part of plain YARP's tail is
not stall drainage and does not scale).
"""
import json
import statistics as st
import sys

PROXIES = (("gateway", "gateway-l1"), ("floor", "floor"), ("burned floor", "floorburn"))


def points(path):
    report = json.load(open(f"{path}/report.json"))
    scenarios = {s["Name"]: s for s in report["Scenarios"] if s["Requests"] > 0}
    yarp, yarp_fixed = scenarios["yarp-get-8k"], scenarios["yarp-get-8k-fixed"]
    rate = scenarios["gateway-l1-get-8k-fixed"]["OfferedRps"]
    for label, prefix in PROXIES:
        closed, fixed = scenarios.get(f"{prefix}-get-8k"), scenarios.get(f"{prefix}-get-8k-fixed")
        if closed is None or fixed is None or not fixed.get("RoundP99Ms"):
            continue
        factor = (yarp["ThroughputRps"] - closed["ThroughputRps"]) / (closed["ThroughputRps"] - rate)
        yield {
            "proxy": label,
            "ratio": closed["ThroughputRps"] / yarp["ThroughputRps"],
            "factor": factor,
            "pooled": fixed["P99Ms"] - yarp_fixed["P99Ms"],
            "pooled_model": factor * yarp_fixed["P99Ms"],
            "paired": st.median(x - y for x, y in zip(fixed["RoundP99Ms"], yarp_fixed["RoundP99Ms"])),
            "paired_model": factor * st.median(yarp_fixed["RoundP99Ms"]),
            "yarp_p99": st.median(yarp_fixed["RoundP99Ms"]),
        }


def main():
    runs = sys.argv[1:]
    if not runs:
        sys.exit(__doc__)
    every = []
    print("| run | proxy | throughput / plain YARP | factor | plain YARP's p99, median round (ms) | p99 added pooled: measured / model | paired: measured / model |")
    print("| --- | --- | ---: | ---: | ---: | --- | --- |")
    for run in runs:
        for p in points(run):
            every.append(p)
            print(f"| {run.rstrip('/').split('/')[-1]} | {p['proxy']} | {p['ratio']:.3f} | {p['factor']:.3f} | {p['yarp_p99']:.2f} "
                  f"| {p['pooled']:+.2f} / {p['pooled_model']:+.2f} | {p['paired']:+.2f} / {p['paired_model']:+.2f} |")
    if len(every) > 2:
        print()
        for label, _ in PROXIES:
            mine = [p for p in every if p["proxy"] == label]
            if mine:
                print(f"{label}, {len(mine)} runs: pooled {st.mean(p['pooled'] for p in mine):+.2f} measured, {st.mean(p['pooled_model'] for p in mine):+.2f} model; "
                      f"paired {st.mean(p['paired'] for p in mine):+.2f} measured, {st.mean(p['paired_model'] for p in mine):+.2f} model")
        for key in ("pooled", "paired"):
            xs, ys = [p[f"{key}_model"] for p in every], [p[key] for p in every]
            # Through the origin: a proxy of plain YARP's capacity adds nothing.
            k = sum(x * y for x, y in zip(xs, ys)) / sum(x * x for x in xs)
            print(f"{key}, all {len(every)} points: r {st.correlation(xs, ys):.2f}, median |measured - model| {st.median(abs(x - y) for x, y in zip(xs, ys)):.2f} ms, "
                  f"measured = {k:.2f} x model (least squares through the origin)")


if __name__ == "__main__":
    main()
