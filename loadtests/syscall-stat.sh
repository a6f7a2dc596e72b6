#!/usr/bin/env bash
# System calls, context switches, migrations and page faults per request of one target (the gateway,
# plain YARP or the floor proxy) under wrk, counted by `perf stat` on its process: does one proxy do
# more kernel work per request than another, or does each call just cost more? Same bed as
# loadtests/profile.sh (load-test configuration on fresh loopback ports, WARM seconds of warm-up).
#   loadtests/syscall-stat.sh                     # gateway, GET 8 KB profile
#   TARGET=floor loadtests/syscall-stat.sh        # the floor proxy; TARGET=plain for plain YARP
#   METHOD=POST / SIZE=large                      # as loadtests/profile.sh
# Needs redis-server, wrk and perf (apt-get install -y linux-perf). Run targets alternately, more
# than once: the host drifts between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
WARM=${WARM:-30}
source loadtests/bed.sh
wrk -t2 -c32 -d10s "${H[@]}" "${WRKARGS[@]}" "$URL" >"$OUT/wrk.txt" &
WRK=$!
sleep 1
perf stat -e context-switches,cpu-migrations,raw_syscalls:sys_enter,page-faults -p "$TARGET_PID" -x, -o "$OUT/stat.txt" -- sleep 8
wait "$WRK"
python3 - "$OUT/stat.txt" "$(awk '/requests in/{print $1}' "$OUT/wrk.txt")" "$TARGET" <<'PY'
import sys
requests = int(sys.argv[2]) * 8 / 10  # wrk ran 10 s; perf counted 8 of them
counts = {}
for line in open(sys.argv[1]):
    fields = line.strip().split(',')
    if len(fields) > 3 and fields[0].replace('.', '').isdigit():
        counts[fields[2]] = float(fields[0])
print(sys.argv[3], ' '.join(f"{name} {value / requests:.2f}/request" for name, value in counts.items()))
PY
