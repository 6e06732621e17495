#!/usr/bin/env bash
# The README's performance table: this server against the C reference server
# of the benchmark kit, all four scenarios, three runs each (medians), once with
# the default log level and once with --log-level warn.
#
#   benchmarks/compare.sh KIT_DIR [OUT_DIR]
#
# KIT_DIR is the benchmark kit (a directory holding compare, chatload.c and
# refserver.c); OUT_DIR receives the
# printed tables and the JSON reports (default benchmarks/results).
set -euo pipefail
cd "$(dirname "$0")/.."
kit=${1:?usage: benchmarks/compare.sh KIT_DIR [OUT_DIR]}
out=${2:-benchmarks/results}
mkdir -p "$out"
make --quiet .venv/.installed
export PATH="$PWD/.venv/bin:$PATH"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for level in info warn; do
    "$kit/compare" --cwd "$scratch" --json "$out/compare-$level.json" \
        --server "twistd -n --pidfile= chat --port {port} --logfile chat.log --log-level $level" \
        | tee "$out/compare-$level.txt"
done
