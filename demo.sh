#!/usr/bin/env bash
# Quick start: builds the gateway and the sample upstream API, starts both (the gateway on its
# embedded in-process consent store, so nothing else is needed), then walks through a consent
# decision with curl:
#   (a) the CRM reads a customer for marketing without consent: personal fields are withheld;
#   (b) the subject's consent is granted through the admin API (a receipt comes back);
#   (c) the same read now carries the fields marketing may use;
#   (d) a request carrying data its purpose may not use is blocked with 403 problem+json.
#
# Usage: ./demo.sh [--keep] [--no-build]
#   --keep      leave the sample API and the gateway running afterwards (prints their PIDs)
#   --no-build  reuse the last Release build
#
# Ports: sample API 127.0.0.1:5080, gateway proxy 127.0.0.1:8080, gateway admin 127.0.0.1:8081.
# Needs: dotnet (SDK 10), curl; python3 is used to pretty-print JSON when present.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

KEEP=0
BUILD=1
for arg in "$@"; do
  case "$arg" in
    --keep) KEEP=1 ;;
    --no-build) BUILD=0 ;;
    -h | --help)
      sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "demo.sh: unknown option '$arg' (try --help)" >&2
      exit 2
      ;;
  esac
done

SAMPLE_URL="http://127.0.0.1:5080"
PROXY="http://127.0.0.1:8080"
ADMIN="http://127.0.0.1:8081"
CONFIG="$ROOT/config/gateway.json"
SAMPLE_DLL="$ROOT/src/SampleApi/bin/Release/net10.0/SampleApi.dll"
GATEWAY_DLL="$ROOT/src/Gateway/bin/Release/net10.0/ConsentGateway.dll"
WORK="$ROOT/.tmp/demo"
mkdir -p "$WORK"

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

if [[ -t 1 ]]; then
  BOLD=$'\e[1m' DIM=$'\e[2m' CYAN=$'\e[36m' RED=$'\e[31m' GREEN=$'\e[32m' RESET=$'\e[0m'
else
  BOLD='' DIM='' CYAN='' RED='' GREEN='' RESET=''
fi

for tool in dotnet curl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "demo.sh: '$tool' is required but not on PATH." >&2
    exit 1
  fi
done

if command -v python3 >/dev/null 2>&1; then HAVE_PYTHON=1; else HAVE_PYTHON=0; fi

SAMPLE_PID=''
GATEWAY_PID=''
DEMO_DONE=0

stop_all() {
  local pid
  for pid in "$GATEWAY_PID" "$SAMPLE_PID"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
    fi
  done
  for pid in "$GATEWAY_PID" "$SAMPLE_PID"; do
    if [[ -n "$pid" ]]; then
      wait "$pid" 2>/dev/null || true
    fi
  done
}

