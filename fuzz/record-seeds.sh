#!/usr/bin/env bash
# fuzz/record-seeds.sh — re-records the seed corpora in fuzz/corpus/: HotDtls's own client against the harness
# (Fuzz build: records in clear, so mutations reach what they carry; hotdtls-*), the protection target's records
# sealed under its fixed keys (normal build, so they really authenticate; sealed-*), the resumption harness's
# full and abbreviated handshakes and the ticket target's tickets (normal build; resumption-*, ticket-*), the Connection
# ID conversations with real cryptography (normal build, engine only; real-cid-*), and OpenSSL s_client against the
# harness over UDP (normal build: the handshake must really complete; openssl-*). Each step replaces only its own
# files. Deterministic: the same files come out each time, except OpenSSL's, whose randoms are its own.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dotnet run --project "$here/HotDtls.Fuzz" -c Fuzz -- seed "$here/corpus"
dotnet run --project "$here/HotDtls.Fuzz" -c Release -- seal "$here/corpus"
dotnet run --project "$here/HotDtls.Fuzz" -c Release -- resumption "$here/corpus"
dotnet run --project "$here/HotDtls.Fuzz" -c Release -- record-cid "$here/corpus"
dotnet run --project "$here/HotDtls.Fuzz" -c Release -- record-openssl "$here/corpus"
