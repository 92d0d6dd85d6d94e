// The waits of an upstream attempt (issue 12): a phase's own limit within the attempt's deadline,
// and the message that names whichever ran out.
#include <doctest/doctest.h>

#include "upstream/wait_limit.hpp"

using llmproxy::WaitLimit;
using std::chrono::milliseconds;

TEST_CASE("a phase's limit, or what is left before the deadline when that is less") {
    const auto now = WaitLimit::Clock::now();
    const WaitLimit phase = WaitLimit::of(300, "first_byte_timeout_ms", "no answer head");
    CHECK(phase.wait_ms(now) == 300);
    CHECK_FALSE(phase.deadline_binds(now));
    const WaitLimit far = phase.bound(now + milliseconds(1000), "total_timeout_ms", 1000);
    CHECK(far.wait_ms(now) == 300);
    CHECK_FALSE(far.deadline_binds(now));
    const WaitLimit near = far.bound(now + milliseconds(120), "deadline_ms", 500);
    CHECK(near.deadline_binds(now));
    CHECK(near.wait_ms(now) == 120);
    CHECK(near.wait_ms(now + milliseconds(500)) == 0);  // passed: no wait at all
    // A later deadline does not replace an earlier one.
    CHECK(near.bound(now + milliseconds(5000), "x", 5000).deadline_setting == "deadline_ms");
}

TEST_CASE("a wait that ran out names its setting and value") {
    const WaitLimit phase = WaitLimit::of(300, "idle_timeout_ms", "nothing more")
                                .bound(WaitLimit::Clock::now(), "total_timeout_ms", 400);
    CHECK(phase.expired("mock", false) ==
          "upstream 'mock' sent nothing more within idle_timeout_ms = 300");
    CHECK(phase.expired("mock", true) ==
          "upstream 'mock' had not finished when total_timeout_ms = 400 ran out");
}

TEST_CASE("a whole phase's limit counts once from its start, however many reads it takes") {
    using llmproxy::WaitLimit;
    const auto start = WaitLimit::Clock::now();
    const WaitLimit phase = WaitLimit::of_phase(300, "first_event_timeout_ms", "no event", start);
    CHECK(phase.needs_clock());
    CHECK_FALSE(WaitLimit::of(300, "idle_timeout_ms", "nothing more").needs_clock());
    CHECK(phase.wait_ms(start) == 300);
    CHECK(phase.wait_ms(start + milliseconds(200)) == 100);  // an SSE comment came at 200 ms
    CHECK(phase.wait_ms(start + milliseconds(400)) == 0);
    CHECK_FALSE(phase.deadline_binds(start + milliseconds(200)));
    // A deadline before the phase's end binds, and names itself; one after it does not.
    const WaitLimit early = phase.bound(start + milliseconds(250), "total_timeout_ms", 250);
    CHECK(early.deadline_binds(start + milliseconds(200)));
    CHECK(early.wait_ms(start + milliseconds(200)) == 50);
    const WaitLimit late = phase.bound(start + milliseconds(350), "total_timeout_ms", 350);
    CHECK_FALSE(late.deadline_binds(start + milliseconds(200)));
    CHECK(late.wait_ms(start + milliseconds(200)) == 100);
    CHECK(phase.expired("mock", false) ==
          "upstream 'mock' sent no event within first_event_timeout_ms = 300");
    // The time to the answer's head starts once the request has gone (after a slow connect).
    const WaitLimit sent = phase.from(start + milliseconds(500));
    CHECK(sent.wait_ms(start + milliseconds(600)) == 200);
    CHECK_FALSE(WaitLimit::of(300, "idle_timeout_ms", "nothing more")
                    .from(start + milliseconds(500))
                    .needs_clock());
}
