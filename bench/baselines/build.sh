#!/usr/bin/env bash
# Builds every baseline server of the benchmark suite, and HotDtls's own `serve`, into bench/baselines/out/:
#   out/udp_echo_mmsg          C, plaintext, recvmmsg/sendmmsg            (gcc -O2)
#   out/openssl_dtls_echo      C, OpenSSL 3 DTLS 1.2 PSK                  (gcc -O2, libssl-dev)
#   out/UdpEcho/UdpEcho        C#, plaintext, async or blocking socket    (dotnet build -c Release)
#   out/BouncyCastleEcho/...   C#, BouncyCastle 2.7.0 DTLS 1.2 PSK        (dotnet build -c Release)
#   out/hotdtls/HotDtls.Cli    src/HotDtls.Cli in Release                 (dotnet build -c Release)
# Installs gcc and libssl-dev with apt-get when they are missing (the machine may be new).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out="$here/out"
mkdir -p "$out"

missing=()
command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
[ -f /usr/include/openssl/ssl.h ] || missing+=(libssl-dev)
if [ ${#missing[@]} -gt 0 ]; then
    echo "build.sh: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cflags=(-O2 -Wall -Wextra -Werror -std=gnu11)
echo "build.sh: gcc ${cflags[*]} c/udp_echo_mmsg.c"
gcc "${cflags[@]}" -o "$out/udp_echo_mmsg" "$here/c/udp_echo_mmsg.c"
echo "build.sh: gcc ${cflags[*]} c/openssl_dtls_echo.c -lssl -lcrypto"
gcc "${cflags[@]}" -o "$out/openssl_dtls_echo" "$here/c/openssl_dtls_echo.c" -lssl -lcrypto

build_dotnet() { # PROJECT OUTPUT-DIRECTORY
    echo "build.sh: dotnet build -c Release $1"
    dotnet build "$1" -c Release -o "$2" --nologo -v quiet -clp:NoSummary -warnaserror
}
build_dotnet "$here/UdpEcho/UdpEcho.csproj" "$out/UdpEcho"
build_dotnet "$here/BouncyCastleEcho/BouncyCastleEcho.csproj" "$out/BouncyCastleEcho"
build_dotnet "$repo/src/HotDtls.Cli/HotDtls.Cli.csproj" "$out/hotdtls"

echo "build.sh: done; binaries in $out"
