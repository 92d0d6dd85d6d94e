#include "loop/event_loop.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "eventually.hpp"
#include "loop/task_threads.hpp"
#include "loop/wait.hpp"

using llmproxy::EventLoop;
using llmproxy::TaskThreads;

namespace {

constexpr std::size_t kStack = 256 * 1024;

// An event loop, started, with task threads for its blocking work.
struct RunningLoop {
    TaskThreads blocking{2, kStack};
    EventLoop loop{kStack, blocking};
    RunningLoop() { loop.start(); }
};

// A connected pair of non-blocking sockets.
struct SocketPair {
    int ends[2];
    SocketPair() { REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, ends) == 0); }
    ~SocketPair() {
        ::close(ends[0]);
        ::close(ends[1]);
    }
    int ours() const { return ends[0]; }
    int theirs() const { return ends[1]; }
};

// Reads one byte from fd the way the host's sockets do: try, and wait on EAGAIN. The wait's limit
// is only a guard: under ThreadSanitizer, making a fiber costs milliseconds, and a fiber made
// first waits while hundreds more are made (over 10 s on a busy 2-core machine).
char read_byte(int fd) {
    char c = 0;
    while (::recv(fd, &c, 1, 0) != 1)
        REQUIRE(llmproxy::wait_ready(fd, EPOLLIN, 60000));
    return c;
}

}  // namespace

TEST_CASE("one loop thread serves many fibers, each resumed when its socket has data") {
    RunningLoop running;
    EventLoop& loop = running.loop;
    constexpr int kFibers = 500;
    std::vector<SocketPair> pairs(kFibers);
    std::mutex mutex;
    std::set<std::thread::id> threads;
    std::vector<char> got(kFibers, 0);
    std::atomic<int> waiting{0};
    for (int i = 0; i < kFibers; ++i)
        REQUIRE(loop.spawn([&, i] {
            CHECK(EventLoop::current() == &loop);
            ++waiting;
            got[i] = read_byte(pairs[i].ours());
            std::lock_guard lock(mutex);
            threads.insert(std::this_thread::get_id());
        }));
    // Every fiber is suspended on its socket at once, on a single thread.
    CHECK(eventually([&] { return waiting == kFibers; }));
    CHECK(loop.fibers() == kFibers);
    for (int i = kFibers - 1; i >= 0; --i) {  // in reverse: each fiber waits for its own byte
        char c = static_cast<char>('a' + i % 26);
        REQUIRE(::send(pairs[i].theirs(), &c, 1, 0) == 1);
    }
    CHECK(eventually([&] { return loop.fibers() == 0; }));
    for (int i = 0; i < kFibers; ++i)
        CHECK(got[i] == static_cast<char>('a' + i % 26));
    CHECK(threads.size() == 1);
    CHECK(threads.count(std::this_thread::get_id()) == 0);
}

