# Sourced by loadtests/profile.sh and loadtests/alloc-profile.sh (from the repository root): builds
# Release, starts redis-server, SampleApi and the target (TARGET=gateway, plain, or floor: plain YARP
# buffering and checking each JSON body, as run.sh --floor) on fresh loopback
# ports with the load-test configuration, grants marketing to c-1001, warms the target up with wrk
# for WARM seconds, and leaves URL, H and WRKARGS (the wrk request), TARGET_PID and OUT set. Every
# process it starts is stopped when the sourcing script exits.
OUT=${OUT:-/tmp/gw-profile}
TARGET=${TARGET:-gateway}
SIZE=${SIZE:-medium}
METHOD=${METHOD:-GET}
WARM=${WARM:-60}
mkdir -p "$OUT/config"
# The configuration sits in a directory of its own: the gateway watches its file's directory for
# changes (reloadOnChange), and perf.data, logs and traces written beside it under load would cost it
# FileSystemWatcher work that a real deployment does not have (about 0.5 us per request in profiles).
CONFIG="$OUT/config/gateway.json"
source loadtests/bed-processes.sh
REDIS=$(free_port); API=$(free_port); PROXY=$(free_port); ADMIN=$(free_port); PLAIN=$(free_port)
sed -e "s#\"ProxyUrl\": \"[^\"]*\"#\"ProxyUrl\": \"http://127.0.0.1:$PROXY\"#" \
    -e "s#\"AdminUrl\": \"[^\"]*\"#\"AdminUrl\": \"http://127.0.0.1:$ADMIN\"#" \
    -e "s#\"Redis\": \"[^\"]*\"#\"Redis\": \"127.0.0.1:$REDIS\"#" \
    -e "s#\"Address\": \"[^\"]*\"#\"Address\": \"http://127.0.0.1:$API/\"#" \
    loadtests/results/loadtest-gateway.json > "$CONFIG"
dotnet build Gateway.sln -c Release -v q -nologo >/dev/null
start_redis "$REDIS"
start_sampleapi "$API"
if [ "$TARGET" = plain ]; then
  start_plain "$CONFIG" "$PLAIN"
  PORT=$PLAIN
elif [ "$TARGET" = floor ]; then
  start_plain "$CONFIG" "$PLAIN" --buffer-json true
  PORT=$PLAIN
else
  start_gateway "$CONFIG"
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
wrk -t2 -c32 -d"${WARM}s" "${H[@]}" "${WRKARGS[@]}" "$URL" >/dev/null   # warm-up: tiered JIT
