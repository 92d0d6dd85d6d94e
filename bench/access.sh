#!/usr/bin/env bash
# What checking who calls costs (issue 14): instructions per request, counted by callgrind as
# bench/instructions.sh counts them, for the same 2 KB chat request whole and streamed, every
# request carrying "Authorization: Bearer KEY", through one route with:
#   no auth      no [auth]: the header goes upstream as it came
#   key          [auth] keys_file of 1,000 keys: the key hashed, looked up, checked for its route
#                and model, and the credential headers removed
#   key+2 limits and the key has two limits, requests and tokens per minute (never reached), with
#                the embedded counters: charged, x-ratelimit-* headers set, tokens corrected from
#                the answer's usage (a stream is asked for its usage, and the usage chunk hidden)
#   ..., Redis   the same, the counters in a redis-server on loopback ([state] redis): llm-proxy's
#                own instructions (Redis's are its own process's)
# About 3,000 instructions make a microsecond on this VM.
#
# Then the pipelining: wrk drives the key with two limits at 64 connections for DURATION seconds
# (default 5), embedded and in Redis, and Redis's own statistics say how many commands (a charge,
# and a token correction, per request) came in each read it made from llm-proxy's connection.
#
#   bench/access.sh [BINARY]   (default: build/llm-proxy; FEW and MANY as instructions.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-build/llm-proxy}

source bench/lib.sh
need valgrind valgrind
need redis-server redis-server
need wrk wrk
start_role_mock
write_request_bodies
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
  > /dev/null &
pids+=($!)
wait_port "$redis_port"

# 999 other keys, then the one the requests carry, limited to the route and the model.
for i in $(seq 999); do
  "$binary" keys create "other-$i" --keys-file "$work/keys.toml" > /dev/null 2>&1
done
plain_key=$("$binary" keys create bench --keys-file "$work/keys.toml" \
  --route /v1/chat/completions --model 'bench*' 2> /dev/null)
limited_key=$("$binary" keys create bench-limited --keys-file "$work/keys.toml" \
  --route /v1/chat/completions --model 'bench*' --requests-per-minute 1000000000 \
  --tokens-per-minute 1000000000000 2> /dev/null)

port=$(free_port)
# config NAME [EXTRA]
config() {
  cat > "$work/$1.toml" <<CONF
[server]
host = "127.0.0.1"
port = $port
worker_threads = 1
log_level = "warn"
metrics = false

[llm.mock]
provider = "openai"
base_url = "http://127.0.0.1:$mock_port/v1"

[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "mock"
${2:-}
CONF
}
config none
config key "[auth]
keys_file = \"$work/keys.toml\""
# A long timeout: under callgrind, llm-proxy itself is slow to read Redis's replies.
config redis "[auth]
keys_file = \"$work/keys.toml\"

[state]
redis = \"redis://127.0.0.1:$redis_port\"
timeout_ms = 5000"

cost() {
  BENCH_API_KEY=$3 instructions_per_request "$binary --config $work/$1.toml" "$port" \
    "http://127.0.0.1:$port/v1/chat/completions" "$work/$2"
}

printf '%-18s %14s %14s %10s %10s\n' "per request" "2 KB request" "2 KB, stream" "+ whole" "+ stream"
for row in "no-auth none $plain_key" "key key $plain_key" "key+2-limits key $limited_key" \
  "...,-Redis redis $limited_key"; do
  read -r name file key <<< "$row"
  a=$(cost "$file" small.json "$key")
  b=$(cost "$file" stream.json "$key")
  [ -n "${base_whole:-}" ] || { base_whole=$a; base_stream=$b; }
  printf '%-18s %14s %14s %10s %10s\n' "${name//-/ }" "$a" "$b" "$((a - base_whole))" \
    "$((b - base_stream))"
done

redis_stat() { redis-cli -p "$redis_port" info "$1" | tr -d '\r' | sed -n "s/^$2//p"; }
reads_processed() { redis_stat stats total_reads_processed:; }
scripts_run() { local n; n=$(redis_stat commandstats 'cmdstat_evalsha:calls=' | cut -d, -f1); echo "${n:-0}"; }
echo
printf '%-18s %12s %17s\n' "wrk, 64 conns" "requests/s" "commands per read"
for row in "key+2-limits key" "...,-Redis redis"; do
  read -r name file <<< "$row"
  "$binary" --config "$work/$file.toml" &
  pid=$!
  wait_port "$port"
  reads=$(reads_processed)
  commands=$(scripts_run)
  rate=$(BODY_FILE="$work/small.json" BENCH_API_KEY=$limited_key wrk -t2 -c64 \
    -d"${DURATION:-5}s" -s bench/post.lua "http://127.0.0.1:$port/v1/chat/completions" |
    awk '/^Requests\/sec/ {print int($2)}')
  kill -TERM "$pid"; wait "$pid" || true
  per_read=-
  if [ "$file" = redis ]; then
    reads=$(( $(reads_processed) - reads ))
    commands=$(( $(scripts_run) - commands ))
    per_read=$(awk -v c="$commands" -v r="$reads" 'BEGIN {printf "%.1f", c / r}')
  fi
  printf '%-18s %12s %17s\n' "${name//-/ }" "$rate" "$per_read"
done
