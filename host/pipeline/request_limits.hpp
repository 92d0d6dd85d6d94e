// The rate limits of one request: its client key's and its route's, charged together when it is
// admitted, and its llm's, charged for each upstream attempt; corrected from the tokens the
// answer reports, and given back (concurrent requests) when the request (the attempt) ends.
// Clients see where they stand against their key's and route's limits in OpenAI's x-ratelimit-*
// headers.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>

#include "access/key_file.hpp"
#include "http/api_error.hpp"
#include "http/http_response.hpp"
#include "limits/limit_store.hpp"
#include "runtime/runtime.hpp"

namespace llmproxy {

// What a limit with no room says, and how long to wait before trying again (0: no wait helps).
class LimitRefused : public ApiException {
  public:
    LimitRefused(ApiError error, std::int64_t retry_after_s)
        : ApiException(std::move(error)), retry_after_s_(retry_after_s) {}
    std::int64_t retry_after_s() const { return retry_after_s_; }

  private:
    std::int64_t retry_after_s_;
};

// The limits of one holder: "key:ID", "route:PREFIX" or "llm:NAME", and its Limits.
struct LimitHolder {
    std::string_view name;
    const Limits* limits;
};

class RequestLimits {
  public:
    // Charges a request (or one upstream attempt) against every limit of holders (at most
    // three); nullopt when none has one. Throws LimitRefused (429 rate_limit_exceeded) when a
    // limit has no room: then nothing is charged. A refusal is logged, and counted in metrics
    // (when not null). When the store cannot be reached, nothing is charged and its policy
    // decides: the request goes on unlimited, or LimitRefused is thrown (503
    // rate_limits_unavailable, Retry-After 1); counted in metrics either way. tokens(): the
    // reservation against tokens_per_minute, asked for only when such a limit applies. now_ms:
    // since the epoch. With response, the x-ratelimit-{limit, remaining,reset}-{requests,tokens}
    // headers of the limit of each kind with the least left are added to it (once per request: the
    // client's standing), and a refusal's Retry-After set.
    template <typename EstimateTokens>
    static std::optional<RequestLimits> admit(LimitStore& store,
                                              std::initializer_list<LimitHolder> holders,
                                              EstimateTokens&& tokens, HttpResponse* response,
                                              std::int64_t now_ms, GatewayMetrics* metrics) {
        RequestLimits limits(store, window_of(now_ms));
        for (const LimitHolder& holder : holders)
            limits.add(holder.name, *holder.limits);
        if (limits.count_ == 0)
            return std::nullopt;
        if (limits.reserved_tokens_ == 0)  // a token limit applies
            limits.reserve_tokens(tokens());
        limits.take(response, now_ms, metrics);
        return limits;
    }
    RequestLimits(RequestLimits&& other) noexcept;
    RequestLimits& operator=(RequestLimits&&) = delete;
    ~RequestLimits();  // gives back the concurrent requests taken

    // Whether a tokens_per_minute limit applies (and so the answer's usage is wanted).
    bool counts_tokens() const { return reserved_tokens_ >= 0; }

    // The request used `tokens` in all: its reservation is corrected by the difference.
    void used_tokens(std::int64_t tokens, std::int64_t now_ms);

  private:
    RequestLimits(LimitStore& store, std::int64_t window) : store_(&store), window_(window) {}
    void add(std::string_view holder, const Limits& limits);
    void reserve_tokens(std::int64_t tokens);
    // Charges the store; throws the 429 when it refuses.
    void take(HttpResponse* response, std::int64_t now_ms, GatewayMetrics* metrics);

    LimitStore* store_;  // null once moved from
    std::int64_t window_;
    std::array<LimitCharge, kMaxCharges> charges_{};
    std::size_t count_ = 0;
    std::int64_t reserved_tokens_ = -1;  // -1: no token limit applies
};

// A request's token reservation: its prompt, estimated at one token per 4 bytes of its body
// (JSON included, so on the high side), plus its max_tokens or max_completion_tokens.
std::int64_t estimated_tokens(std::string_view body, std::optional<std::int64_t> max_tokens);

}  // namespace llmproxy
