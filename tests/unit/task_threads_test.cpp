#include "loop/task_threads.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "eventually.hpp"

using llmproxy::TaskThreads;

namespace {

// Tasks that stay running until released, recording which thread ran which.
struct HeldTasks {
    std::mutex mutex;
    std::condition_variable changed;
    bool released = false;
    int done = 0;
    std::set<std::thread::id> threads;

    void run() {
        std::unique_lock lock(mutex);
        threads.insert(std::this_thread::get_id());
        changed.wait(lock, [&] { return released; });
        ++done;
        changed.notify_all();
    }
    void release() {
        std::lock_guard lock(mutex);
        released = true;
        changed.notify_all();
    }
    bool wait_done(int n) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, std::chrono::seconds(10), [&] { return done == n; });
    }
};

}  // namespace

TEST_CASE("task threads run at most max_threads tasks at once, the rest wait their turn") {
    HeldTasks held;
    TaskThreads threads(2, 256 * 1024);
    for (int i = 0; i < 5; ++i)
        REQUIRE(threads.submit([&] { held.run(); }));
    CHECK(eventually([&] { return threads.busy() == 2 && threads.queued() == 3; }));
    held.release();
    CHECK(held.wait_done(5));
    CHECK(held.threads.size() == 2);  // the waiting tasks reused the two threads
    CHECK(eventually([&] { return threads.busy() == 0 && threads.queued() == 0; }));
}

TEST_CASE("stop runs the tasks still queued, waits for them, and takes no more") {
    HeldTasks held;
    auto threads = std::make_unique<TaskThreads>(1, 256 * 1024);
    std::atomic<int> queued_ran{0};
    REQUIRE(threads->submit([&] { held.run(); }));
    CHECK(eventually([&] { return threads->busy() == 1; }));
    REQUIRE(threads->submit([&] { ++queued_ran; }));
    std::thread releaser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        held.release();
    });
    threads->stop();  // returns only once both tasks have run
    CHECK(held.done == 1);
    CHECK(queued_ran == 1);
    CHECK_FALSE(threads->submit([] {}));
    releaser.join();
}
