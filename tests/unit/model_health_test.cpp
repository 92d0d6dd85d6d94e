// The health of a model's deployments (issue 12): outlier ejection by failures in a row and by
// failure rate over a minimum volume, ejection time growing with repeats and shrinking while a
// deployment stays back, the ceiling on the share ejected, panic mode, a 429's cool-down, which
// verdicts count, and the three balances. The clock is passed in, so time moves only when a test
// moves it.
#include <doctest/doctest.h>

#include <map>

#include "balance/attempt_record.hpp"
#include "balance/model_health.hpp"

using namespace llmproxy;
using std::chrono::milliseconds;
using Clock = ModelHealth::Clock;

namespace {

EjectionPolicy policy_with(int consecutive, int percent = 0) {
    EjectionPolicy p;
    p.consecutive_failures = consecutive;
    p.failure_percent = percent;
    p.min_requests = 10;
    p.interval_ms = 1000;
    p.base_ejection_ms = 100;
    p.max_ejection_ms = 250;
    p.max_ejected_percent = 50;
    return p;
}

void end(ModelHealth& h, std::size_t i, AttemptVerdict v, Clock::time_point now,
         std::optional<std::int64_t> cool_ms = std::nullopt) {
    h.attempt_started(i);
    h.attempt_ended(i, v, cool_ms, now);
}

// How often each deployment is chosen over draws spread across [0, 1).
std::map<std::size_t, int> choices(ModelHealth& h, Clock::time_point now,
                                   std::uint64_t avoided = 0) {
    std::map<std::size_t, int> seen;
    for (int k = 0; k < 100; ++k)
        ++seen[h.choose(avoided, now, k / 100.0).index];
    return seen;
}

}  // namespace

TEST_CASE("statuses: 408, 429 and 5xx are the deployment's failures, other client errors never") {
    CHECK(verdict_of_status(200) == AttemptVerdict::success);
    for (int s : {408, 429, 500, 502, 503, 504, 529})
        CHECK(verdict_of_status(s) == AttemptVerdict::failure);
    for (int s : {400, 401, 403, 404, 409, 413, 422})
        CHECK(verdict_of_status(s) == AttemptVerdict::neutral);
}

TEST_CASE("consecutive failures eject, and a success in between starts the count again") {
    ModelHealth h(Balance::weighted, policy_with(3), {1, 1});
    const auto t = Clock::now();
    end(h, 0, AttemptVerdict::failure, t);
    end(h, 0, AttemptVerdict::failure, t);
    end(h, 0, AttemptVerdict::success, t);
    end(h, 0, AttemptVerdict::failure, t);
    end(h, 0, AttemptVerdict::failure, t);
    CHECK(h.state(0, t).ejected_ms == 0);
    end(h, 0, AttemptVerdict::failure, t);
    CHECK(h.state(0, t).ejected_ms == 100);
    CHECK(choices(h, t) == std::map<std::size_t, int>{{1, 100}});
    // Back once its ejection is over.
    CHECK(choices(h, t + milliseconds(100)).size() == 2);
}

TEST_CASE("neutral verdicts never count, whatever their number") {
    ModelHealth h(Balance::weighted, policy_with(2, 50), {1, 1});
    const auto t = Clock::now();
    for (int i = 0; i < 50; ++i)
        end(h, 0, AttemptVerdict::neutral, t);
    CHECK(h.state(0, t).ejected_ms == 0);
    // Nor do they break a run of failures.
    end(h, 0, AttemptVerdict::failure, t);
    end(h, 0, AttemptVerdict::neutral, t);
    end(h, 0, AttemptVerdict::failure, t);
    CHECK(h.state(0, t).ejected_ms > 0);
}

TEST_CASE("a failure rate ejects only over the minimum volume within one interval") {
    ModelHealth h(Balance::weighted, policy_with(0, 50), {1, 1});
    const auto t = Clock::now();
    for (int i = 0; i < 4; ++i) {  // 8 attempts, half failed: under min_requests (10)
        end(h, 0, AttemptVerdict::failure, t);
        end(h, 0, AttemptVerdict::success, t);
    }
    CHECK(h.state(0, t).ejected_ms == 0);
    // A new interval starts the count again: 8 more there are still under the volume.
    const auto later = t + milliseconds(1000);
    for (int i = 0; i < 4; ++i) {
        end(h, 0, AttemptVerdict::failure, later);
        end(h, 0, AttemptVerdict::success, later);
    }
    CHECK(h.state(0, later).ejected_ms == 0);
    end(h, 0, AttemptVerdict::success, later);
    end(h, 0, AttemptVerdict::failure, later);  // 10 attempts, 5 failed
    CHECK(h.state(0, later).ejected_ms == 100);
}

TEST_CASE("a rate under the threshold does not eject") {
    ModelHealth h(Balance::weighted, policy_with(0, 50), {1, 1});
    const auto t = Clock::now();
    for (int i = 0; i < 30; ++i)
        end(h, 0, i % 3 == 0 ? AttemptVerdict::failure : AttemptVerdict::success, t);
    CHECK(h.state(0, t).ejected_ms == 0);
}

