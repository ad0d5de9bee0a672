#!/usr/bin/env bash
# bench/suites.sh [--short] [--rounds N] [--no-docs] [--no-build] — the cipher suites and key exchanges (issue 10):
# for each suite the OpenSSL C server also speaks, that server restricted to the one suite (and group), then
# `hotdtls serve --echo --quiet --loops 1` with its defaults (every suite, X25519 and P-256: the generator's offer of
# one suite and one group decides), each under the same load as bench/run.sh: echo of 1200-byte datagrams, 16
# sessions × 8 in flight, and full handshakes with cookie, the server's PID passed (--pid) so the generator reports
# the server's CPU per echo datagram and per handshake. The RFC 8442 suites OpenSSL lacks run against HotDtls alone.
# Server pinned to CPU 0, generator to CPU 1; N rounds (default 3), the servers' order alternating each round as
# bench/compare.sh does; the report gives medians. Results in bench/results/suites-*/; unless --no-docs or --short,
# the table replaces the part of docs/benchmarks.md between the bench/suites.sh markers.
# --short: one round, briefly (CI: checks that everything runs; asserts nothing about speed).
# --no-build: bench/run.sh has just built everything.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
short=0; docs=1; build=1; rounds=3
usage() { echo "usage: bench/suites.sh [--short] [--rounds N] [--no-docs] [--no-build]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --short) short=1; docs=0; rounds=1; shift ;;
    --rounds) [ $# -ge 2 ] || usage; rounds="$2"; shift 2 ;;
    --no-docs) docs=0; shift ;;
    --no-build) build=0; shift ;;
    *) usage ;;
  esac
done
case "$rounds" in ''|*[!0-9]*|0) usage ;; esac
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [ $short = 1 ]; then ECHO_S=2; HS_N=1000; WARM=1
else ECHO_S=10; HS_N=20000; WARM=5; fi   # as bench/run.sh
cpus=$(nproc); server_cpu=0; load_cpu=$(( cpus > 1 ? 1 : 0 ))

# KEY | label | OpenSSL cipher ("-": HotDtls only) | OpenSSL groups | generator --suite | generator --group | the IANA
# suite that must be negotiated. The first row is the reference: the suite of every other figure in docs/benchmarks.md.
SUITES=(
  "psk-aes128gcm|PSK AES-128-GCM (reference)|PSK-AES128-GCM-SHA256|X25519:P-256|psk-aes128gcm||TLS_PSK_WITH_AES_128_GCM_SHA256"
  "psk-aes128ccm8|PSK AES-128-CCM_8|PSK-AES128-CCM8|X25519:P-256|psk-aes128ccm8||TLS_PSK_WITH_AES_128_CCM_8"
  "psk-aes128ccm|PSK AES-128-CCM|PSK-AES128-CCM|X25519:P-256|psk-aes128ccm||TLS_PSK_WITH_AES_128_CCM"
  "psk-chacha20|PSK ChaCha20-Poly1305|PSK-CHACHA20-POLY1305|X25519:P-256|psk-chacha20||TLS_PSK_WITH_CHACHA20_POLY1305_SHA256"
  "psk-cbc|PSK AES-128-CBC-SHA256 (encrypt_then_mac)|PSK-AES128-CBC-SHA256|X25519:P-256|psk-cbc||TLS_PSK_WITH_AES_128_CBC_SHA256"
  "ecdhe-chacha20-x25519|ECDHE_PSK ChaCha20-Poly1305, X25519|ECDHE-PSK-CHACHA20-POLY1305|X25519|ecdhe-chacha20|x25519|TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256"
  "ecdhe-chacha20-p256|ECDHE_PSK ChaCha20-Poly1305, P-256|ECDHE-PSK-CHACHA20-POLY1305|P-256|ecdhe-chacha20|p256|TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256"
  "ecdhe-cbc-x25519|ECDHE_PSK AES-128-CBC-SHA256 (encrypt_then_mac), X25519|ECDHE-PSK-AES128-CBC-SHA256|X25519|ecdhe-cbc|x25519|TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256"
  "ecdhe-aes128gcm-x25519|ECDHE_PSK AES-128-GCM (RFC 8442), X25519|-|-|ecdhe-aes128gcm|x25519|TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256"
  "ecdhe-aes128gcm-p256|ECDHE_PSK AES-128-GCM (RFC 8442), P-256|-|-|ecdhe-aes128gcm|p256|TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256"
)

if [ $build = 1 ]; then
  echo "== building" >&2
  "$here/baselines/build.sh" >&2
  dotnet build "$here/HotDtls.Load" -c Release --nologo -v quiet -clp:NoSummary >&2
fi
L="$here/HotDtls.Load/bin/Release/net10.0/HotDtls.Load"
results="$here/results/suites-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$results"
export LOG_DIR="$results/logs"
printf '%s\n' "${SUITES[@]}" >"$results/suites.txt"   # the report reads the labels and expected suites from here
printf '{"rounds": %s, "echo_seconds": %s, "handshakes": %s, "warmup_seconds": %s, "short": %s}\n' \
  "$rounds" "$ECHO_S" "$HS_N" "$WARM" "$([ $short = 1 ] && echo true || echo false)" >"$results/settings.json"
port=23800

pid=""
stop() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; fi; }
# The same 4 MiB receive buffer for every server, as bench/run.sh sets it (HotDtls asks for it itself).
rmem_default=$(sysctl -n net.core.rmem_default 2>/dev/null || echo "")
restore() { stop; if [ -n "$rmem_default" ]; then sysctl -q -w net.core.rmem_default="$rmem_default" >/dev/null 2>&1 || true; fi; }
trap restore EXIT
sysctl -q -w net.core.rmem_default=4194304 >/dev/null 2>&1 \
  || echo "warning: cannot set net.core.rmem_default (not root?): servers run with unequal receive buffers" >&2
load() { # FILE ARGS... : the generator pinned to load_cpu; keeps its JSON (an empty object if it failed)
  local file=$1; shift
  "$L" "$@" --server "127.0.0.1:$port" --cpu "$load_cpu" --json --no-progress >"$results/$file.json" 2>"$results/$file.txt" \
    || { echo "load $* failed against port $port:" >&2; tail -n 5 "$results/$file.txt" >&2; echo '{}' >"$results/$file.json"; }
}

for round in $(seq 1 "$rounds"); do
  order=(openssl hotdtls); [ $((round % 2)) = 0 ] && order=(hotdtls openssl)
  for row in "${SUITES[@]}"; do
    IFS='|' read -r key label ciphers groups suite group expected <<<"$row"
    for server in "${order[@]}"; do
      [ "$server" = openssl ] && [ "$ciphers" = - ] && continue
      echo "== round $round/$rounds: $label, $server" >&2
      port=$((port + 1))
      if [ "$server" = openssl ]; then
        pid=$("$here/baselines/start.sh" openssl "$port" "$server_cpu" -- --ciphers "$ciphers" --groups "$groups")
      else
        pid=$("$here/baselines/start.sh" hotdtls "$port" "$server_cpu" -- --echo --quiet --loops 1)
      fi
      offer=(--suite "$suite"); [ -n "$group" ] && offer+=(--group "$group")
      load "$server-$key-echo-$round" echo -k 16 -w 8 -s 1200 -d "$ECHO_S" --warmup "$WARM" --pid "$pid" "${offer[@]}"
      load "$server-$key-handshake-$round" handshake -n "$HS_N" -c 32 --warmup "$WARM" --pid "$pid" "${offer[@]}"
      stop
    done
  done
done

python3 "$here/report.py" --suites "$results" $([ $docs = 1 ] && echo "--docs $root/docs")
