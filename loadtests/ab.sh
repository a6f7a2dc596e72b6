#!/usr/bin/env bash
# A/B of two gateway builds under wrk, in interleaved rounds: is a change to the gateway's code
# faster or slower? Both builds run side by side (one redis-server, one SampleApi, the load-test
# configuration on fresh loopback ports); each round loads one, then the other, in alternating order
# (AB, BA, AB, ...) so neither side always runs first. Prints the median over rounds of the paired
# throughput ratio B/A and of each side's CPU per request.
#   git worktree add /tmp/base HEAD~1 && (cd /tmp/base && dotnet build src/Gateway -c Release)
#   loadtests/ab.sh /tmp/base/src/Gateway/bin/Release/net10.0/ConsentGateway.dll \
#                   src/Gateway/bin/Release/net10.0/ConsentGateway.dll [rounds] [seconds]
#   METHOD=POST loadtests/ab.sh ...               # POST /echo 8 KB (filtered both ways); default GET 8 KB
# On this shared 2-core machine 20 rounds of 5 s resolve about ±5 us of CPU per request and ±3 % of
# throughput (the same pair measured twice); smaller effects need more rounds or a profile.
# Needs redis-server and wrk. Uses the current checkout's SampleApi and configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
A=$(realpath "$1"); B=$(realpath "$2"); ROUNDS=${3:-20}; SECS=${4:-5}; METHOD=${METHOD:-GET}; WARM=${WARM:-20}
OUT=${OUT:-/tmp/gateway-ab}; rm -rf "$OUT"; mkdir -p "$OUT/a" "$OUT/b"
source loadtests/bed-processes.sh
dotnet build src/SampleApi -c Release -v q -nologo >/dev/null
REDIS=$(free_port); API=$(free_port)
configure() { # FILE PROXY ADMIN
  sed -e "s#\"ProxyUrl\": \"[^\"]*\"#\"ProxyUrl\": \"http://127.0.0.1:$2\"#" -e "s#\"AdminUrl\": \"[^\"]*\"#\"AdminUrl\": \"http://127.0.0.1:$3\"#" \
      -e "s#\"Redis\": \"[^\"]*\"#\"Redis\": \"127.0.0.1:$REDIS\"#" -e "s#\"Address\": \"[^\"]*\"#\"Address\": \"http://127.0.0.1:$API/\"#" \
      loadtests/results/loadtest-gateway.json > "$1"
}
declare -A PORT PID
PORT[a]=$(free_port); PORT[b]=$(free_port)
configure "$OUT/a/gateway.json" "${PORT[a]}" "$(free_port)"
configure "$OUT/b/gateway.json" "${PORT[b]}" "$(free_port)"
start_redis "$REDIS"
start_sampleapi "$API"
dotnet "$A" --config "$OUT/a/gateway.json" >"$OUT/a.log" 2>&1 & pids+=($!); PID[a]=$!
dotnet "$B" --config "$OUT/b/gateway.json" >"$OUT/b.log" 2>&1 & pids+=($!); PID[b]=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$API/healthz" >/dev/null && curl -s -o /dev/null "http://127.0.0.1:${PORT[a]}/" && curl -s -o /dev/null "http://127.0.0.1:${PORT[b]}/" && break
  sleep 0.2
done
redis-cli -p "$REDIS" HSET consent:c-1001 p:marketing '{"status":"granted","expiresAt":null,"updatedAt":"2026-01-01T00:00:00Z","source":"ab"}' v 1 >/dev/null
H=(-H 'X-Api-Key: demo-crm-key' -H 'X-Purpose: marketing')
if [ "$METHOD" = POST ]; then
  curl -fs "http://127.0.0.1:$API/customers/c-1001/profile?size=medium" -o "$OUT/body.json"
  printf 'wrk.method="POST"\nwrk.headers["Content-Type"]="application/json"\nwrk.headers["X-Subject-Id"]="c-1001"\nlocal f=io.open("%s","rb")\nwrk.body=f:read("*a")\nf:close()\n' "$OUT/body.json" > "$OUT/post.lua"
  TARGET_PATH=/echo; WRKARGS=(-s "$OUT/post.lua")
else
  TARGET_PATH="/customers/c-1001/profile?size=medium"; WRKARGS=()
fi
for side in a b; do wrk -t2 -c32 -d"${WARM}s" "${H[@]}" "${WRKARGS[@]}" "http://127.0.0.1:${PORT[$side]}$TARGET_PATH" >/dev/null; done   # tiered JIT
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
for r in $(seq "$ROUNDS"); do
  order="a b"; [ $((r % 2)) -eq 0 ] && order="b a"
  for side in $order; do
    c0=$(cpu "${PID[$side]}")
    n=$(wrk -t2 -c32 -d"${SECS}s" "${H[@]}" "${WRKARGS[@]}" "http://127.0.0.1:${PORT[$side]}$TARGET_PATH" | awk '/requests in/{print $1}')
    c1=$(cpu "${PID[$side]}")
    echo "$r $side $n $((c1 - c0))" >>"$OUT/rounds.txt"
  done
done
python3 - "$OUT/rounds.txt" "$(getconf CLK_TCK)" "$METHOD" <<'PY'
import statistics as st, sys
rounds = {}
for line in open(sys.argv[1]):
    r, side, n, ticks = line.split()
    rounds.setdefault(r, {})[side] = (int(n), int(ticks))
tick = int(sys.argv[2])
pairs = [v for v in rounds.values() if 'a' in v and 'b' in v]
us = lambda n, ticks: ticks / tick / n * 1e6
ratio = [v['b'][0] / v['a'][0] for v in pairs]
cpu_a = [us(*v['a']) for v in pairs]
cpu_b = [us(*v['b']) for v in pairs]
print(f"{sys.argv[3]}: {len(pairs)} paired rounds")
print(f"throughput B/A: median {st.median(ratio):.3f}, pooled {sum(v['b'][0] for v in pairs) / sum(v['a'][0] for v in pairs):.3f}")
print(f"CPU per request, us: A median {st.median(cpu_a):.1f}, B median {st.median(cpu_b):.1f}, paired B-A median {st.median([b - a for a, b in zip(cpu_a, cpu_b)]):+.1f}")
PY
