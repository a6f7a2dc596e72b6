#!/usr/bin/env python3
"""Each fixed-rate round of a load-test report beside what its proxy's dotnet-counters saw in the
seconds it ran (written by loadtests/counters-probe.sh).

usage: rounds_with_counters.py OUT_DIR [STALL_MS]
Per round: its p99 and slowest request (ms), when that request was due, and for each second of the
round the proxy's Kestrel connections (kc), pooled upstream connections (up), methods JIT-compiled
(jit), gen0 collections (g0) and their pause (ms). Rounds with a p99 of at least STALL_MS (default 7)
are marked STALL.
"""
import collections
import csv
import datetime as dt
import json
import sys


def parse_utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def load(path: str) -> dict:
    seconds = collections.defaultdict(lambda: collections.defaultdict(float))
    for row in csv.DictReader(open(path)):
        at = dt.datetime.strptime(row["Timestamp"], "%m/%d/%Y %H:%M:%S")
        name, value = row["Counter Name"], float(row["Mean/Increment"] or 0)
        key = ("kc" if name.startswith("kestrel.active_connections")
               else "up" if name.startswith("http.client.open_connections")
               else "jit" if "jit.compiled_methods" in name
               else "g0" if "gc.collections" in name and "gen0" in name
               else "pause" if "gc.pause.time" in name
               else None)
        if key:
            seconds[at][key] += value * (1000 if key == "pause" else 1)
    return seconds


def main() -> None:
    out = sys.argv[1]
    stall = float(sys.argv[2]) if len(sys.argv) > 2 else 7
    report = json.load(open(f"{out}/run/report.json"))
    proxies = {"gateway": load(f"{out}/gateway-counters.csv"), "yarp": load(f"{out}/plain-counters.csv")}
    for s in report["Scenarios"]:
        if "fixed" not in s["Name"] or s["Target"] not in proxies:
            continue
        counters = proxies[s["Target"]]
        print(f"== {s['Name']}: p99 {s['P99Ms']} ms, max {s['MaxMs']} ms")
        rounds = zip(s["RoundP99Ms"], s["RoundMaxMs"], s["RoundStartedUtc"], s["RoundSlowestSentUtc"])
        for i, (p99, slowest, started, due) in enumerate(rounds):
            first = parse_utc(started).replace(microsecond=0)
            cells = []
            for k in range(4):
                c = counters.get(first + dt.timedelta(seconds=k), {})
                cells.append(f"{first + dt.timedelta(seconds=k):%S} kc={c.get('kc', 0):.0f} up={c.get('up', 0):.0f} "
                             f"jit={c.get('jit', 0):.0f} g0={c.get('g0', 0):.0f} pause={c.get('pause', 0):.1f}")
            mark = "STALL" if p99 >= stall else "     "
            print(f" r{i:<2} p99 {p99:5.1f} max {slowest:5.1f} due {parse_utc(due):%H:%M:%S.%f}"[:-3] + f" {mark} | " + " | ".join(cells))


if __name__ == "__main__":
    main()
