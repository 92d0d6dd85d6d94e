// Rate limits: the counter stores (limits/), each held to the same rules, in the process and in
// a real Redis; and a request's charges (pipeline/).
#include <doctest/doctest.h>

#include <thread>

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

TEST_CASE("windows are the clock's minutes") {
    CHECK(window_of(0) == 0);
    CHECK(window_of(59999) == 0);
    CHECK(window_of(60000) == 1);
    CHECK(window_of(1796126400123) == 29935440);
}

TEST_CASE_TEMPLATE("a window takes up to its limit, and the next window starts afresh", Store,
                   InProcess, InRedis) {
    Store counters;
    LimitStore& store = counters.store;
    const LimitCharge charge = requests("key:a", 3);
    for (int i = 1; i <= 3; ++i) {
        const LimitVerdict verdict = store.charge({&charge, 1}, 7);
        REQUIRE(verdict.admitted);
        CHECK(used(verdict) == std::vector<std::int64_t>{i});
    }
    const LimitVerdict full = store.charge({&charge, 1}, 7);
    CHECK_FALSE(full.admitted);
    CHECK(full.refused == 0);
    CHECK(used(full) == std::vector<std::int64_t>{3});
    CHECK(store.charge({&charge, 1}, 8).admitted);
    CHECK(used(store.charge({&charge, 1}, 8)) == std::vector<std::int64_t>{2});
}

TEST_CASE_TEMPLATE("charges are taken together or not at all", Store, InProcess, InRedis) {
    Store counters;
    LimitStore& store = counters.store;
    const std::vector<LimitCharge> both = {requests("key:a", 10), requests("route:/v1", 2)};
    CHECK(store.charge(both, 1).admitted);
    CHECK(store.charge(both, 1).admitted);
    const LimitVerdict refused = store.charge(both, 1);
    CHECK_FALSE(refused.admitted);
    CHECK(refused.refused == 1);
    CHECK(used(refused, 2) == std::vector<std::int64_t>{2, 2});  // every count, as it stands
    // The key's counter was not charged for the refused request.
    const LimitCharge key_only = requests("key:a", 10);
    CHECK(used(store.charge({&key_only, 1}, 1)) == std::vector<std::int64_t>{3});
}

TEST_CASE_TEMPLATE("a request larger than a token limit is refused even in an empty window", Store,
                   InProcess, InRedis) {
    Store counters;
    LimitStore& store = counters.store;
    const LimitCharge big{"key:a", LimitKind::tokens, 100, 101};
    CHECK_FALSE(store.charge({&big, 1}, 1).admitted);
    const LimitCharge exact{"key:a", LimitKind::tokens, 100, 100};
    CHECK(store.charge({&exact, 1}, 1).admitted);
}

TEST_CASE_TEMPLATE(
    "token corrections land in the reservation's window, or the current one when more", Store,
    InProcess, InRedis) {
    Store counters;
    LimitStore& store = counters.store;
    const LimitCharge reserve{"key:a", LimitKind::tokens, 1000, 400};
    const LimitCharge probe{"key:a", LimitKind::tokens, 1000, 0};
    REQUIRE(store.charge({&reserve, 1}, 5).admitted);
    store.correct(probe, 5, -300, 5);  // used 100 of the 400
    CHECK(used(store.charge({&probe, 1}, 5)) == std::vector<std::int64_t>{100});
    store.correct(probe, 5, 50, 5);
    CHECK(used(store.charge({&probe, 1}, 5)) == std::vector<std::int64_t>{150});
    // A stream that ended in the next minute: what it used beyond its reservation counts there;
    // what it gives back does not reach into a window that has passed.
    store.correct(probe, 5, 70, 6);
    CHECK(used(store.charge({&probe, 1}, 6)) == std::vector<std::int64_t>{70});
    store.correct(probe, 5, -70, 6);
    CHECK(used(store.charge({&probe, 1}, 6)) == std::vector<std::int64_t>{70});
    store.correct(probe, 6, -1000, 6);  // never below nothing
    CHECK(used(store.charge({&probe, 1}, 6)) == std::vector<std::int64_t>{0});
}

// In Redis each minute has a counter of its own, and replicas' clocks are kept in step by NTP.
TEST_CASE("a clock stepped back does not reset a window's count in the process") {
    LocalLimitStore store;
    const LimitCharge charge = requests("key:a", 2);
    CHECK(store.charge({&charge, 1}, 10).admitted);
    CHECK(store.charge({&charge, 1}, 10).admitted);
    CHECK_FALSE(store.charge({&charge, 1}, 9).admitted);
}

TEST_CASE_TEMPLATE("concurrent requests are held across windows until given back", Store, InProcess,
                   InRedis) {
    Store counters;
    LimitStore& store = counters.store;
    const LimitCharge one{"key:a", LimitKind::concurrent, 2, 1};
    CHECK(store.charge({&one, 1}, 1).admitted);
    CHECK(store.charge({&one, 1}, 2).admitted);
    CHECK_FALSE(store.charge({&one, 1}, 3).admitted);
    store.release(one);
    CHECK(store.charge({&one, 1}, 4).admitted);
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
                admitted += store.charge({&charge, 1}, 9).admitted;
        });
    for (auto& thread : threads)
        thread.join();
    CHECK(admitted == 1000);
}

TEST_CASE("a token reservation is the body's size over four plus max_tokens") {
    CHECK(estimated_tokens(std::string(400, 'x'), 100) == 200);
    CHECK(estimated_tokens(std::string(401, 'x'), std::nullopt) == 101);
    CHECK(estimated_tokens("", -5) == 0);
    // A hostile max_tokens cannot overflow the reservation into a negative charge.
    CHECK(estimated_tokens("abcd", INT64_MAX) > 1'000'000'000'000LL);
    CHECK(estimated_tokens("abcd", INT64_MAX) < INT64_MAX / 2);
}
