#!/usr/bin/env bash
# Impaired-network table (issue 3): builds HotDtls.Stress in Release and runs `impair`, passing every argument on.
#   tests/HotDtls.Stress/impair.sh                 # full table (about 10 minutes on 2 cores)
#   tests/HotDtls.Stress/impair.sh --short         # quick look
#   tests/HotDtls.Stress/impair.sh --out impair.md # also write the Markdown
# Works from any directory; relative paths (--out) are taken from the caller's directory.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dotnet build "$here/HotDtls.Stress.csproj" -c Release --nologo -v quiet -clp:ErrorsOnly >&2
exec dotnet "$here/bin/Release/net10.0/HotDtls.Stress.dll" impair "$@"
