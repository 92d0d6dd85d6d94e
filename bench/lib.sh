# Shared by the benchmark scripts (source it after `cd` to the repository root): a scratch
# directory and background processes cleaned up on exit, free ports, waiting for a port, and
# installing Debian packages the benchmarks need.

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# A port nothing listens on, on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits up to 5 s for 127.0.0.1:$1 to accept connections.
wait_port() {
  for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$1) 2> /dev/null && return 0; sleep 0.05; done
  echo "port $1 never opened" >&2
  exit 1
}

# Installs the Debian packages named when the commands named are missing: need CMD PACKAGE...
need() {
  local command=$1; shift
  command -v "$command" > /dev/null && return 0
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
}

# nginx's configuration as a plain keep-alive reverse proxy to the mock, one worker, streaming
# unbuffered, written into $work/nginx:
# write_nginx_config PORT MOCK_PORT IDLE_UPSTREAM_CONNECTIONS [WORKER_CONNECTIONS, default 8192]
#                    [MAIN_DIRECTIVES]
write_nginx_config() {
  mkdir -p "$work/nginx"
  cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
worker_rlimit_nofile ${4:-8192};
${5:-}
error_log $work/nginx/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections ${4:-8192}; }
http {
  access_log off;
  client_max_body_size 64m;
  client_body_buffer_size 4m;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  upstream mock { server 127.0.0.1:$2; keepalive $3; }
  server {
    listen 127.0.0.1:$1;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
CONF
}

# nginx as write_nginx_config describes it, started in the background: start_nginx PORT
# MOCK_PORT IDLE_UPSTREAM_CONNECTIONS [WORKER_CONNECTIONS].
start_nginx() {
  write_nginx_config "$@"
  nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' & pids+=($!)
  wait_port "$1"
}

# Instructions callgrind counts in one request: the server COMMAND (its words unquoted, listening
# on 127.0.0.1:PORT) is run under callgrind twice, once answering $FEW and once $MANY requests of
# BODY_FILE posted to URL on one kept-alive connection, and the difference is divided by
# MANY - FEW, which cancels start-up and shut-down out:
# instructions_per_request "COMMAND" PORT URL BODY_FILE
instructions_per_request() {
  local counts=()
  for count in "${FEW:-100}" "${MANY:-400}"; do
    # shellcheck disable=SC2086 # the command's words
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" $1 2> "$work/valgrind.log" &
    local pid=$!
    for _ in $(seq 600); do (echo > /dev/tcp/127.0.0.1/$2) 2> /dev/null && break; sleep 0.1; done
    node bench/requests.mjs "$3" "$count" "$4"
    kill -TERM "$pid"; wait "$pid" || true
    counts+=("$(awk '/^summary:/ {print $2}' "$work/cg.out")")
  done
  echo $(( (counts[1] - counts[0]) / (${MANY:-400} - ${FEW:-100}) ))
}

# llm-proxy's configuration for the benchmarks, written to $work/proxy.toml: 127.0.0.1:PORT, one
# route to the mock through the openai provider.
# write_proxy_config PORT MOCK_PORT [SERVER_LINES] [LLM_LINES]
write_proxy_config() {
  cat > "$work/proxy.toml" <<CONF
[server]
host = "127.0.0.1"
port = $1
log_level = "warn"
${3:-}

[llm.mock]
provider = "openai"
base_url = "http://127.0.0.1:$2/v1"
${4:-}

[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "mock"
CONF
}

# The benchmarks' request bodies, in $work: small.json (a 2 KB chat request), stream.json (the
# same, streamed) and large.json (2 MB).
write_request_bodies() {
  python3 - "$work" <<'PY'
import json, sys
text = "The quick brown fox jumps over the lazy dog. " * 40
small = {"model": "bench", "messages": [{"role": "system", "content": "Be brief."},
         {"role": "user", "content": text[:1900]}]}
large = {"model": "bench", "messages": [{"role": "user", "content": text * 1165}]}
open(sys.argv[1] + "/small.json", "w").write(json.dumps(small))
open(sys.argv[1] + "/stream.json", "w").write(json.dumps(dict(small, stream=True)))
open(sys.argv[1] + "/large.json", "w").write(json.dumps(large))
PY
}

# The benchmark mock upstream on a free port ($mock_port), answering 20 events without gaps in
# OpenAI's format with a role chunk first, as the per-feature cost benchmarks use it (built when
# missing).
start_role_mock() {
  [ -x build/bench/mock_upstream ] || scripts/build.sh > /dev/null
  mock_port=$(free_port)
  build/bench/mock_upstream --port "$mock_port" --events 20 --gap-ms 0 --format openai-role > /dev/null &
  pids+=($!)
  wait_port "$mock_port"
}
