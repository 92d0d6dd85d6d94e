// Keep-alive connections to one upstream (Poco has no pool of its own). Sessions are handed out
// one request at a time and come back only when their response was read to the end.
#pragma once

#include <Poco/Net/Context.h>

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "upstream/upstream_session.hpp"

namespace llmproxy {

struct PoolSettings {
    std::string host;
    uint16_t port = 80;
    Poco::Net::Context::Ptr tls;  // null for plain HTTP
    int connect_timeout_ms = 10000;
    int read_timeout_ms = 300000;
    std::size_t max_idle = 64;
    std::chrono::milliseconds idle_ttl{30000};  // an idle connection older than this is closed
};

class ConnectionPool {
  public:
    explicit ConnectionPool(PoolSettings settings) : settings_(std::move(settings)) {}

    struct Lease {
        std::unique_ptr<UpstreamSession> session;
        bool reused = false;  // a reused connection may have been closed by the peer meanwhile
    };

    // [thread-safe] An idle connection if one is fresh, else a new unconnected session. Among
    // the most recently used, one last used on event-loop home is preferred (see
    // UpstreamSession::home()): it moves between loops' epoll sets less often.
    Lease acquire(const void* home = nullptr);
    // [thread-safe] Gives back a session whose last response was read completely.
    void release(std::unique_ptr<UpstreamSession> session);

  private:
    using Clock = std::chrono::steady_clock;
    struct Idle {
        std::unique_ptr<UpstreamSession> session;
        Clock::time_point since;
    };

    static constexpr int kClosedPerCall = 4;
    static constexpr std::size_t kHomeSearch = 8;  // idle connections looked at for a home match

    PoolSettings settings_;
    mutable std::mutex mutex_;
    std::deque<Idle> idle_;  // most recently used last
};

}  // namespace llmproxy
