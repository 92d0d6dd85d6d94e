#include "pipeline/request_limits.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>

#include "http/api_error.hpp"

namespace llmproxy {

namespace {

// "key 'team-a'" from "key:team-a".
std::string holder_words(std::string_view holder) {
    const auto colon = holder.find(':');
    return fmt::format("{} '{}'", holder.substr(0, colon), holder.substr(colon + 1));
}

// A duration as OpenAI's reset headers write it: "17s", "250ms".
std::string duration_text(std::int64_t ms) {
    return ms >= 1000 ? fmt::format("{}s", (ms + 999) / 1000) : fmt::format("{}ms", ms);
}

// The x-ratelimit-* headers of the charge of `kind` with the least left.
void set_headers(HttpResponse& response, std::span<const LimitCharge> charges,
                 const LimitVerdict& verdict, LimitKind kind, std::int64_t reset_ms) {
    const LimitCharge* tightest = nullptr;
    std::int64_t least = 0;
    for (std::size_t i = 0; i < charges.size(); ++i) {
        if (charges[i].kind != kind)
            continue;
        const std::int64_t left = std::max<std::int64_t>(0, charges[i].limit - verdict.used[i]);
        if (!tightest || left < least) {
            tightest = &charges[i];
            least = left;
        }
    }
    if (!tightest)
        return;
    // Set once per request, before anything else could have: added without a search.
    const bool requests = kind == LimitKind::requests;
    response.add(requests ? "x-ratelimit-limit-requests" : "x-ratelimit-limit-tokens",
                 std::to_string(tightest->limit));
    response.add(requests ? "x-ratelimit-remaining-requests" : "x-ratelimit-remaining-tokens",
                 std::to_string(least));
    response.add(requests ? "x-ratelimit-reset-requests" : "x-ratelimit-reset-tokens",
                 duration_text(reset_ms));
}

}  // namespace

void RequestLimits::add(std::string_view holder, const Limits& limits) {
    for (const auto& [kind, limit] : limits_by_kind(limits)) {
        if (limit <= 0)
            continue;
        charges_[count_++] = {holder, kind, limit, 1};
        if (kind == LimitKind::tokens)
            reserved_tokens_ = 0;
    }
}

void RequestLimits::reserve_tokens(std::int64_t tokens) {
    reserved_tokens_ = tokens;
    for (std::size_t i = 0; i < count_; ++i)
        if (charges_[i].kind == LimitKind::tokens)
            charges_[i].amount = tokens;
}

void RequestLimits::take(HttpResponse* response, std::int64_t now_ms, GatewayMetrics* metrics) {
    const std::span<const LimitCharge> charges(charges_.data(), count_);
    const LimitVerdict verdict = store_->charge(charges, window_);
    if (verdict.unavailable) {
        count_ = 0;  // nothing was taken: nothing to correct or give back
        if (metrics)
            metrics->limits_unavailable(verdict.admitted);
        if (verdict.admitted)
            return;
        if (response)
            response->set("Retry-After", "1");
        throw LimitRefused({503, "server_error", "rate_limits_unavailable",
                            "llm-proxy cannot reach its rate limits' counters now, and refuses "
                            "requests that have a limit until it can ([state] on_error = "
                            "\"closed\"). Try again shortly."},
                           1);
    }
    const std::int64_t reset_ms = (window_ + 1) * kWindowMs - now_ms;
    if (response) {
        set_headers(*response, charges, verdict, LimitKind::requests, reset_ms);
        set_headers(*response, charges, verdict, LimitKind::tokens, reset_ms);
    }
    if (verdict.admitted)
        return;
    count_ = 0;  // nothing was taken: nothing to give back
    const LimitCharge& full = charges[verdict.refused];
    const bool concurrent = full.kind == LimitKind::concurrent;
    const std::int64_t retry_s = concurrent ? 1 : (reset_ms + 999) / 1000;
    const bool never = full.amount > full.limit;  // no wait lets it through: no Retry-After
    if (response && !never)
        response->set("Retry-After", std::to_string(retry_s));
    std::string message = fmt::format(
        "Rate limit reached for {} on {}: limit {}, {} {}, requested {}.",
        holder_words(full.holder), kind_words(full.kind), full.limit,
        concurrent ? "in progress" : "used", verdict.used[verdict.refused], full.amount);
    if (never)
        message +=
            " The request alone is more than the limit (its estimate: one token per 4 bytes of "
            "the request, plus its max_tokens); send less, or ask for fewer tokens.";
    else
        message += concurrent ? " Try again when one has ended."
                              : fmt::format(" Try again in {}s.", retry_s);
    spdlog::debug("limits: refused: {}", message);  // the access line has it too
    if (metrics)
        metrics->rate_limited(full.holder, full.kind);
    throw LimitRefused({429, full.kind == LimitKind::tokens ? "tokens" : "requests",
                        "rate_limit_exceeded", std::move(message)},
                       never ? 0 : retry_s);
}

RequestLimits::RequestLimits(RequestLimits&& other) noexcept
    : store_(std::exchange(other.store_, nullptr)),
      window_(other.window_),
      charges_(other.charges_),
      count_(std::exchange(other.count_, 0)),
      reserved_tokens_(other.reserved_tokens_) {}

RequestLimits::~RequestLimits() {
    if (!store_)
        return;
    for (std::size_t i = 0; i < count_; ++i)
        if (charges_[i].kind == LimitKind::concurrent)
            store_->release(charges_[i]);
}

void RequestLimits::used_tokens(std::int64_t tokens, std::int64_t now_ms) {
    if (!store_ || reserved_tokens_ < 0 || tokens == reserved_tokens_)
        return;
    const std::int64_t delta = tokens - reserved_tokens_;
    for (std::size_t i = 0; i < count_; ++i)
        if (charges_[i].kind == LimitKind::tokens)
            store_->correct(charges_[i], window_, delta, window_of(now_ms));
    reserved_tokens_ = tokens;
}

std::int64_t estimated_tokens(std::string_view body, std::optional<std::int64_t> max_tokens) {
    // A max_tokens beyond any limit (or negative) cannot overflow the sum: it is capped.
    constexpr std::int64_t kMost = 1'000'000'000'000'000LL;
    return static_cast<std::int64_t>((body.size() + 3) / 4) +
           std::clamp<std::int64_t>(max_tokens.value_or(0), 0, kMost);
}

}  // namespace llmproxy
