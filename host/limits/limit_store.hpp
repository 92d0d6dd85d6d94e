// Where rate-limit counters live: in the process (LocalLimitStore), or shared by replicas. A
// request's charges against every limit that applies to it are taken together or not at all, so
// that a request refused by one limit spends nothing of the others.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace llmproxy {

// In the order of kLimitFields (config/config.hpp).
enum class LimitKind {
    requests,        // per minute
    tokens,          // per minute
    concurrent,      // at once: taken at admission, given back when the request ends
    daily_tokens,    // budgets, per day and month of the UTC calendar
    monthly_tokens,  //
    daily_cost,      // in millionths of a dollar
    monthly_cost,    //
};
inline constexpr std::size_t kLimitKinds = kLimitFields.size();

// How a kind is named in headers and metrics ("requests", "tokens", "concurrent",
// "daily_tokens", ...), and in words in messages ("requests per minute", "cost per day").
std::string_view kind_name(LimitKind kind);
std::string_view kind_words(LimitKind kind);
// Whether the kind counts tokens, or their cost: what an answer's usage corrects.
inline bool counts_tokens(LimitKind kind) {
    return kind == LimitKind::tokens || kind == LimitKind::daily_tokens ||
           kind == LimitKind::monthly_tokens;
}
inline bool counts_cost(LimitKind kind) {
    return kind == LimitKind::daily_cost || kind == LimitKind::monthly_cost;
}

// Whether limits has a limit an answer's usage corrects (tokens, or their cost).
inline bool counts_usage(const Limits& limits) {
    return limits.tokens_per_minute || limits.tokens_per_day || limits.tokens_per_month ||
           limits.cost_per_day || limits.cost_per_month;
}

// Each kind with the limit `limits` sets for it (0: none).
inline std::array<std::pair<LimitKind, std::int64_t>, kLimitKinds> limits_by_kind(
    const Limits& limits) {
    std::array<std::pair<LimitKind, std::int64_t>, kLimitKinds> out;
    for (std::size_t i = 0; i < kLimitKinds; ++i)
        out[i] = {static_cast<LimitKind>(i), limits.*kLimitFields[i].member};
    return out;
}

// The wall clock, in ms since the epoch: what windows are read from.
std::int64_t epoch_ms();

// The windows a kind counts in: numbered spans of the clock, the same on every replica whose
// clock is right. Minutes and UTC days since the epoch, UTC months since January 1970; a
// concurrent count has one window (0), for good.
std::int64_t window_of(LimitKind kind, std::int64_t now_ms);
// When a window of kind ends (ms since the epoch).
std::int64_t window_end_ms(LimitKind kind, std::int64_t window);

// One request's share of one limit.
struct LimitCharge {
    // What the limit belongs to: "key:ID", "route:PREFIX" or "llm:NAME". Names come from the
    // configuration and the keys file only, so the counters are bounded in number. Borrowed from
    // the runtime, which outlives the request.
    std::string_view holder;
    LimitKind kind = LimitKind::requests;
    std::int64_t limit = 0;
    std::int64_t amount = 0;
    std::int64_t window = 0;  // window_of(kind, the time of the charge)
    // For concurrent requests: the request's place, unique in the process (next_place()), for a
    // store that keeps places one by one.
    std::uint64_t place = 0;
};

// [thread-safe] A place number no other request of this process has.
std::uint64_t next_place();

// At most three holders (key, route, llm) of every kind each.
inline constexpr std::size_t kMaxCharges = 3 * kLimitKinds;

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

    // Takes every charge (at most kMaxCharges), each in its window, or none when one would go
    // over its limit (the first such is named). THREADS: any; a store that waits for a server
    // waits on the caller's fiber only.
    virtual LimitVerdict charge(std::span<const LimitCharge> charges) = 0;

    // Adds delta (negative: gives back) to a windowed counter's count in the charge's window,
    // when that is still the current window of its kind (now_window); a positive delta for a
    // window that has passed goes to the current one instead, so that tokens used past a
    // minute's end still count.
    virtual void correct(const LimitCharge& charge, std::int64_t delta,
                         std::int64_t now_window) = 0;

    // Gives back the amount of a concurrent charge taken earlier.
    virtual void release(const LimitCharge& charge) = 0;

    // Each charge's counter as it stands in the charge's window (0 when it has none there),
    // charging nothing: what the usage report shows. nullopt when the counters cannot be reached.
    virtual std::optional<std::vector<std::int64_t>> counts(
        std::span<const LimitCharge> charges) = 0;

    // Where the counters are, for the log: "in the process", "in Redis at HOST:PORT".
    virtual std::string where() const = 0;
};

// The store [state] asks for: in Redis when it names one, else in the process. Throws
// std::runtime_error when Redis's password variable is not set.
std::shared_ptr<LimitStore> make_limit_store(const StateConfig& state);

}  // namespace llmproxy
