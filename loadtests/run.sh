#!/usr/bin/env bash
# Full load-test run: builds Release, then starts redis-server, SampleApi, the gateway and a plain
# YARP passthrough on loopback, runs every scenario side by side, cross-checks one with wrk, writes
# loadtests/results/{report.md,report.json,latency.png} and stops everything.
#   loadtests/run.sh                      # full run (~5 min on 2 cores: 8 s + 2 s warm-up per scenario)
#   loadtests/run.sh --smoke --out /tmp/x # a few seconds, tiny rates
#   extra options: --duration S --warmup S --concurrency N --rounds N --no-wrk --enforce-goals --only name1,name2
#                  --pin-proxies (proxies on CPU 1, the rest on CPU 0: the p99 goal's run, see README)
#                  --floor (also a plain YARP that buffers and checks every JSON body, no enforcement: the
#                           8 KB rows' floor, measured beside the gateway; see README)
#                  --floor-burn US (also a second floor doing US µs of CPU work per request, GET 8 KB only:
#                           what a µs per request costs in p99 at the fixed rate, in the same run)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v redis-server >/dev/null || { echo "redis-server not found: apt-get install -y redis-server" >&2; exit 2; }
command -v wrk >/dev/null || echo "wrk not found: the cross-check is skipped (apt-get install -y wrk)" >&2
dotnet build loadtests/Gateway.LoadTests/Gateway.LoadTests.csproj -c Release -v q -nologo
harness=(dotnet loadtests/Gateway.LoadTests/bin/Release/net10.0/Gateway.LoadTests.dll --command "loadtests/run.sh $*" "$@")
case " $* " in
  # The load generator, and with it redis-server and SampleApi, on CPU 0; the harness starts the proxies on CPU 1.
  *" --pin-proxies "*) exec taskset -c 0 "${harness[@]}" ;;
  *) exec "${harness[@]}" ;;
esac
