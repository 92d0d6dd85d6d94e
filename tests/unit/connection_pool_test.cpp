#include "upstream/connection_pool.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

using llmproxy::ConnectionPool;

namespace {

// A listening socket on 127.0.0.1 that the kernel accepts connections for (never accepted here).
struct Listener {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    uint16_t port = 0;
    Listener() {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        REQUIRE(::listen(fd, 64) == 0);
        socklen_t size = sizeof address;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
        port = ntohs(address.sin_port);
    }
    ~Listener() { ::close(fd); }
};

llmproxy::PoolSettings settings_for(const Listener& listener, std::chrono::milliseconds ttl) {
    llmproxy::PoolSettings settings;
    settings.host = "127.0.0.1";
    settings.port = listener.port;
    settings.idle_ttl = ttl;
    return settings;
}

}  // namespace

TEST_CASE("a connection given back is handed out again, the most recent first") {
    Listener listener;
    ConnectionPool pool(settings_for(listener, std::chrono::seconds(30)));
    auto first = pool.acquire();
    auto second = pool.acquire();
    CHECK_FALSE(first.reused);
    REQUIRE(first.session->connect_if_needed());
    REQUIRE(second.session->connect_if_needed());
    auto* first_session = first.session.get();
    auto* second_session = second.session.get();
    pool.release(std::move(first.session));
    pool.release(std::move(second.session));
    auto again = pool.acquire();
    CHECK(again.reused);
    CHECK(again.session.get() == second_session);
    CHECK_FALSE(again.session->connect_if_needed());  // still connected
    auto next = pool.acquire();
    CHECK(next.session.get() == first_session);
}

TEST_CASE("connections idle beyond idle_ttl are not handed out, however many expired together") {
    Listener listener;
    ConnectionPool pool(settings_for(listener, std::chrono::milliseconds(20)));
    std::vector<ConnectionPool::Lease> leases;
    for (int i = 0; i < 20; ++i) {
        leases.push_back(pool.acquire());
        REQUIRE(leases.back().session->connect_if_needed());
    }
    for (auto& lease : leases)
        pool.release(std::move(lease.session));
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    for (int i = 0; i < 10; ++i) {
        auto lease = pool.acquire();
        CHECK_FALSE(lease.reused);
        CHECK_FALSE(lease.session->http().connected());
    }
}

TEST_CASE("at most max_idle connections are kept idle, and the others given back are closed") {
    Listener listener;
    auto settings = settings_for(listener, std::chrono::seconds(30));
    settings.max_idle = 3;
    ConnectionPool pool(settings);
    std::vector<ConnectionPool::Lease> leases;
    for (int i = 0; i < 5; ++i) {
        leases.push_back(pool.acquire());
        REQUIRE(leases.back().session->connect_if_needed());
    }
    for (auto& lease : leases)
        pool.release(std::move(lease.session));
    int reused = 0;
    std::vector<ConnectionPool::Lease> again;
    for (int i = 0; i < 5; ++i) {
        again.push_back(pool.acquire());
        reused += again.back().reused ? 1 : 0;
    }
    CHECK(reused == 3);
}
