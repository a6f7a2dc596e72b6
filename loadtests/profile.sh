#!/usr/bin/env bash
# CPU profile of the gateway (or the plain YARP passthrough) under wrk load, with the load-test
# configuration (loadtests/results/loadtest-gateway.json) on fresh loopback ports. Prints the
# target's CPU time per request and, from `perf record`, where it goes (per assembly and symbol).
#   loadtests/profile.sh                         # gateway, GET 8 KB profile, 8 s of perf samples
#   TARGET=plain loadtests/profile.sh            # the plain YARP passthrough, same request
#   SIZE=large loadtests/profile.sh              # 256 KB profile
#   METHOD=POST loadtests/profile.sh             # POST /echo 8 KB, filtered both ways
# Needs redis-server, wrk and perf (apt-get install -y linux-perf). JIT frames are named through
# DOTNET_PerfMapEnabled=1 with W^X off (perf cannot read the double-mapped code otherwise). The
# warm-up is long on purpose: tiered compilation keeps the JIT busy for ~20 s under load on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
OUT=${OUT:-/tmp/gw-profile}
TARGET=${TARGET:-gateway}
SIZE=${SIZE:-medium}
METHOD=${METHOD:-GET}
SECS=${SECONDS_:-8}
WARM=${WARM:-25}
mkdir -p "$OUT"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
REDIS=$(free_port); API=$(free_port); PROXY=$(free_port); ADMIN=$(free_port); PLAIN=$(free_port)
sed -e "s#\"ProxyUrl\": \"[^\"]*\"#\"ProxyUrl\": \"http://127.0.0.1:$PROXY\"#" \
    -e "s#\"AdminUrl\": \"[^\"]*\"#\"AdminUrl\": \"http://127.0.0.1:$ADMIN\"#" \
    -e "s#\"Redis\": \"[^\"]*\"#\"Redis\": \"127.0.0.1:$REDIS\"#" \
    -e "s#\"Address\": \"[^\"]*\"#\"Address\": \"http://127.0.0.1:$API/\"#" \
    loadtests/results/loadtest-gateway.json > "$OUT/gateway.json"
dotnet build Gateway.sln -c Release -v q -nologo >/dev/null
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
redis-server --port "$REDIS" --bind 127.0.0.1 --save '' --appendonly no >"$OUT/redis.log" 2>&1 & pids+=($!)
dotnet src/SampleApi/bin/Release/net10.0/SampleApi.dll --urls "http://127.0.0.1:$API" >"$OUT/sampleapi.log" 2>&1 & pids+=($!)
if [ "$TARGET" = plain ]; then
  dotnet src/PlainProxy/bin/Release/net10.0/PlainProxy.dll --config "$OUT/gateway.json" --urls "http://127.0.0.1:$PLAIN" >"$OUT/target.log" 2>&1 & pids+=($!)
  PORT=$PLAIN
else
  dotnet src/Gateway/bin/Release/net10.0/ConsentGateway.dll --config "$OUT/gateway.json" >"$OUT/target.log" 2>&1 & pids+=($!)
  PORT=$PROXY
fi
TARGET_PID=${pids[-1]}
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$API/healthz" >/dev/null && curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.2; done
redis-cli -p "$REDIS" HSET consent:c-1001 p:marketing '{"status":"granted","expiresAt":null,"updatedAt":"2026-01-01T00:00:00Z","source":"profile"}' v 1 >/dev/null
H=(-H 'X-Api-Key: demo-crm-key' -H 'X-Purpose: marketing')
if [ "$METHOD" = POST ]; then
  curl -fs "http://127.0.0.1:$API/customers/c-1001/profile?size=$SIZE" -o "$OUT/body.json"
  printf 'wrk.method="POST"\nwrk.headers["Content-Type"]="application/json"\nwrk.headers["X-Subject-Id"]="c-1001"\nlocal f=io.open("%s","rb")\nwrk.body=f:read("*a")\nf:close()\n' "$OUT/body.json" > "$OUT/post.lua"
  URL="http://127.0.0.1:$PORT/echo"; WRKARGS=(-s "$OUT/post.lua")
else
  URL="http://127.0.0.1:$PORT/customers/c-1001/profile?size=$SIZE"; WRKARGS=()
fi
wrk -t2 -c32 -d"${WARM}s" "${H[@]}" "${WRKARGS[@]}" "$URL" >/dev/null   # warm-up (tiered JIT)
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
