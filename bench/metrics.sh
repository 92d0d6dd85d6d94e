#!/usr/bin/env bash
# What counting costs (issue 13): instructions per request, counted by callgrind as
# bench/instructions.sh counts them, for the same 2 KB chat request whole and streamed (an opening
# chunk with the role, then 20 events; the whole answer reports usage, the stream does not),
# through one llm-proxy route with [server] metrics off, then on; the difference is the cost of
# the counting per request (about 3,000 instructions make a microsecond on this VM).
#
#   bench/metrics.sh [BINARY]      (default: build/llm-proxy; FEW and MANY as instructions.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-build/llm-proxy}

source bench/lib.sh
need valgrind valgrind
[ -x build/bench/mock_upstream ] || scripts/build.sh > /dev/null

mock_port=$(free_port)
build/bench/mock_upstream --port "$mock_port" --events 20 --gap-ms 0 --format openai-role > /dev/null &
pids+=($!)
wait_port "$mock_port"
write_request_bodies

port=$(free_port)
for metrics in false true; do
  write_proxy_config "$port" "$mock_port" "metrics = $metrics
worker_threads = 1"
  mv "$work/proxy.toml" "$work/metrics-$metrics.toml"
done

cost() {
  instructions_per_request "$binary --config $work/metrics-$1.toml" "$port" \
    "http://127.0.0.1:$port/v1/chat/completions" "$work/$2"
}

printf '%-14s %14s %14s\n' "per request" "2 KB request" "2 KB, stream"
off_whole=$(cost false small.json); off_stream=$(cost false stream.json)
on_whole=$(cost true small.json); on_stream=$(cost true stream.json)
printf '%-14s %14s %14s\n' "metrics off" "$off_whole" "$off_stream"
printf '%-14s %14s %14s\n' "metrics on" "$on_whole" "$on_stream"
printf '%-14s %14s %14s\n' "difference" "$((on_whole - off_whole))" "$((on_stream - off_stream))"
