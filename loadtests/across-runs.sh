#!/usr/bin/env bash
# Summarises earlier runs of one build: per ratio, each run's value, the mean, its 95 % confidence
# interval and how many runs met the goal (see AcrossRuns.cs).
#   loadtests/across-runs.sh --out loadtests/results/across-runs.md loadtests/results/long32 loadtests/results/long33 ...
#   --assume-build COMMIT names the build of runs whose report predates the recorded build (marked as given).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build loadtests/Gateway.LoadTests/Gateway.LoadTests.csproj -c Release -v q -nologo >/dev/null
exec dotnet loadtests/Gateway.LoadTests/bin/Release/net10.0/Gateway.LoadTests.dll across-runs "$@"
