#!/usr/bin/env bash
# deploy/cluster.sh — HotDtls nodes behind nginx's UDP load balancer, on this machine's loopback (docs/scaling.md).
#
#   deploy/cluster.sh up    [--nodes N]   start N nodes (default 3) and nginx; print the addresses; run until Ctrl+C
#   deploy/cluster.sh test  [--short]     the cluster test: (a) load spreads and every echo returns, (b) a node is killed
#                                         and its clients come back with their tickets, (c) CID clients rebind and keep
#                                         their sessions through other nodes, (d) the node restarts and rejoins
#   deploy/cluster.sh bench [--short]     handshakes/s and echo datagrams/s: 1, 2, 3 nodes through nginx, 1 node direct
#
# Addresses: nginx listens on 127.0.0.10:5684; node i serves DTLS on 127.0.0.1i:5684 and its node-to-node channel on
# 127.0.0.1i:5685 (i = 1…N). Every node shares one key file (cookie secret, ticket key, channel key), made here with
# openssl. Needs nginx with the stream module (apt-get install nginx libnginx-mod-stream), openssl and the .NET SDK.
# Exits non-zero, with the reason, when a check fails. Every process it starts is stopped when it exits.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# nginx keeps a socket per client flow for a minute, the load generator one per session: as many descriptors as may be had.
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"

command=${1:-}
shift || true
short=0; nodes=3
while [ $# -gt 0 ]; do
  case "$1" in
    --short) short=1 ;;
    --nodes) nodes=$2; shift ;;
    *) echo "usage: deploy/cluster.sh up|test|bench [--short] [--nodes N]" >&2; exit 2 ;;
  esac
  shift
done
case "$command" in up|test|bench) ;; *) echo "usage: deploy/cluster.sh up|test|bench [--short] [--nodes N]" >&2; exit 2 ;; esac
[ "$nodes" -ge 1 ] && [ "$nodes" -le 9 ] || { echo "--nodes takes 1 to 9" >&2; exit 2; }

VIP=127.0.0.10
PORT=5684
CHANNEL_PORT=5685
node_address() { echo "127.0.0.1$1"; }

for tool in nginx openssl dotnet; do
  command -v "$tool" >/dev/null 2>&1 || { echo "deploy/cluster.sh: $tool is not installed (nginx: apt-get install nginx libnginx-mod-stream)" >&2; exit 1; }
done

