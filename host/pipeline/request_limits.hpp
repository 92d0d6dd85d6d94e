// The rate limits of one request: its client key's, its route's and its llm's, charged together
// when it is admitted, corrected from the tokens its answer reports, and given back (concurrent
// requests) when it ends. Clients see where they stand in OpenAI's x-ratelimit-* headers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "access/key_file.hpp"
#include "http/http_response.hpp"
#include "limits/limit_store.hpp"
#include "runtime/runtime.hpp"

namespace llmproxy {

class RequestLimits {
  public:
    // Charges the request against every limit of key (null: none), route and llm; nullopt when
    // none applies. Sets x-ratelimit-{limit,remaining,reset}-{requests,tokens} on response for
    // the limit of each kind with the least left. Throws ApiException 429 rate_limit_exceeded,
    // with Retry-After set, when a limit has no room: then nothing is charged. A refusal is
    // logged, and counted in metrics (when not null). tokens: the request's reservation against
    // tokens_per_minute, asked for only when such a limit applies. now_ms: since the epoch.
    template <typename EstimateTokens>
    static std::optional<RequestLimits> admit(LimitStore& store, const ClientKey* key,
                                              const RouteRuntime& route, const LlmRuntime& llm,
                                              EstimateTokens&& tokens, HttpResponse& response,
                                              std::int64_t now_ms, GatewayMetrics* metrics) {
        RequestLimits limits(store, window_of(now_ms));
        if (key)
            limits.add(key->limit_holder, key->limits);
        limits.add(route.limit_holder, route.config->limits);
        limits.add(llm.limit_holder, llm.config->limits);
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
    void take(HttpResponse& response, std::int64_t now_ms, GatewayMetrics* metrics);

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
