// Rate limits: the counter stores (limits/), each held to the same rules, in the process and in
// a real Redis; and a request's charges (pipeline/).
#include <doctest/doctest.h>

#include <thread>

#include "charge_in.hpp"
#include "http/api_error.hpp"
#include "limits/local_limit_store.hpp"
#include "limits/redis_limit_store.hpp"
#include "pipeline/request_limits.hpp"
#include "redis_server.hpp"

using namespace llmproxy;

namespace {

LimitCharge requests(std::string_view holder, std::int64_t limit) {
    return {holder, LimitKind::requests, limit, 1};
}

// The first n counts of a verdict.
std::vector<std::int64_t> used(const LimitVerdict& verdict, std::size_t n = 1) {
    return {verdict.used.begin(), verdict.used.begin() + static_cast<std::ptrdiff_t>(n)};
}

// The stores, each made empty for a test.
struct InProcess {
    LocalLimitStore store;
};
struct InRedis {
    static RedisServer& server() {
        static RedisServer running;
        return running;
    }
    static RedisSettings emptied() {
        RedisConnection redis(server().settings());
        std::string command;
        append_command(command, {"FLUSHALL"});
        redis.call(command);
        return server().settings();
    }
    RedisLimitStore store{emptied(), false};
};

}  // namespace

TEST_CASE("windows are the clock's minutes, and the UTC calendar's days and months") {
    CHECK(window_of(LimitKind::requests, 0) == 0);
    CHECK(window_of(LimitKind::requests, 59999) == 0);
    CHECK(window_of(LimitKind::tokens, 60000) == 1);
    CHECK(window_of(LimitKind::requests, 1796126400123) == 29935440);
    CHECK(window_end_ms(LimitKind::requests, 29935440) == 1796126460000);
    CHECK(window_of(LimitKind::concurrent, 1796126400123) == 0);
    // 2026-11-30T23:59:59.999Z, then 2026-12-01T00:00:00Z.
    const std::int64_t last_ms = 1796083199999, next_ms = 1796083200000;
    CHECK(window_of(LimitKind::daily_cost, last_ms) == 20787);
    CHECK(window_of(LimitKind::daily_tokens, next_ms) == 20788);
    CHECK(window_end_ms(LimitKind::daily_cost, 20787) == next_ms);
    CHECK(window_of(LimitKind::monthly_tokens, last_ms) == (2026 - 1970) * 12 + 10);
    CHECK(window_of(LimitKind::monthly_cost, next_ms) == (2026 - 1970) * 12 + 11);
    CHECK(window_end_ms(LimitKind::monthly_cost, (2026 - 1970) * 12 + 10) == next_ms);
    // December's end is the next year's first day; February's, in a leap year, its 29th's end.
    CHECK(window_end_ms(LimitKind::monthly_tokens, (2026 - 1970) * 12 + 11) == 1798761600000);
    CHECK(window_end_ms(LimitKind::monthly_tokens, (2028 - 1970) * 12 + 1) == 1835481600000);
    CHECK(window_of(LimitKind::monthly_tokens, 1835481599999) == (2028 - 1970) * 12 + 1);
    CHECK(window_of(LimitKind::monthly_tokens, 0) == 0);
}

TEST_CASE_TEMPLATE("a window takes up to its limit, and the next window starts afresh", Store,
                   InProcess, InRedis) {
    Store counters;
    LimitStore& store = counters.store;
    const LimitCharge charge = requests("key:a", 3);
    for (int i = 1; i <= 3; ++i) {
        const LimitVerdict verdict = charge_in(store, {charge}, 7);
        REQUIRE(verdict.admitted);
        CHECK(used(verdict) == std::vector<std::int64_t>{i});
    }
    const LimitVerdict full = charge_in(store, {charge}, 7);
    CHECK_FALSE(full.admitted);
    CHECK(full.refused == 0);
    CHECK(used(full) == std::vector<std::int64_t>{3});
    CHECK(charge_in(store, {charge}, 8).admitted);
    CHECK(used(charge_in(store, {charge}, 8)) == std::vector<std::int64_t>{2});
}

