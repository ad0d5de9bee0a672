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

echo "== load: 2000 handshakes, then ${echo_seconds} s of echo (16 sessions)"
"$load" handshake --server "127.0.0.1:$port" -n 2000 --no-progress 2>&1 | grep -Ei "^ *(handshakes/s|established|failed|handshake latency)" | head -n 5 || true
"$load" echo --server "127.0.0.1:$port" -k 16 -d "$echo_seconds" --no-progress 2>&1 | grep -Ei "^ *(datagrams sent|replies received|datagrams/s|round trip)" | head -n 5 || true
# Two more collections after the load, so the CSV ends with the final totals.
sleep 3
kill -INT "$counters_pid" 2>/dev/null || true
wait "$counters_pid" 2>/dev/null || true
counters_pid=""

echo "== dotnet-counters collect --counters HotDtls, one line per instrument and tag set (full CSV: ${csv#"$root"/})"
echo "   counters: the total over the collection and the highest rate in one second; gauges and percentiles: last and highest"
# CSV columns: Timestamp,Provider,Counter Name,Counter Type,Mean/Increment (a Rate row is the increment of its interval).
awk -F, 'NR > 1 {
    key = $3; value = $5 + 0
    if (!(key in seen)) { seen[key] = 1; names[++n] = key; type[key] = $4; peak[key] = value }
    if ($4 == "Rate") total[key] += value; else last[key] = value
    if (value > peak[key]) peak[key] = value
  }
  END {
    for (i = 1; i <= n; i++) {
      k = names[i]; shown = k; sub(/;?server\.address=[^;\]]*/, "", shown); sub(/;?server\.port=[^;\]]*/, "", shown)
      sub(/dtls\.role=server/, "", shown); gsub(/;;/, ";", shown); sub(/\[;/, "[", shown); sub(/;\]/, "]", shown)
      sub(/\[\]/, "", shown)
      if (type[k] == "Rate") printf "  %-120s total %12.0f  peak/s %10.0f\n", shown, total[k], peak[k]
      else printf "  %-120s last %13.6g  highest %9.6g\n", shown, last[k], peak[k]
    }
  }' "$csv"
echo "   (every measurement also carries dtls.role=server, server.address=127.0.0.1, server.port=$port)"
