#!/usr/bin/env bash
# Runs every test of the solution: the one command the README and CI use.
#
#   ./test.sh [extra dotnet test arguments, e.g. --filter "FullyQualifiedName~Consent"]
#
# 1. Makes sure redis-server is on PATH (the Redis tests start their own local instances on free
#    ports). When it is missing and we are root with apt-get, it is installed from Debian's
#    packages; otherwise this script says what to install and stops.
# 2. Runs `dotnet test Gateway.sln -c Release` (every test project in the solution), writing one
#    TRX file per test project into a fresh results directory (TEST_RESULTS_DIR, default
#    ./TestResults).
# 3. Adds up every TRX file and prints, as its very last line, exactly `N passed, M failed`.
#
# Exit status: non-zero when any test failed, when dotnet test failed (build error, crashed or hung
# test host), when a test project is missing from Gateway.sln, or when no test ran at all.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

SOLUTION="Gateway.sln"
RESULTS_DIR="${TEST_RESULTS_DIR:-$ROOT/TestResults}"
# A single test that runs longer than this is treated as hung: its host is stopped and the run fails.
HANG_TIMEOUT="${TEST_HANG_TIMEOUT:-20m}"

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

final() { # passed failed: the closing line, always last
  echo "$1 passed, $2 failed"
}

# --- 1. redis-server --------------------------------------------------------------------------
if ! command -v redis-server >/dev/null 2>&1; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: redis-server not found; installing it: apt-get install -y redis-server"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends redis-server
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    cat >&2 <<'EOF'
test.sh: redis-server is required on PATH (the Redis integration tests start their own instances).
Install it, then run ./test.sh again:
  Debian/Ubuntu:  sudo apt-get update && sudo apt-get install -y redis-server
  Fedora/RHEL:    sudo dnf install -y redis
  Alpine:         sudo apk add redis
  macOS:          brew install redis
EOF
    final 0 0
    exit 1
  fi
fi
echo "test.sh: using $(command -v redis-server) ($(redis-server --version | head -n 1))"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: dotnet (the .NET 10 SDK) is required on PATH." >&2
  final 0 0
  exit 1
fi

# --- every test project must be in the solution, or it would silently not run ------------------
missing=0
while IFS= read -r -d '' proj; do
  if grep -qE '<IsTestProject>[[:space:]]*true|Microsoft\.NET\.Test\.Sdk' "$proj"; then
    rel="${proj#./}"
    if ! grep -qF "${rel//\//\\}" "$SOLUTION" && ! grep -qF "$rel" "$SOLUTION"; then
      echo "test.sh: test project $rel is not in $SOLUTION (add it: dotnet sln $SOLUTION add $rel)" >&2
      missing=$((missing + 1))
    fi
  fi
done < <(find . \( -name bin -o -name obj -o -name .git -o -name node_modules -o -name .tmp \) -prune -o -name '*.csproj' -print0)
if [[ "$missing" -gt 0 ]]; then
  final 0 0
  exit 1
fi

# --- 2. dotnet test ----------------------------------------------------------------------------
rm -rf "$RESULTS_DIR"
mkdir -p "$RESULTS_DIR"

# The TRX logger's default file name is made unique per test project ("…[1].trx"); a fixed
# LogFileName would make every project overwrite the same file in the shared results directory.
set +e
dotnet test "$SOLUTION" -c Release \
  --logger "trx" \
  --results-directory "$RESULTS_DIR" \
  --blame-hang-timeout "$HANG_TIMEOUT" --blame-hang-dump-type none \
  "$@"
test_rc=$?
set -e

# --- 3. add up the TRX files -------------------------------------------------------------------
mapfile -d '' trx_files < <(find "$RESULTS_DIR" -type f -name '*.trx' -print0 | sort -z)

passed=0
failed=0
skipped=0

count_with_python() {
  python3 - "$@" <<'PY'
import sys
import xml.etree.ElementTree as ET

ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:  # a truncated TRX means a crashed run: count it as a failure
        print(f"test.sh: unreadable TRX {path}: {e}", file=sys.stderr)
        failed += 1
        continue
    results = root.findall("t:Results/t:UnitTestResult", ns)
    p = sum(1 for r in results if r.get("outcome") == "Passed")
    s = sum(1 for r in results if r.get("outcome") == "NotExecuted")  # xunit's skipped tests
    f = len(results) - p - s  # Failed, Error, Timeout, Aborted, Inconclusive, …
    counters = root.find("t:ResultSummary/t:Counters", ns)
    if counters is not None:
        # Tests the run counted but never reported a result for did not pass.
        f += max(0, int(counters.get("total", "0")) - len(results))
    passed, failed, skipped = passed + p, failed + f, skipped + s
print(passed, failed, skipped)
PY
}

count_with_grep() {
  local file total outcomes p s n
  for file in "$@"; do
    outcomes=$(grep -o '<UnitTestResult [^>]*>' "$file" | grep -o ' outcome="[A-Za-z]*"' || true)
    n=$(grep -c . <<<"$outcomes" || true)
    p=$(grep -c 'outcome="Passed"' <<<"$outcomes" || true)
    s=$(grep -c 'outcome="NotExecuted"' <<<"$outcomes" || true)
    total=$(grep -o '<Counters [^>]*>' "$file" | head -n 1 | sed -n 's/.* total="\([0-9]*\)".*/\1/p' || true)
    total=${total:-0}
    passed=$((passed + p))
    skipped=$((skipped + s))
    failed=$((failed + n - p - s))
    if ((total > n)); then
      failed=$((failed + total - n))
    fi
  done
  echo "$passed $failed $skipped"
}

if ((${#trx_files[@]} > 0)); then
  if command -v python3 >/dev/null 2>&1; then
    read -r passed failed skipped < <(count_with_python "${trx_files[@]}")
  else
    read -r passed failed skipped < <(count_with_grep "${trx_files[@]}")
  fi
fi

echo
echo "test.sh: ${#trx_files[@]} TRX file(s) in $RESULTS_DIR; skipped: $skipped"

rc=0
if [[ "$test_rc" -ne 0 ]]; then
  echo "test.sh: dotnet test exited with code $test_rc."
  if [[ "$failed" -eq 0 ]]; then
    # No failing test was recorded, so the run itself failed (build error, crashed or hung test
    # host): count it, so the closing line never reads "0 failed" for a failed run.
    echo "test.sh: no failing test was recorded; the run itself failed (build error or test host crash?), counted as 1 failure."
    failed=1
  fi
  rc=1
fi
if [[ "$failed" -gt 0 ]]; then
  rc=1
fi
if [[ $((passed + failed)) -eq 0 ]]; then
  echo "test.sh: no test ran."
  rc=1
fi

final "$passed" "$failed"
exit "$rc"
