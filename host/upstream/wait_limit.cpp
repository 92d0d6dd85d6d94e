#include "upstream/wait_limit.hpp"

#include <algorithm>

namespace llmproxy {

WaitLimit WaitLimit::of(int ms, std::string_view setting, std::string_view missing) {
    WaitLimit limit;
    limit.ms = ms;
    limit.setting = setting;
    limit.missing = missing;
    return limit;
}

WaitLimit WaitLimit::of_phase(int ms, std::string_view setting, std::string_view missing,
                              Clock::time_point from) {
    WaitLimit limit = of(ms, setting, missing);
    limit.phase_end = from + std::chrono::milliseconds(ms);
    return limit;
}

WaitLimit WaitLimit::from(Clock::time_point start) const {
    WaitLimit limit = *this;
    if (phase_end != Clock::time_point::max())
        limit.phase_end = start + std::chrono::milliseconds(ms);
    return limit;
}

WaitLimit WaitLimit::bound(Clock::time_point by, std::string_view by_setting, int by_ms) const {
    WaitLimit limit = *this;
    if (by < deadline) {
        limit.deadline = by;
        limit.deadline_setting = by_setting;
        limit.deadline_ms = by_ms;
    }
    return limit;
}

namespace {

// What is left from now until `end`, in whole ms (never below 0).
int left_ms(WaitLimit::Clock::time_point now, WaitLimit::Clock::time_point end) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(end - now).count();
    return static_cast<int>(std::max<decltype(left)>(left, 0));
}

}  // namespace

bool WaitLimit::deadline_binds(Clock::time_point now) const {
    if (deadline == Clock::time_point::max())
        return false;
    const Clock::time_point own_end = phase_end != Clock::time_point::max()
                                          ? std::min(phase_end, now + std::chrono::milliseconds(ms))
                                          : now + std::chrono::milliseconds(ms);
    return deadline < own_end;
}

int WaitLimit::wait_ms(Clock::time_point now) const {
    if (deadline_binds(now))
        return left_ms(now, deadline);
    if (phase_end != Clock::time_point::max())
        return std::min(ms, left_ms(now, phase_end));
    return ms;
}

std::string WaitLimit::expired(std::string_view upstream, bool deadline_bound) const {
    std::string message = "upstream '" + std::string(upstream) + "' ";
    if (deadline_bound)
        return message + "had not finished when " + std::string(deadline_setting) + " = " +
               std::to_string(deadline_ms) + " ran out";
    return message + "sent " + std::string(missing) + " within " + std::string(setting) + " = " +
           std::to_string(ms);
}

}  // namespace llmproxy
