// Runs the end-of-request work of processors (on_finish, then request_free) on a background
// thread, so that the client has its whole answer, final chunk included, before any of it runs.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace llmproxy {

class FinishQueue {
  public:
    // Past this many waiting jobs, submit() runs the job on the caller's thread: slow on_finish
    // hooks then slow their own requests down instead of growing memory without bound.
    static constexpr std::size_t kMaxWaiting = 10000;

    FinishQueue();
    ~FinishQueue();  // runs every job still waiting, then stops
    FinishQueue(const FinishQueue&) = delete;
    FinishQueue& operator=(const FinishQueue&) = delete;

    // [thread-safe] Runs job soon, in submission order.
    void submit(std::function<void()> job);
    // Returns once every job submitted before it has run, and what it held is released.
    void drain();

  private:
    void run();

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> jobs_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace llmproxy
