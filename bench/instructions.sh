#!/usr/bin/env bash
# Instructions llm-proxy executes per request, counted by callgrind: unlike wall-clock time on a
# shared VM, the count repeats to within a fraction of a percent, so two builds (or a feature on
# and off) can be compared side by side. For each binary and each kind of request, llm-proxy runs
# under callgrind twice, for FEW and for MANY requests on one kept-alive connection to the
# benchmark mock; the difference divided by MANY - FEW is the cost of one request, start-up and
# shut-down cancelled out.
#
#   bench/instructions.sh [BINARY...]      (default: build/llm-proxy)
#   FEW=100 MANY=400 bench/instructions.sh build/llm-proxy /other/build/llm-proxy nginx
#
# "nginx" stands for nginx as a plain keep-alive reverse proxy (one process, no master, buffering
# off, access log off), the speed bar: the same count for the same requests.
set -euo pipefail
cd "$(dirname "$0")/.."
binaries=("$@")
[ ${#binaries[@]} -gt 0 ] || binaries=(build/llm-proxy)

source bench/lib.sh
need valgrind valgrind
for binary in "${binaries[@]}"; do [ "$binary" != nginx ] || need nginx nginx-light; done
[ -x build/bench/mock_upstream ] || scripts/build.sh > /dev/null

mock_port=$(free_port)
build/bench/mock_upstream --port "$mock_port" --events 20 --gap-ms 0 > /dev/null & pids+=($!)
wait_port "$mock_port"

write_request_bodies

# The command line that serves 127.0.0.1:PORT with BINARY ("nginx", or an llm-proxy).
server_command() {
  local binary=$1 port=$2
  if [ "$binary" = nginx ]; then
    write_nginx_config "$port" "$mock_port" 16 1024 "master_process off; daemon off;"
    echo "nginx -p $work/nginx -c $work/nginx/nginx.conf"
    return
  fi
  write_proxy_config "$port" "$mock_port" "worker_threads = 1"
  echo "$binary --config $work/proxy.toml"
}

printf '%-40s %14s %14s %14s\n' "instructions per request" "2 KB request" "2 KB, stream" "2 MB request"
for binary in "${binaries[@]}"; do
  row=()
  for body in small stream large; do
    port=$(free_port)
    row+=("$(instructions_per_request "$(server_command "$binary" "$port")" "$port" \
      "http://127.0.0.1:$port/v1/chat/completions" "$work/$body.json")")
  done
  printf '%-40s %14s %14s %14s\n' "$binary" "${row[@]}"
done
