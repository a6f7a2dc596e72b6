#!/usr/bin/env python3
"""Each fixed-rate round of a load-test report beside the garbage-collection pauses every process of
the bed made while it ran (written by loadtests/gc-probe.sh).

usage: rounds_with_pauses.py OUT_DIR [STALL_MS]
Per round: its p99 and slowest request (ms), then per process the number of pauses, their total and
the longest (ms). Rounds with a p99 of at least STALL_MS (default 7) are marked STALL and followed by
every pause of 2 ms or more in the round; a pause that overlaps the slowest request (from when it
was due until it completed) is marked with an arrow. Ends with each process's pause distribution
over all fixed-rate rounds and how round p99 tracks the round's longest pause in the proxy measured.
When the probe ran with JIT=1 (NAME-jit.csv beside the pauses), each round also shows per process
the methods compiled and the milliseconds spent compiling them, stall rounds list every compilation
of 1 ms or more, and the end adds the longest compilations of the fixed-rate rounds and how round
p99 tracks the proxy's compilation time.
"""
import bisect
import csv
import datetime as dt
import json
import os
import statistics
import sys

PROCESSES = ["gateway", "plain", "floor", "sampleapi", "loadgen"]
TARGET_PROCESS = {"gateway": "gateway", "yarp": "plain", "floor": "floor", "direct": "sampleapi"}


def parse_utc(text: str) -> dt.datetime:
    text = text.replace("Z", "")
    if "." in text:
        head, frac = text.split(".")
        text = f"{head}.{frac[:6]}"
    return dt.datetime.fromisoformat(text)


def load_pauses(path: str) -> list:
    rows = []
    for row in csv.DictReader(open(path)):
        rows.append((parse_utc(row["startedUtc"]), float(row["pauseMs"]), row["gen"], row["reason"], row["heaps"]))
    rows.sort()
    return rows


def load_jit(path: str) -> list:
    rows = []
    for row in csv.DictReader(open(path)):
        rows.append((parse_utc(row["startedUtc"]), float(row["jitMs"]), row["tier"], row["method"]))
    rows.sort()
    return rows


def within(pauses: list, start: dt.datetime, end: dt.datetime) -> list:
    i = bisect.bisect_left(pauses, (start,))
    j = bisect.bisect_left(pauses, (end,))
    return pauses[i:j]


def main() -> None:
    out = sys.argv[1]
    stall = float(sys.argv[2]) if len(sys.argv) > 2 else 7
    report = json.load(open(f"{out}/run/report.json"))
    pauses = {p: load_pauses(f"{out}/{p}-pauses.csv") for p in PROCESSES if os.path.exists(f"{out}/{p}-pauses.csv")}
    jits = {p: load_jit(f"{out}/{p}-jit.csv") for p in PROCESSES if os.path.exists(f"{out}/{p}-jit.csv")}
    jit_in_rounds = {p: [] for p in jits}
    jit_tracking = []
    per_round_max = {p: [] for p in pauses}
    in_rounds = {p: [] for p in pauses}
    tracking = []
    for s in report["Scenarios"]:
        if "fixed" not in s["Name"]:
            continue
        own = TARGET_PROCESS.get(s["Target"])
        seconds = s["DurationSeconds"] / s["Rounds"]
        print(f"== {s['Name']}: p99 {s['P99Ms']} ms, max {s['MaxMs']} ms; per process: pauses/sum/longest ms")
        rounds = zip(s["RoundP99Ms"], s["RoundMaxMs"], s["RoundStartedUtc"], s["RoundSlowestSentUtc"])
        for i, (p99, slowest, started, due) in enumerate(rounds):
            start = parse_utc(started)
            end = start + dt.timedelta(seconds=seconds)
            cells = []
            longest_own = 0.0
            for p, rows in pauses.items():
                inside = within(rows, start, end)
                longest = max((r[1] for r in inside), default=0.0)
                if inside:  # a proxy pauses only in its own scenario's rounds
                    per_round_max[p].append(longest)
                    in_rounds[p].extend(inside)
                if p == own:
                    longest_own = longest
                cells.append(f"{p} {len(inside)}/{sum(r[1] for r in inside):.0f}/{longest:.1f}")
            if own in pauses:
                tracking.append((s["Name"], p99, longest_own))
            for p, rows in jits.items():
                inside = within(rows, start, end)
                jit_in_rounds[p].extend(inside)
                if p == own:
                    jit_tracking.append((p99, sum(r[1] for r in inside)))
                cells.append(f"{p} jit {len(inside)}/{sum(r[1] for r in inside):.1f}")
            mark = "STALL" if p99 >= stall else "     "
            print(f" r{i:<2} p99 {p99:5.1f} max {slowest:5.1f} {mark} | " + " | ".join(cells))
            if p99 < stall:
                continue
            due_at = parse_utc(due)
            done_at = due_at + dt.timedelta(milliseconds=slowest)
            for p, rows in jits.items():
                for at, ms, tier, method in within(rows, start, end):
                    if ms >= 1:
                        print(f"     {p:<9} {at:%H:%M:%S.%f} {ms:6.2f} ms JIT {tier} {method[:110]}")
            for p, rows in pauses.items():
                for at, ms, gen, reason, heaps in within(rows, start, end):
                    overlaps = at <= done_at and at + dt.timedelta(milliseconds=ms) >= due_at
                    if ms >= 2 or overlaps:
                        arrow = " <- slowest request" if overlaps else ""
                        print(f"     {p:<9} {at:%H:%M:%S.%f} {ms:6.2f} ms gen{gen} {reason} heaps={heaps}{arrow}")
    print("== pauses during fixed-rate rounds, per process: count, median, p99, max (ms); rounds with one >= 5 ms")
    for p, rows in in_rounds.items():
        ms = sorted(r[1] for r in rows)
        if not ms:
            continue
        heaps = sorted({r[4] for r in rows})
        big = sum(1 for m in per_round_max[p] if m >= 5)
        print(f"   {p:<9} {len(ms):6} {statistics.median(ms):6.2f} {ms[int(len(ms) * 0.99)]:6.2f} {ms[-1]:6.2f}; "
              f"heap counts seen {','.join(heaps)}; {big} of {len(per_round_max[p])} rounds")
    if len(tracking) > 2:
        r = statistics.correlation([t[1] for t in tracking], [t[2] for t in tracking])
        print(f"== round p99 vs the longest pause of the proxy measured, over {len(tracking)} rounds: r = {r:.2f}")
    if jits:
        print("== JIT compilations during fixed-rate rounds, per process: count, total ms, count of 5 ms or more")
        for p, rows in jit_in_rounds.items():
            print(f"   {p:<9} {len(rows):6} {sum(r[1] for r in rows):8.1f} {sum(1 for r in rows if r[1] >= 5):4}")
        print("== the longest compilations during fixed-rate rounds")
        everything = sorted(((r[1], p, r) for p, rows in jit_in_rounds.items() for r in rows), reverse=True)
        for ms, p, (at, _, tier, method) in everything[:15]:
            print(f"   {ms:7.2f} ms {p:<9} {at:%H:%M:%S} {tier} {method[:120]}")
        if len(jit_tracking) > 2 and len({t[1] for t in jit_tracking}) > 1:
            r = statistics.correlation([t[0] for t in jit_tracking], [t[1] for t in jit_tracking])
            print(f"== round p99 vs the proxy's own compilation time in the round, over {len(jit_tracking)} rounds: r = {r:.2f}")


if __name__ == "__main__":
    main()
