// Where rate-limit counters live: in the process (LocalLimitStore), or shared by replicas. A
// request's charges against every limit that applies to it are taken together or not at all, so
// that a request refused by one limit spends nothing of the others.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "config/config.hpp"

namespace llmproxy {

enum class LimitKind {
    requests,    // per minute window
    tokens,      // per minute window
    concurrent,  // at once: taken at admission, given back when the request ends
};

// How a kind is named: "requests", "tokens" or "concurrent" in headers and metrics, and in
// words in messages ("requests per minute").
std::string_view kind_name(LimitKind kind);
std::string_view kind_words(LimitKind kind);

// Each kind with the limit `limits` sets for it (0: none).
inline std::array<std::pair<LimitKind, std::int64_t>, 3> limits_by_kind(const Limits& limits) {
    return {{{LimitKind::requests, limits.requests_per_minute},
             {LimitKind::tokens, limits.tokens_per_minute},
             {LimitKind::concurrent, limits.concurrent_requests}}};
}

// Minute windows of the clock: window_of(ms since the epoch), the same on every replica.
inline constexpr std::int64_t kWindowMs = 60000;
inline std::int64_t window_of(std::int64_t now_ms) {
    return now_ms / kWindowMs;
}

// One request's share of one limit.
struct LimitCharge {
    // What the limit belongs to: "key:ID", "route:PREFIX" or "llm:NAME". Names come from the
    // configuration and the keys file only, so the counters are bounded in number. Borrowed from
    // the runtime, which outlives the request.
    std::string_view holder;
    LimitKind kind = LimitKind::requests;
    std::int64_t limit = 0;
    std::int64_t amount = 0;
};

// At most three holders (key, route, llm) of three kinds each.
inline constexpr std::size_t kMaxCharges = 9;

struct LimitVerdict {
    bool admitted = false;
    // The counters could not be reached (a shared store that is down or too slow): nothing was
    // charged, and `admitted` says what the store's policy for that case decided.
    bool unavailable = false;
    std::size_t refused = 0;  // the charge that did not fit, when not admitted
    // Each counter after the charges (when admitted), or as it stands (when not).
    std::array<std::int64_t, kMaxCharges> used{};
};

class LimitStore {
  public:
    virtual ~LimitStore() = default;

    // Takes every charge (at most kMaxCharges), or none when one would go over its limit (the
    // first such is named). window: window_of(now). THREADS: any; a store that waits for a
    // server waits on the caller's fiber only.
    virtual LimitVerdict charge(std::span<const LimitCharge> charges, std::int64_t window) = 0;

    // Adds delta (negative: gives back) to a windowed counter's count in window, when that is
    // still the current window (now_window); a positive delta for a window that has passed goes
    // to the current one instead, so that tokens used past a minute's end still count.
    virtual void correct(const LimitCharge& charge, std::int64_t window, std::int64_t delta,
                         std::int64_t now_window) = 0;

    // Gives back the amount of a concurrent charge taken earlier.
    virtual void release(const LimitCharge& charge) = 0;

    // Where the counters are, for the log: "in the process", "in Redis at HOST:PORT".
    virtual std::string where() const = 0;
};

// The store [state] asks for: in Redis when it names one, else in the process. Throws
// std::runtime_error when Redis's password variable is not set.
std::shared_ptr<LimitStore> make_limit_store(const StateConfig& state);

}  // namespace llmproxy
