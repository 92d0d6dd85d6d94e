#!/usr/bin/env bash
# The Debian package, installed and removed on this machine (it needs root; CI runs it as root):
# scripts/package.sh builds it, dpkg installs it, the unit passes `systemd-analyze verify` where
# that tool exists, the installed binary serves the installed configuration as the service's
# user, and `dpkg --purge` takes every file, the configuration and the user away again.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "test-package: FAIL: $*" >&2; exit 1; }
# Whether text holds pattern. (Not `command | grep -q`: grep leaves at the first match, and under
# pipefail the command's write into the closed pipe then fails the test.)
holds() { grep -q -- "$2" <<< "$1"; }
[ "$(id -u)" -eq 0 ] || fail "needs root: it installs the package with dpkg"
scripts/install-deps.sh --test

deb=$(scripts/package.sh | tail -1)
echo "test-package: $deb"
holds "$(dpkg-deb --info "$deb")" "Depends:.*adduser" || fail "the package does not depend on adduser"
dpkg --purge llm-proxy > /dev/null 2>&1 || true  # a leftover of an earlier run
dpkg -i "$deb" > /dev/null

installed=(/usr/bin/llm-proxy /usr/lib/llm-proxy/plugins/openai.so /usr/lib/llm-proxy/plugins/echo.so
  /usr/lib/llm-proxy/plugins/anthropic.so /usr/lib/llm-proxy/plugins/processors.so
  /etc/llm-proxy/config.toml /lib/systemd/system/llm-proxy.service
  /usr/include/llm_proxy/plugin.h /usr/share/llm-proxy/default.toml
  /usr/share/llm-proxy/status/index.html /usr/share/llm-proxy/status/status.js)
for f in "${installed[@]}"; do [ -e "$f" ] || fail "$f is not installed"; done
getent passwd llm-proxy > /dev/null || fail "no llm-proxy user"
[ "$(stat -c '%U:%G %a' /etc/llm-proxy/config.toml)" = "root:llm-proxy 640" ] ||
  fail "/etc/llm-proxy/config.toml is $(stat -c '%U:%G %a' /etc/llm-proxy/config.toml)"
holds "$(dpkg-query -W -f='${Conffiles}' llm-proxy)" "/etc/llm-proxy/config.toml" ||
  fail "the configuration is not a conffile (an upgrade would overwrite the operator's edits)"
if command -v systemd-analyze > /dev/null; then
  systemd-analyze verify /lib/systemd/system/llm-proxy.service || fail "systemd-analyze verify"
else
  echo "test-package: no systemd-analyze here; the unit is not verified"
fi

# The installed binary, as the service runs it: its user, its configuration, its plugins.
# (setpriv execs the command as the user: no process in between to take the signals.)
as_service=(setpriv --reuid llm-proxy --regid llm-proxy --init-groups)
"${as_service[@]}" /usr/bin/llm-proxy --check --config /etc/llm-proxy/config.toml > /dev/null
port=$(sed -n 's/^port = \([0-9]*\).*/\1/p' /etc/llm-proxy/config.toml)
(echo > "/dev/tcp/127.0.0.1/$port") 2> /dev/null && fail "port $port is taken: stop what listens there"
log=$(mktemp)
"${as_service[@]}" /usr/bin/llm-proxy --config /etc/llm-proxy/config.toml > "$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2> /dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break; sleep 0.1; done
answer=$(curl -sf "http://127.0.0.1:$port/v1/chat/completions" -H 'content-type: application/json' \
  -d '{"model":"echo","messages":[{"role":"user","content":"installed and answering"}]}') ||
  { cat "$log"; fail "no answer from the installed llm-proxy"; }
holds "$answer" "installed and answering" || fail "unexpected answer: $answer"
holds "$(curl -sf "http://127.0.0.1:$port/readyz")" ready || fail "/readyz"
holds "$(curl -sf "http://127.0.0.1:$port/status")" "<title>llm-proxy status" ||
  fail "the installed status page"
grep -q "loaded plugin org.llm-proxy.echo .* from /usr/lib/llm-proxy/plugins/echo.so" "$log" ||
  grep -q "listening on" "$log" || { cat "$log"; fail "the plugins did not load from /usr/lib/llm-proxy/plugins"; }
kill -TERM "$pid"
wait "$pid" || fail "llm-proxy did not stop cleanly on SIGTERM"

dpkg --purge llm-proxy > /dev/null
for f in "${installed[@]}" /etc/llm-proxy /usr/lib/llm-proxy; do
  [ ! -e "$f" ] || fail "$f is left after dpkg --purge"
done
getent passwd llm-proxy > /dev/null && fail "the llm-proxy user is left after dpkg --purge"
echo "test-package: installed, served, removed: ok"
