#include "http/server.hpp"

#include <Poco/Net/TCPServerParams.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "http/api_error.hpp"

namespace llmproxy {

namespace {

constexpr int kWorkerStackBytes = 256 * 1024;  // thousands of streams must fit in memory

Poco::Net::TCPServerParams::Ptr dispatcher_params(const ServerConfig& c) {
    Poco::Net::TCPServerParams::Ptr params = new Poco::Net::TCPServerParams;
    params->setMaxThreads(c.max_threads);
    // Our acceptor refuses before Poco's queue limit is reached; Poco's limit is only a backstop.
    params->setMaxQueued(c.max_queued + c.max_threads + 64);
    return params;
}

}  // namespace

Server::Server(const ServerConfig& config, GatewayHandler& handler, DisconnectWatcher& watcher)
    : config_(config),
      handler_(handler),
      socket_(Poco::Net::SocketAddress(config.host, static_cast<uint16_t>(config.port)), 1024),
      threads_("worker", std::min(2, config.max_threads), config.max_threads, 60,
               kWorkerStackBytes) {
    ConnectionSettings settings;
    settings.keep_alive_timeout_ms = config.keep_alive_timeout_ms;
    dispatcher_ = new Poco::Net::TCPServerDispatcher(
        new GatewayConnectionFactory(settings, handler_, connections_, watcher), threads_,
        dispatcher_params(config));
}

Server::~Server() {
    stop();
    dispatcher_->release();
}

void Server::start() {
    acceptor_ = std::thread([this] { accept_loop(); });
}

void Server::stop() {
    if (stopping_.exchange(true))
        return;
    if (acceptor_.joinable())
        acceptor_.join();
    socket_.close();
    connections_.stop(false);  // no new request on any connection
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.shutdown_grace_ms);
    while (handler_.requests_in_progress() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (handler_.requests_in_progress() > 0)
        spdlog::warn("shutdown_grace_ms = {} passed with {} requests in progress; closing them",
                     config_.shutdown_grace_ms, handler_.requests_in_progress());
    connections_.stop(true);  // wakes idle keep-alive connections, ends the rest
    dispatcher_->stop();
    threads_.joinAll();
}

void Server::accept_loop() {
    const int capacity = config_.max_threads + config_.max_queued;
    while (!stopping_) {
        try {
            if (!socket_.poll(Poco::Timespan(0, 200000), Poco::Net::Socket::SELECT_READ))
                continue;
            Poco::Net::StreamSocket client = socket_.acceptConnection();
            client.setNoDelay(true);  // never let Nagle hold back a small response or event
            client.setSendTimeout(Poco::Timespan(
                static_cast<Poco::Timespan::TimeDiff>(config_.client_send_timeout_ms) * 1000));
            if (dispatcher_->currentConnections() + dispatcher_->queuedConnections() >= capacity) {
                refuse_overloaded(client);
                continue;
            }
            dispatcher_->enqueue(client);
        } catch (const Poco::Exception& e) {
            if (!stopping_)
                spdlog::error("accepting a connection failed: {}", e.displayText());
        }
    }
}

void Server::refuse_overloaded(Poco::Net::StreamSocket& socket) {
    spdlog::warn("overloaded: {} threads busy and {} connections waiting; answering 503",
                 dispatcher_->currentConnections(), dispatcher_->queuedConnections());
    ApiError error{
        503, "server_error", "overloaded",
        "llm-proxy is at capacity ([server] max_threads = " + std::to_string(config_.max_threads) +
            ", max_queued = " + std::to_string(config_.max_queued) + "); retry shortly"};
    std::string body = error.to_json();
    std::string reply =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    try {
        socket.setSendTimeout(Poco::Timespan(0, 100000));
        socket.sendBytes(reply.data(), static_cast<int>(reply.size()));
        socket.shutdownSend();
        // Read what the client sent before closing: closing with unread data sends a reset,
        // which can destroy the 503 before the client reads it.
        char scratch[4096];
        if (socket.poll(Poco::Timespan(0, 50000), Poco::Net::Socket::SELECT_READ))
            socket.receiveBytes(scratch, sizeof scratch);
    } catch (const Poco::Exception&) {
        // The client is already gone; nothing more to do.
    }
}

}  // namespace llmproxy
