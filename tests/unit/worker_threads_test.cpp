#include "http/worker_threads.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using llmproxy::WorkerThreads;

namespace {

// Connections that stay "in service" until released, recording which thread served which.
struct HeldConnections {
    std::mutex mutex;
    std::condition_variable changed;
    bool released = false;
    int served = 0;
    std::set<std::thread::id> threads;

    void serve(int fd) {
        std::unique_lock lock(mutex);
        threads.insert(std::this_thread::get_id());
        changed.wait(lock, [&] { return released; });
        ++served;
        ::close(fd);
        changed.notify_all();
    }
    void release() {
        std::lock_guard lock(mutex);
        released = true;
        changed.notify_all();
    }
    bool wait_served(int n) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, std::chrono::seconds(10), [&] { return served == n; });
    }
};

// A pipe whose write end stands for a connection; read() on the other end tells when it closed.
struct Connection {
    int ends[2];
    Connection() { REQUIRE(::pipe(ends) == 0); }
    ~Connection() { ::close(ends[0]); }
    int fd() const { return ends[1]; }
    bool closed() const {
        char c;
        return ::read(ends[0], &c, 1) == 0;
    }
};

template <typename Pred>
bool eventually(Pred pred) {
    for (int i = 0; i < 1000 && !pred(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return pred();
}

}  // namespace

TEST_CASE("worker threads serve at most max_threads connections at once, the rest wait") {
    HeldConnections held;
    WorkerThreads workers(2, 256 * 1024, [&](int fd) { held.serve(fd); });
    std::vector<Connection> connections(5);
    for (auto& c : connections)
        REQUIRE(workers.submit(c.fd()));
    CHECK(eventually([&] { return workers.busy() == 2 && workers.queued() == 3; }));
    held.release();
    CHECK(held.wait_served(5));
    CHECK(held.threads.size() == 2);  // the waiting connections reused the two threads
    for (auto& c : connections)
        CHECK(c.closed());
    CHECK(eventually([&] { return workers.busy() == 0 && workers.queued() == 0; }));
}

TEST_CASE("stop closes the connections still waiting and waits for those in service") {
    HeldConnections held;
    auto workers = std::make_unique<WorkerThreads>(1, 256 * 1024, [&](int fd) { held.serve(fd); });
    Connection in_service, waiting;
    REQUIRE(workers->submit(in_service.fd()));
    CHECK(eventually([&] { return workers->busy() == 1 && workers->queued() == 0; }));
    REQUIRE(workers->submit(waiting.fd()));
    std::thread releaser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        held.release();
    });
    workers->stop();  // returns only once the connection in service has finished
    CHECK(held.served == 1);
    CHECK(in_service.closed());
    CHECK(waiting.closed());
    CHECK_FALSE(workers->submit(in_service.fd()));  // no work after stop
    releaser.join();
}
