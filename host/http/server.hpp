// The listening side: one acceptor thread hands connections, in turn, to the event loops (one
// thread each, every connection a fiber of one loop). Beyond max_connections open at once, a new
// connection gets an immediate 503 instead of a silent close.
#pragma once

#include <Poco/Net/ServerSocket.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "http/connection.hpp"
#include "http/gateway_handler.hpp"
#include "loop/event_loop.hpp"
#include "loop/task_threads.hpp"

namespace llmproxy {

class Server {
  public:
    // Binds now (throws Poco::Exception with the reason when it cannot); serves after start().
    // handler and watcher must outlive the server.
    Server(const ServerConfig& config, GatewayHandler& handler, DisconnectWatcher& watcher);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    void start();
    // Stops accepting, lets requests in progress finish (for up to shutdown_grace_ms), then
    // closes every connection.
    void stop();
    uint16_t port() const { return socket_.address().port(); }

  private:
    void accept_loop();
    void hand_over(int fd);
    void refuse_overloaded(int fd);

    ServerConfig config_;
    GatewayHandler& handler_;
    DisconnectWatcher& watcher_;
    ConnectionSettings settings_;
    ConnectionRegistry connections_;
    Poco::Net::ServerSocket socket_;
    TaskThreads blocking_;  // connects and TLS handshakes to upstreams, off the loops
    std::vector<std::unique_ptr<EventLoop>> loops_;
    std::size_t next_loop_ = 0;             // acceptor thread only
    std::atomic<int> open_connections_{0};  // handed to a loop and not yet closed
    std::atomic<bool> stopping_{false};
    std::thread acceptor_;
};

}  // namespace llmproxy
