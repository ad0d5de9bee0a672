#!/usr/bin/env bash
# Starts one echo server of the benchmark suite, pinned to one CPU, and prints its PID once it listens.
#
#   bench/baselines/start.sh NAME PORT [CPU] [-- EXTRA-ARGS...]
#
# NAME: udp-async | udp-blocking | c-mmsg | openssl | bouncycastle | hotdtls
# CPU:  the core to pin to with taskset (default 0); EXTRA-ARGS go to the server's command line.
# Needs bench/baselines/build.sh first. The server's output goes to $LOG_DIR/NAME-PORT.log (default
# bench/baselines/out/logs). Stop it with `kill PID` (SIGTERM): every server exits cleanly on it.
# The server runs in its own process group (job control on), so a Ctrl+C meant for the caller does not
# reach it; the caller stops it by PID.
set -euo pipefail
set -m

usage() {
    echo "usage: $0 udp-async|udp-blocking|c-mmsg|openssl|bouncycastle|hotdtls PORT [CPU] [-- EXTRA-ARGS...]" >&2
    exit 2
}
[ $# -ge 2 ] || usage
name=$1
port=$2
shift 2
cpu=0
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
    cpu=$1
    shift
fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out="$here/out"
case "$name" in
    udp-async)    command=("$out/UdpEcho/UdpEcho" async "$port") ;;
    udp-blocking) command=("$out/UdpEcho/UdpEcho" blocking "$port") ;;
    c-mmsg)       command=("$out/udp_echo_mmsg" "$port") ;;
    openssl)      command=("$out/openssl_dtls_echo" "$port") ;;
    bouncycastle) command=("$out/BouncyCastleEcho/BouncyCastleEcho" "$port") ;;
    # HOTDTLS_CLI: another build of `hotdtls` (bench/compare.sh runs an earlier commit's beside this one).
    hotdtls)      command=("${HOTDTLS_CLI:-$out/hotdtls/HotDtls.Cli}" serve --port "$port" --echo --quiet) ;;
    *) usage ;;
esac
if [ ! -x "${command[0]}" ]; then
    echo "start.sh: ${command[0]} is missing; run bench/baselines/build.sh first" >&2
    exit 1
fi

log_dir=${LOG_DIR:-$out/logs}
mkdir -p "$log_dir"
log="$log_dir/$name-$port.log"
: > "$log"
# taskset execs the server, so $! is the server's own PID.
taskset -c "$cpu" "${command[@]}" "$@" </dev/null >"$log" 2>&1 &
pid=$!

# Every server prints a line with "listening" once its socket is bound (HotDtls: "Server is listening on").
for _ in $(seq 1 300); do
    if grep -qi "listening" "$log"; then
        echo "$pid"
        exit 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "start.sh: $name exited before listening; its output:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.1
done
echo "start.sh: $name did not report listening within 30 s; stopping it (PID $pid). Its output:" >&2
cat "$log" >&2
kill "$pid" 2>/dev/null || true
exit 1
