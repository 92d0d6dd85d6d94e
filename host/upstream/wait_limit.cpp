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

WaitLimit WaitLimit::bound(Clock::time_point by, std::string_view by_setting, int by_ms) const {
    WaitLimit limit = *this;
    if (by < deadline) {
        limit.deadline = by;
        limit.deadline_setting = by_setting;
        limit.deadline_ms = by_ms;
    }
    return limit;
}

bool WaitLimit::deadline_binds(Clock::time_point now) const {
    return deadline != Clock::time_point::max() && deadline - now < std::chrono::milliseconds(ms);
}

int WaitLimit::wait_ms(Clock::time_point now) const {
    if (!deadline_binds(now))
        return ms;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
    return static_cast<int>(std::max<decltype(left)>(left, 0));
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
