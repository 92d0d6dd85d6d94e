// Retries (issue 12): which failures a policy retries, the waits between attempts (full-jitter
// backoff, the upstream's Retry-After within its cap, the deadline), how upstream errors are
// classified, which stream events end a held stream head, and the retry tables of the config.
#include <doctest/doctest.h>

#include <chrono>

#include "config/config.hpp"
#include "loop/cancellation.hpp"
#include "pipeline/first_content.hpp"
#include "pipeline/retry_schedule.hpp"

using namespace llmproxy;
using std::chrono::milliseconds;
using Kind = AttemptFailure::Kind;

namespace {

AttemptFailure status(int code, std::optional<std::int64_t> retry_after_ms = std::nullopt) {
    return AttemptFailure{Kind::status, code, retry_after_ms};
}

const auto kStart = RetrySchedule::Clock::time_point{} + std::chrono::hours(1);

}  // namespace

TEST_CASE("the upstream's wait: retry-after-ms first, then Retry-After as seconds or a date") {
    const std::time_t now = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
    CHECK(requested_wait_ms({{"Retry-After-Ms", "250"}}, now) == 250);
    CHECK(requested_wait_ms({{"retry-after-ms", "12.2"}}, now) == 13);
    CHECK(requested_wait_ms({{"retry-after", "2"}}, now) == 2000);
    CHECK(requested_wait_ms({{"retry-after", " 1.5 "}}, now) == 1500);
    CHECK(requested_wait_ms({{"retry-after", "30"}, {"retry-after-ms", "40"}}, now) == 40);
    // An unreadable retry-after-ms leaves Retry-After to say it.
    CHECK(requested_wait_ms({{"retry-after-ms", "soon"}, {"retry-after", "3"}}, now) == 3000);
    CHECK(requested_wait_ms({{"retry-after", "Sun, 06 Nov 1994 08:49:47 GMT"}}, now) == 10000);
    CHECK(requested_wait_ms({{"retry-after", "Sun, 06 Nov 1994 08:49:00 GMT"}}, now) == 0);
    CHECK_FALSE(requested_wait_ms({{"retry-after", "-1"}}, now));
    CHECK_FALSE(requested_wait_ms({{"retry-after", "tomorrow"}}, now));
    CHECK_FALSE(requested_wait_ms({{"retry-after", "1e999"}}, now));
    CHECK_FALSE(requested_wait_ms({{"x-other", "1"}}, now));
    // Absurd values saturate instead of overflowing; the policy's cap then refuses them.
    CHECK(*requested_wait_ms({{"retry-after", "99999999999999999999"}}, now) > 3600000);
}

TEST_CASE(
    "upstream errors: unreachable is connect, a broken connection or cut stream is broken, "
    "504 is timeout, anything else is not retried") {
    CHECK(attempt_failure(ApiError::bad_gateway("upstream_unreachable", "x"))->kind ==
          Kind::connect);
    // Nothing was sent before a connect timed out: a connect failure, not an upstream too slow.
    CHECK(attempt_failure({504, "upstream_error", "upstream_connect_timeout", "x"})->kind ==
          Kind::connect);
    CHECK(attempt_failure(ApiError::bad_gateway("upstream_broken", "x"))->kind == Kind::broken);
    CHECK(attempt_failure({502, "upstream_error", "upstream_stream_truncated", "x"})->kind ==
          Kind::broken);
    CHECK(attempt_failure(ApiError::gateway_timeout("x"))->kind == Kind::timeout);
    CHECK_FALSE(attempt_failure(ApiError::client_closed()));
    CHECK_FALSE(attempt_failure(ApiError::bad_gateway("upstream_response_too_large", "x")));
    CHECK_FALSE(attempt_failure(ApiError::internal("x")));
    CHECK(status(429).name() == "429");
    CHECK(attempt_failure(ApiError::gateway_timeout("x"))->name() == "timeout");
}

TEST_CASE("which failures retry, and until the attempts are spent") {
    RetryPolicy policy;
    policy.attempts = 3;
    policy.on_broken = false;
    const RetrySchedule schedule(policy, kStart);
    CHECK(schedule.wait_after(1, status(503), kStart, 0.5));
    CHECK(schedule.wait_after(2, status(529), kStart, 0.5));
    CHECK_FALSE(schedule.wait_after(3, status(503), kStart, 0.5));  // the third was the last
    CHECK_FALSE(schedule.wait_after(1, status(501), kStart, 0.5));  // not in on_status
    CHECK_FALSE(schedule.wait_after(1, status(400), kStart, 0.5));
    CHECK(schedule.wait_after(1, {Kind::connect, 0, std::nullopt}, kStart, 0.5));
    CHECK(schedule.wait_after(1, {Kind::timeout, 0, std::nullopt}, kStart, 0.5));
    CHECK_FALSE(schedule.wait_after(1, {Kind::broken, 0, std::nullopt}, kStart, 0.5));
}

TEST_CASE("backoff: full jitter under a ceiling that doubles per retry up to backoff_max_ms") {
    RetryPolicy policy;
    policy.attempts = 10;
    policy.backoff_base_ms = 100;
    policy.backoff_max_ms = 700;
    const RetrySchedule schedule(policy, kStart);
    CHECK(schedule.wait_after(1, status(500), kStart, 0.0) == 0);
    CHECK(schedule.wait_after(1, status(500), kStart, 0.999999) == 100);
    CHECK(schedule.wait_after(2, status(500), kStart, 0.999999) == 200);
    CHECK(schedule.wait_after(3, status(500), kStart, 0.999999) == 400);
    CHECK(schedule.wait_after(4, status(500), kStart, 0.999999) == 700);
    CHECK(schedule.wait_after(9, status(500), kStart, 0.999999) == 700);
    CHECK(schedule.wait_after(3, status(500), kStart, 0.5) == 200);
}

