#include "pipeline/attempt_plan.hpp"

#include <algorithm>

namespace llmproxy {

namespace {

// Without a policy a target has one attempt, and the failures the default policy names still
// lead to its fallbacks.
const RetryPolicy kOneAttempt{};

// However the config's lists combine, no request makes more attempts than this.
constexpr int kMaxAttempts = 100;

}  // namespace

AttemptPlan::AttemptPlan(const RetryPolicy* route_retry, const LlmRuntime* llm,
                         const ModelRuntime* model, Clock::time_point started)
    : route_retry_(route_retry), started_(started), llm_(llm), model_(model), route_llm_(llm) {
    if (model_)
        draw_deployment();
    chain_ = &target_fallbacks().on_failure;
}

AttemptPlan::~AttemptPlan() {
    release_reservation();
}

void AttemptPlan::release_reservation() {
    if (reserved_in_)
        reserved_in_->release(deployment_->index);
    reserved_in_ = nullptr;
}

bool AttemptPlan::take_reservation() {
    const bool taken = reserved_in_ != nullptr;
    reserved_in_ = nullptr;
    return taken;
}

const RetryPolicy& AttemptPlan::policy() const {
    if (route_retry_)
        return *route_retry_;
    return llm_->config->retry ? *llm_->config->retry : kOneAttempt;
}

const Fallbacks& AttemptPlan::target_fallbacks() const {
    return model_ ? model_->fallbacks : route_llm_->fallbacks;
}

void AttemptPlan::start_attempt() {
    ++attempts_;
    ++target_attempts_;
}

bool AttemptPlan::may_continue() const {
    return target_attempts_ < policy().attempts || next_in_chain_ < chain_->size() ||
           has_context_fallback();
}

void AttemptPlan::draw_deployment() {
    release_reservation();  // the last draw's, in its own model's health
    deployment_ = &model_->pick(failed_, true);
    reserved_in_ = model_->health.get();
    llm_ = deployment_->llm;
}

void AttemptPlan::go_to(const ModelRuntime& model) {
    model_ = &model;
    on_fallback_ = true;
    ++fallbacks_;
    target_attempts_ = 0;
    draw_deployment();
}

AttemptPlan::Decision AttemptPlan::after_failure(const AttemptFailure& failure,
                                                 Clock::time_point now, double random) {
    if (deployment_ && std::find(failed_.begin(), failed_.end(), deployment_) == failed_.end())
        failed_.push_back(deployment_);
    if (attempts_ >= kMaxAttempts)
        return {};
    const RetrySchedule schedule(policy(), started_);
    if (auto wait = schedule.wait_after(target_attempts_, failure, now, random)) {
        // After a wait the caller draws (redraw()): a draw now would count as in flight all
        // through the wait, and see the health as it was before it.
        if (model_ && *wait == 0)
            draw_deployment();
        return {Next::retry, *wait};
    }
    // Retries are spent (or the upstream asked for too long a wait): a failure the policy names
    // goes on to the next fallback, at once.
    if (schedule.names(failure) && schedule.within_deadline(now) &&
        next_in_chain_ < chain_->size()) {
        go_to(*(*chain_)[next_in_chain_++]);
        return {Next::fall_back, 0};
    }
    return {};
}

bool AttemptPlan::has_context_fallback() const {
    return !target_fallbacks().on_context_window.empty();
}

bool AttemptPlan::after_context_overflow(Clock::time_point now) {
    if (!has_context_fallback() || attempts_ >= kMaxAttempts ||
        !RetrySchedule(policy(), started_).within_deadline(now))
        return false;
    chain_ = &target_fallbacks().on_context_window;
    next_in_chain_ = 0;
    go_to(*(*chain_)[next_in_chain_++]);
    return true;
}

}  // namespace llmproxy
