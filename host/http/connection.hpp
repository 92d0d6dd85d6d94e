// Serves one client connection: HTTP/1.x requests one after another (keep-alive, pipelining) on
// the worker thread Poco's dispatcher gives it. llm-proxy reads request heads and writes answers
// itself (http_request, client_socket, http_response): Poco's HTTPServerConnection opened an
// epoll set for every request and its request object asked the kernel for both socket addresses
// every time. The connection is registered with the disconnect watcher once, not per request.
#pragma once

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

struct ConnectionSettings {
    int keep_alive_timeout_ms = 15000;  // 0: one request per connection
};

class GatewayConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
  public:
    GatewayConnectionFactory(ConnectionSettings settings, GatewayHandler& handler,
                             ConnectionRegistry& registry, DisconnectWatcher& watcher)
        : settings_(settings), handler_(handler), registry_(registry), watcher_(watcher) {}

    Poco::Net::TCPServerConnection* createConnection(
        const Poco::Net::StreamSocket& socket) override;

  private:
    ConnectionSettings settings_;
    GatewayHandler& handler_;
    ConnectionRegistry& registry_;
    DisconnectWatcher& watcher_;
};

}  // namespace llmproxy
