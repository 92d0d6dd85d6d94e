// The listening side: one acceptor thread hands connections to a pool of worker threads (one
// thread serves one connection, Poco's model). When every thread is busy and the waiting queue is
// full, a new connection gets an immediate 503 instead of Poco's silent close.
#pragma once

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServerDispatcher.h>
#include <Poco/ThreadPool.h>

#include <atomic>
#include <memory>
#include <thread>

#include "config/config.hpp"

namespace llmproxy {

// A handler factory the Server can drain at shut-down: it counts the requests in progress, and
// can tell every open connection to stop after its current request or at once.
class DrainableHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
  public:
    int requests_in_progress() const { return in_progress_; }
    void stop_connections(bool abort_now) { serverStopped(this, abort_now); }

  protected:
    std::atomic<int> in_progress_{0};
};

class Server {
  public:
    // Binds now (throws Poco::Exception with the reason when it cannot); serves after start().
    // Takes ownership of factory.
    Server(const ServerConfig& config, DrainableHandlerFactory* factory);
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
    Poco::Net::HTTPRequestHandlerFactory::Ptr factory_owner_;  // shared with Poco's connections
    DrainableHandlerFactory* factory_;
    Poco::Net::ServerSocket socket_;
    Poco::ThreadPool threads_;
    Poco::Net::TCPServerDispatcher* dispatcher_ = nullptr;  // reference-counted by Poco
    std::atomic<bool> stopping_{false};
    std::thread acceptor_;
};

}  // namespace llmproxy
