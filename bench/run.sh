#!/usr/bin/env bash
# bench/run.sh [--short] [--no-docs] [--no-suites] — the whole-server benchmark suite, every server against the same
# load, in one run: plaintext echo in C (recvmmsg, the ceiling) and C# (blocking ReceiveFrom, ReceiveFromAsync),
# OpenSSL 3 DTLS in C, BouncyCastle DTLS in C#, and HotDtls. Server pinned to CPU 0, load generator
# (bench/HotDtls.Load) to CPU 1. Prints one table with every figure and its ratio to HotDtls, and (unless --no-docs or
# --short) rewrites the generated part of docs/benchmarks.md and its chart docs/benchmarks-echo.png. Then the
# per-suite section, HotDtls beside OpenSSL suite by suite (bench/suites.sh: about 30 minutes in full; --no-suites
# skips it). Every figure above it is PSK AES-128-GCM (AES-256-GCM where it says so), as before the new suites.
# --short: each measurement once, briefly (CI: checks that everything runs; asserts nothing about speed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
short=0; docs=1; suites=1
for arg in "$@"; do
  case "$arg" in
    --short) short=1; docs=0 ;;
    --no-docs) docs=0 ;;
    --no-suites) suites=0 ;;
    *) echo "usage: bench/run.sh [--short] [--no-docs] [--no-suites]" >&2; exit 2 ;;
  esac
done
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Hold mode with keep-alives keeps one socket per session in the generator: as many descriptors as may be had.
ulimit -n 262144 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ $short = 0 ] && ! command -v gnuplot >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox >/dev/null
fi

# HOLD: sessions to hold against HotDtls; a trailing "r" releases each generator socket once its session is
# established (no keep-alives; the server keeps it for its 5-minute idle timeout), so the count is not bound by the
# generator's descriptor limit. Without "r", a socket per session and a keep-alive every 30 s. A trailing "c" offers
# Connection ID (RFC 9146; the server issues a 6-byte CID to every session): the idle cost with CID negotiated.
if [ $short = 1 ]; then
  ECHO_S=2; HS_N=1000; HOLD=(1000 2000r); SETTLE=1; RATE_S=2; WARM=1
else
  # SETTLE 25 s: idle sessions release their cipher objects after 10 s (ReleaseIdleCiphersAfter); RSS is read after.
  # WARM 5 s: .NET servers (HotDtls, BouncyCastle, the C# echoes) finish tiering up their JIT code in it; with 2 s a
  # handshake run still measured half-optimized code (perf: 13 % of the server in the JIT).
  ECHO_S=10; HS_N=20000; HOLD=(10000 100000r 10000c 100000rc); SETTLE=25; RATE_S=10; WARM=5
fi
cpus=$(nproc)
server_cpu=0; load_cpu=$(( cpus > 1 ? 1 : 0 ))

echo "== building" >&2
"$here/baselines/build.sh" >&2
dotnet build "$here/HotDtls.Load" -c Release --nologo -v quiet -clp:NoSummary >&2
L="$here/HotDtls.Load/bin/Release/net10.0/HotDtls.Load"
results="$here/results/run-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$results"
export LOG_DIR="$results/logs"
port=23400

pid=""
stop() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; fi; }
# Every socket gets the same 4 MiB receive buffer: HotDtls asks for that itself, the baselines take the default, and
# a 208 KiB buffer drops bursts of 16 × 8 × 1200-byte datagrams — which would measure buffer sizes, not servers.
rmem_default=$(sysctl -n net.core.rmem_default 2>/dev/null || echo "")
restore() { stop; if [ -n "$rmem_default" ]; then sysctl -q -w net.core.rmem_default="$rmem_default" >/dev/null 2>&1 || true; fi; }
trap restore EXIT
sysctl -q -w net.core.rmem_default=4194304 >/dev/null 2>&1 \
  || echo "warning: cannot set net.core.rmem_default (not root?): servers run with unequal receive buffers" >&2
start() { # NAME [extra args]
  port=$((port + 1))
  local name=$1; shift
  pid=$("$here/baselines/start.sh" "$name" "$port" "$server_cpu" -- "$@")
}
load() { # FILE MODE ARGS... : runs the generator pinned to load_cpu, keeps its JSON
  local file=$1; shift
  "$L" "$@" --server "127.0.0.1:$port" --cpu "$load_cpu" --json --no-progress >"$results/$file.json" 2>"$results/$file.txt" \
    || { echo "load $* failed against port $port:" >&2; tail -n 5 "$results/$file.txt" >&2; echo '{}' >"$results/$file.json"; }
}

echo "== generator ceiling (plain echo against the C recvmmsg server)" >&2
start c-mmsg; load ceiling ceiling -k 16 -w 8 -s 1200 -d "$ECHO_S"; stop

