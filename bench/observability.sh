#!/usr/bin/env bash
# What watching llm-proxy costs (issue 13): instructions per request, counted by callgrind as
# bench/instructions.sh counts them (every thread's, so the span exporter's too), for the same
# 2 KB chat request whole and streamed (an opening chunk with the role, then 20 events; the whole
# answer reports usage, the stream does not), through one route, with:
#   nothing           [server] metrics = false, no access line (log_level = "warn"), no tracing
#   metrics           metrics = true (the default)
#   metrics+traces    and [telemetry] otlp_endpoint to a collector taking every span (sampled)
#   text access log   metrics, and log_level = "info": the key=value access line
#   json access log   metrics, log_level = "info" and access_log = "json"
# About 3,000 instructions make a microsecond on this VM.
#
#   bench/observability.sh [BINARY]   (default: build/llm-proxy; FEW and MANY as instructions.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-build/llm-proxy}

source bench/lib.sh
need valgrind valgrind
start_role_mock
collector_port=$(free_port)
node bench/otlp_sink.mjs "$collector_port" &
pids+=($!)
wait_port "$collector_port"
write_request_bodies

port=$(free_port)
# config NAME LOG_LEVEL SERVER_LINES [EXTRA]
config() {
  cat > "$work/$1.toml" <<CONF
[server]
host = "127.0.0.1"
port = $port
worker_threads = 1
log_level = "$2"
$3

[llm.mock]
provider = "openai"
base_url = "http://127.0.0.1:$mock_port/v1"

[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "mock"
${4:-}
CONF
}
config nothing warn "metrics = false"
config metrics warn ""
config traces warn "" "[telemetry]
otlp_endpoint = \"http://127.0.0.1:$collector_port/v1/traces\""
config text info ""
config json info 'access_log = "json"'

cost() {
  instructions_per_request "$binary --config $work/$1.toml" "$port" \
    "http://127.0.0.1:$port/v1/chat/completions" "$work/$2"
}

printf '%-18s %14s %14s %10s %10s\n' "per request" "2 KB request" "2 KB, stream" "+ whole" "+ stream"
for row in "nothing nothing" "metrics metrics" "metrics+traces traces" "text-access-log text" \
  "json-access-log json"; do
  read -r name file <<< "$row"
  a=$(cost "$file" small.json)
  b=$(cost "$file" stream.json)
  [ -n "${base_whole:-}" ] || { base_whole=$a; base_stream=$b; }
  printf '%-18s %14s %14s %10s %10s\n' "${name//-/ }" "$a" "$b" "$((a - base_whole))" \
    "$((b - base_stream))"
done