run=$(mktemp -d /tmp/hotdtls-cluster.XXXXXX)
declare -A node_pid=()
nginx_pid=""
cleanup() {
  local status=$?
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
  for i in "${!node_pid[@]}"; do kill "${node_pid[$i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ $status -ne 0 ] && [ "$command" != up ]; then
    echo "deploy/cluster.sh: failed; node and nginx logs:" >&2
    for log in "$run"/*.log; do [ -f "$log" ] && { echo "--- $log" >&2; tail -n 20 "$log" >&2; }; done
  fi
  rm -rf "$run"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== building hotdtls and the load generator (Release)" >&2
dotnet build "$root/src/HotDtls.Cli/HotDtls.Cli.csproj" -c Release -o "$run/bin" --nologo -v quiet -clp:NoSummary >&2
dotnet build "$root/bench/HotDtls.Load/HotDtls.Load.csproj" -c Release --nologo -v quiet -clp:NoSummary >&2
HOTDTLS="$run/bin/HotDtls.Cli"
LOAD="$root/bench/HotDtls.Load/bin/Release/net10.0/HotDtls.Load"

# The cluster's shared secrets (docs/operations.md, "Cluster"): one file, every node.
keys="$run/cluster.keys"
( umask 077
  { echo "cookie-secret $(openssl rand -hex 32)"
    echo "ticket-key    $(openssl rand -hex 48)"
    echo "channel-key   $(openssl rand -hex 32)"; } > "$keys" )

# wait_for FILE PATTERN SECONDS WHAT [PID]: bounded polling of a log for a line; gives up at once if PID exits.
wait_for() {
  local file=$1 pattern=$2 seconds=$3 what=$4 pid=${5:-}
  for _ in $(seq 1 $((seconds * 10))); do
    grep -q -- "$pattern" "$file" 2>/dev/null && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "deploy/cluster.sh: $what did not happen: the process exited (a port in use? another cluster.sh?):" >&2
      tail -n 5 "$file" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "deploy/cluster.sh: $what did not happen within $seconds s" >&2
  return 1
}

# The command line of node I of N: DTLS on 127.0.0.1I:PORT, the channel on :CHANNEL_PORT, every node listed.
node_args() {
  local i=$1 count=$2 args=(serve --address "$(node_address "$i")" --port "$PORT" --quiet --echo --resume --loops 1
    --node-id "$i" --cluster-keys "$keys" --cluster-listen "$(node_address "$i"):$CHANNEL_PORT")
  for j in $(seq 1 "$count"); do args+=(--cluster-node "$j=$(node_address "$j"):$CHANNEL_PORT"); done
  printf '%s\n' "${args[@]}"
}

# start_node I N: a node, its standard input a FIFO the script writes "stats" to (the node answers with a
# "statistics:" line in its log).
start_node() {
  local i=$1 count=$2
  [ -p "$run/node$i.in" ] || mkfifo "$run/node$i.in"
  # Held open read-write by the script, so the node never sees end-of-file and a write never blocks.
  eval "exec {fd_$i}<>\"$run/node$i.in\""
  mapfile -t args < <(node_args "$i" "$count")
  "$HOTDTLS" "${args[@]}" <"$run/node$i.in" >>"$run/node$i.log" 2>&1 &
  node_pid[$i]=$!
  wait_for "$run/node$i.log" "^listening on " 30 "node $i listening" "${node_pid[$i]}"
}

stop_node() { # I [SIGNAL]
  local i=$1 signal=${2:-TERM}
  kill "-$signal" "${node_pid[$i]}" 2>/dev/null || true
  wait "${node_pid[$i]}" 2>/dev/null || true
  unset "node_pid[$i]"
}

# stats I FIELD: one counter (handshakes, resumed, forwarded, not_forwarded, through_nodes, …) from a fresh
# "statistics: key=value …" line of node I.
stats() {
  local i=$1 field=$2 before
  before=$(grep -c '^statistics:' "$run/node$i.log" || true)
  echo stats >"$run/node$i.in"
  local fresh=0
  for _ in $(seq 1 50); do
    [ "$(grep -c '^statistics:' "$run/node$i.log" || true)" -gt "$before" ] && { fresh=1; break; }
    sleep 0.1
  done
  # An old line would give stale figures: say so rather than use it.
  [ $fresh = 1 ] || { echo "deploy/cluster.sh: node $i printed no statistics within 5 s of 'stats'" >&2; exit 1; }
  grep '^statistics:' "$run/node$i.log" | tail -n 1 | sed -n "s/.* $field=\([0-9][0-9]*\).*/\1/p"
}

start_nginx() { # N
  local count=$1 upstreams=""
  for i in $(seq 1 "$count"); do upstreams+="        server $(node_address "$i"):$PORT max_fails=1 fail_timeout=2s;"$'\n'; done
  local module=""
  # Debian loads the stream module from modules-enabled in its own nginx.conf; this configuration is standalone.
  [ -f /usr/lib/nginx/modules/ngx_stream_module.so ] && module="load_module /usr/lib/nginx/modules/ngx_stream_module.so;"
  sed -e "s|@VIP@|$VIP|g" -e "s|@PORT@|$PORT|g" -e "s|@RUN@|$run|g" -e "s|@MODULE@|$module|" \
    "$here/nginx/hotdtls-stream.conf" | awk -v u="$upstreams" '{ if ($0 ~ /^[[:space:]]*@UPSTREAMS@[[:space:]]*$/) printf "%s", u; else print }' >"$run/nginx.conf"
  nginx -t -p "$run" -c "$run/nginx.conf" >"$run/nginx-check.log" 2>&1 || { cat "$run/nginx-check.log" >&2; return 1; }
  nginx -p "$run" -c "$run/nginx.conf" >>"$run/nginx.log" 2>&1 &
  nginx_pid=$!
  # nginx writes its pid file once its listening socket is open.
  for _ in $(seq 1 100); do [ -s "$run/nginx.pid" ] && return 0; sleep 0.1; done
  echo "deploy/cluster.sh: nginx did not start:" >&2; cat "$run/error.log" >&2 2>/dev/null; return 1
}