TEST_CASE("ejection time grows with repeats, up to the maximum, and shrinks while back") {
    ModelHealth h(Balance::weighted, policy_with(1), {1, 1});
    auto t = Clock::now();
    end(h, 0, AttemptVerdict::failure, t);
    CHECK(h.state(0, t).ejected_ms == 100);
    t += milliseconds(100);  // back, and failing again at once
    end(h, 0, AttemptVerdict::failure, t);
    CHECK(h.state(0, t).ejected_ms == 200);
    t += milliseconds(200);
    end(h, 0, AttemptVerdict::failure, t);
    CHECK(h.state(0, t).ejected_ms == 250);  // 300, capped
    CHECK(h.state(0, t).ejections == 3);
    // Two intervals back without an ejection: two fewer, so the next is the second.
    t += milliseconds(250 + 2000);
    CHECK(h.state(0, t).ejections == 1);
    end(h, 0, AttemptVerdict::failure, t);
    CHECK(h.state(0, t).ejections == 2);
    CHECK(h.state(0, t).ejected_ms == 200);
}

TEST_CASE("no more than max_ejected_percent is ejected, but one always may be") {
    ModelHealth h(Balance::weighted, policy_with(1), {1, 1, 1, 1});  // 50% of 4: two
    const auto t = Clock::now();
    for (std::size_t i = 0; i < 4; ++i)
        end(h, i, AttemptVerdict::failure, t);
    int ejected = 0;
    for (std::size_t i = 0; i < 4; ++i)
        ejected += h.state(i, t).ejected_ms > 0;
    CHECK(ejected == 2);

    auto small = policy_with(1);
    small.max_ejected_percent = 10;  // 10% of 2 rounds down to none: one still may be
    ModelHealth pair(Balance::weighted, small, {1, 1});
    end(pair, 0, AttemptVerdict::failure, t);
    end(pair, 1, AttemptVerdict::failure, t);
    CHECK(pair.state(0, t).ejected_ms > 0);
    CHECK(pair.state(1, t).ejected_ms == 0);
}

TEST_CASE("with none healthy, the choice is among all (panic), said once until one recovers") {
    auto all = policy_with(1);
    all.max_ejected_percent = 100;
    ModelHealth h(Balance::weighted, all, {1, 1});
    const auto t = Clock::now();
    end(h, 0, AttemptVerdict::failure, t);
    CHECK_FALSE(h.choose(0, t, 0.0).entered_panic);
    end(h, 1, AttemptVerdict::failure, t);
    CHECK(h.choose(0, t, 0.0).entered_panic);
    CHECK_FALSE(h.choose(0, t, 0.0).entered_panic);
    CHECK(choices(h, t).size() == 2);
    CHECK(choices(h, t, 0b01) == std::map<std::size_t, int>{{1, 100}});  // avoid still holds
    // A verdict while ejected (chosen in panic) does not lengthen the ejection.
    end(h, 0, AttemptVerdict::failure, t + milliseconds(50));
    CHECK(h.state(0, t + milliseconds(50)).ejected_ms == 50);
    const auto back = t + milliseconds(100);
    CHECK_FALSE(h.choose(0, back, 0.0).entered_panic);
    end(h, 0, AttemptVerdict::failure, back);  // both ejected again: a new panic
    end(h, 1, AttemptVerdict::failure, back);
    CHECK(h.choose(0, back, 0.0).entered_panic);
}

TEST_CASE(
    "a failure's Retry-After cools the deployment for that long, capped, and never shortens") {
    ModelHealth h(Balance::weighted, policy_with(100), {1, 1});
    const auto t = Clock::now();
    end(h, 0, AttemptVerdict::failure, t, 80);
    CHECK(h.state(0, t).cooling_ms == 80);
    CHECK(h.state(0, t).ejected_ms == 0);
    CHECK(choices(h, t) == std::map<std::size_t, int>{{1, 100}});
    end(h, 0, AttemptVerdict::failure, t, 10);  // a shorter one keeps the longer
    CHECK(h.state(0, t).cooling_ms == 80);
    end(h, 0, AttemptVerdict::failure, t, 100000);  // capped at max_ejection_ms
    CHECK(h.state(0, t).cooling_ms == 250);
    CHECK(choices(h, t + milliseconds(250)).size() == 2);
    // A client error's Retry-After cools nothing.
    end(h, 1, AttemptVerdict::neutral, t, 5000);
    CHECK(h.state(1, t).cooling_ms == 0);
}

TEST_CASE("a failed deployment of this request is avoided while a healthy one remains") {
    ModelHealth h(Balance::weighted, policy_with(1), {1, 1, 1});
    const auto t = Clock::now();
    end(h, 2, AttemptVerdict::failure, t);  // ejected
    // 0 failed this request, 2 is ejected: 1.
    CHECK(choices(h, t, 0b001) == std::map<std::size_t, int>{{1, 100}});
    // Both healthy ones failed this request: one of them, not the ejected one.
    const auto seen = choices(h, t, 0b011);
    CHECK(seen.size() == 2);
    CHECK(seen.count(2) == 0);
}

