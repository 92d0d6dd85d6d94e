#include "balance/model_health.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace llmproxy {

namespace {

using Ms = std::chrono::milliseconds;

// The weight of a new time-to-first-byte sample in the average.
constexpr double kLatencyWeight = 0.3;
// The average's age at which the balance sees half of it.
constexpr double kLatencyHalfLifeS = 30;

}  // namespace

AttemptVerdict verdict_of_status(int status) {
    if (status < 400)
        return AttemptVerdict::success;
    if (status == 408 || status == 429 || status >= 500)
        return AttemptVerdict::failure;
    return AttemptVerdict::neutral;
}

ModelHealth::ModelHealth(Balance balance, const EjectionPolicy& policy, std::vector<int> weights,
                         std::string model, std::vector<std::string> labels)
    : balance_(balance), policy_(policy), model_(std::move(model)), deployments_(weights.size()) {
    for (std::size_t i = 0; i < weights.size(); ++i) {
        deployments_[i].weight = weights[i];
        deployments_[i].label =
            i < labels.size() ? std::move(labels[i]) : "deployment " + std::to_string(i);
    }
}

ModelHealth::Choice ModelHealth::choose(std::uint64_t avoided, Clock::time_point now, double random,
                                        bool reserve) {
    std::lock_guard lock(mutex_);
    std::uint64_t healthy = 0;
    for (std::size_t i = 0; i < deployments_.size(); ++i)
        if (deployments_[i].healthy(now))
            healthy |= std::uint64_t{1} << i;
    Choice choice;
    if (healthy == 0) {
        choice.entered_panic = !panicking_;
        panicking_ = true;
        const std::uint64_t all = deployments_.size() == 64
                                      ? ~std::uint64_t{0}
                                      : (std::uint64_t{1} << deployments_.size()) - 1;
        const std::uint64_t fresh = all & ~avoided;
        choice.index = by_balance(fresh ? fresh : all, now, random);
    } else {
        panicking_ = false;
        const std::uint64_t fresh = healthy & ~avoided;
        choice.index = by_balance(fresh ? fresh : healthy, now, random);
    }
    if (reserve)
        ++deployments_[choice.index].in_flight;
    return choice;
}

double ModelHealth::recent_latency(const Deployment& d, Clock::time_point now) const {
    if (d.latency_ms < 0)
        return -1;
    const double age_s = std::chrono::duration<double>(now - d.sampled).count();
    return d.latency_ms * std::exp2(-std::max(0.0, age_s) / kLatencyHalfLifeS);
}

std::size_t ModelHealth::by_balance(std::uint64_t eligible, Clock::time_point now,
                                    double random) const {
    auto is_eligible = [&](std::size_t i) { return (eligible >> i & 1) != 0; };
    const std::size_t n = deployments_.size();
    if (balance_ == Balance::weighted) {
        std::int64_t total = 0;
        for (std::size_t i = 0; i < n; ++i)
            total += is_eligible(i) ? deployments_[i].weight : 0;
        auto ticket =
            std::min(static_cast<std::int64_t>(random * static_cast<double>(total)), total - 1);
        for (std::size_t i = 0; i < n; ++i) {
            ticket -= is_eligible(i) ? deployments_[i].weight : 0;
            if (ticket < 0)
                return i;
        }
    }
    // A deployment with no latency yet scores as the fastest measured one (as its load alone when
    // none is measured), and 0 while it is untried and idle: one probe at a time, so a deployment
    // that never answers below 400, or hangs, is not sent everything.
    double fastest = -1;
    if (balance_ == Balance::latency)
        for (std::size_t i = 0; i < n; ++i)
            if (const double l = recent_latency(deployments_[i], now);
                is_eligible(i) && l >= 0 && (fastest < 0 || l < fastest))
                fastest = l;
    // The lowest score wins; among equal scores, the draw chooses.
    auto score = [&](const Deployment& d) {
        const double load = static_cast<double>(d.in_flight + 1) / d.weight;
        if (balance_ != Balance::latency)
            return load;
        const double latency = recent_latency(d, now);
        if (latency >= 0)
            return latency * load;
        if (!d.tried && d.in_flight == 0)
            return 0.0;
        return (fastest >= 0 ? fastest : 1.0) * load;
    };
    std::array<double, kMaxDeployments> scores;
    double best = 0;
    std::size_t ties = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (!is_eligible(i))
            continue;
        scores[i] = score(deployments_[i]);
        if (ties == 0 || scores[i] < best) {
            best = scores[i];
            ties = 1;
        } else if (scores[i] == best) {
            ++ties;
        }
    }
    auto nth = std::min(static_cast<std::size_t>(random * static_cast<double>(ties)), ties - 1);
    for (std::size_t i = 0; i < n; ++i)
        if (is_eligible(i) && scores[i] == best && nth-- == 0)
            return i;
    return 0;  // unreachable: `eligible` has at least one bit, so there is a best
}