TEST_CASE_TEMPLATE("charges are taken together or not at all", Store, InProcess, InRedis) {
    Store counters;
    LimitStore& store = counters.store;
    const std::vector<LimitCharge> both = {requests("key:a", 10), requests("route:/v1", 2)};
    CHECK(charge_in(store, both, 1).admitted);
    CHECK(charge_in(store, both, 1).admitted);
    const LimitVerdict refused = charge_in(store, both, 1);
    CHECK_FALSE(refused.admitted);
    CHECK(refused.refused == 1);
    CHECK(used(refused, 2) == std::vector<std::int64_t>{2, 2});  // every count, as it stands
    // The key's counter was not charged for the refused request.
    const LimitCharge key_only = requests("key:a", 10);
    CHECK(used(charge_in(store, {key_only}, 1)) == std::vector<std::int64_t>{3});
}

TEST_CASE_TEMPLATE("a request larger than a token limit is refused even in an empty window", Store,
                   InProcess, InRedis) {
    Store counters;
    LimitStore& store = counters.store;
    const LimitCharge big{"key:a", LimitKind::tokens, 100, 101};
    CHECK_FALSE(charge_in(store, {big}, 1).admitted);
    const LimitCharge exact{"key:a", LimitKind::tokens, 100, 100};
    CHECK(charge_in(store, {exact}, 1).admitted);
}

TEST_CASE_TEMPLATE(
    "token corrections land in the reservation's window, or the current one when more", Store,
    InProcess, InRedis) {
    Store counters;
    LimitStore& store = counters.store;
    const LimitCharge reserve{"key:a", LimitKind::tokens, 1000, 400};
    const LimitCharge probe{"key:a", LimitKind::tokens, 1000, 0};
    REQUIRE(charge_in(store, {reserve}, 5).admitted);
    correct_in(store, probe, 5, -300, 5);  // used 100 of the 400
    CHECK(used(charge_in(store, {probe}, 5)) == std::vector<std::int64_t>{100});
    correct_in(store, probe, 5, 50, 5);
    CHECK(used(charge_in(store, {probe}, 5)) == std::vector<std::int64_t>{150});
    // A stream that ended in the next minute: what it used beyond its reservation counts there;
    // what it gives back does not reach into a window that has passed.
    correct_in(store, probe, 5, 70, 6);
    CHECK(used(charge_in(store, {probe}, 6)) == std::vector<std::int64_t>{70});
    correct_in(store, probe, 5, -70, 6);
    CHECK(used(charge_in(store, {probe}, 6)) == std::vector<std::int64_t>{70});
    correct_in(store, probe, 6, -1000, 6);  // never below nothing
    CHECK(used(charge_in(store, {probe}, 6)) == std::vector<std::int64_t>{0});
}

// In Redis each minute has a counter of its own, and replicas' clocks are kept in step by NTP.
TEST_CASE("a clock stepped back does not reset a window's count in the process") {
    LocalLimitStore store;
    const LimitCharge charge = requests("key:a", 2);
    CHECK(charge_in(store, {charge}, 10).admitted);
    CHECK(charge_in(store, {charge}, 10).admitted);
    CHECK_FALSE(charge_in(store, {charge}, 9).admitted);
}

TEST_CASE_TEMPLATE("concurrent requests are held across windows until given back", Store, InProcess,
                   InRedis) {
    Store counters;
    LimitStore& store = counters.store;
    // Each request's place is its own (RequestLimits numbers them).
    CHECK(charge_in(store, {key_a_place(1)}, 1).admitted);
    CHECK(charge_in(store, {key_a_place(2)}, 2).admitted);
    CHECK_FALSE(charge_in(store, {key_a_place(3)}, 3).admitted);
    store.release(key_a_place(1));
    CHECK(charge_in(store, {key_a_place(4)}, 4).admitted);
    CHECK_FALSE(charge_in(store, {key_a_place(5)}, 4).admitted);
}

