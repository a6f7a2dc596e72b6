#!/usr/bin/env bash
# CPU profile of the gateway (or the plain YARP passthrough) under wrk load, with the load-test
# configuration (loadtests/results/loadtest-gateway.json) on fresh loopback ports. Prints the
# target's CPU time per request and, from `perf record`, where it goes (per assembly and symbol).
#   loadtests/profile.sh                         # gateway, GET 8 KB profile, 8 s of perf samples
#   TARGET=plain loadtests/profile.sh            # the plain YARP passthrough, same request
#   TARGET=floor loadtests/profile.sh            # plain YARP holding and checking each JSON body (run.sh --floor)
#   SIZE=large loadtests/profile.sh              # 256 KB profile
#   METHOD=POST loadtests/profile.sh             # POST /echo 8 KB, filtered both ways
# Needs redis-server, wrk and perf (apt-get install -y linux-perf). JIT frames are named through
# DOTNET_PerfMapEnabled=1 with W^X off (perf cannot read the double-mapped code otherwise). The
# warm-up is long on purpose: under load on 2 cores the gateway's tiered JIT was still 2.6 % of its samples after
# 26 s and 0.02 % after 90 s (session 11), so the default is 60 s (WARM=S to change it).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
SECS=${SECONDS_:-8}
source loadtests/bed.sh
wrk -t2 -c32 -d$((SECS + 3))s --latency "${H[@]}" "${WRKARGS[@]}" "$URL" >"$OUT/wrk.txt" &
WRK=$!
sleep 1
tick=$(getconf CLK_TCK)
c0=$(awk '{print $14+$15}' "/proc/$TARGET_PID/stat")
perf record -F 999 -g -p "$TARGET_PID" -o "$OUT/perf.data" -- sleep "$SECS" >/dev/null 2>&1
c1=$(awk '{print $14+$15}' "/proc/$TARGET_PID/stat")
wait "$WRK"
grep -E 'Requests/sec|99%' "$OUT/wrk.txt"
US=$(python3 -c "n=int('$(awk '/requests in/{print $1}' "$OUT/wrk.txt")'); secs=$SECS+3; print(round(($c1-$c0)/$tick/(n*$SECS/secs)*1e6, 1))")
echo "$TARGET CPU per request: $US us"
python3 loadtests/perf_categories.py "$OUT/perf.data" "$US" "${TOP:-25}"
