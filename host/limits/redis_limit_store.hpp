// Rate-limit counters in Redis ([state] redis), shared by every llm-proxy that uses the same
// Redis, so that replicas behind a load balancer hold one limit together instead of one each.
//
// A request's charges are one Lua script run atomically by Redis: every counter is read, and all
// are increased only when each has room (the same all-or-none as LocalLimitStore). Windowed
// counters are named by their window and expire a window after its end (a minute, a day, or two
// months for a month's). Concurrent requests hold places: members of a sorted set scored by when
// they were taken, given back one by one (ZREM, which may be sent twice or lost without harm) and
// counted for ten minutes at most, so that a place whose release was lost (a replica that died,
// a reply lost in an outage) comes back; a request held longer stops counting then. Corrections
// and releases are sent without waiting for their replies.
//
// Every counter is under the one hash tag {llm-proxy}: a request's script touches the counters
// of its key, its route and its llm, which a Redis Cluster runs only when they share a slot.
//
// When Redis cannot be reached in time (see RedisConnection), a charge is not counted and the
// verdict is `unavailable`: admitted when fail_open, refused otherwise.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "limits/limit_store.hpp"
#include "limits/redis_connection.hpp"

namespace llmproxy {

class RedisLimitStore final : public LimitStore {
  public:
    // Connects lazily: one connection per thread that uses the store (one per event loop).
    RedisLimitStore(RedisSettings settings, bool fail_open);
    ~RedisLimitStore() override;  // after every fiber that used it has ended

    LimitVerdict charge(std::span<const LimitCharge> charges) override;
    void correct(const LimitCharge& charge, std::int64_t delta, std::int64_t now_window) override;
    void release(const LimitCharge& charge) override;
    std::optional<std::vector<std::int64_t>> counts(std::span<const LimitCharge> charges) override;
    std::string where() const override;

  private:
    // This thread's connection.
    RedisConnection& connection();
    // The member naming a concurrent charge's place, as the next word of command: this store's
    // instance and the charge's place.
    void add_place(RespCommand& command, const LimitCharge& charge) const;
    // A charge script's command (verb EVALSHA with the script's digest, or EVAL with its text).
    void write_charge(std::string& out, std::string_view verb, std::string_view script,
                      std::span<const LimitCharge> charges) const;
    // Adds delta to the charge's counter of window (only when it exists, when only_existing),
    // never below 0, without waiting.
    void add(const LimitCharge& charge, std::int64_t window, std::int64_t delta,
             bool only_existing);

    RedisSettings settings_;
    const std::shared_ptr<RedisHealth> health_ = std::make_shared<RedisHealth>();
    const bool fail_open_;
    const std::uint64_t id_;  // tells this store's connections in the threads' caches
    // Random, in hex: names this store's places apart from others'.
    const std::string instance_text_;
    std::mutex mutex_;  // guards connections_
    std::unordered_map<std::thread::id, std::unique_ptr<RedisConnection>> connections_;
};

}  // namespace llmproxy
