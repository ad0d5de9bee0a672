#!/usr/bin/env bash
# Micro-benchmarks (BenchmarkDotNet, bench/HotDtls.Benchmarks), built in Release; works from any directory.
#
#   bench/micro.sh                          every benchmark, BenchmarkDotNet's default job (long: see docs/benchmarks.md)
#   bench/micro.sh --short                  every benchmark once, in process: checks that they all still run (CI)
#   bench/micro.sh --filter '*Aead*'        any BenchmarkDotNet arguments: --filter, --job short, --list flat, ...
#
# Results (Markdown, CSV, HTML and the log) go to bench/results/micro/, which git ignores.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

project="$here/HotDtls.Benchmarks/HotDtls.Benchmarks.csproj"
dotnet build "$project" -c Release -nologo -v quiet
mkdir -p "$here/results/micro"
exec dotnet "$here/HotDtls.Benchmarks/bin/Release/net10.0/HotDtls.Benchmarks.dll" \
  --artifacts "$here/results/micro" "$@"
