// Serves one client connection: HTTP/1.1 requests one after another (keep-alive) on the worker
// thread Poco's dispatcher gives it. It replaces Poco's HTTPServerConnection, which polls with a
// fresh epoll set for every request (three system calls where one will do), and it registers
// the connection with the disconnect watcher once rather than once per request.
#pragma once

#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

#include <atomic>
#include <mutex>
#include <set>

#include "upstream/disconnect_watcher.hpp"

namespace llmproxy {

class GatewayHandler;

// The open connections, so that a stop reaches them all.
class ConnectionRegistry {
  public:
    // No connection takes another request; with abort, every connection is shut down now (idle
    // keep-alive connections included).
    void stop(bool abort);
    bool stopping() const { return stopping_; }

    void add(Poco::Net::StreamSocket& socket);
    void remove(Poco::Net::StreamSocket& socket);

  private:
    std::atomic<bool> stopping_{false};
    std::mutex mutex_;
    std::set<Poco::Net::StreamSocket*> sockets_;
};

class GatewayConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
  public:
    GatewayConnectionFactory(Poco::Net::HTTPServerParams::Ptr params, GatewayHandler& handler,
                             ConnectionRegistry& registry, DisconnectWatcher& watcher)
        : params_(params), handler_(handler), registry_(registry), watcher_(watcher) {}

    Poco::Net::TCPServerConnection* createConnection(
        const Poco::Net::StreamSocket& socket) override;

  private:
    Poco::Net::HTTPServerParams::Ptr params_;
    GatewayHandler& handler_;
    ConnectionRegistry& registry_;
    DisconnectWatcher& watcher_;
};

}  // namespace llmproxy