on_exit() {
  local rc=$?
  if [[ "$KEEP" == 1 && "$DEMO_DONE" == 1 ]]; then
    echo
    echo "Left running (--keep): sample API pid $SAMPLE_PID, gateway pid $GATEWAY_PID."
    echo "  proxy $PROXY   admin $ADMIN   upstream $SAMPLE_URL"
    echo "  logs  $WORK/sample-api.log  $WORK/gateway.log"
    echo "  stop  kill $GATEWAY_PID $SAMPLE_PID"
  else
    stop_all
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_busy() {
  # true when something already accepts connections on 127.0.0.1:$1
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ---------------------------------------------------------------------------------------------
echo "${BOLD}== Build (Release)${RESET}"
if [[ "$BUILD" == 1 ]]; then
  dotnet build "$ROOT/src/SampleApi/SampleApi.csproj" -c Release -nologo -v quiet
  dotnet build "$ROOT/src/Gateway/Gateway.csproj" -c Release -nologo -v quiet
fi
for dll in "$SAMPLE_DLL" "$GATEWAY_DLL"; do
  if [[ ! -f "$dll" ]]; then
    echo "demo.sh: $dll is missing; run without --no-build." >&2
    exit 1
  fi
done

for port in 5080 8080 8081; do
  if port_busy "$port"; then
    echo "demo.sh: port $port on 127.0.0.1 is already in use (an earlier ./demo.sh --keep?). Stop it first." >&2
    exit 1
  fi
done

echo "${BOLD}== Start${RESET}"
dotnet "$SAMPLE_DLL" --urls "$SAMPLE_URL" >"$WORK/sample-api.log" 2>&1 </dev/null &
SAMPLE_PID=$!
echo "sample API   pid $SAMPLE_PID  $SAMPLE_URL  (log: $WORK/sample-api.log)"

# Consent__Redis is forced empty: the quick start always runs on the embedded consent store.
Consent__Redis='' dotnet "$GATEWAY_DLL" --config "$CONFIG" >"$WORK/gateway.log" 2>&1 </dev/null &
GATEWAY_PID=$!
echo "gateway      pid $GATEWAY_PID  proxy $PROXY  admin $ADMIN  (log: $WORK/gateway.log)"

wait_for() { # name url pid log
  local name=$1 url=$2 pid=$3 log=$4 i
  for ((i = 0; i < 120; i++)); do
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
      echo "$name is ready ($url)"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "${RED}demo.sh: $name exited during start-up; last lines of $log:${RESET}" >&2
      tail -n 40 "$log" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
  echo "${RED}demo.sh: $name not ready at $url after 60 s; last lines of $log:${RESET}" >&2
  tail -n 40 "$log" >&2 || true
  exit 1
}
wait_for "sample API" "$SAMPLE_URL/healthz" "$SAMPLE_PID" "$WORK/sample-api.log"
wait_for "gateway" "$ADMIN/readyz" "$GATEWAY_PID" "$WORK/gateway.log"

# ---------------------------------------------------------------------------------------------
# show_curl ARGS...: print the command as one could paste it, run it, and print the status line,
# the consent headers and the (pretty-printed) body. Sets STATUS, HEADERS (file) and BODY (file).
HEADERS="$WORK/last-headers.txt"
BODY="$WORK/last-body.json"
STATUS=''

quote() {
  local a=$1
  if [[ "$a" =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
    printf '%s' "$a"
  else
    printf "'%s'" "${a//\'/\'\\\'\'}"
  fi
}

show_curl() {
  local line='curl' a
  for a in "$@"; do line+=" $(quote "$a")"; done
  echo "${CYAN}\$ ${line}${RESET}"
  STATUS=$(curl -sS --max-time 10 -D "$HEADERS" -o "$BODY" -w '%{http_code}' "$@") || {
    echo "${RED}curl failed${RESET}"
    STATUS=000
    return 0
  }
  tr -d '\r' <"$HEADERS" | grep -E '^HTTP/' | tail -n 1 || true
  tr -d '\r' <"$HEADERS" | grep -iE '^(x-consent-[a-z-]*|content-type|location):' || true
  if [[ -s "$BODY" ]]; then
    if [[ "$HAVE_PYTHON" == 1 ]] && python3 -m json.tool <"$BODY" 2>/dev/null; then
      :
    else
      cat "$BODY"
      echo
    fi
  fi
  echo
}

header_value() { # name -> value of that response header in $HEADERS (last one), or empty
  tr -d '\r' <"$HEADERS" | grep -i "^$1:" | tail -n 1 | cut -d: -f2- | sed 's/^ *//' || true
}

UNEXPECTED=0
expect() { # condition-description, then a command that must succeed
  local what=$1
  shift
  if "$@"; then
    echo "${GREEN}✓ ${what}${RESET}"
  else
    echo "${RED}✗ expected: ${what}${RESET}"
    UNEXPECTED=$((UNEXPECTED + 1))
  fi
  echo
}
body_has_key() { grep -q "\"$1\"[[:space:]]*:" "$BODY"; }
body_lacks_key() { ! body_has_key "$1"; }
status_is() { [[ "$STATUS" == "$1" ]]; }
status_is_2xx() { [[ "$STATUS" == 2?? ]]; }
body_has() { grep -q -- "$1" "$BODY"; }
body_is_json() { [[ "$HAVE_PYTHON" == 0 ]] || python3 -m json.tool <"$BODY" >/dev/null 2>&1; }
body_lacks() { ! body_has "$1"; }

step() {
  echo
  echo "${BOLD}== $1${RESET}"
  shift
  local l
  for l in "$@"; do echo "${DIM}$l${RESET}"; done
}

CRM=(-H 'X-Api-Key: demo-crm-key')

# ---------------------------------------------------------------------------------------------
step "(a) The CRM reads customer c-1001 for marketing. c-1001 has not consented to marketing." \
  "marketing has the 'consent' basis (opt-in): with no grant, name and contact details are withheld." \
  "Card, precise location, device and birth date are never marketing's to see (purpose limitation)."
show_curl "$PROXY/customers/c-1001" "${CRM[@]}" -H 'X-Purpose: marketing'
withheld_without_consent() { status_is 200 && body_is_json && [[ "$(header_value X-Consent-Decision)" == filtered ]] && body_lacks_key email; }
expect "200, valid JSON, X-Consent-Decision: filtered, no email in the body" withheld_without_consent

step "(b) c-1001 grants marketing consent, recorded through the admin API (port 8081)." \
  "The write returns a receipt; every gateway instance drops its cached decision for c-1001."
show_curl -X PUT "$ADMIN/v1/subjects/c-1001/consents/marketing" \
  -H 'X-Admin-Key: demo-admin-key' -H 'Content-Type: application/json' \
  -d '{"status":"granted","source":"demo"}'
receipt_granted() { status_is_2xx && body_has granted; }
expect "2xx with a receipt saying granted" receipt_granted

step "(c) The same read for marketing: name, e-mail, phone and addresses now travel." \
  "The fields marketing does not declare are still withheld, whatever the consent says."
show_curl "$PROXY/customers/c-1001" "${CRM[@]}" -H 'X-Purpose: marketing'
allowed_with_consent() { status_is 200 && body_is_json && body_has_key name && body_has_key email && body_has_key phone; }
expect "200, valid JSON with name, email and phone in the body" allowed_with_consent

step "(d) The CRM places an order for order-fulfilment but sends a card number along." \
  "order-fulfilment does not declare user.financial, and POST /orders uses the 'block' action:" \
  "the request is rejected with 403 problem+json naming the category (never the value); nothing reaches the API."
show_curl -X POST "$PROXY/orders" "${CRM[@]}" -H 'X-Purpose: order-fulfilment' \
  -H 'Content-Type: application/json' \
  -d '{"customerId":"c-1001","items":[{"sku":"SKU-1001","quantity":1}],"cardNumber":"4111111111111111"}'
blocked_card() {
  status_is 403 && [[ "$(header_value Content-Type)" == application/problem+json* ]] \
    && body_has user.financial.credit_card && body_lacks 4111111111111111
}
expect "403 application/problem+json naming user.financial.credit_card, without the card number" blocked_card

step "(e) What SREs see: the gateway's Prometheus metrics on the admin listener."
echo "${CYAN}\$ curl -s $ADMIN/metrics | grep -E '^gateway_(requests|fields_withheld)_total'${RESET}"
curl -sS --max-time 5 "$ADMIN/metrics" 2>/dev/null | grep -E '^gateway_(requests|fields_withheld)_total' || echo "(no matching metrics)"
echo

# ---------------------------------------------------------------------------------------------
DEMO_DONE=1
if [[ "$UNEXPECTED" -eq 0 ]]; then
  echo "${GREEN}${BOLD}Demo complete: every step behaved as described.${RESET}"
else
  echo "${RED}${BOLD}Demo complete with $UNEXPECTED unexpected result(s); see the logs in $WORK.${RESET}"
  exit 1
fi
