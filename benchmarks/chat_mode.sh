#!/usr/bin/env bash
# What chat mode costs on the relay path: the benchmark kit's fanout100 and
# latency100, three runs each (medians), the server with the given options
# (default --commands) as the candidate and without them as the reference.
#
#   benchmarks/chat_mode.sh KIT_DIR [OUT_DIR] [OPTION...]
#
# KIT_DIR is the benchmark kit (a directory holding compare, chatload.c and
# refserver.c); OUT_DIR receives the
# printed table and the JSON report (default benchmarks/results).
set -euo pipefail
cd "$(dirname "$0")/.."
kit=${1:?usage: benchmarks/chat_mode.sh KIT_DIR [OUT_DIR] [OPTION...]}
out=${2:-benchmarks/results}
shift 2 || shift $#
options=${*:---commands}
mkdir -p "$out"
make --quiet .venv/.installed
export PATH="$PWD/.venv/bin:$PATH"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
server="twistd -n --pidfile= chat --port {port} --log-level warn"
"$kit/compare" --cwd "$scratch" --scenario fanout100 --scenario latency100 --repeat 3 \
    --reference "$server --logfile off.log" \
    --server "$server --logfile on.log $options" \
    --json "$out/chat-mode.json" | tee "$out/chat-mode.txt"
