// Serves one client connection: HTTP/1.x requests one after another (keep-alive, pipelining) on
// an event-loop fiber. llm-proxy reads request heads and writes answers itself (http_request,
// client_socket, http_response): Poco's HTTPServerConnection opened an epoll set for every
// request and its request object asked the kernel for both socket addresses every time. A client
// that hangs up cancels its request in progress (HangUpWatch).
#pragma once

#include <atomic>
#include <mutex>
#include <unordered_set>

#include "http/client_socket.hpp"

namespace llmproxy {

class GatewayHandler;

// The open connections, so that a stop reaches them all.
class ConnectionRegistry {
  public:
    // No connection takes another request; with abort, every connection is shut down now (idle
    // keep-alive connections included).
    void stop(bool abort);
    bool stopping() const { return stopping_; }

    void add(int fd);
    void remove(int fd);

  private:
    std::atomic<bool> stopping_{false};
    std::mutex mutex_;
    std::unordered_set<int> fds_;
};

struct ConnectionSettings {
    int keep_alive_timeout_ms = 15000;  // the wait for a next request; 0: one per connection
    ClientLimits client;
};

// Serves the client connection fd (non-blocking) until it ends, then closes fd. Never throws.
void serve_connection(int fd, const ConnectionSettings& settings, GatewayHandler& handler,
                      ConnectionRegistry& registry);

}  // namespace llmproxy