stop_nginx() {
  [ -n "$nginx_pid" ] && { kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; }
  nginx_pid=""; rm -f "$run/nginx.pid"
}

# load MODE OUTPUT ARGS…: the load generator, its JSON report in OUTPUT.json and its text report in OUTPUT.txt.
load() {
  local mode=$1 output=$2
  shift 2
  "$LOAD" "$mode" "$@" --json --no-progress >"$output.json" 2>"$output.txt" || return $?
}

# json FILE KEY: a number from a load report.
json() { python3 -c "import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print('' if v is None else (int(v) if float(v).is_integer() else v))" "$1" "$2"; }

fail() { echo "deploy/cluster.sh: FAILED: $*" >&2; exit 1; }

up() {
  for i in $(seq 1 "$nodes"); do start_node "$i" "$nodes"; done
  start_nginx "$nodes"
  echo "cluster up: nginx on $VIP:$PORT (UDP), nodes:"
  for i in $(seq 1 "$nodes"); do echo "  node $i: DTLS $(node_address "$i"):$PORT, channel $(node_address "$i"):$CHANNEL_PORT (pid ${node_pid[$i]})"; done
  echo "key file: $keys; logs: $run/*.log. Try: $HOTDTLS connect $VIP $PORT --cid. Ctrl+C stops everything."
  wait "$nginx_pid"
}

