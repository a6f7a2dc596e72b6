# Sourced by loadtests/bed.sh and loadtests/overhead-split.sh (from the repository root, with OUT set):
# free loopback ports, and the processes of a test bed, each logging to $OUT and stopped when the
# sourcing script exits.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
start_redis() { redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no >"$OUT/redis.log" 2>&1 & pids+=($!); }
start_sampleapi() { dotnet src/SampleApi/bin/Release/net10.0/SampleApi.dll --urls "http://127.0.0.1:$1" >"$OUT/sampleapi.log" 2>&1 & pids+=($!); }
# start_plain CONFIG PORT / start_gateway CONFIG (its ports are in the configuration)
# (start_plain takes extra arguments after the port: the floor proxy is start_plain CONFIG PORT --buffer-json true)
start_plain() { dotnet src/PlainProxy/bin/Release/net10.0/PlainProxy.dll --config "$1" --urls "http://127.0.0.1:$2" "${@:3}" >"$OUT/plain-$2.log" 2>&1 & pids+=($!); }
start_gateway() { dotnet src/Gateway/bin/Release/net10.0/ConsentGateway.dll --config "$1" >"$OUT/gateway.log" 2>&1 & pids+=($!); }