void ModelHealth::attempt_started(std::size_t i) {
    std::lock_guard lock(mutex_);
    ++deployments_[i].in_flight;
}

void ModelHealth::release(std::size_t i) {
    std::lock_guard lock(mutex_);
    --deployments_[i].in_flight;
}

void ModelHealth::head_arrived(std::size_t i, double ms, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    Deployment& d = deployments_[i];
    d.latency_ms =
        d.latency_ms < 0 ? ms : d.latency_ms * (1 - kLatencyWeight) + ms * kLatencyWeight;
    d.sampled = now;
}

std::optional<std::string> ModelHealth::ejection_reason(const Deployment& d) const {
    if (policy_.consecutive_failures > 0 && d.consecutive_failures >= policy_.consecutive_failures)
        return std::to_string(d.consecutive_failures) + " failures in a row";
    if (policy_.failure_percent > 0 && d.interval_attempts >= policy_.min_requests &&
        d.interval_failures * 100 >= policy_.failure_percent * d.interval_attempts)
        return std::to_string(d.interval_failures) + " of " + std::to_string(d.interval_attempts) +
               " attempts failed within interval_ms = " + std::to_string(policy_.interval_ms);
    return std::nullopt;
}

bool ModelHealth::may_eject(Clock::time_point now) const {
    const auto ejected = std::count_if(deployments_.begin(), deployments_.end(),
                                       [&](const Deployment& d) { return now < d.ejected_until; });
    const auto allowed = std::max<std::size_t>(
        1, deployments_.size() * static_cast<std::size_t>(policy_.max_ejected_percent) / 100);
    return static_cast<std::size_t>(ejected) < allowed;
}

int ModelHealth::recent_ejections(const Deployment& d, Clock::time_point now) const {
    if (d.ejections == 0 || now < d.ejected_until)
        return d.ejections;
    const auto back = std::chrono::duration_cast<Ms>(now - d.ejected_until).count();
    return static_cast<int>(std::max<std::int64_t>(0, d.ejections - back / policy_.interval_ms));
}

std::int64_t ModelHealth::eject(Deployment& d, Clock::time_point now) {
    d.ejections = recent_ejections(d, now) + 1;
    ++d.total_ejections;
    const std::int64_t ms = std::min<std::int64_t>(
        std::int64_t{policy_.base_ejection_ms} * d.ejections, policy_.max_ejection_ms);
    d.ejected_until = now + Ms(ms);
    d.consecutive_failures = 0;
    d.interval_start = now;
    d.interval_attempts = d.interval_failures = 0;
    return ms;
}

void ModelHealth::attempt_ended(std::size_t i, AttemptVerdict verdict,
                                std::optional<std::int64_t> cool_ms, Clock::time_point now) {
    std::unique_lock lock(mutex_);
    Deployment& d = deployments_[i];
    --d.in_flight;
    d.tried = true;
    if (verdict == AttemptVerdict::neutral)
        return;
    if (verdict == AttemptVerdict::failure && cool_ms && *cool_ms > 0)
        d.cooled_until = std::max(
            d.cooled_until, now + Ms(std::min<std::int64_t>(*cool_ms, policy_.max_ejection_ms)));
    if (now < d.ejected_until)
        return;  // chosen in panic mode: its ejection runs its course
    if (now - d.interval_start >= Ms(policy_.interval_ms)) {
        d.interval_start = now;
        d.interval_attempts = d.interval_failures = 0;
    }
    ++d.interval_attempts;
    if (verdict == AttemptVerdict::success) {
        d.consecutive_failures = 0;
        return;
    }
    ++d.consecutive_failures;
    ++d.interval_failures;
    auto reason = ejection_reason(d);
    if (!reason || !may_eject(now))
        return;
    const std::int64_t ms = eject(d, now);
    const std::string label = d.label;
    const int ejections = d.ejections;
    lock.unlock();  // the log's I/O holds no other loop up
    spdlog::warn("model {}: {} ejected for {} ms after {} (recent ejections: {})", model_, label,
                 ms, *reason, ejections);
}

ModelHealth::State ModelHealth::state(std::size_t i, Clock::time_point now) const {
    std::lock_guard lock(mutex_);
    const Deployment& d = deployments_[i];
    auto left = [&](Clock::time_point until) {
        return now < until ? std::chrono::duration_cast<Ms>(until - now).count() : 0;
    };
    return {d.in_flight,
            d.latency_ms,
            left(d.ejected_until),
            left(d.cooled_until),
            recent_ejections(d, now),
            d.total_ejections};
}

}  // namespace llmproxy
