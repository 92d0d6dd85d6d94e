#include "pipeline/retry_schedule.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "json/json_check.hpp"
#include "json/json_fields.hpp"

namespace llmproxy {

namespace {

// A non-negative decimal number ("2", "1.5"); nullopt for anything else.
std::optional<double> decimal(std::string_view text) {
    text = trim_whitespace(text);
    if (text.empty() || !(text[0] >= '0' && text[0] <= '9'))
        return std::nullopt;
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value))
        return std::nullopt;
    return value;
}

// An HTTP date (RFC 9110 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT") as a time_t.
std::optional<std::time_t> http_date(const std::string& text) {
    std::tm tm{};
    const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end != '\0')
        return std::nullopt;
    return ::timegm(&tm);
}

// Whole milliseconds of a wait, saturated far beyond any cap a policy can have.
std::int64_t to_ms(double ms) {
    return static_cast<std::int64_t>(std::min(std::ceil(ms), 1e12));
}

}  // namespace

std::string AttemptFailure::name() const {
    switch (kind) {
        case Kind::connect:
            return "connect";
        case Kind::broken:
            return "broken";
        case Kind::timeout:
            return "timeout";
        case Kind::status:
            break;
    }
    return std::to_string(status);
}

std::optional<AttemptFailure> attempt_failure(const ApiError& error) {
    using Kind = AttemptFailure::Kind;
    if (error.code == "upstream_unreachable" || error.code == "upstream_connect_timeout")
        return AttemptFailure{Kind::connect, 0, std::nullopt};
    if (error.code == "upstream_broken" || error.code == "upstream_stream_truncated")
        return AttemptFailure{Kind::broken, 0, std::nullopt};
    if (error.status == 504)
        return AttemptFailure{Kind::timeout, 0, std::nullopt};
    return std::nullopt;
}

std::optional<std::int64_t> requested_wait_ms(const HeaderList& headers, std::time_t now) {
    if (const std::string* ms = find_header(headers, "retry-after-ms"))
        if (auto value = decimal(*ms))
            return to_ms(*value);
    const std::string* after = find_header(headers, "retry-after");
    if (!after)
        return std::nullopt;
    if (auto seconds = decimal(*after))
        return to_ms(*seconds * 1000);
    if (auto date = http_date(std::string(trim_whitespace(*after))))
        return *date > now ? static_cast<std::int64_t>(*date - now) * 1000 : 0;
    return std::nullopt;
}

bool is_context_window_error(std::string_view body) {
    if (!json_fields::valid(body))
        return false;
    if (json_fields::get_string(body, "/error/code") == "context_length_exceeded")
        return true;
    const std::string message = json_fields::get_string(body, "/error/message").value_or("");
    for (std::string_view words :
         {"maximum context length", "context length exceeded", "context_length_exceeded",
          "prompt is too long", "exceeds the context window", "context window exceeded"})
        if (message.find(words) != std::string::npos)
            return true;
    return false;
}

bool RetrySchedule::names(const AttemptFailure& failure) const {
    switch (failure.kind) {
        case AttemptFailure::Kind::connect:
            return policy_.on_connect;
        case AttemptFailure::Kind::broken:
            return policy_.on_broken;
        case AttemptFailure::Kind::timeout:
            return policy_.on_timeout;
        case AttemptFailure::Kind::status:
            return policy_.retries_status(failure.status);
    }
    return false;
}

bool RetrySchedule::within_deadline(Clock::time_point now) const {
    return policy_.deadline_ms == 0 ||
           now < started_ + std::chrono::milliseconds(policy_.deadline_ms);
}

std::optional<int> RetrySchedule::wait_after(int attempts, const AttemptFailure& failure,
                                             Clock::time_point now, double random) const {
    if (attempts >= policy_.attempts || !names(failure))
        return std::nullopt;
    std::int64_t wait = 0;
    if (failure.retry_after_ms && *failure.retry_after_ms > 0) {
        if (*failure.retry_after_ms > policy_.retry_after_max_ms)
            return std::nullopt;
        wait = *failure.retry_after_ms;
    } else {
        // Full jitter (a draw from [0, ceiling]): clients that failed together spread out.
        const int doublings = std::min(attempts - 1, 30);
        const double ceiling = std::min<double>(
            policy_.backoff_max_ms, std::ldexp(double(policy_.backoff_base_ms), doublings));
        wait = static_cast<std::int64_t>(random * (ceiling + 1));
    }
    if (policy_.deadline_ms > 0) {
        const auto ends = now + std::chrono::milliseconds(wait);
        if (ends >= started_ + std::chrono::milliseconds(policy_.deadline_ms))
            return std::nullopt;
    }
    return static_cast<int>(wait);
}

}  // namespace llmproxy
