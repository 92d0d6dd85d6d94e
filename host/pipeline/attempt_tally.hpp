// Counts one upstream attempt in llm_proxy_upstream_attempts_total when it ends, by what it came
// to: the answer's status class, or the failure that ended it, or the client leaving.
#pragma once

#include "pipeline/retry_schedule.hpp"
#include "runtime/runtime.hpp"

namespace llmproxy {

class AttemptTally {
  public:
    // metrics null (metrics off): counts nothing.
    AttemptTally(GatewayMetrics* metrics, const LlmRuntime& llm) : metrics_(metrics), llm_(llm) {}
    ~AttemptTally() {
        if (metrics_)
            metrics_->attempt_done(llm_.index, outcome_);
    }
    AttemptTally(const AttemptTally&) = delete;
    AttemptTally& operator=(const AttemptTally&) = delete;

    // The answer's head came with this status.
    void head(int status) {
        outcome_ = status < 400    ? AttemptOutcome::answered
                   : status == 408 ? AttemptOutcome::timeout_408
                   : status == 429 ? AttemptOutcome::rate_limited
                   : status >= 500 ? AttemptOutcome::server_error
                                   : AttemptOutcome::client_error;
    }
    // The attempt failed with error (client_left: while the client was gone, whatever the error).
    void failed(const ApiError& error, bool client_left) {
        if (client_left)
            return left();
        const auto failure = attempt_failure(error);
        if (!failure) {
            outcome_ = AttemptOutcome::other;
            return;
        }
        switch (failure->kind) {
            case AttemptFailure::Kind::connect:
                outcome_ = AttemptOutcome::connect;
                break;
            case AttemptFailure::Kind::broken:
                outcome_ = AttemptOutcome::broken;
                break;
            case AttemptFailure::Kind::timeout:
                outcome_ = AttemptOutcome::timeout;
                break;
            case AttemptFailure::Kind::status:
                head(failure->status);
                break;
        }
    }
    // The client left before the answer was read to its end.
    void left() { outcome_ = AttemptOutcome::cancelled; }

  private:
    GatewayMetrics* metrics_;
    const LlmRuntime& llm_;
    AttemptOutcome outcome_ = AttemptOutcome::other;
};

}  // namespace llmproxy
