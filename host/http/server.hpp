// The listening side: one acceptor thread hands connections to worker threads (one thread serves
// one connection at a time). When every thread is busy and the waiting queue is full, a new
// connection gets an immediate 503 instead of a silent close.
#pragma once

#include <Poco/Net/ServerSocket.h>

#include <atomic>
#include <thread>

#include "config/config.hpp"
#include "http/connection.hpp"
#include "http/gateway_handler.hpp"
#include "http/worker_threads.hpp"

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
    void refuse_overloaded(int fd);

    ServerConfig config_;
    GatewayHandler& handler_;
    DisconnectWatcher& watcher_;
    ConnectionSettings settings_;
    ConnectionRegistry connections_;
    Poco::Net::ServerSocket socket_;
    WorkerThreads workers_;
    std::atomic<bool> stopping_{false};
    std::thread acceptor_;
};

}  // namespace llmproxy
