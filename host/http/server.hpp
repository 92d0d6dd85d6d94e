// The listening side: one acceptor thread hands connections to a pool of worker threads (one
// thread serves one connection, Poco's model). When every thread is busy and the waiting queue is
// full, a new connection gets an immediate 503 instead of Poco's silent close.
#pragma once

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServerDispatcher.h>
#include <Poco/ThreadPool.h>

#include <atomic>
#include <memory>
#include <thread>

#include "config/config.hpp"
#include "http/connection.hpp"
#include "http/gateway_handler.hpp"

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
    void refuse_overloaded(Poco::Net::StreamSocket& socket);

    ServerConfig config_;
    GatewayHandler& handler_;
    ConnectionRegistry connections_;
    Poco::Net::ServerSocket socket_;
    Poco::ThreadPool threads_;
    Poco::Net::TCPServerDispatcher* dispatcher_ = nullptr;  // reference-counted by Poco
    std::atomic<bool> stopping_{false};
    std::thread acceptor_;
};

}  // namespace llmproxy