for server in c-mmsg udp-blocking udp-async openssl bouncycastle hotdtls hotdtls-blocking hotdtls-async; do
  echo "== $server" >&2
  case "$server" in
    hotdtls) start hotdtls --echo --quiet --loops 1 ;;
    # The other receive strategies, echo only: which one is fastest decides the default.
    hotdtls-blocking) start hotdtls --echo --quiet --loops 1 --receive blocking ;;
    hotdtls-async) start hotdtls --echo --quiet --loops 1 --receive async ;;
    *) start "$server" ;;
  esac
  plain=""; case "$server" in c-mmsg|udp-*) plain="--plain" ;; esac
  load "$server-echo" echo -k 16 -w 8 -s 1200 -d "$ECHO_S" --warmup "$WARM" --pid "$pid" $plain
  case "$server" in
    openssl|bouncycastle|hotdtls)
      load "$server-handshake" handshake -n "$HS_N" -c 32 --warmup "$WARM" --pid "$pid"
      # AES-256-GCM too: every DTLS server offers it, and HotDtls moves it to libsodium.
      load "$server-echo256" echo -k 16 -w 8 -s 1200 -d "$ECHO_S" --warmup "$WARM" --pid "$pid" --suite aes256gcm ;;
  esac
  if [ "$server" = hotdtls ] || [ "$server" = udp-async ]; then
    # Latency at half of the peak this server just reached.
    rate=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(max(100, int(d.get("datagrams_per_second", 0) / 2)))' "$results/$server-echo.json")
    load "$server-half" echo -k 16 -w 8 -s 1200 -d "$RATE_S" --warmup "$WARM" --rate "$rate" $plain
  fi
  stop
done

# Resumption: the abbreviated handshake (each slot's first handshake full, every later one resumed), beside
# OpenSSL's C server resuming the same way: by session ID (its cache, no tickets), then by RFC 5077 ticket.
# With an ECDHE_PSK suite (ChaCha20: the one both servers have) resuming also skips the key agreement.
for mode in id ticket ecdhe-full ecdhe-ticket; do
  for server in openssl hotdtls; do
    echo "== $server resumption: $mode" >&2
    suite=(); resume=(--resume "${mode#ecdhe-}")
    case "$mode" in
      ecdhe-full) suite=(--suite ecdhe-chacha20); resume=() ;;
      ecdhe-*) suite=(--suite ecdhe-chacha20) ;;
    esac
    case "$server" in
      openssl) start openssl ${resume[@]+"${resume[@]}"} ${suite[@]+--ciphers ECDHE-PSK-CHACHA20-POLY1305} ;;
      # `serve` keeps no session cache and issues no tickets unless told to (docs/benchmarks.md "Resumption").
      hotdtls) start hotdtls --echo --quiet --loops 1 ${resume[@]+--resume} ;;
    esac
    load "$server-resume-$mode" handshake -n "$HS_N" -c 32 --warmup "$WARM" --pid "$pid" \
      ${resume[@]+"${resume[@]}"} ${suite[@]+"${suite[@]}"}
    stop
  done
done

for entry in "${HOLD[@]}"; do
  k=${entry%%[rc]*}; flags=${entry#"$k"}
  release=""; [[ $flags == *r* ]] && release="--release-sockets"
  cid=""; [[ $flags == *c* ]] && cid="--cid"
  name="hotdtls-hold-$k${cid:+c}"
  echo "== hotdtls hold $k sessions${release:+ (sockets released)}${cid:+ with CID}" >&2
  if [ -z "$release" ] && [ "$k" -gt $(( $(ulimit -n) - 1000 )) ]; then
    # With keep-alives the generator holds one socket per session: no more than the descriptor limit allows.
    reason="skipped: the generator needs $k sockets and may open $(ulimit -n) (ulimit -n; raising it was refused)"
    echo "$reason" >&2
    printf '{"skipped": "%s"}\n' "$reason" >"$results/$name.json"
    continue
  fi
  # A fresh server per count: a released session's source tuple is unique within one generator run only.
  start hotdtls --echo --quiet --loops 1
  load "$name" hold -k "$k" -c 64 --settle "$SETTLE" --pid "$pid" $release $cid
  stop
done

python3 "$here/report.py" "$results" $([ $docs = 1 ] && echo "--docs $root/docs")

if [ $suites = 1 ]; then
  # After the report, so a failure here leaves the table above written. Its own results directory (suites-*).
  stop
  echo "== cipher suites (bench/suites.sh)" >&2
  "$here/suites.sh" --no-build $([ $short = 1 ] && echo --short) $([ $docs = 0 ] && echo --no-docs)
fi
