#!/usr/bin/env bash
# bench/counters.sh [SECONDS] — the HotDtls meter seen from outside the process, as an operator would see it:
# starts `hotdtls serve --echo --quiet`, attaches `dotnet-counters collect --counters HotDtls` to it, runs a little
# load (2000 handshakes, then SECONDS of echo; default 5), and prints an excerpt of what dotnet-counters recorded
# (the last value of every instrument and tag set). The full CSV stays in bench/results/counters/.
# dotnet-counters is installed locally into bench/.tools (git ignores it), not globally.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
echo_seconds=${1:-5}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

tools="$here/.tools"
if [ ! -x "$tools/dotnet-counters" ]; then
  dotnet tool install dotnet-counters --tool-path "$tools" --version 10.0.750501 >&2
fi
dotnet build "$root/src/HotDtls.Cli" -c Release --nologo -v quiet -clp:NoSummary >&2
dotnet build "$here/HotDtls.Load" -c Release --nologo -v quiet -clp:NoSummary >&2
cli="$root/src/HotDtls.Cli/bin/Release/net10.0/HotDtls.Cli"
load="$here/HotDtls.Load/bin/Release/net10.0/HotDtls.Load"

out="$here/results/counters"
mkdir -p "$out"
csv="$out/counters.csv"
rm -f "$csv"
port=23499
server_pid=""; counters_pid=""
cleanup() {
  for p in $counters_pid $server_pid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

"$cli" serve --port "$port" --echo --quiet </dev/null >"$out/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
  grep -qi "listening" "$out/server.log" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$out/server.log" >&2; exit 1; }
  sleep 0.1
done

# --refresh-interval 1: one collection a second. The session outlasts the load; the trap ends it early if need be.
duration=$(( echo_seconds + 25 ))
"$tools/dotnet-counters" collect --process-id "$server_pid" --counters HotDtls --refresh-interval 1 \
  --format csv -o "$csv" --duration "00:00:$(printf %02d "$duration")" >"$out/dotnet-counters.log" 2>&1 &
counters_pid=$!
# dotnet-counters writes the CSV header once its EventPipe session is up: load before that would be missed by the
# pushed instruments (completed/failed handshakes, durations), which count only while someone listens.
for _ in $(seq 1 300); do
  [ -s "$csv" ] && break
  sleep 0.1
done

"$load" handshake --server "127.0.0.1:$port" -n 2000 --no-progress 2>&1 | tail -n 3
"$load" echo --server "127.0.0.1:$port" -k 16 -d "$echo_seconds" --no-progress 2>&1 | tail -n 3
# Two more collections after the load, so the CSV ends with the final totals.
sleep 3
kill -INT "$counters_pid" 2>/dev/null || true
wait "$counters_pid" 2>/dev/null || true
counters_pid=""

echo "== dotnet-counters collect --counters HotDtls (last value of each instrument and tag set; full CSV: $csv)"
# CSV columns: Timestamp,Provider,Counter Name,Counter Type,Mean/Increment. Rates are per refresh interval.
awk -F, 'NR > 1 { key = $3; last[key] = $0; if (!(key in order)) { order[key] = ++n; names[n] = key } }
         END { for (i = 1; i <= n; i++) print last[names[i]] }' "$csv"
