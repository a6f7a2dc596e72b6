#!/usr/bin/env python3
"""CPU per request of a `perf record` of one .NET process, grouped by assembly (JIT frames, via
DOTNET_PerfMapEnabled=1) or native library, then the hottest symbols.

usage: perf_categories.py perf.data US_PER_REQUEST [TOP]
US_PER_REQUEST is the process's CPU time divided by the requests served while perf recorded, so
each group's share is printed in microseconds per request as well as in percent.
"""
import collections
import re
import subprocess
import sys


def samples(data: str):
    """Each sampled (group, symbol, percent) of a perf.data file: the group is the assembly of a JIT frame
    (the gateway's own code by namespace), "kernel", or the native library."""
    out = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso,sym", "--stdio", "-g", "none"],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+(\S.*?)\s{2,}\[(.)\]\s+(.*)", line)
        if not m:
            continue
        pct, dso, sym = float(m.group(1)), m.group(2), m.group(4)
        if dso.startswith("[JIT]"):
            asm = re.search(r"\s\[([\w.]+)\]\s+[\w.]+", sym)
            key = asm.group(1) if asm else "JIT (unnamed)"
            own = re.search(r"ConsentGateway\.(\w+)\.", sym)
            if own:
                key = "ConsentGateway." + own.group(1)
        elif dso.startswith("[k"):
            key = "kernel"
        else:
            key = dso
        # The JIT tier ([Tier0], [OptimizedTier1], [QuickJitted], ...) goes, so one method's tiers add up.
        yield key, re.sub(r"\s*\[\w+\]$", "", sym)[:150], pct


def main() -> None:
    data, us = sys.argv[1], float(sys.argv[2])
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    groups = collections.Counter()
    symbols = []
    for key, sym, pct in samples(data):
        groups[key] += pct
        symbols.append((pct, sym))
    print(f"{'group':<48}{'%':>7}{'us/req':>9}")
    for key, pct in groups.most_common(30):
        print(f"{key[:47]:<48}{pct:7.2f}{pct * us / 100:9.2f}")
    print(f"\ntop {top} symbols")
    for pct, sym in sorted(symbols, reverse=True)[:top]:
        print(f"{pct:6.2f}%  {sym}")


if __name__ == "__main__":
    main()