test_cluster() {
  local count=3 seconds sessions
  if [ $short = 1 ]; then seconds=3; sessions=24; else seconds=10; sessions=96; fi
  for i in $(seq 1 $count); do start_node "$i" $count; done
  start_nginx $count
  declare -A before=()
  for i in $(seq 1 $count); do before[$i]=0; done

  # Paced (4000 datagrams/s): the test checks that every echo returns, not how many nginx can carry (bench does that;
  # at saturation nginx's socket buffers drop datagrams, as any UDP relay's do).
  echo "== (a) load through nginx spreads over the nodes and every echo returns"
  load echo "$run/a" --server "$VIP:$PORT" -k "$sessions" -s 200 -d "$seconds" --warmup 1 --rate 4000 --cid \
    || fail "(a) the load generator failed: $(cat "$run/a.txt")"
  local a_sent a_received a_lost
  a_sent=$(json "$run/a.json" sent); a_received=$(json "$run/a.json" received); a_lost=$(json "$run/a.json" lost)
  declare -A a_handshakes=()
  for i in $(seq 1 $count); do a_handshakes[$i]=$(stats "$i" handshakes); done
  [ "$a_lost" = 0 ] || fail "(a) $a_lost of $a_sent echoes did not return"
  for i in $(seq 1 $count); do
    [ "${a_handshakes[$i]}" -gt 0 ] || fail "(a) node $i got no session: nginx did not spread the load"
  done

  echo "== (c) CID clients rebind (new source port: nginx picks a node by the new 4-tuple) and keep their sessions"
  local c_forwarded_before=0 c_through_before=0
  for i in $(seq 1 $count); do
    c_forwarded_before=$((c_forwarded_before + $(stats "$i" forwarded)))
    c_through_before=$((c_through_before + $(stats "$i" through_nodes)))
  done
  load rebind "$run/c" --server "$VIP:$PORT" -k "$((sessions / 2))" --rebinds 3 --interval 50 --timeout 2000 \
    || fail "(c) sessions were lost on a rebinding: $(cat "$run/c.txt")"
  local c_moves c_kept c_lost c_new c_forwarded=0 c_through=0
  c_moves=$(json "$run/c.json" moves); c_kept=$(json "$run/c.json" sessions_kept)
  c_lost=$(json "$run/c.json" sessions_lost); c_new=$(json "$run/c.json" new_handshakes)
  for i in $(seq 1 $count); do
    c_forwarded=$((c_forwarded + $(stats "$i" forwarded)))
    c_through=$((c_through + $(stats "$i" through_nodes)))
  done
  c_forwarded=$((c_forwarded - c_forwarded_before)); c_through=$((c_through - c_through_before))
  [ "$c_lost" = 0 ] && [ "$c_new" = 0 ] || fail "(c) $c_lost sessions lost, $c_new new handshakes"
  [ "$c_forwarded" -gt 0 ] || fail "(c) no record was forwarded between nodes: every move stayed on its node (try more sessions)"

  echo "== (b) a node is killed: its clients reconnect through nginx to the others, resuming with their tickets"
  local b_seconds=$(( short == 1 ? 8 : 20 )) victim=2
  load failover "$run/b" --server "$VIP:$PORT" -k "$sessions" -d "$b_seconds" --interval 100 --timeout 500 --rto 200 &
  local load_pid=$!
  # Every session has its ticket and echoes before the node goes: a quarter of the run.
  sleep $(( b_seconds / 4 ))
  stop_node $victim KILL
  local killed_at; killed_at=$(date +%s.%N)
  wait $load_pid || fail "(b) sessions never came back after node $victim was killed: $(cat "$run/b.txt")"
  local b_outages b_resumed b_full b_never b_p50 b_max
  b_outages=$(json "$run/b.json" outages); b_resumed=$(json "$run/b.json" reconnects_resumed)
  b_full=$(json "$run/b.json" reconnects_full); b_never=$(json "$run/b.json" never_came_back)
  b_p50=$(json "$run/b.json" reconnect_p50_ms); b_max=$(json "$run/b.json" reconnect_max_ms)
  [ "$b_outages" -gt 0 ] || fail "(b) no session lost its server when node $victim was killed"
  [ "$b_never" = 0 ] || fail "(b) $b_never sessions never came back"
  [ "$b_resumed" -gt 0 ] || fail "(b) no reconnect resumed with its ticket ($b_full full)"

  echo "== (d) node $victim restarts and rejoins"
  start_node $victim $count
  local d_before; d_before=$(stats $victim handshakes)
  # nginx tries a failed node again after fail_timeout (2 s) with the next new flows.
  sleep 3
  load echo "$run/d" --server "$VIP:$PORT" -k "$sessions" -s 200 -d "$seconds" --warmup 1 --rate 4000 \
    || fail "(d) the load generator failed: $(cat "$run/d.txt")"
  local d_handshakes d_lost
  d_handshakes=$(( $(stats $victim handshakes) - d_before )); d_lost=$(json "$run/d.json" lost)
  [ "$d_handshakes" -gt 0 ] || fail "(d) the restarted node $victim got no session: nginx did not send it new flows"
  [ "$d_lost" = 0 ] || fail "(d) $d_lost echoes did not return"
  # nginx's passive check lets one new flow a fail_timeout through to a node that failed, and counts the node up only
  # when such a flow ends (proxy_timeout: UDP has no connection to complete). A reload (what an orchestrator does when a
  # node comes back) forgets the failure: the node takes its share of new flows at once.
  kill -HUP "$nginx_pid"
  sleep 1
  local d2_before; d2_before=$(stats $victim handshakes)
  load echo "$run/d2" --server "$VIP:$PORT" -k "$sessions" -s 200 -d "$seconds" --warmup 1 --rate 4000 \
    || fail "(d) the load generator failed after the reload: $(cat "$run/d2.txt")"
  local d2_handshakes d2_lost
  d2_handshakes=$(( $(stats $victim handshakes) - d2_before )); d2_lost=$(json "$run/d2.json" lost)
  [ "$d2_handshakes" -gt 1 ] || fail "(d) after nginx's reload the restarted node $victim got $d2_handshakes of $sessions new sessions"
  [ "$d2_lost" = 0 ] || fail "(d) $d2_lost echoes did not return after the reload"

  echo
  echo "| step | figure | value |"
  echo "|---|---|---|"
  echo "| (a) spread | sessions per node (handshakes) | $(for i in $(seq 1 $count); do printf 'node %s: %s  ' "$i" "${a_handshakes[$i]}"; done)|"
  echo "| (a) spread | echoes sent / returned / lost | $a_sent / $a_received / $a_lost |"
  echo "| (c) rebind | moves / sessions kept / lost / new handshakes | $c_moves / $c_kept / $c_lost / $c_new |"
  echo "| (c) rebind | records forwarded between nodes / answers sent back through the forwarder | $c_forwarded / $c_through |"
  echo "| (b) node $victim killed | sessions that lost their server | $b_outages |"
  echo "| (b) node $victim killed | reconnects resumed with the ticket / full | $b_resumed / $b_full |"
  echo "| (b) node $victim killed | reconnect time p50 / max (ms) | $b_p50 / $b_max |"
  echo "| (d) node $victim restarted | new sessions at node $victim of $sessions, 3 s after its restart / echoes lost | $d_handshakes / $d_lost |"
  echo "| (d) node $victim restarted | new sessions at node $victim of $sessions after nginx's reload / echoes lost | $d2_handshakes / $d2_lost |"
  echo
  echo "cluster test: passed"
}

