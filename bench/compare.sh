#!/usr/bin/env bash
# bench/compare.sh [--rounds N] [--short] REF — HotDtls at git REF beside HotDtls as checked out, in one run: the
# same load against each, alternating which goes first, N rounds (default 5), server pinned to CPU 0 and the load
# generator (this tree's bench/HotDtls.Load) to CPU 1. Reports the median of each figure and after ÷ before:
#   server CPU µs per echo datagram and per handshake (echo: 16 sessions × 8 × 1200 B; handshakes with cookie),
#   echo datagrams/s and handshakes/s, and RSS per idle session holding 10 000 and 100 000 sessions (once each).
# A change must not make the server's CPU per operation worse: this is how a change is checked against its parent
# (e.g. bench/compare.sh HEAD~1). --short: one round, brief (checks the script runs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
rounds=5; short=0; ref=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --short) short=1; rounds=1; shift ;;
    -*) echo "usage: bench/compare.sh [--rounds N] [--short] REF" >&2; exit 2 ;;
    *) ref="$1"; shift ;;
  esac
done
[ -n "$ref" ] || { echo "usage: bench/compare.sh [--rounds N] [--short] REF" >&2; exit 2; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
ulimit -n 262144 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ $short = 1 ]; then ECHO_S=2; HS_N=2000; HOLD=(1000); WARM=1; SETTLE=1
else ECHO_S=10; HS_N=20000; HOLD=(10000 100000r); WARM=5; SETTLE=25; fi
cpus=$(nproc); server_cpu=0; load_cpu=$(( cpus > 1 ? 1 : 0 ))

sha=$(git -C "$root" rev-parse --short "$ref")
results="$here/results/compare-$(date -u +%Y%m%dT%H%M%SZ)-$sha"
mkdir -p "$results"
export LOG_DIR="$results/logs"

echo "== building $ref ($sha) and this tree" >&2
# REF's sources go outside the repository: a second copy of its projects inside would confuse BenchmarkDotNet and
# `dotnet` project discovery.
src=$(mktemp -d)
git -C "$root" archive --format=tar "$ref" | tar -x -C "$src"
dotnet build "$src/src/HotDtls.Cli/HotDtls.Cli.csproj" -c Release -o "$results/before" --nologo -v quiet -clp:NoSummary >&2
rm -rf "$src"
dotnet build "$root/src/HotDtls.Cli/HotDtls.Cli.csproj" -c Release -o "$results/after" --nologo -v quiet -clp:NoSummary >&2
dotnet build "$here/HotDtls.Load" -c Release --nologo -v quiet -clp:NoSummary >&2
L="$here/HotDtls.Load/bin/Release/net10.0/HotDtls.Load"

port=23600; pid=""
stop() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; fi; }
trap 'stop; rm -rf "$src"' EXIT
start() { # before|after
  port=$((port + 1))
  pid=$(HOTDTLS_CLI="$results/$1/HotDtls.Cli" "$here/baselines/start.sh" hotdtls "$port" "$server_cpu" -- --echo --quiet --loops 1)
}
load() { # FILE ARGS...
  local file=$1; shift
  "$L" "$@" --server "127.0.0.1:$port" --cpu "$load_cpu" --json --no-progress >"$results/$file.json" 2>"$results/$file.txt" \
    || { echo "load $* failed:" >&2; tail -n 5 "$results/$file.txt" >&2; echo '{}' >"$results/$file.json"; }
}

for round in $(seq 1 "$rounds"); do
  order=(before after); [ $((round % 2)) = 0 ] && order=(after before)
  for which in "${order[@]}"; do
    echo "== round $round: $which" >&2
    start "$which"
    load "$which-echo-$round" echo -k 16 -w 8 -s 1200 -d "$ECHO_S" --warmup "$WARM" --pid "$pid"
    load "$which-handshake-$round" handshake -n "$HS_N" -c 32 --warmup "$WARM" --pid "$pid"
    stop
  done
done
for entry in "${HOLD[@]}"; do
  k=${entry%r}; release=""; [ "$k" != "$entry" ] && release="--release-sockets"
  for which in before after; do
    echo "== hold $k: $which" >&2
    start "$which"
    load "$which-hold-$k" hold -k "$k" -c 64 --settle "$SETTLE" --pid "$pid" $release
    stop
  done
done

python3 - "$results" "$ref" "$sha" "$rounds" <<'PY'
import json, os, statistics, sys
results, ref, sha, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def read(name):
    try:
        with open(os.path.join(results, name + ".json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}
def med(which, mode, key):
    values = [read(f"{which}-{mode}-{r}").get(key) for r in range(1, rounds + 1)]
    values = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(values) if values else None
rows = [
    ("server CPU µs per echo datagram", lambda w: med(w, "echo", "server_cpu_us_per_op")),
    ("server CPU µs per handshake", lambda w: med(w, "handshake", "server_cpu_us_per_op")),
    ("echo datagrams/s", lambda w: med(w, "echo", "datagrams_per_second")),
    ("handshakes/s", lambda w: med(w, "handshake", "handshakes_per_second")),
]
for name in sorted(os.listdir(results)):
    if name.startswith("before-hold-") and name.endswith(".json"):
        k = name[len("before-hold-"):-5]
        rows.append((f"RSS bytes per idle session, {int(k):,} sessions",
                     lambda w, k=k: read(f"{w}-hold-{k}").get("server_rss_per_session_bytes")))
fmt = lambda v: "–" if v is None else (f"{v:,.2f}" if v < 100 else f"{v:,.0f}")
print(f"HotDtls {ref} ({sha}) vs this tree; medians of {rounds} round(s), alternating order; results in {results}")
print()
print(f"| figure | before ({sha}) | after | after ÷ before |")
print("|---|---|---|---|")
for label, get in rows:
    b, a = get("before"), get("after")
    ratio = f"{a / b:.3f}" if a is not None and b else "–"
    print(f"| {label} | {fmt(b)} | {fmt(a)} | {ratio} |")
PY
