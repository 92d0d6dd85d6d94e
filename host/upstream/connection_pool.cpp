#include "upstream/connection_pool.hpp"

#include <algorithm>
#include <vector>

namespace llmproxy {

ConnectionPool::Lease ConnectionPool::acquire(const void* home) {
    std::vector<std::unique_ptr<UpstreamSession>> expired;  // closed after the lock is released
    {
        std::lock_guard lock(mutex_);
        auto now = Clock::now();
        // The oldest first, a few per call: thousands of connections that expired together are
        // closed over the next requests, not all at once by one of them.
        for (int i = 0; i < kClosedPerCall && !idle_.empty() &&
                        now - idle_.front().since >= settings_.idle_ttl;
             ++i) {
            expired.push_back(std::move(idle_.front().session));
            idle_.pop_front();
        }
        // One used last on the caller's loop, if there is one among the most recent.
        if (home) {
            for (std::size_t i = 0; i < std::min(kHomeSearch, idle_.size()); ++i) {
                auto it = idle_.end() - 1 - static_cast<std::ptrdiff_t>(i);
                if (it->session->home() == home && now - it->since < settings_.idle_ttl &&
                    it->session->http().connected()) {
                    auto session = std::move(it->session);
                    idle_.erase(it);
                    return {std::move(session), true};
                }
            }
        }
        // The most recently used is the freshest: if it has expired, so have all the others.
        while (!idle_.empty() && now - idle_.back().since < settings_.idle_ttl) {
            Idle idle = std::move(idle_.back());
            idle_.pop_back();
            if (idle.session->http().connected())
                return {std::move(idle.session), true};
            expired.push_back(std::move(idle.session));
        }
    }
    auto session = UpstreamSession::create(settings_.host, settings_.port, settings_.tls,
                                           settings_.connect_timeout_ms, settings_.read_timeout_ms);
    Poco::Net::HTTPClientSession& http = session->http();
    using Poco::Timespan;
    Timespan read = Timespan(static_cast<Timespan::TimeDiff>(settings_.read_timeout_ms) * 1000);
    http.setTimeout(Timespan(static_cast<Timespan::TimeDiff>(settings_.connect_timeout_ms) * 1000),
                    read, read);
    http.setKeepAlive(true);
    // The pool decides when an idle connection is too old; Poco's own timer counts from the
    // start of the last request, so a long stream would otherwise force a reconnect.
    http.setKeepAliveTimeout(Timespan(24 * Timespan::HOURS));
    return {std::move(session), false};
}

void ConnectionPool::release(std::unique_ptr<UpstreamSession> session) {
    std::lock_guard lock(mutex_);
    if (idle_.size() >= settings_.max_idle)
        return;
    idle_.push_back({std::move(session), Clock::now()});
}

}  // namespace llmproxy
