#!/usr/bin/env bash
# fuzz/run.sh TARGET SECONDS — one AFL++ campaign against one SharpFuzz target (fuzz/README.md).
# Builds the Fuzz configuration (record authentication and Finished checks always pass), instruments HotDtls.dll,
# runs afl-fuzz from fuzz/corpus/TARGET for SECONDS, prints executions and findings, and exits 1 if AFL++ found a
# crash or a hang; those inputs are kept in fuzz/out/findings/TARGET/default/{crashes,hangs} and replayed.
# Environment: FUZZ_SKIP_BUILD=1 reuses fuzz/out/bin (run-all.sh builds once); FUZZ_TIMEOUT_MS (default 2000).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
usage() { echo "usage: fuzz/run.sh TARGET SECONDS   (targets: records client-hello handshake reassembler cookie engine protection ticket resumption cluster)" >&2; exit 2; }
[ $# -eq 2 ] || usage
target="$1"; seconds="$2"
[ -d "$here/corpus/$target" ] || { echo "no corpus for target '$target' in fuzz/corpus/" >&2; usage; }
[[ "$seconds" =~ ^[0-9]+$ ]] || usage

out="$here/out"
bin="$out/bin"
tools="$out/tools"
export PATH="$tools:$PATH" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if ! command -v afl-fuzz >/dev/null 2>&1; then
  echo "installing afl++ (Debian package)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null
fi
if [ "${FUZZ_SKIP_BUILD:-0}" != 1 ] || [ ! -f "$bin/HotDtls.Fuzz.dll" ]; then
  if [ ! -x "$tools/sharpfuzz" ]; then
    dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools" >/dev/null
  fi
  rm -rf "$bin" "$out/replay"
  dotnet publish "$here/HotDtls.Fuzz/HotDtls.Fuzz.csproj" -c Fuzz -o "$bin" --nologo -v quiet >/dev/null
  # Findings are replayed with an uninstrumented copy: instrumented code writes to AFL++'s shared memory and
  # faults outside afl-fuzz.
  cp -r "$bin" "$out/replay"
  # Coverage is collected from the library only: the harness's own branches would only add noise.
  sharpfuzz "$bin/HotDtls.dll" >/dev/null
fi

findings="$out/findings/$target"
rm -rf "$findings"
mkdir -p "$findings"
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
  AFL_QUIET=1 AFL_FAST_CAL=1
stats="$findings/default/fuzzer_stats"
# On a loaded machine the dry run of the first seed has been seen to end with "No instrumentation detected" (the .NET
# runtime had not started in time); the campaign is then started once more from scratch.
for attempt in 1 2; do
  set +e
  afl-fuzz -i "$here/corpus/$target" -o "$findings" -V "$seconds" -t "${FUZZ_TIMEOUT_MS:-2000}" -m none \
    -- dotnet "$bin/HotDtls.Fuzz.dll" afl "$target" >"$findings/afl.log" 2>&1
  status=$?
  set -e
  if [ -f "$stats" ] || ! grep -q "No instrumentation detected" "$findings/afl.log"; then
    break
  fi
  echo "$target: afl-fuzz did not start (no instrumentation seen in the dry run); trying again" >&2
  rm -rf "$findings"; mkdir -p "$findings"
done
if [ ! -f "$stats" ]; then
  echo "afl-fuzz did not start (exit $status):" >&2
  tail -n 30 "$findings/afl.log" >&2
  exit 1
fi
stat() { sed -n "s/^$1 *: *//p" "$stats"; }
crashes=$(find "$findings/default/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
hangs=$(find "$findings/default/hangs" -type f -name 'id:*' 2>/dev/null | wc -l)
runtime=$(( $(stat last_update) - $(stat start_time) ))
echo "$target: $(stat execs_done) executions in ${runtime} s ($(( $(stat execs_done) / (runtime > 0 ? runtime : 1) )) /s), corpus $(stat corpus_count), edges $(stat edges_found), crashes $crashes, hangs $hangs"
if [ "$crashes" -gt 0 ] || [ "$hangs" -gt 0 ]; then
  echo "$target: findings kept in $findings/default/{crashes,hangs}; replaying them:" >&2
  for kind in crashes hangs; do
    [ -d "$findings/default/$kind" ] || continue
    find "$findings/default/$kind" -type f -name 'id:*' -print0 | xargs -0 -r -n 1 sh -c \
      'echo "--- $1"; od -An -tx1 "$1" | head -n 8; timeout 20 dotnet "'"$out/replay"'/HotDtls.Fuzz.dll" replay "'"$target"'" "$1" | head -n 20' _ >&2
  done
  exit 1
fi
