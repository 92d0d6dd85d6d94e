#include "pipeline/request_limits.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <string>

#include "http/api_error.hpp"
#include "logging/log_text.hpp"

namespace llmproxy {

namespace {

// "key 'team-a'" from "key:team-a".
std::string holder_words(std::string_view holder) {
    const auto colon = holder.find(':');
    return fmt::format("{} '{}'", holder.substr(0, colon), holder.substr(colon + 1));
}

// Header lines for an answer, written on the stack and added to it at once.
class HeadLines {
  public:
    // "name: N[unit]\r\n"; name at most 40 bytes, unit at most 2.
    void add(std::string_view name, std::int64_t n, std::string_view unit = {}) {
        char* at = std::copy(name.begin(), name.end(), buffer_.data() + size_);
        *at++ = ':';
        *at++ = ' ';
        at = std::to_chars(at, at + 20, n).ptr;
        at = std::copy(unit.begin(), unit.end(), at);
        *at++ = '\r';
        *at++ = '\n';
        size_ = static_cast<std::size_t>(at - buffer_.data());
    }
    std::string_view text() const { return {buffer_.data(), size_}; }

  private:
    std::array<char, 6 * 68> buffer_;  // six lines
    std::size_t size_ = 0;
};

// The x-ratelimit-* lines of the charge of `kind` with the least left; reset_ms: until the
// window ends.
void add_standing(HeadLines& lines, std::span<const LimitCharge> charges,
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
    const bool requests = kind == LimitKind::requests;
    lines.add(requests ? "x-ratelimit-limit-requests" : "x-ratelimit-limit-tokens",
              tightest->limit);
    lines.add(requests ? "x-ratelimit-remaining-requests" : "x-ratelimit-remaining-tokens", least);
    // As OpenAI writes it: "17s", "250ms".
    const std::string_view reset =
        requests ? "x-ratelimit-reset-requests" : "x-ratelimit-reset-tokens";
    if (reset_ms >= 1000)
        lines.add(reset, (reset_ms + 999) / 1000, "s");
    else
        lines.add(reset, reset_ms, "ms");
}

// An amount of a kind in words: "$4.98" for costs, "4980" otherwise.
std::string amount_text(LimitKind kind, std::int64_t amount) {
    return counts_cost(kind) ? "$" + dollars_text(amount) : std::to_string(amount);
}

// "7h 59m", "3d 4h", "42s": how long until a window ends.
std::string wait_text(std::int64_t ms) {
    const std::int64_t s = (ms + 999) / 1000;
    if (s >= 86400)
        return fmt::format("{}d {}h", s / 86400, s % 86400 / 3600);
    if (s >= 3600)
        return fmt::format("{}h {}m", s / 3600, s % 3600 / 60);
    if (s >= 60)
        return fmt::format("{}m {}s", s / 60, s % 60);
    return fmt::format("{}s", s);
}

bool is_budget(LimitKind kind) {
    return kind != LimitKind::requests && kind != LimitKind::tokens &&
           kind != LimitKind::concurrent;
}

}  // namespace

void RequestLimits::add(std::string_view holder, const Limits& limits, std::int64_t now_ms) {
    for (const auto& [kind, limit] : limits_by_kind(limits)) {
        if (limit <= 0)
            continue;
        charges_[count_++] = {holder,
                              kind,
                              limit,
                              1,
                              window_of(kind, now_ms),
                              kind == LimitKind::concurrent ? next_place() : 0};
        counts_usage_ = counts_usage_ || counts_tokens(kind) || counts_cost(kind);
    }
}

void RequestLimits::reserve(const UsageEstimate& estimate) {
    price_ = estimate.price;
    for (std::size_t i = 0; i < count_; ++i)
        if (counts_cost(charges_[i].kind) && !price_)
            throw ApiException(
                {403, "invalid_request_error", "model_not_priced",
                 fmt::format("The model '{}' has no price in llm-proxy's [prices], and {} has "
                             "a budget in dollars: ask the operator to price the model.",
                             printable(estimate.model, 256), holder_words(charges_[i].holder))});
    const TokenUse most{estimate.prompt_tokens, estimate.output_tokens};
    set_amounts(most.input + most.output, price_ ? cost_of(most, *price_) : 0);
}

void RequestLimits::set_amounts(std::int64_t tokens, std::int64_t cost) {
    reserved_tokens_ = tokens;
    reserved_cost_ = cost;
    for (std::size_t i = 0; i < count_; ++i) {
        if (counts_tokens(charges_[i].kind))
            charges_[i].amount = tokens;
        else if (counts_cost(charges_[i].kind))
            charges_[i].amount = cost;
    }
}

void RequestLimits::take(HttpResponse* response, std::int64_t now_ms, GatewayMetrics* metrics) {
    const std::span<const LimitCharge> charges(charges_.data(), count_);
    const LimitVerdict verdict = store_->charge(charges);
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
    charged_ = verdict.admitted;
    const std::int64_t minute_reset_ms =
        window_end_ms(LimitKind::requests, window_of(LimitKind::requests, now_ms)) - now_ms;
    if (response) {
        HeadLines lines;
        add_standing(lines, charges, verdict, LimitKind::requests, minute_reset_ms);
        add_standing(lines, charges, verdict, LimitKind::tokens, minute_reset_ms);
        // Set once per request, before anything else could have: added without a search.
        response->add_lines(lines.text());
    }
    if (verdict.admitted)
        return;
    const LimitCharge& full = charges[verdict.refused];
    const bool concurrent = full.kind == LimitKind::concurrent;
    const bool budget = is_budget(full.kind);
    const std::int64_t reset_ms = window_end_ms(full.kind, full.window) - now_ms;
    const std::int64_t retry_s = concurrent ? 1 : (reset_ms + 999) / 1000;
    const bool never = full.amount > full.limit;  // no wait lets it through: no Retry-After
    if (response && !never)
        response->set("Retry-After", std::to_string(retry_s));
    std::string message = fmt::format(
        "{} reached for {} on {}: limit {}, {} {}, requested {}.", budget ? "Budget" : "Rate limit",
        holder_words(full.holder), kind_words(full.kind), amount_text(full.kind, full.limit),
        concurrent ? "in progress" : "used", amount_text(full.kind, verdict.used[verdict.refused]),
        amount_text(full.kind, full.amount));
    if (never)
        message += fmt::format(
            " The request alone is more than the limit (its estimate: one token per 4 bytes of "
            "the request, plus its max_tokens{}); send less, or ask for fewer tokens.",
            counts_cost(full.kind) ? ", at its model's price" : "");
    else if (concurrent)
        message += " Try again when one has ended.";
    else
        message += fmt::format(" {} in {}.", budget ? "It renews" : "Try again",
                               budget ? wait_text(reset_ms) : fmt::format("{}s", retry_s));
    spdlog::debug("limits: refused: {}", message);  // the access line has it too
    if (metrics)
        metrics->rate_limited(full.holder, full.kind);
    throw LimitRefused({429,
                        budget                             ? "insufficient_quota"
                        : full.kind == LimitKind::requests ? "requests"
                                                           : "tokens",
                        budget ? "insufficient_quota" : "rate_limit_exceeded", std::move(message)},
                       never ? 0 : retry_s);
}

RequestLimits::~RequestLimits() {
    for (std::size_t i = 0; i < count_; ++i)
        if (charges_[i].kind == LimitKind::concurrent)
            store_->release(charges_[i]);
}

void RequestLimits::used(const TokenUse& use, const Price* price, std::int64_t now_ms) {
    if (!counts_usage_)
        return;
    if (price)
        price_ = price;
    const std::int64_t tokens = use.input + use.output;
    const std::int64_t cost = price_ ? cost_of(use, *price_) : 0;
    correct_counters(tokens - reserved_tokens_, cost - reserved_cost_, now_ms);
    set_amounts(tokens, cost);
}

void RequestLimits::also_used(const TokenUse& use, const Price* price, std::int64_t now_ms) {
    correct_counters(use.input + use.output, price ? cost_of(use, *price) : 0, now_ms);
}

void RequestLimits::correct_counters(std::int64_t tokens, std::int64_t cost, std::int64_t now_ms) {
    for (std::size_t i = 0; i < count_; ++i) {
        const LimitCharge& charge = charges_[i];
        const std::int64_t delta = counts_tokens(charge.kind) ? tokens
                                   : counts_cost(charge.kind) ? cost
                                                              : 0;
        if (delta != 0)
            store_->correct(charge, delta, window_of(charge.kind, now_ms));
    }
}

std::int64_t cost_of(const TokenUse& use, const Price& price) {
    const double micros = static_cast<double>(use.input) * price.input_per_million +
                          static_cast<double>(use.output) * price.output_per_million;
    // Capped far above any budget (a billion dollars), and so below overflow.
    return static_cast<std::int64_t>(std::ceil(std::min(micros, 1e18)));
}

UsageEstimate estimated_usage(std::string_view body, std::optional<std::int64_t> max_tokens) {
    // A max_tokens beyond any limit (or negative) cannot overflow a sum: it is capped.
    constexpr std::int64_t kMost = 1'000'000'000'000'000LL;
    UsageEstimate estimate;
    estimate.prompt_tokens = static_cast<std::int64_t>((body.size() + 3) / 4);
    estimate.output_tokens = std::clamp<std::int64_t>(max_tokens.value_or(0), 0, kMost);
    return estimate;
}

}  // namespace llmproxy
