// When a failed upstream attempt is tried again, and after how long: the failures a retry policy
// names, full-jitter exponential backoff, an upstream's own Retry-After within a cap, and the
// request's deadline. Pure arithmetic over what the attempt saw; the request flow does the waiting.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "http/api_error.hpp"
#include "http/headers.hpp"

namespace llmproxy {

// How an attempt failed, as far as retrying goes.
struct AttemptFailure {
    enum class Kind { connect, broken, timeout, status };
    Kind kind = Kind::status;
    int status = 0;  // the upstream's answer status, for Kind::status
    // What the upstream asked to wait (Retry-After, retry-after-ms), in ms; nullopt when it did
    // not say.
    std::optional<std::int64_t> retry_after_ms;

    // "connect", "broken", "timeout" or the status: how the access log and the debug lines say it.
    std::string name() const;
};

// The failure an attempt's error is, when it is one a policy may retry: the upstream could not be
// reached (upstream_unreachable, upstream_connect_timeout), its connection broke (upstream_broken,
// or a provider's upstream_stream_truncated: the stream ended before its end), or it was too slow
// (a 504 llm-proxy raised). nullopt for every other error (the client left, a provider refused).
std::optional<AttemptFailure> attempt_failure(const ApiError& error);

// What an upstream asks to wait before the next request, in ms: retry-after-ms (OpenAI's, a
// number of milliseconds) when present and valid, else Retry-After as seconds (decimals allowed)
// or as an HTTP date, measured from now. A date in the past is 0. nullopt when neither header is
// present or readable.
std::optional<std::int64_t> requested_wait_ms(const HeaderList& headers, std::time_t now);

// Whether a canonical (OpenAI-style) error body says the request exceeds the model's context
// window: the code context_length_exceeded (OpenAI's, and the anthropic provider's for "prompt is
// too long"), or a message in the words OpenAI-compatible servers use for it.
bool is_context_window_error(std::string_view body);

class RetrySchedule {
  public:
    using Clock = std::chrono::steady_clock;

    // The deadline counts from started, the request's arrival.
    RetrySchedule(const RetryPolicy& policy, Clock::time_point started)
        : policy_(policy), started_(started) {}

    // After attempt number `attempts` (1 for the first) failed with failure at `now`: the wait in
    // ms before the next attempt, or nullopt when there is none: the policy does not retry this
    // failure, its attempts are spent, the upstream asked for a wait longer than
    // retry_after_max_ms, or the wait would end past the deadline. A Retry-After of 0 is treated
    // as not given, so that upstreams saying 0 get backoff rather than a storm of retries.
    // `random` is a draw from [0, 1), for the jitter.
    std::optional<int> wait_after(int attempts, const AttemptFailure& failure,
                                  Clock::time_point now, double random) const;

    // Whether the policy names this failure as one to try again (whatever attempts are left).
    bool names(const AttemptFailure& failure) const;
    // Whether now is before the deadline (always, without one).
    bool within_deadline(Clock::time_point now) const;

  private:
    const RetryPolicy& policy_;
    Clock::time_point started_;
};

}  // namespace llmproxy
