#!/usr/bin/env bash
# System calls, context switches, migrations and page faults per request of one target (the gateway,
# plain YARP or the floor proxy) under wrk, counted by `perf stat` on its process: does one proxy do
# more kernel work per request than another, or does each call just cost more? Same bed as
# loadtests/profile.sh (load-test configuration on fresh loopback ports, WARM seconds of warm-up).
#   loadtests/syscall-stat.sh                     # gateway, GET 8 KB profile
#   TARGET=floor loadtests/syscall-stat.sh        # the floor proxy; TARGET=plain for plain YARP
#   METHOD=POST / SIZE=large                      # as loadtests/profile.sh
#   RATE=200 loadtests/syscall-stat.sh            # at 200 req/s on one connection (hey -q) instead of
#                                                 # wrk's all-out load; adds task-clock (ms of CPU per request)
# Needs redis-server, wrk (hey for RATE) and perf (apt-get install -y linux-perf). Run targets alternately, more
# than once: the host drifts between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
WARM=${WARM:-30}
[ -z "${RATE:-}" ] || [ "${METHOD:-GET}" = GET ] || { echo "RATE is for GET only" >&2; exit 2; }
source loadtests/bed.sh
if [ -n "${RATE:-}" ]; then
  hey -z 10s -c 1 -q "$RATE" "${H[@]}" "$URL" >"$OUT/hey.txt" &
else
  wrk -t2 -c32 -d10s "${H[@]}" "${WRKARGS[@]}" "$URL" >"$OUT/wrk.txt" &
fi
LOAD=$!
sleep 1
perf stat -e context-switches,cpu-migrations,raw_syscalls:sys_enter,page-faults,task-clock -p "$TARGET_PID" -x, -o "$OUT/stat.txt" -- sleep 8
wait "$LOAD"
if [ -n "${RATE:-}" ]; then SENT=$((RATE * 10)); else SENT=$(awk '/requests in/{print $1}' "$OUT/wrk.txt"); fi
python3 - "$OUT/stat.txt" "$SENT" "$TARGET" <<'PY'
import sys
requests = int(sys.argv[2]) * 8 / 10  # the load ran 10 s; perf counted 8 of them
counts = {}
for line in open(sys.argv[1]):
    fields = line.strip().split(',')
    if len(fields) > 3 and fields[0].replace('.', '').isdigit():
        counts[fields[2]] = float(fields[0])
print(sys.argv[3], ' '.join(f"{name} {value / requests:.2f}/request" for name, value in counts.items()))
PY
