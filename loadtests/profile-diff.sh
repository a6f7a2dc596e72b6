#!/usr/bin/env bash
# Where the gateway's CPU per request differs from plain YARP's and the floor's, measured in
# interleaved rounds on one bed: wrk (GET 8 KB over the load test's 50 subjects) against plain YARP
# (`plain`), the gateway for the experiment purpose `everything` (`gwall`: nothing withheld, so the
# body streams through as in plain YARP; see everything-config.py), the floor proxy (`floor`: plain
# YARP holding and checking each JSON body, as run.sh --floor) and the gateway for `marketing` (`gw`:
# buffered, filtered, rewritten, as the load test measures). Each round records the target's CPU per
# request and context switches per request from /proc (cpu.txt) and, unless PERF=0, a `perf record`
# of the target alone (perf-TARGET-ROUND.data), which loadtests/profile_diff.py compares:
#   loadtests/profile-diff.sh                              # 3 rounds of 8 s per target, perf on
#   PERF=0 ROUNDS=6 loadtests/profile-diff.sh              # CPU and context switches only
#   python3 loadtests/profile_diff.py /tmp/profile-diff floor gw
# Options in the environment: ROUNDS, SECS, WARM (wrk warm-up per target, s), CONNS (wrk -c), OUT.
# Needs redis-server, wrk and perf (apt-get install -y linux-perf).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
ROUNDS=${ROUNDS:-3}; SECS=${SECS:-8}; WARM=${WARM:-20}; CONNS=${CONNS:-32}; PERF=${PERF:-1}
OUT=${OUT:-/tmp/profile-diff}; rm -rf "$OUT"; mkdir -p "$OUT"
source loadtests/bed-processes.sh
REDIS=$(free_port); API=$(free_port); PROXY=$(free_port); ADMIN=$(free_port); PLAIN=$(free_port); FLOOR=$(free_port)
python3 loadtests/everything-config.py "$OUT/gateway.json" "$PROXY" "$ADMIN" "$REDIS" "$API"
dotnet build Gateway.sln -c Release -v q -nologo >/dev/null
start_redis "$REDIS"
start_sampleapi "$API"
start_plain "$OUT/gateway.json" "$PLAIN"; PLAIN_PID=${pids[-1]}
start_plain "$OUT/gateway.json" "$FLOOR" --buffer-json true; FLOOR_PID=${pids[-1]}
start_gateway "$OUT/gateway.json"; GATEWAY_PID=${pids[-1]}
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$API/healthz" >/dev/null && curl -s -o /dev/null "http://127.0.0.1:$PROXY/" \
    && curl -s -o /dev/null "http://127.0.0.1:$PLAIN/" && curl -s -o /dev/null "http://127.0.0.1:$FLOOR/" && break
  sleep 0.2
done
for i in $(seq 1001 1050); do
  redis-cli -p "$REDIS" HSET "consent:c-$i" p:marketing '{"status":"granted","expiresAt":null,"updatedAt":"2026-01-01T00:00:00Z","source":"profile-diff"}' v 1 >/dev/null
done
cat > "$OUT/subjects.lua" <<'LUA'
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/customers/c-" .. (1001 + (i % 50)) .. "/profile?size=medium")
end
LUA
declare -A PORT=([plain]=$PLAIN [gwall]=$PROXY [floor]=$FLOOR [gw]=$PROXY)
declare -A PID=([plain]=$PLAIN_PID [gwall]=$GATEWAY_PID [floor]=$FLOOR_PID [gw]=$GATEWAY_PID)
declare -A PURPOSE=([plain]=marketing [gwall]=everything [floor]=marketing [gw]=marketing)
TARGETS=(plain gwall floor gw)
load() { wrk -t2 -c"$CONNS" -d"$2"s -H 'X-Api-Key: demo-crm-key' -H "X-Purpose: ${PURPOSE[$1]}" -s "$OUT/subjects.lua" "http://127.0.0.1:${PORT[$1]}"; }
# CPU ticks of the process, then its voluntary and involuntary context switches summed over its threads.
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/{v+=$2} /^nonvoluntary_ctxt_switches/{n+=$2} END{print v, n}'; }
for t in "${TARGETS[@]}"; do
  echo "$t: $(curl -s -D - -o /dev/null -H 'X-Api-Key: demo-crm-key' -H "X-Purpose: ${PURPOSE[$t]}" "http://127.0.0.1:${PORT[$t]}/customers/c-1001/profile?size=medium" | grep -i '^HTTP\|^x-consent-decision' | tr -d '\r' | tr '\n' ' ')"
  load "$t" "$WARM" >/dev/null   # tiered JIT
done
echo "target round cpu_us_per_request requests_per_s voluntary_switches_per_request involuntary_switches_per_request"
TICK=$(getconf CLK_TCK)
for r in $(seq "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do
    p=${PID[$t]}
    load "$t" $((SECS + 2)) >"$OUT/wrk-$t-$r.txt" &
    W=$!
    sleep 1
    c0=$(ticks "$p"); s0=$(switches "$p")
    if [ "$PERF" != 0 ]; then
      perf record -F 999 -g -p "$p" -o "$OUT/perf-$t-$r.data" -- sleep "$SECS" >/dev/null 2>&1
    else
      sleep "$SECS"
    fi
    c1=$(ticks "$p"); s1=$(switches "$p")
    wait "$W"
    n=$(awk '/requests in/{print $1}' "$OUT/wrk-$t-$r.txt")
    rps=$(awk '/Requests\/sec/{print $2}' "$OUT/wrk-$t-$r.txt")
    python3 -c "
n = $n * $SECS / ($SECS + 2)   # the requests served while measured
v0, i0 = map(int, '$s0'.split()); v1, i1 = map(int, '$s1'.split())
print('$t', $r, round(($c1 - $c0) / $TICK / n * 1e6, 1), '$rps', round((v1 - v0) / n, 2), round((i1 - i0) / n, 2))" | tee -a "$OUT/cpu.txt"
  done
done