TEST_CASE("weighted: each as often as its share of the weights") {
    ModelHealth h(Balance::weighted, policy_with(5), {1, 3});
    const auto seen = choices(h, Clock::now());
    CHECK(seen.at(0) == 25);
    CHECK(seen.at(1) == 75);
}

TEST_CASE("least_outstanding: the fewest attempts in flight for its weight") {
    ModelHealth h(Balance::least_outstanding, policy_with(5), {1, 1, 2});
    const auto t = Clock::now();
    // Scores are (in flight + 1) / weight.
    h.attempt_started(0);
    h.attempt_started(2);
    h.attempt_started(2);
    CHECK(choices(h, t) == std::map<std::size_t, int>{{1, 100}});  // 2, 1, 1.5
    h.attempt_started(1);
    CHECK(choices(h, t) == std::map<std::size_t, int>{{2, 100}});  // 2, 2, 1.5
    h.attempt_ended(0, AttemptVerdict::success, std::nullopt, t);
    h.attempt_ended(2, AttemptVerdict::success, std::nullopt, t);
    CHECK(choices(h, t) == std::map<std::size_t, int>{{0, 50}, {2, 50}});  // 1, 2, 1: a tie
}

TEST_CASE(
    "latency: the fastest recent first byte wins, untried ones come first, an old average fades") {
    ModelHealth h(Balance::latency, policy_with(5), {1, 1});
    const auto t = Clock::now();
    h.head_arrived(0, 200, t);
    CHECK(choices(h, t) == std::map<std::size_t, int>{{1, 100}});  // never sampled: tried first
    h.head_arrived(1, 20, t);
    CHECK(choices(h, t) == std::map<std::size_t, int>{{1, 100}});
    // Load counts: with 10 in flight, 20 ms looks like 220 against 200.
    for (int i = 0; i < 10; ++i)
        h.attempt_started(1);
    CHECK(choices(h, t) == std::map<std::size_t, int>{{0, 100}});
    for (int i = 0; i < 10; ++i)
        h.attempt_ended(1, AttemptVerdict::neutral, std::nullopt, t);
    // The average moves by a share of each new sample.
    const auto minute = t + std::chrono::seconds(60);
    h.head_arrived(1, 520, minute);
    CHECK(h.state(1, t).latency_ms == doctest::Approx(20 * 0.7 + 520 * 0.3));
    // 170 ms sampled now against 200 ms sampled a minute ago (seen as 50): the old one wins.
    CHECK(choices(h, minute) == std::map<std::size_t, int>{{0, 100}});
}

TEST_CASE(
    "latency: an unmeasured deployment gets one probe at a time, then scores as the fastest") {
    ModelHealth h(Balance::latency, policy_with(5), {1, 1});
    const auto t = Clock::now();
    h.head_arrived(0, 50, t);
    h.attempt_started(1);  // a probe of 1 that has not answered yet (it may hang)
    CHECK(choices(h, t) == std::map<std::size_t, int>{{0, 100}});  // 50 x 1 against 50 x 2
    // It answered 401 (no measurement): tried, it scores as the fastest one for its load.
    h.attempt_ended(1, AttemptVerdict::neutral, std::nullopt, t);
    CHECK(choices(h, t) == std::map<std::size_t, int>{{0, 50}, {1, 50}});
    // With nothing measured at all, the load alone decides.
    ModelHealth fresh(Balance::latency, policy_with(5), {1, 1});
    fresh.attempt_started(0);
    fresh.attempt_started(1);
    fresh.attempt_started(1);
    CHECK(choices(fresh, t) == std::map<std::size_t, int>{{0, 100}});
}

TEST_CASE("an attempt record is in flight while it lives and tells its verdict at its end") {
    auto minutes = policy_with(1);  // the record ends on the real clock: nothing expires meanwhile
    minutes.base_ejection_ms = minutes.max_ejection_ms = 600000;
    ModelHealth h(Balance::weighted, minutes, {1, 1});
    const auto t = Clock::now();
    {
        AttemptRecord record(&h, 0, t);
        CHECK(h.state(0, t).in_flight == 1);
        record.head(200, std::nullopt, t + milliseconds(40));
        CHECK(h.state(0, t).latency_ms == doctest::Approx(40));
        record.set(AttemptVerdict::failure);  // the stream broke after its head
    }
    CHECK(h.state(0, t).in_flight == 0);
    CHECK(h.state(0, Clock::now()).ejected_ms > 0);
    {
        AttemptRecord record(&h, 1, t);
        record.head(429, 60000, t);  // cools for a minute
        record.excuse();             // the client left after the 429: still the upstream's failure
    }
    CHECK(h.state(1, Clock::now()).cooling_ms > 0);
    CHECK(h.state(1, Clock::now()).latency_ms < 0);  // an error's head is no latency sample
    {
        AttemptRecord nothing(nullptr, 0, t);  // no model balances it: records nothing
        nothing.head(500, 1000, t);
        CHECK(nothing.verdict() == AttemptVerdict::failure);
    }
}
