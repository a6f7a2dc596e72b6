#!/usr/bin/env python3
"""Top methods of a dotnet-trace 'dotnet-sampled-thread-time' Speedscope export, busy time only.

The thread-time profile samples every managed thread, waiting or not; this drops the time spent
in frames that mean "blocked" (waits, epoll, the thread pool's semaphore) and in unmanaged code
with no managed caller, then ranks what is left by exclusive and inclusive time.
usage: speedscope_top.py trace.speedscope.json [N]
"""
import collections
import json
import re
import sys

IDLE = re.compile(
    r"WaitHandle\.Wait|LowLevelLifoSemaphore|LowLevelSpinWaiter|Monitor\.Wait|Thread\.Sleep|"
    r"WaitForSocketEvents|SocketAsyncEngine\.EventLoop|WaitOneNoCheck|WaitCore|"
    r"PortableThreadPool\+GateThread|TimerQueue\.TimerThread|EventPipe|DiagnosticServer|"
    r"ThreadNative\.Sleep|SpinWait|Interop\+Sys\.Read\b|ReadFromStdin|Console")


def main() -> None:
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    doc = json.load(open(path, encoding="utf-8"))
    names = [f["name"] for f in doc["shared"]["frames"]]
    idle_frame = [bool(IDLE.search(n)) for n in names]
    exclusive = collections.Counter()
    inclusive = collections.Counter()
    busy = idle = 0.0
    for profile in doc["profiles"]:
        stack: list[int] = []
        last = None
        for ev in profile["events"]:
            at = ev["at"]
            if last is not None and stack and at > last:
                dt = at - last
                if any(idle_frame[f] for f in stack) or names[stack[-1]] == "UNMANAGED_CODE_TIME" and len(stack) <= 3:
                    idle += dt
                else:
                    busy += dt
                    # The thread-time profile ends each stack in a CPU_TIME/UNMANAGED_CODE_TIME marker.
                    leaf = stack[-2] if len(stack) > 1 and names[stack[-1]].isupper() else stack[-1]
                    exclusive[leaf] += dt
                    for f in set(stack):
                        inclusive[f] += dt
            last = at
            if ev["type"] == "O":
                stack.append(ev["frame"])
            elif stack:
                stack.pop()
    print(f"busy {busy / 1000:.2f} s of sampled thread time (idle {idle / 1000:.2f} s dropped)")
    for title, counter in (("exclusive", exclusive), ("inclusive", inclusive)):
        print(f"== {title}")
        for frame, t in counter.most_common(top):
            print(f"{100 * t / busy:6.2f}%  {names[frame][:170]}")


if __name__ == "__main__":
    main()
