#!/usr/bin/env python3
"""How the p99 added at the fixed rate follows each proxy's CPU per request, across long runs.

usage: loadtests/cpu-vs-p99.py RUN_DIR [RUN_DIR ...]
Each RUN_DIR holds a report.json of a long run with --floor (GET 8 KB closed-model and fixed-rate
scenarios). Per run it prints the gateway's and the floor proxy's CPU per GET 8 KB request above
plain YARP's (median over the rounds at capacity) beside their p99 added over plain YARP at the
fixed rate (paired median and pooled), then least-squares slopes in ms of p99 per µs of CPU:
within the gateway's runs, within the floor's, and of the gateway-minus-floor step. It says how
much CPU per request the gateway would have to shed to move its p99, and whether its p99 excess
over the floor is more than its CPU excess over the floor predicts. Last, the same with the CPU of
the whole bed per request (load generator, SampleApi and the proxy: what the two cores serve), one
least-squares line through the gateway's and the floor's points together.
"""
import json
import statistics as st
import sys


def figures(path):
    report = json.load(open(f"{path}/report.json"))
    ratios = {r["Name"]: r["Value"] for r in report["Ratios"]}

    def ratio(prefix):
        return next(v for k, v in ratios.items() if k.startswith(prefix))

    def cpu(scenario, process=None):
        rounds = next(s for s in report["Scenarios"] if s["Name"] == scenario)["RoundCpuPerRequestUs"]
        if process is not None:
            return st.median(rounds[process])
        return sum(st.median(v) for v in rounds.values() if v)

    plain, bed = cpu("yarp-get-8k", "plainproxy"), cpu("yarp-get-8k")
    gateway = (cpu("gateway-l1-get-8k", "gateway") - plain,
               ratio("p99 added over plain YARP, same rate"), ratio("p99 added over plain YARP at"),
               cpu("gateway-l1-get-8k") - bed)
    floor = (cpu("floor-get-8k", "floorproxy") - plain,
             ratio("p99 added by the floor, same"), ratio("p99 added by the floor over"),
             cpu("floor-get-8k") - bed)
    return gateway, floor


def slope(points, i, x=0):
    xs = [p[x] for p in points]
    ys = [p[i] for p in points]
    return st.linear_regression(xs, ys).slope, st.correlation(xs, ys)


def main():
    runs = sys.argv[1:]
    if len(runs) < 3:
        sys.exit(__doc__)
    gateway, floor = [], []
    print("| run | gateway: CPU above plain, µs | p99 added paired / pooled, ms | floor: CPU above plain, µs | p99 added paired / pooled, ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for run in runs:
        g, f = figures(run)
        gateway.append(g)
        floor.append(f)
        print(f"| {run.rstrip('/').split('/')[-1]} | {g[0]:.1f} | {g[1]:+.2f} / {g[2]:+.2f} | {f[0]:.1f} | {f[1]:+.2f} / {f[2]:+.2f} |")
    step = [(g[0] - f[0], g[1] - f[1], g[2] - f[2]) for g, f in zip(gateway, floor)]
    print()
    for name, points in (("gateway runs", gateway), ("floor runs", floor), ("gateway minus floor, per run", step)):
        (sp, rp), (so, ro) = slope(points, 1), slope(points, 2)
        print(f"{name}: mean CPU {st.mean(p[0] for p in points):.1f} µs, p99 {st.mean(p[1] for p in points):+.3f} paired / "
              f"{st.mean(p[2] for p in points):+.3f} pooled ms; slope {sp:.4f} ms/µs paired (r {rp:.2f}), {so:.4f} pooled (r {ro:.2f})")
    within = st.mean([slope(floor, 1)[0], slope(gateway, 1)[0]]), st.mean([slope(floor, 2)[0], slope(gateway, 2)[0]])
    cpu_step = st.mean(p[0] for p in step)
    print(f"gateway over floor: {cpu_step:.1f} µs more CPU; the slopes within each group predict {within[0] * cpu_step:+.2f} paired / "
          f"{within[1] * cpu_step:+.2f} pooled ms of p99 for it, measured {st.mean(p[1] for p in step):+.2f} / {st.mean(p[2] for p in step):+.2f}")
    both = gateway + floor
    print(f"whole bed per request above plain YARP's side: gateway {st.mean(p[3] for p in gateway):.1f} µs, floor {st.mean(p[3] for p in floor):.1f} µs")
    for i, name in ((1, "paired"), (2, "pooled")):
        fit = st.linear_regression([p[3] for p in both], [p[i] for p in both])
        print(f"  p99 added {name} = {fit.slope:.4f} ms/µs x whole-bed CPU above plain {fit.intercept:+.3f} ms (r {slope(both, i, 3)[1]:.2f})")


if __name__ == "__main__":
    main()
