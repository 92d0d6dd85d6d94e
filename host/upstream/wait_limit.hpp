// How long an upstream may keep an attempt waiting at one point of its answer, and how the
// timeout is named when it fires: the phase's own limit (the answer's head and its first event,
// each counted once from the phase's start; a gap between reads, counted for each) within the
// deadline that bounds the whole attempt.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace llmproxy {

struct WaitLimit {
    using Clock = std::chrono::steady_clock;

    int ms = 300000;  // the longest wait for the upstream at this point
    // When the phase must be over, however many reads it takes (the bytes of a head that
    // trickles in, or SSE comments before the first event, do not restart it); max(): the limit
    // applies to each wait on its own.
    // The setting the limit comes from ("first_byte_timeout_ms", or "read_timeout_ms" when that
    // one was not set), and what did not come in time: "no answer head", "no event", "nothing".
    std::string_view setting = "read_timeout_ms";
    std::string_view missing = "nothing";
    Clock::time_point phase_end = Clock::time_point::max();
    // When the attempt must have ended (max(): no bound), and the setting that put it there.
    Clock::time_point deadline = Clock::time_point::max();
    std::string_view deadline_setting;
    int deadline_ms = 0;

    // A limit on each wait, with no deadline (bound() adds one).
    static WaitLimit of(int ms, std::string_view setting, std::string_view missing);
    // A limit on a whole phase that starts at `from`, with no deadline.
    static WaitLimit of_phase(int ms, std::string_view setting, std::string_view missing,
                              Clock::time_point from);
    // The same limit with its phase starting at `start` instead (a limit on each wait is the
    // same).
    WaitLimit from(Clock::time_point start) const;
    // This limit within a deadline, when it is earlier than the one it has.
    WaitLimit bound(Clock::time_point by, std::string_view by_setting, int by_ms) const;

    // Whether a wait depends on the time it starts (a phase's end or a deadline): the clock is
    // read only then.
    bool needs_clock() const {
        return deadline != Clock::time_point::max() || phase_end != Clock::time_point::max();
    }
    // The wait allowed from now: the limit, or what is left of the phase or before the deadline
    // when that is less (>= 0).
    int wait_ms(Clock::time_point now) const;
    // Whether the deadline, not the phase's limit, bounds a wait starting now.
    bool deadline_binds(Clock::time_point now) const;
    // What a wait that ran out says: "upstream 'NAME' sent no answer head within
    // first_byte_timeout_ms = 60000", or that its deadline's setting ran out.
    std::string expired(std::string_view upstream, bool deadline_bound) const;
};

}  // namespace llmproxy
