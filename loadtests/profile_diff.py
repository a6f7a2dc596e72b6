#!/usr/bin/env python3
"""Where two proxies' CPU per request differs, from the rounds of loadtests/profile-diff.sh.

usage: profile_diff.py OUT_DIR A B [TOP]        (A, B: plain, gwall, floor or gw)
Each round's perf samples are scaled by that round's CPU per request (from /proc, in cpu.txt), then
averaged over the rounds of each target, so the groups and symbols are in microseconds per request.
Prints the means, the groups that differ by more than 0.2 us, and the TOP symbols that grew most
from A to B. Only differences that hold over several rounds mean anything: one perf profile of a
busy two-core host moves by several microseconds from round to round.
"""
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from perf_categories import samples  # noqa: E402


def rounds(out_dir: str):
    cpu = collections.defaultdict(list)
    with open(os.path.join(out_dir, "cpu.txt")) as f:
        for line in f:
            target, round_, us = line.split()[:3]
            cpu[target].append((round_, float(us)))
    return cpu


def per_request(out_dir: str, target: str, target_rounds):
    groups, symbols = collections.Counter(), collections.Counter()
    for round_, us in target_rounds:
        for group, sym, pct in samples(os.path.join(out_dir, f"perf-{target}-{round_}.data")):
            share = pct * us / 100 / len(target_rounds)
            # The gateway's namespaces count as one group here: the floor and plain YARP have none of them.
            groups["ConsentGateway" if group.startswith("ConsentGateway") else group] += share
            symbols[(group, sym)] += share
    return groups, symbols


def main() -> None:
    out_dir, a, b = sys.argv[1:4]
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    cpu = rounds(out_dir)
    sides = []
    for target in (a, b):
        r = cpu[target]
        if not r:
            sys.exit(f"no rounds of {target} in {out_dir}/cpu.txt")
        sides.append((sum(us for _, us in r) / len(r), [us for _, us in r], *per_request(out_dir, target, r)))
    (ua, ra, ga, sa), (ub, rb, gb, sb) = sides
    print(f"CPU per request: {a} {ua:.1f} us {ra}, {b} {ub:.1f} us {rb}; {b} - {a} = {ub - ua:+.1f} us")
    print(f"\n{'group':<50}{a:>8}{b:>8}{'diff':>8}")
    for g in sorted(set(ga) | set(gb), key=lambda g: -(gb[g] - ga[g])):
        if abs(gb[g] - ga[g]) > 0.2:
            print(f"{g[:49]:<50}{ga[g]:8.2f}{gb[g]:8.2f}{gb[g] - ga[g]:+8.2f}")
    print(f"\nthe {top} symbols that grew most, us per request ({a}, {b}, diff)")
    for k in sorted(set(sa) | set(sb), key=lambda k: -(sb[k] - sa[k]))[:top]:
        print(f"{sa[k]:6.2f} {sb[k]:6.2f} {sb[k] - sa[k]:+6.2f}  {k[0][:24]:<24} {k[1][:130]}")


if __name__ == "__main__":
    main()
