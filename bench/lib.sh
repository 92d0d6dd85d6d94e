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
