#!/usr/bin/env bash
# Allocation per request of the gateway (or the plain YARP passthrough) under wrk load, by type:
# the load-test configuration on fresh loopback ports (as loadtests/profile.sh), a warm-up, then
# dotnet-trace records GC AllocationTick events while wrk runs for 8 s, and
# loadtests/Gateway.AllocProfile sums them by type over the requests wrk completed.
#   loadtests/alloc-profile.sh                   # gateway, GET 8 KB profile
#   TARGET=plain loadtests/alloc-profile.sh      # the plain YARP passthrough, same request
#   SIZE=large / METHOD=POST                     # as loadtests/profile.sh
# Needs redis-server, wrk and dotnet-trace (dotnet tool install -g dotnet-trace).
set -euo pipefail
cd "$(dirname "$0")/.."
TRACE=${DOTNET_TRACE:-$(command -v dotnet-trace || echo "$HOME/.dotnet/tools/dotnet-trace")}
source loadtests/bed.sh
"$TRACE" collect -p "$TARGET_PID" --providers 'Microsoft-Windows-DotNETRuntime:0x1:5' --duration 00:00:00:10 -o "$OUT/alloc.nettrace" >/dev/null 2>&1 &
TR=$!
sleep 1
wrk -t2 -c32 -d8s "${H[@]}" "${WRKARGS[@]}" "$URL" >"$OUT/wrk.txt"
wait "$TR"
grep -E 'Requests/sec' "$OUT/wrk.txt"
N=$(awk '/requests in/{print $1}' "$OUT/wrk.txt")
echo "$TARGET, $METHOD $SIZE: allocation sampled while wrk completed $N requests"
dotnet loadtests/Gateway.AllocProfile/bin/Release/net10.0/Gateway.AllocProfile.dll "$OUT/alloc.nettrace" "$N" "${TOP:-25}"
