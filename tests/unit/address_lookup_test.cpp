// DNS lookups a caller can stop waiting for (loop/address_lookup).
#include "loop/address_lookup.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>

#include <future>
#include <optional>

#include "loop/event_loop.hpp"
#include "loop/task_threads.hpp"

using llmproxy::AddressLookup;

namespace {

// A stand-in resolver that answers `code` once released.
struct HeldResolver {
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    AddressLookup::Resolve resolve(int code) {
        return [released = released, code](addrinfo**) {
            released.wait();
            return code;
        };
    }
};

}  // namespace

TEST_CASE("a lookup finds a numeric host's address") {
    AddressLookup lookup("127.0.0.1", 6379);
    REQUIRE(lookup.wait(-1));
    REQUIRE(lookup.error() == 0);
    REQUIRE(lookup.addresses() != nullptr);
    const auto* address = reinterpret_cast<const sockaddr_in*>(lookup.addresses()->ai_addr);
    CHECK(ntohs(address->sin_port) == 6379);
    CHECK(ntohl(address->sin_addr.s_addr) == INADDR_LOOPBACK);
}

TEST_CASE("a lookup that has not ended lets its caller go at the deadline, and ends later") {
    HeldResolver resolver;
    AddressLookup lookup(resolver.resolve(EAI_NONAME));
    CHECK_FALSE(lookup.wait(20));
    CHECK_FALSE(lookup.wait(0));
    resolver.release.set_value();
    REQUIRE(lookup.wait(-1));
    CHECK(lookup.error() == EAI_NONAME);
    CHECK(lookup.addresses() == nullptr);
}

TEST_CASE("a lookup dropped before it ends finishes alone") {
    HeldResolver resolver;
    std::optional<AddressLookup> lookup(std::in_place, resolver.resolve(EAI_AGAIN));
    CHECK_FALSE(lookup->wait(0));
    lookup.reset();
    resolver.release.set_value();  // the thread ends with nobody waiting
    AddressLookup next("127.0.0.1", 1);
    CHECK(next.wait(-1));
}

TEST_CASE("on a fiber, a slow lookup holds only its fiber, up to its deadline") {
    llmproxy::TaskThreads blocking{1, 256 * 1024};
    llmproxy::EventLoop loop{256 * 1024, blocking};
    loop.start();
    HeldResolver slow, released_by_a_fiber;
    std::promise<bool> timed_out, ended;
    REQUIRE(loop.spawn([&] {
        AddressLookup lookup(slow.resolve(0));
        timed_out.set_value(!lookup.wait(20));
    }));
    // Its lookup ends only when another fiber of the loop has run: proof the loop was not held.
    REQUIRE(loop.spawn([&] {
        AddressLookup lookup(released_by_a_fiber.resolve(0));
        ended.set_value(lookup.wait(-1));
    }));
    REQUIRE(loop.spawn([&] { released_by_a_fiber.release.set_value(); }));
    auto ended_future = ended.get_future();
    REQUIRE(ended_future.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    CHECK(ended_future.get());
    CHECK(timed_out.get_future().get());
    slow.release.set_value();
    loop.stop();
}
