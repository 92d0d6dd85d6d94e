// Threads for work that must block (a DNS lookup, a TCP connect, a TLS handshake), so that the
// event loops never do. A thread starts when a task finds none idle (up to max_threads) and ends
// after a minute without work. Starting one is a single pthread_create, without waiting for the
// thread to run.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace llmproxy {

class TaskThreads {
  public:
    // max_threads >= 1; stack_bytes is each thread's stack.
    TaskThreads(int max_threads, std::size_t stack_bytes);
    // Stops (see stop()).
    ~TaskThreads();
    TaskThreads(const TaskThreads&) = delete;
    TaskThreads& operator=(const TaskThreads&) = delete;

    // [thread-safe] Queues task for the next idle thread, starting one when none is idle and
    // fewer than max_threads run. task must not throw. False after stop(), and when no thread
    // could be started and none runs: the task will not run.
    bool submit(std::function<void()> task);

    // [thread-safe] Tasks running, and waiting for a thread.
    int busy() const;
    int queued() const;

    // Takes no more tasks, runs those queued, and waits until every thread has exited.
    void stop();

  private:
    static void* thread_main(void* self);
    void work();
    bool start_thread();  // with mutex_ held

    const int max_threads_;
    const std::size_t stack_bytes_;
    mutable std::mutex mutex_;
    std::condition_variable work_ready_;
    std::condition_variable all_exited_;
    std::deque<std::function<void()>> queue_;
    int threads_ = 0;
    int idle_ = 0;
    int starting_ = 0;  // started, not yet running
    bool stopping_ = false;
};

}  // namespace llmproxy
