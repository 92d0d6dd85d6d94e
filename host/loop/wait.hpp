// Waiting for a socket, and blocking work, from code that runs both on event-loop fibers and on
// plain threads (the plugin checker, tests): on a fiber only the fiber waits, elsewhere the thread
// does.
#pragma once

#include <cstdint>
#include <functional>

namespace llmproxy {

// Waits until the non-blocking socket fd is ready for events (EPOLLIN or EPOLLOUT; a hang-up or
// error counts as ready) or timeout_ms passes (negative: no limit). True when ready, false on
// timeout. Call it after the I/O reported EAGAIN.
bool wait_ready(int fd, std::uint32_t events, int timeout_ms);

// Runs work, which may block (DNS, connect, TLS handshake): on a fiber, on a task thread while the
// fiber waits; elsewhere, right here. An exception from work is rethrown to the caller.
void run_blocking(const std::function<void()>& work);

}  // namespace llmproxy
