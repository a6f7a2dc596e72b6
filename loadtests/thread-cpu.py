#!/usr/bin/env python3
"""CPU used by each kind of thread of one or more processes over a few seconds, from /proc.

    loadtests/thread-cpu.py PID[,PID...] [SECONDS]     # default 5 s

Prints, per process, its CPU in ms per second (1000 = one core) and the same split by thread name
(".NET TP Worker", ".NET Sockets", ".NET Server GC", ...), counting threads that started meanwhile.
Used beside a load-test run to see where a proxy's CPU goes at a fixed rate, e.g. how much of it is
thread-pool workers (which spin while waiting for work) against the socket event loop.
"""
import collections
import os
import sys
import time

CLOCK_TICKS = os.sysconf('SC_CLK_TCK')


def snapshot(pid):
    """Thread id -> (name, utime + stime in clock ticks)."""
    threads = {}
    for tid in os.listdir(f'/proc/{pid}/task'):
        try:
            with open(f'/proc/{pid}/task/{tid}/stat') as f:
                stat = f.read()
        except OSError:
            continue  # the thread ended meanwhile
        name = stat[stat.index('(') + 1:stat.rindex(')')]
        fields = stat[stat.rindex(')') + 2:].split()
        threads[tid] = (name, int(fields[11]) + int(fields[12]))
    return threads


def program(pid):
    with open(f'/proc/{pid}/cmdline') as f:
        args = [a for a in f.read().split('\0') if a]
    dll = next((a for a in args if a.endswith('.dll')), args[0] if args else str(pid))
    return os.path.basename(dll)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    pids = [int(p) for p in sys.argv[1].split(',')]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    before = {p: snapshot(p) for p in pids}
    time.sleep(seconds)
    for pid in pids:
        after = snapshot(pid)
        by_name, count = collections.Counter(), collections.Counter()
        for tid, (name, ticks) in after.items():
            by_name[name] += ticks - before[pid].get(tid, (name, 0))[1]
            count[name] += 1
        scale = 1000 / CLOCK_TICKS / seconds
        total = sum(by_name.values()) * scale
        parts = ', '.join(f'{name} ×{count[name]} {ticks * scale:.0f}' for name, ticks in by_name.most_common(6))
        print(f'{program(pid)} (pid {pid}): {total:.0f} ms/s; {parts}')


if __name__ == '__main__':
    main()
