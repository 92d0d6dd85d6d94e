#include "limits/local_limit_store.hpp"

#include <algorithm>
#include <functional>

namespace llmproxy {

std::size_t LocalLimitStore::NameHash::operator()(const NameView& name) const {
    return std::hash<std::string_view>()(name.holder) * 3 + static_cast<std::size_t>(name.kind);
}

LocalLimitStore::Counter* LocalLimitStore::existing(const LimitCharge& charge) {
    auto it = counters_.find(NameView{charge.holder, charge.kind});
    return it == counters_.end() ? nullptr : &it->second;
}

LocalLimitStore::Counter& LocalLimitStore::current(const LimitCharge& charge) {
    Counter* counter = existing(charge);
    if (!counter)
        counter = &counters_[Name{std::string(charge.holder), charge.kind}];
    // Only forward: a clock stepped back does not reset a count.
    if (charge.kind != LimitKind::concurrent && counter->window < charge.window) {
        counter->window = charge.window;
        counter->count = 0;
    }
    return *counter;
}

LimitVerdict LocalLimitStore::charge(std::span<const LimitCharge> charges) {
    LimitVerdict verdict;
    // A map's elements stay where they are: each counter is looked up once.
    std::array<Counter*, kMaxCharges> counters{};
    const std::size_t count = std::min(charges.size(), kMaxCharges);
    std::lock_guard lock(mutex_);
    bool room = true;
    for (std::size_t i = 0; i < count; ++i) {
        counters[i] = &current(charges[i]);
        verdict.used[i] = counters[i]->count;
        // Counts and amounts are far below overflow (limits up to 1e12, amounts capped).
        if (room && counters[i]->count + charges[i].amount > charges[i].limit) {
            verdict.refused = i;
            room = false;
        }
    }
    if (!room)
        return verdict;
    for (std::size_t i = 0; i < count; ++i)
        verdict.used[i] = counters[i]->count += charges[i].amount;
    verdict.admitted = true;
    return verdict;
}

void LocalLimitStore::correct(const LimitCharge& charge, std::int64_t delta,
                              std::int64_t now_window) {
    const std::int64_t window = charge.window;
    std::lock_guard lock(mutex_);
    Counter* c = existing(charge);
    if (!c)
        return;
    if (window == now_window && c->window == window) {
        c->count = std::max<std::int64_t>(0, c->count + delta);
    } else if (delta > 0 && c->window <= now_window) {
        if (c->window != now_window) {
            c->window = now_window;
            c->count = 0;
        }
        c->count += delta;
    }
}

std::optional<std::vector<std::int64_t>> LocalLimitStore::counts(
    std::span<const LimitCharge> charges) {
    std::vector<std::int64_t> out;
    out.reserve(charges.size());
    std::lock_guard lock(mutex_);
    for (const LimitCharge& charge : charges) {
        const Counter* c = existing(charge);
        const bool current =
            c && (charge.kind == LimitKind::concurrent || c->window == charge.window);
        out.push_back(current ? c->count : 0);
    }
    return out;
}

void LocalLimitStore::release(const LimitCharge& charge) {
    std::lock_guard lock(mutex_);
    if (Counter* c = existing(charge))
        c->count = std::max<std::int64_t>(0, c->count - charge.amount);
}

}  // namespace llmproxy
