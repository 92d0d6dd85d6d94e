// The Redis limit store where it differs from the one in the process: a Redis that is down, slow
// or restarted, a flushed script cache, and fibers of one loop sharing a pipelined connection.
// (The rules both stores keep are in rate_limits_test.cpp.)
#include <doctest/doctest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "charge_in.hpp"
#include "limits/redis_limit_store.hpp"
#include "loop/event_loop.hpp"
#include "loop/task_threads.hpp"
#include "redis_server.hpp"

using namespace llmproxy;

namespace {

const LimitCharge kRequests{"key:a", LimitKind::requests, 1000, 1};

std::string command(std::initializer_list<std::string_view> words) {
    std::string text;
    append_command(text, words);
    return text;
}

// A socket listening on loopback that never accepts, so never answers: connects succeed (the
// kernel completes them), commands wait.
struct SilentServer {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int port = 0;
    SilentServer() {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof address;
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0);
        REQUIRE(::listen(fd, 16) == 0);
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0);
        port = ntohs(address.sin_port);
    }
    ~SilentServer() { ::close(fd); }
};

// A server on loopback that answers the first command of one connection with `reply`, then
// holds the connection open until it ends.
struct ScriptedServer {
    SilentServer listening;
    std::promise<void> done;
    std::thread thread;
    explicit ScriptedServer(std::string reply)
        : thread([this, reply = std::move(reply), finished = done.get_future()]() mutable {
              const int fd = ::accept(listening.fd, nullptr, nullptr);
              char buffer[4096];
              if (fd >= 0 && ::recv(fd, buffer, sizeof buffer, 0) > 0)
                  for (std::size_t sent = 0; sent < reply.size();) {
                      const ssize_t n = ::send(fd, reply.data() + sent, reply.size() - sent, 0);
                      if (n <= 0)
                          break;
                      sent += static_cast<std::size_t>(n);
                  }
              finished.wait();
              if (fd >= 0)
                  ::close(fd);
          }) {}
    ~ScriptedServer() {
        done.set_value();
        thread.join();
    }
    RedisSettings settings() const {
        RedisSettings settings;
        settings.host = "127.0.0.1";
        settings.port = listening.port;
        settings.timeout_ms = 5000;  // the replies come at once: only a hang would reach it
        return settings;
    }
};

// What a connection says of the reply `reply` to a PING: its type, or why it has none.
std::string outcome_of(std::string reply) {
    ScriptedServer server(std::move(reply));
    RedisConnection connection(server.settings());
    try {
        const RedisReply answer = connection.call(command({"PING"}));
        return answer->type == REDIS_REPLY_ARRAY ? "array of " + std::to_string(answer->elements)
                                                 : "type " + std::to_string(answer->type);
    } catch (const RedisUnavailable& e) {
        return e.what();
    }
}

}  // namespace

TEST_CASE("a reply unlike ours breaks the connection before it takes memory it has not earned") {
    std::string longest = "*1000\r\n";
    for (int i = 0; i < 1000; ++i)
        longest += ":1\r\n";
    CHECK(outcome_of("*2\r\n:1\r\n:2\r\n") == "array of 2");
    CHECK(outcome_of(longest) == "array of 1000");
    const auto says = [](const std::string& outcome, std::string_view part) {
        CAPTURE(outcome);
        CHECK(outcome.find(part) != std::string::npos);
    };
    says(outcome_of("*2147483647\r\n"), "of more than 1000 elements");
    says(outcome_of("*1001\r\n"), "of more than 1000 elements");
    says(outcome_of("*1\r\n*1\r\n:1\r\n"), "an array inside another");
    says(outcome_of("$100000\r\n" + std::string(100000, 'x') + "\r\n"),
         "a reply longer than 65536 bytes");
    says(outcome_of("?\r\n"), "unreadable reply");
}

TEST_CASE("a Redis that cannot be reached leaves charges to the policy, and counts nothing") {
    RedisServer redis;
    RedisSettings settings = redis.settings();
    redis.stop();
    for (const bool fail_open : {true, false}) {
        RedisLimitStore store(settings, fail_open);
        const LimitVerdict verdict = charge_in(store, {kRequests}, 1);
        CHECK(verdict.unavailable);
        CHECK(verdict.admitted == fail_open);
        // Corrections and releases are lost, not thrown.
        correct_in(store, kRequests, 1, 5, 1);
        store.release(kRequests);
    }
}

