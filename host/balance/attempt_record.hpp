// One upstream attempt on a deployment of a public model, as its model's health sees it: in
// flight from construction to destruction, with the verdict it was told last (neutral when never
// told: the attempt ended for a reason that says nothing of the deployment). Not thread-safe: it
// belongs to the request that makes the attempt.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "balance/model_health.hpp"

namespace llmproxy {

class AttemptRecord {
  public:
    using Clock = ModelHealth::Clock;

    // health null: an attempt on an llm no public model balances; nothing is recorded.
    // reserved: the deployment's choice already counts it in flight (ModelHealth::choose).
    AttemptRecord(ModelHealth* health, std::size_t index, Clock::time_point started,
                  bool reserved = false);
    ~AttemptRecord();
    AttemptRecord(const AttemptRecord&) = delete;
    AttemptRecord& operator=(const AttemptRecord&) = delete;

    // The answer's head came with this status: a latency sample when it is below 400, and the
    // verdict its status gives (verdict_of_status). retry_after_ms: what the upstream asked to
    // wait, which cools the deployment when the status is a failure.
    void head(int status, std::optional<std::int64_t> retry_after_ms, Clock::time_point now);
    void set(AttemptVerdict verdict) { verdict_ = verdict; }
    // The attempt was cut short by the client leaving or the request's own deadline: an answer
    // that was going well says nothing of the deployment; a failure the upstream gave stays one.
    void excuse() {
        if (verdict_ == AttemptVerdict::success)
            verdict_ = AttemptVerdict::neutral;
    }
    // The attempt is over (before what follows it is chosen): the verdict is told now, and the
    // destructor tells nothing more.
    void end();
    AttemptVerdict verdict() const { return verdict_; }

  private:
    ModelHealth* health_;
    std::size_t index_;
    Clock::time_point started_;
    AttemptVerdict verdict_ = AttemptVerdict::neutral;
    std::optional<std::int64_t> cool_ms_;
};

}  // namespace llmproxy
