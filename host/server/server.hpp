// The listening side: every event loop (one thread each) accepts connections on the shared
// listening socket and serves each on a fiber of its own, as nginx's workers do: a new connection
// costs no hand-over between threads. Beyond max_connections open at once, a new connection gets
// an immediate 503 instead of a silent close.
#pragma once

#include <Poco/Net/ServerSocket.h>

#include <atomic>
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "loop/event_loop.hpp"
#include "loop/task_threads.hpp"
#include "server/connection.hpp"
#include "server/gateway_handler.hpp"

namespace llmproxy {

class Server {
  public:
    // Binds now (throws Poco::Exception with the reason when it cannot); serves after start().
    // handler must outlive the server.
    Server(const ServerConfig& config, GatewayHandler& handler);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Serves; GET /readyz says ready from now on.
    void start();
    // GET /readyz says 503 from now on, while everything else is served as before (the drain
    // before stop(), which the caller times: drain_delay_ms).
    void start_draining() { handler_.start_draining(); }
    // Stops accepting (and /readyz says 503), lets requests in progress finish (for up to
    // shutdown_grace_ms), then closes every connection.
    void stop();
    uint16_t port() const { return socket_.address().port(); }

  private:
    // On a fiber of loop, until the server stops.
    void accept_connections(EventLoop& loop);
    void hand_over(EventLoop& loop, int fd);
    // On a fiber: answers 503 and closes fd.
    void refuse_overloaded(int fd);

    ServerConfig config_;
    GatewayHandler& handler_;
    BodyBudget body_budget_;
    ConnectionSettings settings_;
    ConnectionRegistry connections_;
    Poco::Net::ServerSocket socket_;
    TaskThreads blocking_;  // connects and TLS handshakes to upstreams, off the loops
    std::vector<std::unique_ptr<EventLoop>> loops_;
    std::atomic<int> open_connections_{0};  // accepted and not yet closed
    std::atomic<int> accepting_{0};         // loops whose acceptor runs
    std::atomic<bool> stopping_{false};
};

}  // namespace llmproxy
