#!/usr/bin/env bash
# Cluster throughput on one machine: one node alone, one node with Redis,
# then two nodes with the load on one and passive readers on the other.
#
#   benchmarks/cluster.sh CHATLOAD [DURATION]
#
# CHATLOAD is the load generator of the benchmark kit, built with
# `cc -O2 -o chatload chatload.c`.  Needs redis-server and this project's
# twistd (run from the repository root, with .venv installed).  Everything
# listens on 127.0.0.1 and is stopped at the end.
set -euo pipefail
chatload=$(realpath "$1")
duration=${2:-5}
root=$(pwd)
twistd=$root/.venv/bin/twistd
python=$root/.venv/bin/python
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }  # user+system, in ticks

port() { "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

listening() {  # wait until something listens on port $1
    for _ in $(seq 200); do
        "$python" -c "import socket; socket.create_connection(('127.0.0.1', $1)).close()" \
            2>/dev/null && return 0
        sleep 0.05
    done
    echo "nothing listens on $1" >&2
    return 1
}

node() {  # node NAME PORT [OPTIONS...]: a server in its own directory; sets $node_pid
    local name=$1 nodePort=$2
    shift 2
    mkdir -p "$work/$name"
    (cd "$work/$name" && exec "$twistd" -n --pidfile= chat --port "$nodePort" "$@" \
        >/dev/null 2>&1) &
    node_pid=$!
    pids+=("$node_pid")
    for _ in $(seq 200); do
        grep -q "listening on" "$work/$name/mini_serv.log" 2>/dev/null && break
        sleep 0.05
    done
    if [ $# -gt 0 ]; then
        for _ in $(seq 200); do
            grep -q "joined the cluster" "$work/$name/mini_serv.log" 2>/dev/null && return
            sleep 0.05
        done
        echo "node $name did not join the cluster" >&2
        return 1
    fi
}

load() {  # load PORT PID CLIENTS SENDERS
    "$chatload" --port "$1" --server-pid "$2" --clients "$3" --senders "$4" \
        --duration "$duration" 2>/dev/null | grep -E "^(deliveries|after drain|checks|loadgen|server|result)" || true
}

redisPort=$(port)
redis-server --port "$redisPort" --bind 127.0.0.1 --dir "$work" --save "" \
    --appendonly no --logfile "$work/redis.log" &
redisPid=$!
pids+=("$redisPid")
listening "$redisPort"
redis=redis://127.0.0.1:$redisPort/0

echo "== one node, no Redis: 100 clients, 10 senders"
node single "$(port)"
singlePort=$(grep -o 'listening on tcp 127.0.0.1:[0-9]*' "$work/single/mini_serv.log" | cut -d: -f2)
load "$singlePort" "$node_pid" 100 10
kill "$node_pid"

echo "== one node with Redis: 100 clients, 10 senders"
node alone "$(port)" --redis "$redis" --room alone
alonePort=$(grep -o 'listening on tcp 127.0.0.1:[0-9]*' "$work/alone/mini_serv.log" | cut -d: -f2)
load "$alonePort" "$node_pid" 100 10
kill "$node_pid"

echo "== two nodes: 50 clients and 10 senders on A, 50 passive readers on B"
portA=$(port)
portB=$(port)
node a "$portA" --redis "$redis" --room pair
pidA=$node_pid
node b "$portB" --redis "$redis" --room pair
pidB=$node_pid
before="$(cpu "$pidB") $(cpu "$redisPid")"
"$python" "$root/benchmarks/sink.py" --port "$portB" --clients 50 --duration "$duration" \
    --warmup 1 > "$work/sink.out" &
sink=$!
for _ in $(seq 200); do grep -q "connections open" "$work/sink.out" && break; sleep 0.05; done
echo "node A (chatload):"
load "$portA" "$pidA" 50 10
wait "$sink"
echo "node B (sink.py): $(tail -1 "$work/sink.out")"
read -r cpuB cpuRedis <<< "$before"
seconds() { awk -v now="$1" -v then="$2" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.2f s", (now - then) / hz }'; }
echo "CPU from the start of the load to its end (connect, warm-up, window, drain):" \
    "node B $(seconds "$(cpu "$pidB")" "$cpuB")," \
    "redis-server $(seconds "$(cpu "$redisPid")" "$cpuRedis")"
