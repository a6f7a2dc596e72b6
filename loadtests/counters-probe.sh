#!/usr/bin/env bash
# A load-test run with dotnet-counters (1 s) attached to the gateway and to plain YARP, then, for
# every fixed-rate round, what each proxy's counters saw in its seconds: connections accepted
# (Kestrel) and pooled to the upstream, methods JIT-compiled, collections and their pauses. This is
# how the stall rounds of session 17 were traced to bursts of new connections; counters cost the
# proxies some CPU, so a probe's ratios are not figures of record.
#   loadtests/counters-probe.sh OUT_DIR [run.sh options]
#   loadtests/counters-probe.sh /tmp/probe --duration 96 --rounds 48 --only yarp-get-8k,gateway-l1-get-8k --no-wrk
# Needs dotnet-counters (dotnet tool install -g dotnet-counters). Prints rounds whose p99 is ≥ 7 ms
# with a mark; the full per-round table is in OUT_DIR/rounds.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "$1"); shift
export PATH=$PATH:$HOME/.dotnet/tools
command -v dotnet-counters >/dev/null || { echo "dotnet-counters not found: dotnet tool install -g dotnet-counters" >&2; exit 2; }
mkdir -p "$out"
dotnet build loadtests/Gateway.LoadTests/Gateway.LoadTests.csproj -c Release -v q -nologo >/dev/null
counters="System.Runtime,Microsoft.AspNetCore.Server.Kestrel,System.Net.Http"
( for _ in $(seq 600); do
    gw=$(pgrep -f 'ConsentGateway.dll' | head -1 || true); plain=$(pgrep -af 'PlainProxy.dll --config' | grep -v -- '--buffer-json' | head -1 | cut -d' ' -f1 || true)
    [ -n "$gw" ] && [ -n "$plain" ] && break; sleep 1; done
  [ -n "$gw" ] && [ -n "$plain" ] || exit 0
  dotnet-counters collect -p "$gw" --refresh-interval 1 --format csv -o "$out/gateway-counters.csv" --counters "$counters" >/dev/null 2>&1 &
  dotnet-counters collect -p "$plain" --refresh-interval 1 --format csv -o "$out/plain-counters.csv" --counters "$counters" >/dev/null 2>&1 &
  wait ) &
dotnet loadtests/Gateway.LoadTests/bin/Release/net10.0/Gateway.LoadTests.dll --command "loadtests/counters-probe.sh $*" "$@" --out "$out/run" | tee "$out/harness.log"
wait
python3 loadtests/rounds_with_counters.py "$out" | tee "$out/rounds.txt" | grep -E '^==|STALL'
