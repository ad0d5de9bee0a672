#!/usr/bin/env bash
# Builds HotDtls.Stress (Release) and runs the flood scenario; arguments pass through (try --help).
# Exit code: 0 when every check passed, 1 when one failed, 2 on a usage error.
set -euo pipefail
project="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dotnet build "$project" -c Release --nologo -v quiet -clp:NoSummary >&2
exec dotnet "$project/bin/Release/net10.0/HotDtls.Stress.dll" flood "$@"
