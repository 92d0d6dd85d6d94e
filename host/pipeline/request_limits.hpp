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

// What a request is expected to use, as it is admitted: its prompt (estimated from its size),
// the most it may answer (its max_tokens, 0 when it gives none), and its model's price (null:
// [prices] has none).
struct UsageEstimate {
    std::int64_t prompt_tokens = 0;
    std::int64_t output_tokens = 0;
    std::string_view model;
    const Price* price = nullptr;
};

// The tokens an answer reports: input and output, or (when it does not tell them apart) a total,
// priced as output.
struct TokenUse {
    std::int64_t input = 0;
    std::int64_t output = 0;
};

class RequestLimits {
  public:
    // Charges a request (or one upstream attempt) against every limit of holders (at most
    // three), into `limits`: emplaced there, or left empty when none has one. Throws
    // LimitRefused (429 rate_limit_exceeded, or insufficient_quota for a budget) when a limit has
    // no room: then nothing is charged, and `limits` is left empty. A refusal is logged, and
    // counted in metrics (when not null). When the store cannot be reached, nothing is charged
    // and its policy decides: the request goes on unlimited (`limits` empty), or LimitRefused is
    // thrown (503 rate_limits_unavailable, Retry-After 1); counted in metrics either way.
    // estimate(): a UsageEstimate, asked for only when a token or cost limit applies; a cost
    // limit with no price for the model is refused (403 model_not_priced). now_ms: since the
    // epoch. With response, the x-ratelimit-{limit,remaining,reset}-{requests,tokens} headers
    // of the per-minute limit of each kind with the least left are added to it (once per
    // request: the client's standing), and a refusal's Retry-After set. Built in place: the
    // charges are not copied.
    template <typename Estimate>
    static void admit(std::optional<RequestLimits>& limits, LimitStore& store,
                      std::initializer_list<LimitHolder> holders, Estimate&& estimate,
                      HttpResponse* response, std::int64_t now_ms, GatewayMetrics* metrics) {
        RequestLimits& admitted = limits.emplace(Admitting{}, store);
        for (const LimitHolder& holder : holders)
            admitted.add(holder.name, *holder.limits, now_ms);
        if (admitted.count_ == 0) {
            limits.reset();
            return;
        }
        try {
            if (admitted.counts_usage_)
                admitted.reserve(estimate());
            admitted.take(response, now_ms, metrics);
        } catch (...) {
            if (!admitted.charged_)
                admitted.count_ = 0;  // nothing taken: nothing to give back
            limits.reset();
            throw;
        }
        if (admitted.count_ == 0)  // the store is out of reach, and lets the request by
            limits.reset();
    }

  private:
    struct Admitting {
        explicit Admitting() = default;
    };

  public:
    // Only admit() makes them (std::optional::emplace needs the constructor public).
    RequestLimits(Admitting, LimitStore& store) : store_(&store) {}
    RequestLimits(const RequestLimits&) = delete;
    RequestLimits& operator=(const RequestLimits&) = delete;
    ~RequestLimits();  // gives back the concurrent requests taken

    // Whether a token or cost limit applies (and so the answer's usage is wanted).
    bool counts_usage() const { return counts_usage_; }

    // The request used `use` in all, priced at `price` (what answered; null: the price it was
    // admitted at): its reservations are corrected by the difference.
    void used(const TokenUse& use, const Price* price, std::int64_t now_ms);
    // Besides the request's own use, `use` at `price` (a side call it caused; null: no cost) is
    // added to its token and cost limits.
    void also_used(const TokenUse& use, const Price* price, std::int64_t now_ms);

  private:
    void add(std::string_view holder, const Limits& limits, std::int64_t now_ms);
    void reserve(const UsageEstimate& estimate);
    // Charges the store; throws the 429 when it refuses.
    void take(HttpResponse* response, std::int64_t now_ms, GatewayMetrics* metrics);
    // Adds tokens to every token charge's counter and cost to every cost charge's.
    void correct_counters(std::int64_t tokens, std::int64_t cost, std::int64_t now_ms);
    // Sets every token or cost charge's amount from a use.
    void set_amounts(std::int64_t tokens, std::int64_t cost);

    LimitStore* store_;
    std::array<LimitCharge, kMaxCharges> charges_{};
    std::size_t count_ = 0;
    bool charged_ = false;  // the store took the charges
    bool counts_usage_ = false;
    const Price* price_ = nullptr;
    std::int64_t reserved_tokens_ = 0;  // what the token and cost charges hold now
    std::int64_t reserved_cost_ = 0;
};

// The cost of a use at a price, in millionths of a dollar (rounded up).
std::int64_t cost_of(const TokenUse& use, const Price& price);

// A request's prompt, estimated at one token per 4 bytes of its body (JSON included, so on the
// high side), and its max_tokens or max_completion_tokens (capped: a hostile one cannot overflow
// a sum).
UsageEstimate estimated_usage(std::string_view body, std::optional<std::int64_t> max_tokens);

}  // namespace llmproxy
