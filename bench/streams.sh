#!/usr/bin/env bash
# Thousands of concurrent streams: N streaming requests (default 5,000), the mock upstream sending
# 10 events 500 ms apart, directly and through llm-proxy, on 127.0.0.1. Two ways of starting
# them: spread evenly over RAMP_MS (default 2,500 ms: every stream lasts about 4.5 s, so all N are
# open together at the end of the ramp), and all at once (a burst, which even direct overflows
# the kernel's connection queues). Reports completed streams, time to first event, what
# llm-proxy adds to it, and llm-proxy's peak RSS.
#
#   bench/streams.sh [streams, default 5000] [RAMP_MS, default 2500]
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${1:-5000}
ramp_ms=${2:-2500}
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

# measure NAME RAMP_MS: runs both paths, prints their results and what llm-proxy adds.
measure() {
  local direct proxied
  direct=$(node bench/streams.mjs "http://127.0.0.1:$mock_port/v1/chat/completions" "$streams" 10 "$2")
  sleep 1
  proxied=$(node bench/streams.mjs "http://127.0.0.1:$proxy_port/v1/chat/completions" "$streams" 10 "$2")
  sleep 1
  echo "$1 direct:    $direct"
  echo "$1 llm-proxy: $proxied"
  node -e 'const [d, p] = process.argv.slice(1, 3).map(JSON.parse);
    console.log(`${process.argv[3]} added time to first event: p50 ${(p.ttfe_p50_ms - d.ttfe_p50_ms).toFixed(2)} ms, p99 ${(p.ttfe_p99_ms - d.ttfe_p99_ms).toFixed(2)} ms`)' \
    "$direct" "$proxied" "$1"
}
measure "ramp ${ramp_ms} ms" "$ramp_ms"
measure "burst" 0
echo "llm-proxy peak RSS: $(awk '/VmHWM/ {print $2}' /proc/$proxy/status) KB"
