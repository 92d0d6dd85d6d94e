// The health of a public model's deployments, shared by every event loop: attempts in flight,
// recent time to first byte, failures in a row and in the current interval, ejections (outlier
// detection) and cool-downs (a 429's Retry-After), and the choice of the deployment an attempt
// goes to. Thread-safe: one mutex per model, taken once per choice and once per attempt's end.
// Times are passed in, so that tests can move the clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace llmproxy {

// What one attempt says about its deployment.
enum class AttemptVerdict {
    success,  // an answer below 400, relayed to its end
    failure,  // the deployment's fault: connect error, broken connection, timeout, 408, 429, 5xx
    neutral,  // nothing about the deployment: a client error, a client that left, no answer yet
};

// The verdict an answer's status gives: success below 400; failure for 408, 429 and 5xx; neutral
// for every other client error (the request's fault: another deployment would say the same).
AttemptVerdict verdict_of_status(int status);

class ModelHealth {
  public:
    using Clock = std::chrono::steady_clock;

    // weights: the deployments', in the model's order (at most kMaxDeployments). model and labels
    // (one per deployment, "deployment N" when not given) name them in the log line of an
    // ejection.
    ModelHealth(Balance balance, const EjectionPolicy& policy, std::vector<int> weights,
                std::string model = "model", std::vector<std::string> labels = {});

    struct Choice {
        std::size_t index = 0;
        // The first choice made with none of the deployments healthy after a healthy one was
        // chosen: the model has just entered panic mode (for its log line).
        bool entered_panic = false;
    };
    // The deployment an attempt goes to, by the model's balance among those neither ejected nor
    // cooling and not in avoided (a bit per deployment: the ones that failed this request); when
    // each healthy one is avoided, among the healthy ones; when none is healthy (panic), among
    // all. random: a draw from [0, 1). reserve: the choice is in flight at once (an attempt
    // will follow it), until attempt_ended or release.
    Choice choose(std::uint64_t avoided, Clock::time_point now, double random,
                  bool reserve = false);

    // An attempt on deployment i starts: it is in flight until attempt_ended.
    void attempt_started(std::size_t i);
    // A reserved choice of deployment i made no attempt after all.
    void release(std::size_t i);
    // Its answer's head came `ms` after the attempt started: a latency sample.
    void head_arrived(std::size_t i, double ms, Clock::time_point now);
    // The attempt ended with this verdict; cool_ms: how long the upstream asked to be left alone
    // (a failure's Retry-After), capped at max_ejection_ms. An ejection it causes is logged (a
    // warning naming the deployment, the reason and how long).
    void attempt_ended(std::size_t i, AttemptVerdict verdict, std::optional<std::int64_t> cool_ms,
                       Clock::time_point now);

    struct State {
        int in_flight = 0;
        double latency_ms = -1;            // the time-to-first-byte average; -1 before a sample
        std::int64_t ejected_ms = 0;       // left of an ejection; 0 when not ejected
        std::int64_t cooling_ms = 0;       // left of a cool-down
        int ejections = 0;                 // recent ones: the next lasts this + 1 times the base
        std::int64_t total_ejections = 0;  // since start
    };
    State state(std::size_t i, Clock::time_point now) const;
    std::size_t size() const { return deployments_.size(); }

  private:
    struct Deployment {
        std::string label;
        int weight = 1;
        int in_flight = 0;
        double latency_ms = -1;
        Clock::time_point sampled{};
        int consecutive_failures = 0;
        Clock::time_point interval_start{};
        int interval_attempts = 0;
        int interval_failures = 0;
        Clock::time_point ejected_until{};
        Clock::time_point cooled_until{};
        int ejections = 0;
        std::int64_t total_ejections = 0;
        bool tried = false;  // an attempt on it has ended, whatever its answer

        bool healthy(Clock::time_point now) const {
            return now >= ejected_until && now >= cooled_until;
        }
    };

    // Why the deployment's failures call for an ejection ("5 failures in a row"), or nullopt.
    std::optional<std::string> ejection_reason(const Deployment& d) const;
    // Another ejection keeps within max_ejected_percent.
    bool may_eject(Clock::time_point now) const;
    // Ejects it; returns for how long, in ms.
    std::int64_t eject(Deployment& d, Clock::time_point now);
    // The balance's choice among the deployments `eligible` has a bit for (at least one).
    std::size_t by_balance(std::uint64_t eligible, Clock::time_point now, double random) const;
    // The latency the balance sees: the average, halved for each 30 s without a sample (so that
    // a deployment once slow is tried again); -1 before a sample.
    double recent_latency(const Deployment& d, Clock::time_point now) const;
    // Its ejections, less one for each interval_ms it has been back without one.
    int recent_ejections(const Deployment& d, Clock::time_point now) const;

    const Balance balance_;
    const EjectionPolicy policy_;
    const std::string model_;
    mutable std::mutex mutex_;
    std::vector<Deployment> deployments_;
    bool panicking_ = false;
};

}  // namespace llmproxy