bench_cluster() {
  local seconds handshakes
  # Handshakes by count, not duration: each is a new client flow, which nginx keeps (a socket) for proxy_timeout, and the
  # descriptor limit here (ulimit -Hn: 20 000) bounds how many it can hold.
  if [ $short = 1 ]; then seconds=2; handshakes=2000; else seconds=10; handshakes=10000; fi
  declare -A hs=() echo_rate=()
  local configs=("direct 1" "nginx 1" "nginx 2" "nginx 3")
  for config in "${configs[@]}"; do
    set -- $config
    local via=$1 count=$2 target
    for i in $(seq 1 "$count"); do start_node "$i" "$count"; done
    if [ "$via" = nginx ]; then start_nginx "$count"; target="$VIP:$PORT"; else target="$(node_address 1):$PORT"; fi
    load handshake "$run/hs-$via-$count" --server "$target" -n "$handshakes" -c 32 \
      || fail "handshake load ($via, $count nodes): $(cat "$run/hs-$via-$count.txt")"
    load echo "$run/echo-$via-$count" --server "$target" -k 32 -w 8 -s 200 -d "$seconds" --warmup 1 \
      || fail "echo load ($via, $count nodes): $(cat "$run/echo-$via-$count.txt")"
    hs["$config"]=$(json "$run/hs-$via-$count.json" handshakes_per_second)
    echo_rate["$config"]=$(json "$run/echo-$via-$count.json" datagrams_per_second)
    stop_nginx
    for i in $(seq 1 "$count"); do stop_node "$i"; done
  done
  echo
  echo "Throughput on $(nproc) cores shared by nginx, the nodes and the load generator: on 2 cores this shows the"
  echo "balancer's overhead, not scaling (more nodes only share the same 2 cores)."
  echo
  echo "| setup | handshakes/s | ratio | echo datagrams/s | ratio |"
  echo "|---|---:|---:|---:|---:|"
  for config in "${configs[@]}"; do
    set -- $config
    python3 -c "import sys; h,e,h0,e0=map(float,sys.argv[1:5]); print(f'| {sys.argv[5]} | {h:.0f} | {h/h0:.2f} | {e:.0f} | {e/e0:.2f} |')" \
      "${hs[$config]}" "${echo_rate[$config]}" "${hs[direct 1]}" "${echo_rate[direct 1]}" \
      "$([ "$1" = direct ] && echo "1 node, direct" || echo "$2 node(s) via nginx")"
  done
}

case "$command" in
  up) up ;;
  test) test_cluster ;;
  bench) bench_cluster ;;
esac