TEST_CASE("a Redis that does not answer in time is unavailable") {
    SilentServer silent;
    RedisSettings settings;
    settings.host = "127.0.0.1";
    settings.port = silent.port;
    settings.timeout_ms = 50;
    RedisLimitStore store(settings, false);
    const LimitVerdict verdict = charge_in(store, {kRequests}, 1);
    CHECK(verdict.unavailable);
    CHECK_FALSE(verdict.admitted);
}

TEST_CASE("counting resumes once a stopped Redis is back") {
    RedisServer redis;
    RedisLimitStore store(redis.settings(), true);
    CHECK(charge_in(store, {kRequests}, 1).used[0] == 1);
    redis.stop();
    CHECK(charge_in(store, {kRequests}, 1).unavailable);
    redis.start();  // empty: the restarted Redis kept nothing
    std::int64_t counted = -1;
    CHECK(eventually([&] {
        if (counted < 0)
            if (const LimitVerdict verdict = charge_in(store, {kRequests}, 1); !verdict.unavailable)
                counted = verdict.used[0];
        return counted >= 0;
    }));
    CHECK(counted == 1);
}

TEST_CASE("an idle connection that Redis closed on its restart is replaced before it is used") {
    RedisServer redis;
    RedisLimitStore store(redis.settings(), false);
    CHECK(charge_in(store, {kRequests}, 1).admitted);
    redis.stop();
    redis.start();  // no charge meanwhile: the store's connection is idle, its peer gone
    const LimitVerdict verdict = charge_in(store, {kRequests}, 1);
    CHECK_FALSE(verdict.unavailable);
    CHECK(verdict.used[0] == 1);
}

TEST_CASE("a Redis with a password is asked with it, and without it is unavailable") {
    RedisServer redis({"--requirepass", "s3cret"});
    RedisSettings settings = redis.settings();
    RedisLimitStore without(settings, false);
    CHECK(charge_in(without, {kRequests}, 1).unavailable);  // NOAUTH
    settings.password = "s3cret";
    RedisLimitStore with(settings, false);
    const LimitVerdict verdict = charge_in(with, {kRequests}, 1);
    CHECK_FALSE(verdict.unavailable);
    CHECK(verdict.admitted);
}

TEST_CASE("a report over thousands of counters is read in slices, and charges go on") {
    RedisServer redis;
    RedisLimitStore store(redis.settings(), false);
    REQUIRE(charge_in(store, {kRequests}, 1).admitted);
    std::vector<std::string> holders;
    // Even as nils (5 bytes each), their counts in one reply would pass the 64 KiB a connection
    // takes as one reply.
    for (int i = 0; i < 14000; ++i)
        holders.push_back("key:k" + std::to_string(i));
    std::vector<LimitCharge> probes;
    for (const auto& holder : holders)
        probes.push_back({holder, LimitKind::requests, 5, 0, 1});
    probes.push_back({kRequests.holder, LimitKind::requests, 5, 0, 1});
    const auto counts = store.counts(probes);
    REQUIRE(counts);
    CHECK(counts->size() == probes.size());
    CHECK(counts->back() == 1);
    CHECK_FALSE(charge_in(store, {kRequests}, 1).unavailable);
}

TEST_CASE("a concurrent place is given back once, however often, and a lost one stops counting") {
    RedisServer redis;
    RedisLimitStore store(redis.settings(), false);
    REQUIRE(charge_in(store, {key_a_place(1)}, 0).admitted);
    REQUIRE(charge_in(store, {key_a_place(2)}, 0).admitted);
    store.release(key_a_place(1));
    store.release(key_a_place(1));  // again (a retried release): place 2 is still held
    CHECK(charge_in(store, {key_a_place(3)}, 0).admitted);
    CHECK_FALSE(charge_in(store, {key_a_place(4)}, 0).admitted);
    // A place taken eleven minutes ago whose release never came (a replica that died) is gone.
    RedisConnection admin(redis.settings());
    const std::string key = "{llm-proxy}:key:a:concurrent:places";
    admin.call(command({"DEL", key}));
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    admin.call(command({"ZADD", key, std::to_string(now - 11 * 60000), "dead-replica:1"}));
    admin.call(command({"ZADD", key, std::to_string(now - 11 * 60000), "dead-replica:2"}));
    const LimitVerdict verdict = charge_in(store, {key_a_place(5)}, 0);
    CHECK(verdict.admitted);
    CHECK(verdict.used[0] == 1);
}