TEST_CASE(
    "Retry-After: waited as asked up to retry_after_max_ms, longer is no retry, 0 is backoff") {
    RetryPolicy policy;
    policy.attempts = 3;
    policy.backoff_base_ms = 100;
    policy.retry_after_max_ms = 5000;
    const RetrySchedule schedule(policy, kStart);
    CHECK(schedule.wait_after(1, status(429, 3000), kStart, 0.0) == 3000);
    CHECK(schedule.wait_after(1, status(429, 5000), kStart, 0.0) == 5000);
    CHECK_FALSE(schedule.wait_after(1, status(429, 5001), kStart, 0.0));
    CHECK(schedule.wait_after(1, status(429, 0), kStart, 0.999999) == 100);
}

TEST_CASE("the deadline: no wait may end at or past it, counted from the request's arrival") {
    RetryPolicy policy;
    policy.attempts = 5;
    policy.deadline_ms = 2000;
    const RetrySchedule schedule(policy, kStart);
    CHECK(schedule.wait_after(1, status(429, 1000), kStart + milliseconds(500), 0.0) == 1000);
    CHECK_FALSE(schedule.wait_after(1, status(429, 1000), kStart + milliseconds(1000), 0.0));
    CHECK_FALSE(schedule.wait_after(2, status(500), kStart + milliseconds(2000), 0.0));
    policy.deadline_ms = 0;  // none
    CHECK(schedule.wait_after(1, status(429, 1000), kStart + std::chrono::hours(5), 0.0));
}

TEST_CASE("a held stream head waits for content: text, refusal, reasoning, tool calls, a finish") {
    CHECK_FALSE(is_content_event(
        R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})"));
    CHECK_FALSE(is_content_event(R"({"choices":[{"index":0,"delta":{},"finish_reason":null}]})"));
    CHECK_FALSE(is_content_event(R"({"choices":[],"prompt_filter_results":[]})"));
    CHECK_FALSE(is_content_event(R"({"choices":[{"delta":{"content":null,"tool_calls":[]}}]})"));
    CHECK(is_content_event(R"({"choices":[{"index":0,"delta":{"content":"Hi"}}]})"));
    CHECK(is_content_event(R"({"choices":[{"delta":{"content" : "x"}}]})"));
    CHECK(is_content_event(R"({"choices":[{"delta":{"refusal":"no"}}]})"));
    CHECK(is_content_event(R"({"choices":[{"delta":{"reasoning_content":"hmm"}}]})"));
    CHECK(is_content_event(R"({"choices":[{"delta":{"tool_calls":[{"index":0}]}}]})"));
    CHECK(is_content_event(R"({"choices":[{"delta":{},"finish_reason":"stop"}]})"));
    // What is not a chunk is not held back either.
    CHECK(is_content_event(R"({"error":{"message":"overloaded"}})"));
    CHECK(is_content_event(R"({"choices":[],"error":{"message":"x"}})"));
    CHECK(is_content_event("[DONE]"));
    CHECK(is_content_event("{not json"));
}

TEST_CASE("a pause waits its time, and a cancellation ends it at once") {
    Cancellation cancel;
    CHECK(cancel.pause(1));
    cancel.cancel();
    CHECK_FALSE(cancel.pause(60000));  // already cancelled: returns at once
}

TEST_CASE("retry tables: an llm's and a route's, where on replaces the default list") {
    const auto config = parse_config(R"(
[llm.a]
provider = "openai"

[llm.a.retry]
attempts = 4
on = ["connect", "429"]
deadline_ms = 9000

[llm.b]
provider = "openai"

[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "a"
retry = { attempts = 2, backoff_base_ms = 0 }
hold_stream_head = false
)",
                                     "test.toml");
    const RetryPolicy& a = *config.llms.at("a").retry;
    CHECK(a.attempts == 4);
    CHECK(a.on_connect);
    CHECK_FALSE(a.on_broken);
    CHECK_FALSE(a.on_timeout);
    CHECK(a.on_status == std::vector<int>{429});
    CHECK(a.deadline_ms == 9000);
    CHECK_FALSE(config.llms.at("b").retry);
    const auto& route = config.routes.at(0);
    CHECK(route.retry->attempts == 2);
    CHECK(route.retry->backoff_base_ms == 0);
    CHECK(route.retry->on_status == RetryPolicy{}.on_status);  // the default list
    CHECK_FALSE(route.hold_stream_head);
}

TEST_CASE("context-window errors: OpenAI's code, or the words servers use for it") {
    CHECK(is_context_window_error(
        R"({"error":{"message":"x","type":"invalid_request_error","code":"context_length_exceeded"}})"));
    CHECK(is_context_window_error(
        R"({"error":{"message":"This model's maximum context length is 8192 tokens.","code":null}})"));
    CHECK(is_context_window_error(
        R"({"error":{"message":"prompt is too long: 215000 tokens > 200000 maximum"}})"));
    CHECK_FALSE(
        is_context_window_error(R"({"error":{"message":"Invalid 'messages'","code":null}})"));
    CHECK_FALSE(is_context_window_error(R"({"error":{"code":"rate_limit_exceeded"}})"));
    CHECK_FALSE(is_context_window_error("maximum context length, not JSON"));
}
