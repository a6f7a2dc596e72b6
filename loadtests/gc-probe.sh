#!/usr/bin/env bash
# A load-test run with dotnet-trace recording the garbage collector's events in every managed
# process of the bed (the gateway, plain YARP, the floor, SampleApi and the load generator), then,
# for every fixed-rate round, the pauses each process made while it ran. A round whose p99 is high
# is marked, and the pauses that overlap its slowest request are listed: this is how a stall round
# is told apart as a collection (and in which process) or something else. GC events are a few per
# collection, so the traces cost little, but a probe's figures are not of record.
#   loadtests/gc-probe.sh OUT_DIR [run.sh options]
#   loadtests/gc-probe.sh /tmp/gcprobe --duration 96 --rounds 48 --floor --only yarp-get-8k,gateway-l1-get-8k,floor-get-8k --no-wrk
# With JIT=1 the traces also carry the JIT's events (keyword 0x10), and each round then also shows the
# time each process spent compiling methods while it ran (NAME-jit.csv, from loadtests/Gateway.JitLog).
# Needs dotnet-trace (dotnet tool install -g dotnet-trace). Writes OUT_DIR/run (the report),
# OUT_DIR/NAME.nettrace and NAME-pauses.csv per process, and OUT_DIR/rounds.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "$1"); shift
export PATH=$PATH:$HOME/.dotnet/tools
command -v dotnet-trace >/dev/null || { echo "dotnet-trace not found: dotnet tool install -g dotnet-trace" >&2; exit 2; }
mkdir -p "$out"
rm -f "$out/.harness-done"
dotnet build Gateway.sln -c Release -v q -nologo >/dev/null
# Keyword 0x1 (GC) at level 4 (informational): suspension, start, end, restart and heap history per
# collection, without the allocation ticks that level 5 adds.
providers='Microsoft-Windows-DotNETRuntime:0x1:4'
# With the JIT's keyword the level must be 5 (MethodJittingStarted and MethodLoadVerbose are verbose
# events), which adds the GC's allocation ticks: about one per 100 KB allocated, a few hundred a second.
[ "${JIT:-0}" = 1 ] && providers='Microsoft-Windows-DotNETRuntime:0x11:5'
trace() { dotnet-trace collect -p "$2" --providers "$providers" --rundown false -o "$out/$1.nettrace" >/dev/null 2>&1 & }
( declare -A seen=()
  until [ -e "$out/.harness-done" ]; do
    for name in gateway plain floor sampleapi loadgen; do
      [ -n "${seen[$name]:-}" ] && continue
      case $name in
        gateway)   pid=$(pgrep -f 'ConsentGateway.dll' | head -1 || true) ;;
        plain)     pid=$(pgrep -af 'PlainProxy.dll --config' | grep -v -- '--buffer-json' | head -1 | cut -d' ' -f1 || true) ;;
        floor)     pid=$(pgrep -af 'PlainProxy.dll --config' | grep -- '--buffer-json' | head -1 | cut -d' ' -f1 || true) ;;
        sampleapi) pid=$(pgrep -f 'SampleApi.dll' | head -1 || true) ;;
        loadgen)   pid=$(pgrep -f 'Gateway.LoadTests.dll --command loadtests/gc-probe.sh' | head -1 || true) ;;
      esac
      [ -n "$pid" ] && { seen[$name]=$pid; trace "$name" "$pid"; }
    done
    [ ${#seen[@]} -eq 5 ] && break
    sleep 1
  done
  wait ) &
dotnet loadtests/Gateway.LoadTests/bin/Release/net10.0/Gateway.LoadTests.dll --command "loadtests/gc-probe.sh $*" "$@" --out "$out/run" | tee "$out/harness.log"
touch "$out/.harness-done"
wait
for f in "$out"/*.nettrace; do
  name=$(basename "$f" .nettrace)
  echo -n "$name: "
  dotnet loadtests/Gateway.GcPauses/bin/Release/net10.0/Gateway.GcPauses.dll "$f" 2>&1 >"$out/$name-pauses.csv"
  if [ "${JIT:-0}" = 1 ]; then
    echo -n "$name JIT: "
    dotnet loadtests/Gateway.JitLog/bin/Release/net10.0/Gateway.JitLog.dll "$f" 2>&1 >"$out/$name-jit.csv"
  fi
done
python3 loadtests/rounds_with_pauses.py "$out" | tee "$out/rounds.txt" | grep -E '^==|STALL|^ +[a-z]+ .*<-'