TEST_CASE("the scripts run again after Redis's script cache was flushed") {
    RedisServer redis;
    RedisLimitStore store(redis.settings(), false);
    CHECK(charge_in(store, {kRequests}, 1).admitted);
    RedisConnection admin(redis.settings());
    admin.call(command({"SCRIPT", "FLUSH"}));
    const LimitVerdict verdict = charge_in(store, {kRequests}, 1);
    CHECK_FALSE(verdict.unavailable);
    CHECK(verdict.used[0] == 2);
}

TEST_CASE("counters are named by holder, kind and minute, under one hash tag, and expire") {
    RedisServer redis;
    RedisLimitStore store(redis.settings(), false);
    const std::vector<LimitCharge> both = {kRequests, {"route:/v1", LimitKind::concurrent, 5, 1}};
    REQUIRE(charge_in(store, both, 29935440).admitted);
    RedisConnection admin(redis.settings());
    RedisReply windowed = admin.call(command({"PTTL", "{llm-proxy}:key:a:requests:29935440"}));
    CHECK(windowed->integer > 60000);
    CHECK(windowed->integer <= 2 * 60000);
    RedisReply held = admin.call(command({"PTTL", "{llm-proxy}:route:/v1:concurrent:places"}));
    CHECK(held->integer > 2 * 60000);
    // A day's budget outlives its day by one; a month's, by two months.
    const std::vector<LimitCharge> budgets = {{"key:a", LimitKind::daily_cost, 9, 1, 20787},
                                              {"key:a", LimitKind::monthly_tokens, 9, 1, 682}};
    REQUIRE(store.charge(budgets).admitted);
    RedisReply day = admin.call(command({"PTTL", "{llm-proxy}:key:a:daily_cost:20787"}));
    CHECK(day->integer > 86400000);
    CHECK(day->integer <= 2 * 86400000);
    RedisReply month = admin.call(command({"PTTL", "{llm-proxy}:key:a:monthly_tokens:682"}));
    CHECK(month->integer > 31LL * 86400000);
}

TEST_CASE("fibers of one loop share a pipelined connection and take exactly the limit") {
    RedisServer redis;
    RedisLimitStore store(redis.settings(), false);
    const LimitCharge charge{"route:/v1", LimitKind::requests, 50, 1};
    const LimitCharge held{"route:/v1", LimitKind::concurrent, 1000, 1};
    TaskThreads blocking(2, 256 * 1024);
    EventLoop loop(256 * 1024, blocking);
    loop.start();
    std::atomic<int> admitted{0}, unavailable{0}, done{0};
    constexpr int kFibers = 200;
    for (int i = 0; i < kFibers; ++i)
        REQUIRE(loop.spawn([&] {
            LimitCharge place = held;
            place.place = next_place();
            const std::vector<LimitCharge> both = {charge, place};
            const LimitVerdict verdict = charge_in(store, both, 3);
            admitted += verdict.admitted;
            unavailable += verdict.unavailable;
            if (verdict.admitted)
                store.release(place);  // sent without waiting
            ++done;
        }));
    REQUIRE(eventually([&] { return done == kFibers; }));
    CHECK(unavailable == 0);
    CHECK(admitted == 50);
    // Every release reached Redis: the concurrent count is back to nothing.
    RedisConnection admin(redis.settings());
    CHECK(eventually([&] {
        RedisReply count =
            admin.call(command({"ZCARD", "{llm-proxy}:route:/v1:concurrent:places"}));
        return count->type == REDIS_REPLY_INTEGER && count->integer == 0;
    }));
    loop.stop();
}

TEST_CASE("commands are written in RESP, word by word, binary-safe") {
    std::string text;
    RespCommand(text, 4)
        .word("SET")
        .joined({"{a}:", "b", ":", "c"})
        .number(-42)
        .word(std::string_view("x\0y\r\n", 5));
    constexpr char kExpected[] =
        "*4\r\n$3\r\nSET\r\n$7\r\n{a}:b:c\r\n$3\r\n-42\r\n$5\r\nx\0y\r\n\r\n";
    CHECK(text == std::string_view(kExpected, sizeof kExpected - 1));
    CHECK(command({"PING"}) == "*1\r\n$4\r\nPING\r\n");
    CHECK(command({}) == "*0\r\n");
    CHECK(Decimal(std::uint64_t{18446744073709551615ULL}).text() == "18446744073709551615");
    CHECK(Decimal(std::int64_t{INT64_MIN}).text() == "-9223372036854775808");
}
