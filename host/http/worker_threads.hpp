// The threads that serve client connections, one connection per thread at a time. A thread starts
// when a connection finds none idle (up to max_threads) and ends after a minute without work.
// Starting one is a single pthread_create, without waiting for the thread to run: Poco's
// ThreadPool waited for every new thread and, to find an idle one, locked the mutex of every
// thread it had, which made a burst of thousands of connections quadratic.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace llmproxy {

class WorkerThreads {
  public:
    // serve(fd) serves one connection and closes fd; it runs on a worker thread and must not
    // throw. max_threads >= 1.
    WorkerThreads(int max_threads, std::size_t stack_bytes, std::function<void(int fd)> serve);
    // Stops (see stop()).
    ~WorkerThreads();
    WorkerThreads(const WorkerThreads&) = delete;
    WorkerThreads& operator=(const WorkerThreads&) = delete;

    // [thread-safe] Queues a connection for the next idle thread, starting one when none is idle
    // and fewer than max_threads run. False when no thread could be started and none runs: the
    // caller keeps fd.
    bool submit(int fd);

    // [thread-safe] Connections being served (taken by a thread), and waiting for a thread.
    int busy() const;
    int queued() const;

    // Closes the connections still waiting, and waits until every thread has finished its
    // connection (end those first, e.g. by shutting their sockets down) and exited.
    void stop();

  private:
    static void* thread_main(void* self);
    void work();
    bool start_thread();  // with mutex_ held

    const int max_threads_;
    const std::size_t stack_bytes_;
    const std::function<void(int)> serve_;
    mutable std::mutex mutex_;
    std::condition_variable work_ready_;
    std::condition_variable all_exited_;
    std::deque<int> queue_;
    int threads_ = 0;
    int idle_ = 0;
    int starting_ = 0;  // started, not yet running
    bool stopping_ = false;
};

}  // namespace llmproxy
