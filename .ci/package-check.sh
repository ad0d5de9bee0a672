#!/usr/bin/env bash
# Packs the library and the tool as a release would, then installs the tool from the packages and runs a serve/connect
# round trip through it. Called by .ci/run after the tests.
#
# It packs a clone of HEAD (commit first: uncommitted changes are not in it) whose origin is the canonical GitHub URL, as
# a CI checkout's is: SourceLink then records the commit and maps the sources, where a clone of a local path would warn.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Directory.Build.props: HotDtlsReleasePack makes the build deterministic (ContinuousIntegrationBuild) and brings in
# SourceLink; a global property, so only these packs see it.
release=(-p:HotDtlsReleasePack=true ${VERSION_SUFFIX:+-p:VersionSuffix=$VERSION_SUFFIX})
work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -TERM "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

git clone -q --no-hardlinks "$repo" "$work/src"
git -C "$work/src" remote set-url origin https://github.com/hotdtls/hotdtls
version=$(dotnet msbuild "$work/src/src/HotDtls/HotDtls.csproj" -getProperty:Version "${release[@]}")
packages="$work/packages"
for project in src/HotDtls/HotDtls.csproj src/HotDtls.Hosting/HotDtls.Hosting.csproj src/HotDtls.Cli/HotDtls.Cli.csproj; do
  dotnet pack "$work/src/$project" -c Release -o "$packages" "${release[@]}" >"$work/pack.log" 2>&1 \
    || { cat "$work/pack.log" >&2; exit 1; }
  if grep -q ": warning " "$work/pack.log"; then
    echo "dotnet pack $project warned; a release pack must be clean:" >&2
    grep ": warning " "$work/pack.log" | sort -u >&2
    exit 1
  fi
done
for file in "HotDtls.$version.nupkg" "HotDtls.$version.snupkg" "HotDtls.Hosting.$version.nupkg" "HotDtls.Cli.$version.nupkg"; do
  [ -f "$packages/$file" ] || { echo "dotnet pack did not produce $file:" >&2; ls "$packages" >&2; exit 1; }
done
# The library package carries its README and licence, and SourceLink's commit.
nuspec=$(unzip -p "$packages/HotDtls.$version.nupkg" HotDtls.nuspec)
for needle in '<license type="expression">MIT</license>' '<readme>PACKAGE.md</readme>' 'url="https://github.com/hotdtls/hotdtls"' "commit=\"$(git -C "$work/src" rev-parse HEAD)\""; do
  grep -qF "$needle" <<<"$nuspec" || { echo "HotDtls.nuspec lacks $needle:" >&2; echo "$nuspec" >&2; exit 1; }
done
echo "packed: $(cd "$packages" && ls | tr '\n' ' ')"

# The tool, installed from those packages as a user would.
tools="$work/tools"
dotnet tool install HotDtls.Cli --tool-path "$tools" --add-source "$packages" --version "$version" >/dev/null
reported=$("$tools/hotdtls" --version 2>&1) || { echo "hotdtls --version failed: $reported" >&2; exit 1; }
grep -qF "$version" <<<"$reported" || { echo "hotdtls --version said '$reported', not $version" >&2; exit 1; }
echo "hotdtls --version: $reported"

# A round trip through the installed tool: serve on a port the kernel picks (--quiet prints the one it got), one ping
# from connect (which waits --interval ms for replies after each ping, then closes), the ACK back, then SIGTERM, which
# must end the server cleanly (close_notify to every peer, exit status 0).
"$tools/hotdtls" serve --port 0 --quiet </dev/null >"$work/serve.log" 2>&1 &
server_pid=$!
port=
for _ in $(seq 1 300); do
  port=$(sed -n 's/^listening on .*:\([0-9][0-9]*\)$/\1/p' "$work/serve.log" | head -n 1)
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { echo "hotdtls serve exited:" >&2; cat "$work/serve.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "hotdtls serve did not start listening in 30 s:" >&2; cat "$work/serve.log" >&2; exit 1; }
"$tools/hotdtls" connect 127.0.0.1 "$port" --count 1 --interval 3000 >"$work/connect.log" 2>&1 \
  || { echo "hotdtls connect failed:" >&2; cat "$work/connect.log" >&2; exit 1; }
grep -q "Received: to .*: ACK" "$work/connect.log" || { echo "hotdtls connect got no ACK:" >&2; cat "$work/connect.log" >&2; exit 1; }
kill -TERM "$server_pid"
wait "$server_pid" || { echo "hotdtls serve did not exit cleanly on SIGTERM:" >&2; cat "$work/serve.log" >&2; exit 1; }
server_pid=
echo "installed tool: serve/connect round trip on port $port answered: $(grep -o 'to .*: ACK' "$work/connect.log" | head -n 1)"
