#!/usr/bin/env bash
# Smoke test of every server built by build.sh: start it pinned (start.sh), check that echoes come back,
# stop it with SIGTERM and check that it exits with status 0.
#   plaintext (udp-async, udp-blocking, c-mmsg): 200 datagrams of 1..1200 bytes, an empty one and a 65507-byte one
#   DTLS (openssl, bouncycastle, hotdtls): 4 concurrent `openssl s_client -dtls1_2 -psk ...`, each sending two lines,
#     then HotDtls's client (`HotDtls.Cli connect ... --count 3`); every line must come back
# Usage: bench/baselines/check.sh [NAME...] (default: all but hotdtls, whose `serve` answers "ACK" rather than
# echoing). Needs python3 and the openssl CLI.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out="$here/out"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(udp-async udp-blocking c-mmsg openssl bouncycastle hotdtls)
port=${CHECK_PORT:-47310}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
passes=0

# Running and not a zombie (a server started by start.sh is reparented; its reaper may be slow).
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

check_plaintext() { # PORT
    python3 - "$1" <<'PY'
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
def echo(message):
    s.sendto(message, ("127.0.0.1", port))
    reply, _ = s.recvfrom(70000)
    return reply == message
good = sum(echo(bytes([i % 256]) * (1 + i * 6)) for i in range(200))
good += echo(b"") + echo(b"y" * 65507)
print(f"  plaintext: {good}/202 datagrams echoed")
sys.exit(0 if good == 202 else 1)
PY
}

check_dtls() { # PORT
    local p=$1 ok=0 i
    for i in 1 2 3 4; do
        ( (sleep 0.5; echo "s_client $i ping 1"; sleep 0.5; echo "s_client $i ping 2"; sleep 1) \
            | timeout 10 openssl s_client -dtls1_2 -psk 1a2b3c4d5e6f -psk_identity "id$i" -connect "127.0.0.1:$p" \
            >"$work/s_client$i.out" 2>&1 ) &
    done
    wait
    for i in 1 2 3 4; do
        local suite
        suite=$(grep -ao "Cipher is [A-Z0-9-]*" "$work/s_client$i.out" | head -1)
        if grep -aq "^s_client $i ping 1" "$work/s_client$i.out" && grep -aq "^s_client $i ping 2" "$work/s_client$i.out"; then
            ok=$((ok + 1))
            echo "  openssl s_client $i: both lines echoed ($suite)"
        else
            echo "  openssl s_client $i: FAILED"; sed 's/^/    /' "$work/s_client$i.out" | tail -20
        fi
    done
    "$out/hotdtls/HotDtls.Cli" connect 127.0.0.1 "$p" --count 3 --interval 200 >"$work/hotdtls.out" 2>&1
    local replies
    replies=$(grep -c "Received: I am Qt DTLS example client, please, accept our ping" "$work/hotdtls.out")
    echo "  HotDtls client: $replies/3 pings echoed; $(grep -o "encrypted\. [A-Z0-9_]*" "$work/hotdtls.out")"
    [ "$replies" = 3 ] || sed 's/^/    /' "$work/hotdtls.out"
    [ $ok = 4 ] && [ "$replies" = 3 ]
}

for name in "${names[@]}"; do
    port=$((port + 1))
    echo "== $name on port $port"
    if ! pid=$(LOG_DIR="$work" "$here/start.sh" "$name" "$port" 0); then
        echo "  could not start"; failures=$((failures + 1)); continue
    fi
    case "$name" in
        udp-async|udp-blocking|c-mmsg) check_plaintext "$port"; result=$? ;;
        *) check_dtls "$port"; result=$? ;;
    esac
    kill -TERM "$pid"
    for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
        echo "  did not exit within 10 s of SIGTERM"; kill -KILL "$pid"; result=1
    else
        # Not our child (start.sh started it), so its exit status is not ours to wait for: read its log.
        echo "  stopped: $(tail -1 "$work/$name-$port.log")"
    fi
    if [ "$result" = 0 ]; then passes=$((passes + 1)); else failures=$((failures + 1)); fi
done
echo "$passes passed, $failures failed"
[ $failures = 0 ]
