// The order of a request's upstream attempts: its target (the route's llm, or a deployment of
// the public model the request names), then the target's fallbacks, each with the attempts its
// retry policy allows. After each failure it says what comes next (a retry after a wait, the next
// fallback, or nothing: the failure goes to the client) and draws the next attempt's deployment,
// leaving out those that failed this request while others remain. No I/O: the request flow makes
// the attempts and waits.
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include "pipeline/retry_schedule.hpp"
#include "runtime/runtime.hpp"

namespace llmproxy {

class AttemptPlan {
  public:
    using Clock = std::chrono::steady_clock;

    // The first attempt goes to llm (a target_llm route), or else to a deployment of model.
    // route_retry: the route's retry policy, which replaces the llms' own (may be null).
    AttemptPlan(const RetryPolicy* route_retry, const LlmRuntime* llm, const ModelRuntime* model,
                Clock::time_point started);
    // Releases a drawn deployment no attempt was made on.
    ~AttemptPlan();
    AttemptPlan(const AttemptPlan&) = delete;
    AttemptPlan& operator=(const AttemptPlan&) = delete;

    // This attempt's llm, and its deployment (null on the route's own llm).
    const LlmRuntime& llm() const { return *llm_; }
    const DeploymentRuntime* deployment() const { return deployment_; }
    // The public model of this attempt's deployment; null on the route's own llm.
    const ModelRuntime* model() const { return model_; }
    // Whether this attempt's target is a fallback (the request's model is then the fallback's).
    bool on_fallback() const { return on_fallback_; }
    int attempts() const { return attempts_; }
    // Moves to a fallback target so far.
    int fallbacks() const { return fallbacks_; }

    // The retry policy of the current attempt: the route's, its llm's, or one attempt.
    const RetryPolicy& policy() const;

    // Counts an attempt starting on the current target.
    void start_attempt();
    // A drawn deployment counts in its model's health as in flight from its draw, so that
    // requests drawing while others run their processors see each other. The attempt's
    // AttemptRecord takes that count over: true when there is one to take (once per draw).
    bool take_reservation();
    // Whether another attempt could follow this one: retries left, or a fallback.
    bool may_continue() const;

    enum class Next { retry, fall_back, give_up };
    struct Decision {
        Next next = Next::give_up;
        int wait_ms = 0;  // before a retry
    };
    // The current attempt failed: what comes next. A fallback, or a retry without a wait, has
    // already chosen its target and deployment when this returns; a retry after a wait draws its
    // deployment with redraw(), once the wait is over. random: a draw from [0, 1), for the
    // jitter.
    Decision after_failure(const AttemptFailure& failure, Clock::time_point now, double random);

    // After the wait before a retry: the deployment is drawn, with its model's health as it is
    // then (no-op on the route's own llm).
    void redraw() {
        if (model_)
            draw_deployment();
    }

    // Whether the current target has context-window fallbacks.
    bool has_context_fallback() const;
    // The upstream said the request exceeds the context window: moves to the first of the current
    // target's context-window fallbacks, whose list then continues the chain. False (and nothing
    // moves) when there is none, or past the deadline.
    bool after_context_overflow(Clock::time_point now);

  private:
    const Fallbacks& target_fallbacks() const;
    void go_to(const ModelRuntime& model);  // the next target, its first deployment drawn
    void draw_deployment();
    void release_reservation();

    const RetryPolicy* route_retry_;
    Clock::time_point started_;
    const LlmRuntime* llm_;
    const ModelRuntime* model_;  // the current target, when it is a public model
    const DeploymentRuntime* deployment_ = nullptr;
    const LlmRuntime* route_llm_;  // the first target, when it is the route's llm
    std::vector<const DeploymentRuntime*> failed_;
    const std::vector<const ModelRuntime*>* chain_;  // the fallbacks being followed
    std::size_t next_in_chain_ = 0;
    bool on_fallback_ = false;
    int fallbacks_ = 0;
    int attempts_ = 0;         // in all
    int target_attempts_ = 0;  // on the current target
    // The health in which deployment_ counts as in flight while no record has taken it over.
    ModelHealth* reserved_in_ = nullptr;
};

}  // namespace llmproxy
