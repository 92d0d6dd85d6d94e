#include "upstream/connection_pool.hpp"

namespace llmproxy {

ConnectionPool::Lease ConnectionPool::acquire() {
    {
        std::lock_guard lock(mutex_);
        auto now = Clock::now();
        while (!idle_.empty()) {
            Idle idle = std::move(idle_.back());
            idle_.pop_back();
            if (now - idle.since < settings_.idle_ttl && idle.session->http().connected())
                return {std::move(idle.session), true};
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