TEST_CASE("a wait with nothing arriving times out, and the fiber goes on") {
    RunningLoop running;
    EventLoop& loop = running.loop;
    SocketPair pair;
    std::promise<bool> result;
    REQUIRE(loop.spawn([&] { result.set_value(llmproxy::wait_ready(pair.ours(), EPOLLIN, 30)); }));
    auto outcome = result.get_future();
    REQUIRE(outcome.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK_FALSE(outcome.get());
    // The timed-out registration does not disturb a later wait on the same socket.
    std::promise<char> second;
    REQUIRE(loop.spawn([&] { second.set_value(read_byte(pair.ours())); }));
    char c = 'z';
    REQUIRE(::send(pair.theirs(), &c, 1, 0) == 1);
    auto byte = second.get_future();
    REQUIRE(byte.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(byte.get() == 'z');
}

TEST_CASE("blocking work runs on a task thread while the loop keeps serving other fibers") {
    RunningLoop running;
    EventLoop& loop = running.loop;
    std::promise<void> other_fiber_ran;
    std::shared_future<void> gate = other_fiber_ran.get_future().share();
    std::thread::id loop_thread, work_thread;
    std::promise<void> finished;
    REQUIRE(loop.spawn([&] {
        loop_thread = std::this_thread::get_id();
        llmproxy::run_blocking([&] {
            work_thread = std::this_thread::get_id();
            // Blocks until a fiber of the same loop has run: proof the loop was not blocked.
            gate.wait();
        });
        finished.set_value();
    }));
    REQUIRE(loop.spawn([&] { other_fiber_ran.set_value(); }));
    auto done = finished.get_future();
    REQUIRE(done.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(work_thread != loop_thread);
}

TEST_CASE("an exception from blocking work reaches the fiber that asked for it") {
    RunningLoop running;
    EventLoop& loop = running.loop;
    std::promise<std::string> caught;
    REQUIRE(loop.spawn([&] {
        try {
            llmproxy::run_blocking([] { throw std::runtime_error("no route to host"); });
            caught.set_value("nothing");
        } catch (const std::exception& e) {
            caught.set_value(e.what());
        }
    }));
    auto what = caught.get_future();
    REQUIRE(what.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(what.get() == "no route to host");
}

TEST_CASE("a fiber that throws ends alone, and stop waits for the others and takes no more") {
    RunningLoop running;
    EventLoop& loop = running.loop;
    SocketPair pair;
    std::atomic<bool> served{false};
    REQUIRE(loop.spawn([] { throw std::runtime_error("a bug in one connection"); }));
    REQUIRE(loop.spawn([&] {
        read_byte(pair.ours());
        served = true;
    }));
    CHECK(eventually([&] { return loop.fibers() == 1; }));
    std::thread sender([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        char c = 'x';
        CHECK(::send(pair.theirs(), &c, 1, 0) == 1);
    });
    loop.stop();  // returns once the waiting fiber has been served
    CHECK(served);
    CHECK(loop.fibers() == 0);
    CHECK_FALSE(loop.spawn([] {}));
    sender.join();
}

TEST_CASE("off a fiber, waits block the calling thread") {
    CHECK(EventLoop::current() == nullptr);
    SocketPair pair;
    CHECK_FALSE(llmproxy::wait_ready(pair.ours(), EPOLLIN, 10));
    char c = 'y';
    REQUIRE(::send(pair.theirs(), &c, 1, 0) == 1);
    CHECK(read_byte(pair.ours()) == 'y');
    std::thread::id ran_on;
    llmproxy::run_blocking([&] { ran_on = std::this_thread::get_id(); });
    CHECK(ran_on == std::this_thread::get_id());
}

TEST_CASE("a sleeping fiber lets the others run, and wakes up") {
    RunningLoop running;
    EventLoop& loop = running.loop;
    std::atomic<int> order{0};
    std::atomic<int> sleeper_saw{-1};
    REQUIRE(loop.spawn([&] {
        loop.sleep(30);
        sleeper_saw = order.load();
    }));
    REQUIRE(loop.spawn([&] {
        // Spawned from a fiber of the loop itself: runs on the same thread, no hand-over.
        std::thread::id here = std::this_thread::get_id();
        REQUIRE(loop.spawn([&, here] {
            CHECK(std::this_thread::get_id() == here);
            ++order;
        }));
        ++order;
    }));
    CHECK(eventually([&] { return loop.fibers() == 0; }));
    CHECK(sleeper_saw == 2);
}

TEST_CASE("a parked fiber, or one waiting for a socket, is woken by another fiber of its loop") {
    RunningLoop running;
    EventLoop& loop = running.loop;
    SocketPair pair;
    EventLoop::Fiber* parked = nullptr;
    EventLoop::Fiber* reading = nullptr;
    std::atomic<int> parked_woken{-1}, read_woken{-1}, timed_out{-1};
    REQUIRE(loop.spawn([&] {
        parked = loop.running_fiber();
        parked_woken = loop.park(-1);
    }));
    REQUIRE(loop.spawn([&] {
        reading = loop.running_fiber();
        loop.watch(pair.ours());
        // Nothing arrives: only the wake-up ends this wait, which then looks ready.
        read_woken = loop.wait_watched(pair.ours(), EPOLLIN, -1);
    }));
    REQUIRE(loop.spawn([&] {
        timed_out = !loop.park(10);  // nobody wakes it
        loop.wake_up(parked);
        loop.wake_up(reading);
        loop.wake_up(loop.running_fiber());  // not waiting: nothing happens
    }));
    CHECK(eventually([&] { return loop.fibers() == 0; }));
    CHECK(parked_woken == 1);
    CHECK(read_woken == 1);
    CHECK(timed_out == 1);
}

namespace {

// Shuts its socket down when told of a hang-up: how a request's upstream wait is cancelled.
struct ShutDownOnHangUp : llmproxy::HangUpListener {
    int fd;
    std::atomic<int> told{0};
    explicit ShutDownOnHangUp(int socket) : fd(socket) {}
    void hung_up() override {
        ++told;
        ::shutdown(fd, SHUT_RDWR);
    }
};

}  // namespace

TEST_CASE("a watched socket's hang-up is told while its fiber waits on another socket") {
    // Before the loop: its fiber uses them until it ends, which the loop's stop waits for.
    SocketPair client, upstream;
    ShutDownOnHangUp listener(upstream.ours());
    RunningLoop running;
    EventLoop& loop = running.loop;
    std::promise<bool> woke;
    REQUIRE(loop.spawn([&] {
        llmproxy::SocketWait client_wait(client.ours());
        llmproxy::SocketWait upstream_wait(upstream.ours());
        client_wait.on_hang_up(&listener);
        // Waits on the upstream only; the client's hang-up ends the wait through the listener.
        bool ready = upstream_wait.wait(EPOLLIN, 10000);
        char c;
        woke.set_value(ready && ::recv(upstream.ours(), &c, 1, 0) == 0);
        client_wait.on_hang_up(nullptr);
    }));
    CHECK(eventually([&] { return loop.fibers() == 1; }));
    ::shutdown(client.theirs(), SHUT_RDWR);  // the client goes away
    auto result = woke.get_future();
    REQUIRE(result.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(result.get());
    CHECK(listener.told == 1);
}

TEST_CASE("a hang-up that came before the listener is told at once") {
    SocketPair client;  // before the loop, as above
    ShutDownOnHangUp listener(-1);
    RunningLoop running;
    EventLoop& loop = running.loop;
    std::promise<int> told;
    std::atomic<bool> reading{false};
    REQUIRE(loop.spawn([&] {
        llmproxy::SocketWait client_wait(client.ours());
        // The connection's reader waits, and sees the client go.
        char c;
        while (::recv(client.ours(), &c, 1, 0) != 0) {
            reading = true;
            REQUIRE(client_wait.wait(EPOLLIN, 10000));
        }
        client_wait.on_hang_up(&listener);
        told.set_value(listener.told.load());
        client_wait.on_hang_up(nullptr);
    }));
    CHECK(eventually([&] { return reading.load(); }));
    ::shutdown(client.theirs(), SHUT_RDWR);
    auto result = told.get_future();
    REQUIRE(result.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(result.get() == 1);
}

TEST_CASE("a peer's close that came with its last bytes ends every later wait to read") {
    // Edge-triggered: the close is told once, with the data. A reader that takes the data and
    // waits again must not wait for an edge that never comes (it used to wait for the timeout).
    SocketPair upstream;  // before the loop: its fiber is gone before the sockets close
    RunningLoop running;
    EventLoop& loop = running.loop;
    std::promise<std::string> outcome;
    std::atomic<bool> watching{false};
    REQUIRE(loop.spawn([&] {
        llmproxy::SocketWait wait(upstream.ours());
        watching = true;
        std::string got;
        char buffer[64];
        for (int waits = 0; waits < 4; ++waits) {
            if (!wait.wait(EPOLLIN, 10000))
                return outcome.set_value(got + " (timed out)");
            ssize_t n = ::recv(upstream.ours(), buffer, sizeof buffer, 0);
            if (n == 0)
                return outcome.set_value(got + " (end)");
            if (n > 0)
                got.append(buffer, static_cast<std::size_t>(n));
        }
        outcome.set_value(got + " (too many waits)");
    }));
    CHECK(eventually([&] { return watching.load(); }));
    // The last bytes and the close leave together, before the reader has looked.
    REQUIRE(::send(upstream.theirs(), "last", 4, 0) == 4);
    ::shutdown(upstream.theirs(), SHUT_WR);
    auto result = outcome.get_future();
    REQUIRE(result.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    CHECK(result.get() == "last (end)");
}
