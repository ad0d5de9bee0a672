#!/usr/bin/env bash
# fuzz/run-all.sh SECONDS — every target for SECONDS each (CI runs this); one summary line per target.
# Exits 1 if any target found a crash or a hang (inputs kept under fuzz/out/findings/), after running them all.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
seconds="${1:-120}"
targets=(records client-hello handshake reassembler cookie engine protection ticket resumption cluster)
failed=()
first=1
for target in "${targets[@]}"; do
  if [ $first = 1 ]; then
    FUZZ_SKIP_BUILD=0 "$here/run.sh" "$target" "$seconds" || failed+=("$target")
    first=0
  else
    FUZZ_SKIP_BUILD=1 "$here/run.sh" "$target" "$seconds" || failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found crashes or hangs in: ${failed[*]} (inputs in fuzz/out/findings/<target>/default/)" >&2
  exit 1
fi
echo "fuzzing: ${#targets[@]} targets, ${seconds} s each, no crashes or hangs"
