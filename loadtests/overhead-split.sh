#!/usr/bin/env bash
# Where the gateway's GET 8 KB overhead over plain YARP comes from: wrk against plain YARP, the gateway
# for a purpose that may see every field of the response (no buffering: the body streams through, so
# this is authentication, purpose, subject, the L1 lookup, headers and metrics), and the gateway for
# `marketing` (the response is buffered, checked and rewritten: what the load test measures), in
# interleaved rounds. The experiment purpose `everything` is added to a copy of the load-test
# configuration (everything-config.py); nothing in the repository changes.
#   loadtests/overhead-split.sh [rounds] [seconds]     # default 8 rounds of 8 s per side
# Needs redis-server and wrk. Prints each round's requests/s and the two ratios to plain YARP.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-8}; SECS=${2:-8}
OUT=${OUT:-/tmp/overhead-split}; mkdir -p "$OUT"
source loadtests/bed-processes.sh
REDIS=$(free_port); API=$(free_port); PROXY=$(free_port); ADMIN=$(free_port); PLAIN=$(free_port)
python3 loadtests/everything-config.py "$OUT/gateway.json" "$PROXY" "$ADMIN" "$REDIS" "$API"
dotnet build Gateway.sln -c Release -v q -nologo >/dev/null
start_redis "$REDIS"
start_sampleapi "$API"
start_plain "$OUT/gateway.json" "$PLAIN"
start_gateway "$OUT/gateway.json"
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$API/healthz" >/dev/null && curl -s -o /dev/null "http://127.0.0.1:$PROXY/" && curl -s -o /dev/null "http://127.0.0.1:$PLAIN/" && break; sleep 0.2; done
redis-cli -p "$REDIS" HSET consent:c-1001 p:marketing '{"status":"granted","expiresAt":null,"updatedAt":"2026-01-01T00:00:00Z","source":"overhead-split"}' v 1 >/dev/null
P="/customers/c-1001/profile?size=medium"
K=(-H 'X-Api-Key: demo-crm-key')
for purpose in everything marketing; do
  echo "$purpose: $(curl -s -D - -o /dev/null "${K[@]}" -H "X-Purpose: $purpose" "http://127.0.0.1:$PROXY$P" | grep -i '^x-consent-decision' | tr -d '\r')"
done
rps() { wrk -t2 -c32 -d"$2"s "${K[@]}" -H "X-Purpose: $3" "$1" | awk '/Requests\/sec/ {print $2}'; }
for t in "$PLAIN marketing" "$PROXY everything" "$PROXY marketing"; do set -- $t; rps "http://127.0.0.1:$1$P" 12 "$2" >/dev/null; done  # JIT warm-up
for r in $(seq "$ROUNDS"); do
  a=$(rps "http://127.0.0.1:$PLAIN$P" "$SECS" marketing)
  b=$(rps "http://127.0.0.1:$PROXY$P" "$SECS" everything)
  c=$(rps "http://127.0.0.1:$PROXY$P" "$SECS" marketing)
  python3 -c "print(f'round $r: yarp {$a:8.0f}  gateway, nothing withheld {$b:8.0f} ({$b/$a:.3f})  gateway, filtered {$c:8.0f} ({$c/$a:.3f})  load $(cut -d' ' -f1 /proc/loadavg)')"
done