TEST_CASE_TEMPLATE("counts are read in each charge's window without charging", Store, InProcess,
                   InRedis) {
    Store counters;
    LimitStore& store = counters.store;
    const LimitCharge cost{"key:a", LimitKind::daily_cost, 5'000'000, 1'250};
    const LimitCharge held{"key:a", LimitKind::concurrent, 3, 1};
    REQUIRE(charge_in(store, {cost, held}, 20787).admitted);
    REQUIRE(charge_in(store, {cost}, 20787).admitted);
    auto read = [&](std::int64_t day) {
        std::vector<LimitCharge> probes = {cost, held, requests("key:never", 5)};
        for (auto& probe : probes)
            probe.window = day;
        return store.counts(probes);
    };
    CHECK(read(20787) == std::vector<std::int64_t>{2'500, 1, 0});
    CHECK(read(20787) == std::vector<std::int64_t>{2'500, 1, 0});  // reading charged nothing
    CHECK(read(20788) == std::vector<std::int64_t>{0, 1, 0});      // the next day starts afresh
}

TEST_CASE_TEMPLATE("threads charging one limit at once take exactly the limit", Store, InProcess,
                   InRedis) {
    Store counters;
    LimitStore& store = counters.store;
    const LimitCharge charge = requests("route:/v1", 1000);
    std::atomic<int> admitted{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 400; ++i)
                admitted += charge_in(store, {charge}, 9).admitted;
        });
    for (auto& thread : threads)
        thread.join();
    CHECK(admitted == 1000);
}

TEST_CASE("a token reservation is the body's size over four plus max_tokens") {
    auto total = [](const UsageEstimate& estimate) {
        return estimate.prompt_tokens + estimate.output_tokens;
    };
    CHECK(total(estimated_usage(std::string(400, 'x'), 100)) == 200);
    CHECK(estimated_usage(std::string(401, 'x'), std::nullopt).prompt_tokens == 101);
    CHECK(estimated_usage(std::string(401, 'x'), std::nullopt).output_tokens == 0);
    CHECK(total(estimated_usage("", -5)) == 0);
    // A hostile max_tokens cannot overflow the reservation into a negative charge.
    CHECK(total(estimated_usage("abcd", INT64_MAX)) > 1'000'000'000'000LL);
    CHECK(total(estimated_usage("abcd", INT64_MAX)) < INT64_MAX / 2);
}

TEST_CASE("a cost is the tokens at the model's price per million, in millionths of a dollar") {
    const Price price{2.5, 10};
    CHECK(cost_of({1000, 200}, price) == 4500);  // $0.0025 + $0.002
    CHECK(cost_of({1, 0}, price) == 3);          // rounded up
    CHECK(cost_of({0, 0}, price) == 0);
    // Hostile figures stay far below overflow.
    CHECK(cost_of({INT64_MAX / 2, INT64_MAX / 2}, Price{1e6, 1e6}) <= 1'000'000'000'000'000'000LL);
    CHECK(dollars_text(4500) == "0.0045");
    CHECK(dollars_text(5'000'000) == "5");
    CHECK(dollars_text(1) == "0.000001");
}

TEST_CASE("a request refused before it is charged gives back no other request's place") {
    LocalLimitStore store;
    Limits limits;
    limits.concurrent_requests = 1;
    limits.cost_per_day = 1'000'000;  // $1
    const Price price{1, 1};
    const auto admit = [&](std::optional<RequestLimits>& into, const Price* priced) {
        RequestLimits::admit(
            into, store, {{"key:a", &limits}},
            [&] {
                UsageEstimate estimate = estimated_usage("{}", 10);
                estimate.model = "m";
                estimate.price = priced;
                return estimate;
            },
            nullptr, epoch_ms(), nullptr);
    };
    std::optional<RequestLimits> first;
    admit(first, &price);
    REQUIRE(first);
    std::optional<RequestLimits> unpriced;
    try {
        admit(unpriced, nullptr);
        FAIL("a model with no price passed a budget in dollars");
    } catch (const ApiException& e) {
        CHECK(e.error().code == "model_not_priced");
    }
    CHECK_FALSE(unpriced);
    std::optional<RequestLimits> second;
    CHECK_THROWS_AS(admit(second, &price), LimitRefused);  // the first holds the only place
    CHECK_FALSE(second);
    first.reset();  // the first ends
    admit(second, &price);
    CHECK(second);
}
