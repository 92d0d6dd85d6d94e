#include "server/server.hpp"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "http/api_error.hpp"
#include "loop/wait.hpp"

namespace llmproxy {

namespace {

// Each connection's fiber stack: plugin hooks run on it, and thousands of streams must fit in
// memory (only the pages a fiber touches become resident).
constexpr std::size_t kFiberStackBytes = 256 * 1024;
// How long requests cut at the end of the shut-down grace have to tell their clients.
constexpr int kLastWordsMs = 1000;
// How soon an acceptor notices a stop.
constexpr int kAcceptCheckMs = 200;
// Threads for blocking upstream work (DNS, connect, TLS handshake); more wait their turn.
constexpr int kBlockingThreads = 64;
constexpr std::size_t kBlockingStackBytes = 256 * 1024;
// Connections the kernel may hold for us while the acceptor catches up with a burst (it caps the
// figure at net.core.somaxconn): a full queue drops connection attempts, which clients only
// retry after a second.
constexpr int kListenBacklog = 4096;

ConnectionSettings connection_settings(const ServerConfig& c, BodyBudget& budget) {
    ConnectionSettings settings;
    settings.keep_alive_timeout_ms = c.keep_alive_timeout_ms;
    settings.client.head_timeout_ms = c.request_head_timeout_ms;
    settings.client.body_timeout_ms = c.request_body_timeout_ms;
    settings.client.body_min_rate = c.request_body_min_rate;
    settings.client.send_timeout_ms = c.client_send_timeout_ms;
    settings.client.budget = &budget;
    return settings;
}

int loop_count(const ServerConfig& c) {
    if (c.worker_threads > 0)
        return c.worker_threads;
    return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

Server::Server(const ServerConfig& config, GatewayHandler& handler)
    : config_(config),
      handler_(handler),
      body_budget_(config.max_buffered_body_bytes),
      settings_(connection_settings(config, body_budget_)),
      blocking_(kBlockingThreads, kBlockingStackBytes) {
    handler_.show_connections(open_connections_);
    // SO_REUSEADDR without SO_REUSEPORT, which Poco's binding constructor also sets: with it, a
    // second llm-proxy on a port in use would start and silently take a share of its connections.
    socket_.bind(Poco::Net::SocketAddress(config.host, static_cast<uint16_t>(config.port)),
                 /*reuseAddress=*/true, /*reusePort=*/false);
    socket_.listen(kListenBacklog);
    for (int i = loop_count(config); i > 0; --i)
        loops_.push_back(std::make_unique<EventLoop>(kFiberStackBytes, blocking_));
}

Server::~Server() {
    stop();
}

void Server::start() {
    socket_.setBlocking(false);
    for (auto& loop : loops_) {
        loop->start();
        ++accepting_;
        EventLoop* on = loop.get();
        on->spawn([this, on] {
            accept_connections(*on);
            --accepting_;
        });
    }
    handler_.start_serving();
}

void Server::stop() {
    if (stopping_.exchange(true))
        return;
    handler_.start_draining();
    while (accepting_ > 0)  // each loop's acceptor notices within kAcceptCheckMs
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    socket_.close();
    connections_.stop(false);  // no new request on any connection
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.shutdown_grace_ms);
    while (handler_.requests_in_progress() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (handler_.requests_in_progress() > 0) {
        spdlog::warn("shutdown_grace_ms = {} passed with {} requests in progress; ending them",
                     config_.shutdown_grace_ms, handler_.requests_in_progress());
        // Each is told why its answer ends (an error event for a stream), briefly, before every
        // connection is closed.
        handler_.cut_requests_for_shutdown();
        auto told = std::chrono::steady_clock::now() + std::chrono::milliseconds(kLastWordsMs);
        while (handler_.requests_in_progress() > 0 && std::chrono::steady_clock::now() < told)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    connections_.stop(true);  // wakes idle keep-alive connections, ends the rest
    for (auto& loop : loops_)
        loop->stop();
    blocking_.stop();
}

void Server::accept_connections(EventLoop& loop) {
    const int listener = socket_.impl()->sockfd();
    while (!stopping_) {
        int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) {
            hand_over(loop, fd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            spdlog::error("accepting a connection failed: {}", std::strerror(errno));
            // Out of file descriptors, say: let some connections end first.
            loop.sleep(kAcceptCheckMs);
            continue;
        }
        // Every loop waits for the next connection; whichever is free first takes it.
        wait_ready(listener, EPOLLIN, kAcceptCheckMs);
    }
}

void Server::hand_over(EventLoop& loop, int fd) {
    if (open_connections_ >= config_.max_connections) {
        loop.spawn([this, fd] { refuse_overloaded(fd); });
        return;
    }
    ++open_connections_;
    loop.spawn([this, fd] {
        serve_connection(fd, settings_, handler_, connections_);
        --open_connections_;
    });
}

void Server::refuse_overloaded(int fd) {
    spdlog::warn("overloaded: {} connections open; answering 503", open_connections_.load());
    ApiError error{503, "server_error", "overloaded",
                   "llm-proxy is at capacity ([server] max_connections = " +
                       std::to_string(config_.max_connections) +
                       " connections open); retry shortly"};
    std::string body = error.to_json();
    std::string reply =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(fd, SHUT_WR);
    // Read what the client sent before closing: closing with unread data sends a reset, which
    // can destroy the 503 before the client reads it.
    char scratch[4096];
    if (wait_ready(fd, EPOLLIN, 50))
        ::recv(fd, scratch, sizeof scratch, MSG_DONTWAIT);
    ::close(fd);
}

}  // namespace llmproxy
