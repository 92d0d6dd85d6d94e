#!/usr/bin/env bash
# Thousands of concurrent streams: N streaming requests at once (default 5,000), the mock
# upstream sending 10 events 500 ms apart, directly and through llm-proxy, on 127.0.0.1. Reports
# completed streams, time to first event and llm-proxy's peak RSS.
#
#   bench/streams.sh [streams, default 5000]
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${1:-5000}
ulimit -n "$(ulimit -Hn)"  # thousands of sockets per process
scripts/install-deps.sh --test > /dev/null
scripts/build.sh > /dev/null

source bench/lib.sh

mock_port=$(free_port); proxy_port=$(free_port)
build/bench/mock_upstream --port "$mock_port" --events 10 --gap-ms 500 > /dev/null & pids+=($!)
wait_port "$mock_port"
cat > "$work/proxy.toml" <<CONF
[server]
port = $proxy_port
log_level = "warn"
max_threads = $((streams + 100))
max_queued = 1000
[llm.mock]
provider = "openai"
base_url = "http://127.0.0.1:$mock_port/v1"
max_idle_connections = $streams
[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "mock"
CONF
build/llm-proxy --config "$work/proxy.toml" 2> "$work/proxy.log" & proxy=$!; pids+=($proxy)
wait_port "$proxy_port"

echo "direct:    $(node bench/streams.mjs "http://127.0.0.1:$mock_port/v1/chat/completions" "$streams" 10)"
( while kill -0 "$proxy" 2> /dev/null; do awk '/VmHWM/ {print $2}' /proc/$proxy/status > "$work/peak"; sleep 0.5; done ) &
watcher=$!
echo "llm-proxy: $(node bench/streams.mjs "http://127.0.0.1:$proxy_port/v1/chat/completions" "$streams" 10)"
kill $watcher 2> /dev/null || true
echo "llm-proxy peak RSS: $(awk '/VmHWM/ {print $2}' /proc/$proxy/status) KB"
